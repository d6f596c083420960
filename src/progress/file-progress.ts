// rsync's --progress (progress1, progress.c show_progress/end_progress): after each transferred file's name,
// one line redrawn in place with "\r" while that file is copied — drawn at its first data, then at most once
// a second (bytes, percent, rate over the last five seconds, time left) — and its last line, "(xfr#N,
// to-chk=M/T)" and a newline, once the op is done. Files are shown one at a time in the order they were
// queued, so every stdout line of the run goes through this queue while it is on: a line queued after a
// file waits for that file's last line. The bytes of the file being copied come from the engines' shared
// Counter.Current slot (op index and bytes, one store per chunk); whether it is done from the outcome
// bytes its batch shares with the worker (or, for a batch run on this thread, the batch's outcomes), and
// Counter.Batch says which batch the slot's op belongs to.

// In a pull's local half a file's lines may be replayed instead: the ones its fetch drew as the data
// arrived (progress/receive-progress.ts ProgressRecords), printed in the file's place.

// With `whole` (--info=progress2 on a local run) the same queue draws rsync's whole-run line instead: the
// bytes of the files sent so far in list order plus the head file's, out of the total size listed, each
// file's end with its counts and without a newline, and the lines at the end of each list
// (progress/list-ends.ts).

import type { ListFigure, ListWindow } from '../model/list-window.js';
import { CURRENT_SHIFT, Counter, Outcome } from '../model/ops.js';
import { ListEnds, WHOLE_LIST } from './list-ends.js';
import { CountsEol, RateWindow } from './rsync-progress.js';
import type { ProgressRecords } from './receive-progress.js';

const MASK = (1n << BigInt(CURRENT_SHIFT)) - 1n;

/** One file in the queue: its op's place in a batch once sent, and its outcome once known. */
export class FileMark {
  /** The outcome bytes its batch shares with the worker running it, and its index there. */
  shared: Uint8Array | undefined;
  index = -1;
  /** Its batch's number (Counter.Batch while that batch runs). */
  batch = 0;
  /** The outcome the batch returned (Outcome.NotRun until then). */
  outcome: number = Outcome.NotRun;
  settledByBatch = false;

  /**
   * Entries listed when its op was queued, itself included: rsync's index of the file in its list, + 1;
   * `list`: the directory's list it is in (the ListWindow's number).
   */
  /** A pull's lines for it as its fetch drew them, printed in place of its own (cli/pull.ts receiveLines). */
  replay: string | undefined;
  /** Not a file: a place for the lines its op's outcome decides (FileProgress.hold), settled by its batch only. */
  held = false;

  constructor(
    readonly size: number,
    readonly listedAt = 0,
    readonly list = 0,
    /** It is the first entry of its list (rsync's generator is then just past the lists before it). */
    readonly opens = false,
  ) {}

  /** Done, Equal or Failed as soon as the engine wrote it; undefined while it runs or waits. */
  result(): number | undefined {
    if (this.settledByBatch) return this.outcome;
    const o = this.shared ? Atomics.load(this.shared, this.index) : Outcome.NotRun;
    return o === Outcome.NotRun ? undefined : o;
  }
}

/** progress2: an entry itemized without a transfer (it moves rsync's sender's current list). */
export class ItemMark {
  constructor(
    readonly list: number,
    readonly opens: boolean,
  ) {}
}

/** What the last line's "(xfr#N, to-chk=M/T)" counts. */
export interface ListCounts {
  /** Files the run sends (so far). */
  planned: number;
  /** Entries in the file list (so far). */
  listed: number;
  /**
   * The list is still growing (the walk goes on) under incremental recursion: rsync then says "ir-chk"
   * (its flist_eof not yet reached), and "to-chk" once the whole list is known.
   */
  growing?: boolean;
  /** Where the walk's lists end: a file's last line shows rsync's sender's count (model/list-window.ts). */
  window?: ListWindow;
}

export class FileProgress {
  private readonly queue: (string | Buffer | FileMark | ItemMark)[] = [];
  /** The rate and time of the files' lines (rsync's ph_start and ph_list, kept from file to file). */
  private readonly rate = new RateWindow();
  private xfr = 0;
  /** A line is on screen without its newline (rsync's output_needs_newline). */
  pending = false;
  /** The run is over: a file's figures are what the walk counted, even where it stopped early. */
  private final = false;
  /** --info=progress2: the whole run's line (undefined: --progress's line per file). */
  private readonly whole: { size: () => number; ends: ListEnds; sent: number; shown: number; eol: CountsEol } | undefined;

  constructor(
    /** Writes text to stdout as is. */
    private readonly write: (s: string | Buffer) => void,
    private readonly counters: BigInt64Array,
    private readonly counts: () => ListCounts,
    private readonly human: number,
    /** --info=progress2: the total size of the files listed so far, and whether lists are incremental. */
    whole?: { size: () => number; incremental: boolean },
    /**
     * A pull's lines as its fetch drew them while the data arrived (their rates are the transfer's): a
     * file's are printed in its place, and the phase ends' at the end, instead of the run's own.
     */
    private readonly replay?: ProgressRecords,
  ) {
    this.whole = whole && { size: whole.size, ends: new ListEnds(whole.incremental), sent: 0, shown: 0, eol: new CountsEol() };
  }

