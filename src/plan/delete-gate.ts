// rsync's rule for deleting after I/O errors: once anything could not be read or listed (a source
// operand that does not exist included), the file list may lack entries that still exist, so nothing
// more is deleted, unless --ignore-errors. rsync says so once, as information (stdout, silenced by -q).

export class DeleteGate {
  private errors: number;
  private warned = false;
  /**
   * --delete-delay: the directories (destination names, latin1) whose deletions rsync's generator decided
   * while the gate was open. It decides them as it visits each directory, as --delete-during does, and
   * carries them out at the end whatever errors came later; a directory visited after an error gets none.
   */
  private readonly decided = new Set<string>();

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

  /** --delete-delay: the transfer pass visits directory `rel`; its deletions stand if the gate is open now. */
  visitDelayed(rel: Buffer, ioErrors: number): void {
    if (this.allows(ioErrors)) this.decided.add(rel.toString('latin1'));
  }

  /** --delete-delay's pass: whether deletion in `rel` may go ahead (decided at its visit, or allowed now). */
  allowsDelayed(rel: Buffer, ioErrors: number): boolean {
    return this.decided.has(rel.toString('latin1')) || this.allows(ioErrors);
  }

  /** Whether deletion may go ahead, given the run's reported I/O errors (saying nothing). */
  isOpen(ioErrors: number): boolean {
    return this.ignoreErrors || this.errors + ioErrors + this.more() === 0;
  }

  /** Whether deletion may go ahead, given the run's reported I/O errors; says why not, once. */
  allows(ioErrors: number): boolean {
    if (this.isOpen(ioErrors)) return true;
    if (!this.warned) this.info('IO error encountered -- skipping file deletion');
    this.warned = true;
    return false;
  }
}
