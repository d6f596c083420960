// rsync's rule for deleting after I/O errors: once anything could not be read or listed (a source
// operand that does not exist included), the file list may lack entries that still exist, so nothing
// more is deleted, unless --ignore-errors. rsync says so once, as information (stdout, silenced by -q).

export class DeleteGate {
  private errors: number;
  private warned = false;

  constructor(
    private readonly ignoreErrors: boolean,
    private readonly info: (line: string) => void,
    /** Errors reported before the run (missing source operands). */
    prior: number,
    /** Errors counted elsewhere as the run goes (the filters' per-directory merge names). */
    private readonly more: () => number = () => 0,
  ) {
    this.errors = prior;
  }

  /** An error that blocks deletion but is reported elsewhere (or not at all, as in a probe walk). */
  noteError(): void {
    this.errors++;
  }

  /** Whether deletion may go ahead, given the run's reported I/O errors; says why not, once. */
  allows(ioErrors: number): boolean {
    if (this.ignoreErrors || this.errors + ioErrors + this.more() === 0) return true;
    if (!this.warned) this.info('IO error encountered -- skipping file deletion');
    this.warned = true;
    return false;
  }
}
