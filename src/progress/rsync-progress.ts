// rsync's --info=progress2 line (progress.c rprint_progress/show_progress/end_progress): one line on
// stdout, redrawn in place with a carriage return at most once a second while data flows, and once more
// as each file ends (with the counts), whether or not stdout is a terminal, with only "\r" (no cursor
// control, so TERM=dumb and pipes see what rsync writes). Bytes are the data written so far,
// out of the total size of every file listed (rsync's total_size), the rate over the last five seconds
// and the time left at that rate; the last line says the whole run's rate and time and rsync's
// "(xfr#N, to-chk=M/T)", then a newline. After an interrupt no last line is drawn (no false 100%).

import { humanNum } from './numbers.js';

/** rsync's PROGRESS_HISTORY_SECS: the rate is measured over this many one-second samples. */
const HISTORY = 5;

/** rsync's "%4u:%02u:%02u", or "  ??:??:??" out of range. */
function clock(secs: number): string {
  if (!(secs >= 0) || secs > 9999 * 3600) return '  ??:??:??';
  const s = Math.floor(secs);
  return `${String(Math.floor(s / 3600)).padStart(4)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** rsync's "\r%15s %3d%% %7.2f%s %s%s" for `ofs` of `size` bytes at `rateKiB` KiB/s. */
export function progressLine(ofs: number, size: number, rateKiB: number, secs: number, eol: string, human: number): string {
  let rate = rateKiB;
  let units = 'kB/s';
  if (rate > 1024 * 1024) {
    rate /= 1024 * 1024;
    units = 'GB/s';
  } else if (rate > 1024) {
    rate /= 1024;
    units = 'MB/s';
  }
  const pct = ofs === size ? 100 : size > 0 ? Math.floor((100 * ofs) / size) : 0;
  return `\r${humanNum(ofs, human).padStart(15)} ${String(pct).padStart(3)}% ${rate.toFixed(2).padStart(7)}${units} ${clock(secs)}${eol}`;
}

/**
 * rsync's counts at the end of a progress2 line (progress.c rprint_progress, is_last): " (xfr#N,
 * to-chk=M/T)" ("ir-chk" while the list still grows), without a newline, padded with spaces to the
 * previous one's length when it got shorter (rsync's last_len, which then becomes this one's).
 */
export class CountsEol {
  private last = 0;

  text(files: number, toCheck: number, listed: number, growing = false): string {
    const eol = ` (xfr#${files}, ${growing ? 'ir' : 'to'}-chk=${toCheck}/${listed})`;
    const padded = eol.length < this.last ? eol.padEnd(this.last) : eol;
    this.last = eol.length;
    return padded;
  }
}

/** A progress sample: when (performance.now(), ms) and how far (bytes). */
interface Sample {
  t: number;
  ofs: number;
}

/** rsync's PROGRESS_HISTORY_SECS window is re-used for the next file when it ended this recently (ms). */
const CHAIN_MS = 1500;

/** rsync's msdiff: whole milliseconds between two times. */
const msdiff = (from: number, to: number): number => Math.floor(to - from);

/**
 * rsync's show_progress/end_progress timing, the one copy for every progress line. The first line of a
 * file takes its start (rsync's ph_start) from the newest sample of the file before when that is at most
 * 1.5 s old, counting from 0 bytes; otherwise from now and the bytes shown now, so the very first file
 * of a run (or one after a pause) shows 0.00kB/s when its first line is already its last. Every sample
 * of the window is set to that start; after it, a sample at most once a second, the live rate over the
 * window, the time left at that rate. The last line's rate and time count from the start; a file's last
 * line under --progress clears the start (the next file's first line chains from the window), progress2
 * keeps it for the whole run.
 */
export class RateWindow {
  /** rsync's ph_start (undefined: cleared). */
  private start: Sample | undefined;
  /** rsync's ph_list, oldest first; empty until the run's first line. */
  private history: Sample[] = [];

  /** A line was drawn since the start was last cleared. */
  get sampled(): boolean {
    return this.start !== undefined;
  }

  /** A file ended without its last line (failed, skipped): the next one starts as after an end. */
  reset(): void {
    this.start = undefined;
  }

  /** The live line for `ofs` of `size` bytes, or undefined within a second of the last one. */
  line(ofs: number, size: number, human: number): string | undefined {
    const now = performance.now();
    if (this.start === undefined) {
      const newest = this.history[this.history.length - 1];
      const start = newest && msdiff(newest.t, now) <= CHAIN_MS ? { t: newest.t, ofs: 0 } : { t: now, ofs };
      this.start = start;
      this.history = Array.from({ length: HISTORY }, () => start);
    } else {
      if (msdiff(this.history[this.history.length - 1]!.t, now) < 1000) return undefined;
      this.history.shift();
      this.history.push({ t: now, ofs });
    }
    const oldest = this.history[0]!;
    const rate = ((ofs - oldest.ofs) * 1000) / Math.max(1, msdiff(oldest.t, now)) / 1024;
    const remain = rate ? (size - ofs) / rate / 1000 : 0;
    return progressLine(ofs, size, rate, remain, '  ', human);
  }

