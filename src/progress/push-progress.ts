// --progress and --info=progress2 in a push, as rsync's sending client draws them (sender.c, match.c's
// show_progress after each piece of a file's data, progress.c's end_progress): progress1 redraws one
// line per file in place ("\r"), first at its first data and then at most once a second, and ends it
// with the file's rate, time and "(xfr#N, to-chk=M/T)"; progress2 draws the whole run's line, once a
// second while data flows and after each file. The line itself is rsync-progress.ts's.

import { RateWindow, TotalProgress } from './rsync-progress.js';

export class PushProgress {
  /** The current file's rate and time. */
  private readonly rate = new RateWindow();
  private size = 0;
  /** Files sent so far (rsync's xfr#) and the bytes of the files finished before the current one. */
  private xfr = 0;
  private doneBytes = 0;
  private ofs = 0;
  private readonly total: TotalProgress | undefined;
  /** A line is on screen without its newline (rsync's output_needs_newline). */
  private open = false;

  constructor(
    private readonly write: (s: string) => void,
    /** 1: a line per file (--progress); 2: the whole run's line (--info=progress2). */
    level: number,
    private readonly human: number,
    /** Entries in the file list, and the total size of its files (rsync's num_files, total_size). */
    private readonly listed: number,
    totalSize: number,
  ) {
    if (level >= 2) {
      this.total = new TotalProgress(
        (s) => this.draw(s),
        () => ({ bytes: this.doneBytes + this.ofs, size: totalSize, files: this.xfr, listed }),
        human,
      );
    }
  }

  /** Before another line is printed: the open progress line gets its newline first. */
  newline(): void {
    if (!this.open) return;
    this.write('\n');
    this.open = false;
  }

  /** A file's data starts (rsync counts it as transferred from here). */
  begin(size: number): void {
    this.xfr++;
    this.size = size;
    this.ofs = 0;
    this.rate.reset();
  }

  /** -n: a file that would be sent is counted, as rsync's sender counts it, with no line of its own. */
  counted(size: number): void {
    this.xfr++;
    this.doneBytes += size;
  }

  /** `ofs` bytes of the current file are sent (rsync's show_progress after each match or literal run). */
  data(ofs: number): void {
    this.ofs = ofs;
    // An empty file has no data to show (rsync maps nothing for it): only its last line.
    if (this.size === 0) return;
    if (this.total) return this.total.tick();
    const line = this.rate.line(ofs, this.size, this.human);
    if (line !== undefined) this.draw(line);
  }

  /** The file at index `ndx` of the list is sent: its last line (progress1), the run's line (progress2). */
  end(ndx: number): void {
    this.doneBytes += this.size;
    this.ofs = 0;
    const toCheck = Math.max(0, this.listed - ndx - 1);
    if (this.total) return this.total.fileDone(toCheck);
    const eol = ` (xfr#${this.xfr}, to-chk=${toCheck}/${this.listed})`;
    this.draw(this.rate.end(this.size, this.size, eol, this.human));
    this.newline();
  }

  /** The receiver ended a phase (rsync's sender redraws progress2's line with nothing left to check). */
  phaseDone(): void {
    this.total?.fileDone(0);
  }

  /** The run is over: the open line gets its newline. */
  finish(): void {
    this.newline();
  }

  private draw(s: string): void {
    this.write(s);
    this.open = true;
  }
}