  /** A whole stdout line (with its newline), printed in queue order. */
  line(text: string | Buffer): void {
    this.queue.push(text);
    this.pump();
  }

  /** A file whose op was just queued (`rel`: its name in the destination): its lines come next. */
  file(size: number, rel?: Buffer): FileMark {
    const now = this.counts();
    const m = new FileMark(size, now.window?.place(now.listed) ?? now.listed, now.window?.current ?? 0, now.window?.opens(now.listed) ?? false);
    if (this.replay && rel) m.replay = this.replay.byName.get(rel.toString('latin1'));
    this.queue.push(m);
    this.pump();
    return m;
  }

  /** A place for lines an op's outcome decides (a symlink's, made or not): it waits for settle() and draws nothing. */
  hold(): FileMark {
    const m = new FileMark(0);
    m.held = true;
    this.queue.push(m);
    return m;
  }

  /** progress2: an entry itemized now without a transfer (ignored by --progress's lines). */
  item(): void {
    // (A pull's receiver draws no line for it.)
    if (!this.whole || this.replay) return;
    const now = this.counts();
    if (!now.window) return;
    this.queue.push(new ItemMark(now.window.current, now.window.opens(now.listed)));
    this.pump();
  }

  /** The batch returned this file's outcome; `lines` (its -c line) are printed ahead of its own. */
  settle(m: FileMark, outcome: number, lines: (string | Buffer)[] = []): void {
    m.outcome = outcome;
    m.settledByBatch = true;
    const at = this.queue.indexOf(m);
    if (at >= 0) this.queue.splice(at, 0, ...lines);
    else lines.forEach((l) => this.queue.push(l));
    this.pump();
  }

  /** Print what can be printed: lines, finished files, the live line of the file being copied. */
  pump(): void {
    while (this.queue.length) {
      const next = this.queue[0]!;
      if (next instanceof ItemMark) {
        if (!this.itemSent(next)) {
          // Its counts wait for the walk; the data flowing meanwhile is still shown.
          const file = this.queue.find((q): q is FileMark => q instanceof FileMark);
          this.wholeLive(file?.size ?? 0);
          return;
        }
        this.queue.shift();
        continue;
      }
      if (!(next instanceof FileMark)) {
        this.endLine();
        this.write(next);
        this.queue.shift();
        continue;
      }
      const o = next.result();
      if (next.held) {
        // Its lines came with its outcome (settle(): put ahead of it).
        if (o === undefined) return;
        this.queue.shift();
        continue;
      }
      if (o === undefined) {
        if (next.replay === undefined) this.live(next);
        return;
      }
      if (o === Outcome.Done && next.replay !== undefined) {
        this.replayed(next, next.replay);
      } else if (o === Outcome.Done) {
        // Its counts wait until the walk has listed as far as rsync's sender had when it sent the file.
        if (!this.last(next)) return;
      } else if (!this.whole) {
        this.endLine();
        // rsync's next file chains from this one's samples, as after an end line.
        this.rate.reset();
      }
      this.queue.shift();
    }
    // Nothing waits: the lists walked so far will not be asked about again (progress2 still counts
    // from the ends of the lists after its last file when the run ends).
    const w = this.counts().window;
    if (!this.whole) w?.forget(w.current);
  }

  /** The run is over: an interrupted file gets no last line (no false 100%), only the newline it lacks. */
  stop(aborted = false): void {
    this.final = true;
    this.pump();
    if (this.replay && !aborted && this.queue.length === 0) {
      if (this.replay.tail) this.draw(this.replay.tail);
    } else if (this.whole && !aborted && this.queue.length === 0) {
      const now = this.counts();
      for (const cur of this.whole.ends.atEnd(now.window?.current ?? 0)) this.listEnd(cur, { listed: now.listed, growing: false });
    }
    this.endLine();
    // Whatever is still queued was never run (an interrupt): its lines are not printed as if it had been.
    this.queue.length = 0;
  }

  /** A pulled file's lines as the fetch drew them (the counts after them go on from its). */
  private replayed(m: FileMark, text: string): void {
    this.xfr++;
    if (this.whole) this.whole.sent += m.size;
    this.draw(text);
  }

  private draw(text: string): void {
    if (!text) return;
    this.write(text);
    this.pending = !text.endsWith('\n');
  }

  private endLine(): void {
    if (!this.pending) return;
    this.write('\n');
    this.pending = false;
  }