  /**
   * The end line: `ofs` of `size` bytes at the average rate since the start (1 ms when there is none),
   * then `eol`. `keep`: progress2, whose start is the whole run's.
   */
  end(ofs: number, size: number, eol: string, human: number, keep = false): string {
    const start = this.start;
    const ms = start ? Math.max(1, msdiff(start.t, performance.now())) : 1;
    if (!keep) this.start = undefined;
    return progressLine(ofs, size, ((ofs - (start?.ofs ?? 0)) * 1000) / ms / 1024, ms / 1000, eol, human);
  }
}

/** What the line is drawn from, read anew at each redraw. */
export interface TotalSample {
  /** Data written so far (never less than the previous sample: totals do not run backwards). */
  bytes: number;
  /** Total size of the files listed so far. */
  size: number;
  /** Files transferred, and entries listed (rsync's xfr# and num_files). */
  files: number;
  listed: number;
  /**
   * Files still to send (a local run, where fileEnded() draws the counts as each file ends). A push's
   * sender calls fileDone() instead.
   */
  toCheck?: number;
}

export class TotalProgress {
  /** Its rate and time; the last line counts from when data started to flow (rsync's ph_start). */
  private readonly rate = new RateWindow();
  /** Files done when the counts were last drawn. */
  private counted = 0;
  private high = { bytes: 0, size: 0 };
  /** fileEnded(): the files transferred so far and their sizes summed (rsync's total_transferred_size). */
  private ended = { files: 0, bytes: 0 };
  /** The data figure last drawn. */
  private shown = 0;
  /** A line is on screen without its newline. */
  pending = false;
  private readonly eol = new CountsEol();

  constructor(
    private readonly write: (s: string) => void,
    private readonly sample: () => TotalSample,
    private readonly human: number,
    /** The run tells each transferred file's end (fileEnded); the redraws then draw no counts themselves. */
    private readonly perFile = false,
  ) {}

  private read(): TotalSample {
    const s = this.sample();
    // Totals never run backwards, even when a file's bytes are recounted.
    this.high = { bytes: Math.max(this.high.bytes, s.bytes), size: Math.max(this.high.size, s.size, s.bytes) };
    return { ...s, ...this.high };
  }

  /**
   * The in-place update, looked at often and drawn as soon as data flows, then at most once a second (as
   * rsync's show_progress): rate over the last seconds, time left at that rate.
   */
  tick(): void {
    const s = this.read();
    // rsync draws once data flows: a line before that would read 0 of 0 bytes as 100%.
    if (s.bytes === 0) return;
    const line = this.rate.line(s.bytes, s.size, this.human);
    if (line !== undefined) {
      this.shown = s.bytes;
      this.write(line);
    } else if (!this.perFile && s.toCheck !== undefined && s.files > this.counted) {
      this.counted = s.files;
      this.countsLine(s.toCheck);
    } else {
      return;
    }
    this.pending = true;
  }

  /** The last line: the whole run's rate and time, rsync's counts, a newline. Nothing after an interrupt. */
  finish(aborted: boolean): void {
    if (aborted) {
      if (this.pending) this.write('\n');
      this.pending = false;
      return;
    }
    this.countsLine(0);
    this.write('\n');
    this.pending = false;
  }

  /**
   * rsync's end_progress under progress2 as a sender draws it after each file: the run's rate and time
   * so far with the counts ("to-chk" files still to look at), left open for the next redraw.
   */
  fileDone(toCheck: number): void {
    this.countsLine(toCheck);
    this.pending = true;
  }

  /**
   * rsync's end_progress under progress2 for a local run: one line per transferred file, in the order
   * the files were done, with the sizes of the files done so far summed (rsync's total_transferred_size;
   * never less than what the line showed before),
   * xfr# and to-chk (`planned` files to send in all, less those done), left open for the next redraw.
   */
  fileEnded(size: number, planned: number): void {
    this.ended = { files: this.ended.files + 1, bytes: this.ended.bytes + size };
    const s = this.read();
    // Workers copy several files at once, so a live line may have shown more data than the files ended so
    // far hold: the line never runs backwards below what it showed.
    this.countsLine(Math.max(0, planned - this.ended.files), { ...s, files: this.ended.files, bytes: Math.max(this.shown, Math.min(this.ended.bytes, s.size)) });
    this.pending = true;
  }

  private countsLine(toCheck: number, at?: TotalSample): void {
    const s = at ?? this.read();
    this.shown = s.bytes;
    this.write(this.rate.end(s.bytes, s.size, this.eol.text(s.files, toCheck, s.listed), this.human, true));
  }
}
