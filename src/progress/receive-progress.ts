// --progress and --info=progress2 drawn by a pull's fetch as the data arrives, as rsync's receiving
// client draws them (receiver.c receive_data and recv_files, progress.c show_progress/end_progress): a
// file's line is drawn before each token of its data is taken (so its first line reads 0 bytes), then at
// most once a second; the file's end draws its rate and time with "(xfr#N, to-chk=M/T)"; under progress2
// every figure is the run's (the sizes of the files begun so far, rsync's total_transferred_size, out of
// the listed total) and each phase's end draws the line once more. The line itself is rsync-progress.ts's.
//
// Where names interleave with the lines (cli/pull.ts receiveLines), the local half prints them after the
// transfer: the lines are then written into ProgressRecords, by file, for progress/file-progress.ts to
// print in each file's place; and a transient instance draws the whole transfer's line on a terminal
// only while the data arrives, erased before the local half prints.

import { CountsEol, RateWindow } from './rsync-progress.js';

/**
 * The lines a fetch drew, kept by file for the local half to print in their place (cli/pull.ts): each
 * file's own (a file received twice, in the redo phase, has both), and the phase ends' after the last.
 */
export class ProgressRecords {
  readonly byName = new Map<string, string>();
  tail = '';
  private at: string | undefined;

  /** What is written from now on is file `name`'s (undefined: the phase ends'). */
  file(name: string | undefined): void {
    this.at = name;
    if (name !== undefined && !this.byName.has(name)) this.byName.set(name, '');
  }

  readonly write = (s: string): void => {
    if (this.at === undefined) this.tail += s;
    else this.byName.set(this.at, this.byName.get(this.at)! + s);
  };
}

export class ReceiveProgress {
  /** rsync's ph_start and ph_list: the current file's (progress1) or the run's (progress2) rate. */
  private readonly rate = new RateWindow();
  private readonly eol = new CountsEol();
  /** Files received so far (rsync's xferred_files; a redone file counts again, as in rsync). */
  private xfr = 0;
  /** The sizes of the files begun so far, the current one included (rsync's total_transferred_size). */
  private transferred = 0;
  private size = 0;
  /** A line is on screen without its newline (rsync's output_needs_newline); its length when transient. */
  private open = 0;

  constructor(
    private readonly write: (s: string) => void,
    /** 1: a line per file (--progress); 2: the whole run's line (--info=progress2). */
    private readonly level: number,
    private readonly human: number,
    /** Entries in the file list, and the total size of its files (rsync's num_files, total_size). */
    private readonly listed: number,
    private readonly totalSize: number,
    private readonly transient = false,
  ) {}

  /** A file's data starts (rsync counts it as transferred from here). */
  begin(_ndx: number, size: number): void {
    this.xfr++;
    this.transferred += size;
    this.size = size;
  }

  /** A token of the current file arrived, `ofs` bytes of it written before it (rsync's show_progress). */
  data(ofs: number): void {
    const line = this.level >= 2 || this.transient ? this.rate.line(this.transferred - this.size + ofs, this.totalSize, this.human) : this.rate.line(ofs, this.size, this.human);
    if (line !== undefined) this.draw(line);
  }

  /** The file at index `ndx` of the list is received (rsync's end_progress, whatever its checksum said). */
  end(ndx: number): void {
    if (this.transient) return;
    const toCheck = Math.max(0, this.listed - ndx - 1);
    if (this.level >= 2) {
      this.draw(this.rate.end(this.transferred, this.totalSize, this.eol.text(this.xfr, toCheck, this.listed), this.human, true));
      return;
    }
    this.draw(this.rate.end(this.size, this.size, ` (xfr#${this.xfr}, to-chk=${toCheck}/${this.listed})`, this.human));
    this.newline();
  }

  /** The sender ended a phase (rsync's receiver draws progress2's line with nothing left to check). */
  phaseDone(): void {
    if (this.transient || this.level < 2) return;
    this.draw(this.rate.end(this.transferred, this.totalSize, this.eol.text(this.xfr, 0, this.listed), this.human, true));
  }

  /** The fetch is over (or cut short): the open line gets its newline, a transient one is erased. */
  finish(): void {
    if (this.transient && this.open) {
      this.write(`\r${' '.repeat(this.open)}\r`);
      this.open = 0;
      return;
    }
    this.newline();
  }

  private newline(): void {
    if (!this.open) return;
    this.write('\n');
    this.open = 0;
  }

  private draw(s: string): void {
    this.write(s);
    this.open = Math.max(1, s.length - 1);
  }
}