  /** rsync's show_progress: the first line at the file's first data, then at most once a second. */
  private live(m: FileMark): void {
    if (this.whole) {
      this.wholeLive(m.size);
      return;
    }
    if (!m.shared || Atomics.load(this.counters, Counter.Batch) !== BigInt(m.batch)) return;
    const cur = Atomics.load(this.counters, Counter.Current);
    if (Number(cur >> BigInt(CURRENT_SHIFT)) !== m.index + 1) return;
    const ofs = Math.min(m.size, Number(cur & MASK));
    if (ofs === 0) return;
    const line = this.rate.line(ofs, m.size, this.human);
    if (line === undefined) return;
    this.write(line);
    this.pending = true;
  }

  /**
   * rsync's end_progress: the whole file at its average rate, the time it took, the counts, a newline.
   * False (nothing drawn) while the counts are not known yet.
   */
  private last(m: FileMark): boolean {
    const now = this.counts();
    const fig = now.window && !this.final ? now.window.figure(m.list, now.listed) : { listed: now.listed, growing: now.growing === true };
    if (fig === undefined) return false;
    if (this.whole) return this.wholeLast(m, fig, now.window);
    now.window?.forget(m.list);
    // A file copied before it was looked at still gets the line rsync draws at its first data.
    if (!this.rate.sampled && m.size > 0) this.write(this.rate.line(Math.min(m.size, 32 * 1024), m.size, this.human)!);
    this.xfr++;
    // rsync's count: the entries of the list after this file (num_files - index - 1).
    const { listed, growing } = fig;
    const eol = ` (xfr#${this.xfr}, ${growing ? 'ir' : 'to'}-chk=${Math.max(0, listed - m.listedAt)}/${listed})`;
    this.write(this.rate.end(m.size, m.size, eol, this.human) + '\n');
    this.pending = false;
    return true;
  }

  /**
   * progress2's live line: the data written so far by every worker (the files' batches run side by side,
   * so the head file is not the only one moving), never less than a line showed before, and never more
   * than the files up to the head one (`head` bytes) hold: the next file's end line, which counts in list
   * order as rsync's sender does, then never has to be raised to keep the figure from running backwards.
   */
  private wholeLive(head: number): void {
    const w = this.whole!;
    const ofs = Math.max(w.shown, Math.min(w.sent + head, Number(Atomics.load(this.counters, Counter.Bytes))));
    if (ofs === 0) return;
    const line = this.rate.line(ofs, Math.max(w.size(), ofs), this.human);
    if (line === undefined) return;
    w.shown = ofs;
    this.write(line);
    this.pending = true;
  }

  /** progress2: a file's end (rsync's end_progress under progress2), with the list ends around it. */
  private wholeLast(m: FileMark, fig: ListFigure, window: ListWindow | undefined): boolean {
    const w = this.whole!;
    const ends = w.ends.fileSent(m.list, m.opens);
    for (const cur of ends.before) this.listEnd(cur, fig, window);
    // The line rsync draws at the run's first data, when no live line was drawn.
    if (!this.rate.sampled && m.size > 0) {
      const first = this.rate.line(w.sent + Math.min(m.size, 32 * 1024), Math.max(w.size(), w.sent + m.size), this.human);
      if (first !== undefined) {
        this.write(first);
        this.pending = true;
      }
    }
    this.xfr++;
    w.sent += m.size;
    this.wholeLine(Math.max(0, fig.listed - m.listedAt), fig);
    for (const cur of ends.after) this.listEnd(cur, fig, window);
    // Lists before this file's are not asked about again (the end lines count from this one on).
    window?.forget(m.list);
    return true;
  }

  /** progress2: the list ends around an itemized entry; false while its list's counts are not known. */
  private itemSent(m: ItemMark): boolean {
    const now = this.counts();
    const window = now.window;
    const fig = window && !this.final ? window.figure(m.list, now.listed) : { listed: now.listed, growing: now.growing === true };
    if (fig === undefined) return false;
    const ends = this.whole!.ends.fileSent(m.list, m.opens, false);
    for (const cur of [...ends.before, ...ends.after]) this.listEnd(cur, fig, window);
    return true;
  }

  /** progress2's line at the end of a list, counting from the end of list `cur`. */
  private listEnd(cur: number, fig: ListFigure, window = this.counts().window): void {
    const end = cur === WHOLE_LIST ? fig.listed : window?.end(cur) ?? fig.listed;
    this.wholeLine(Math.max(0, fig.listed - end), fig);
  }

  /** rsync's is_last line under progress2: the run so far, its counts, no newline (padded if shorter). */
  private wholeLine(toCheck: number, fig: ListFigure): void {
    const w = this.whole!;
    const eol = w.eol.text(this.xfr, toCheck, fig.listed, fig.growing);
    // Files end in list order while workers copy later ones: the figure never runs below a live line's.
    const ofs = Math.max(w.sent, w.shown);
    w.shown = ofs;
    this.write(this.rate.end(ofs, Math.max(w.size(), ofs), eol, this.human, true));
    this.pending = true;
  }
}
