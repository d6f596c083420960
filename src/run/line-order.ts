// rsync's line order where it differs from the order arsync decides entries in. Its holds, one queue:
//  - -c: a compare runs in the engines, in parallel, and its line (sent, or only attributes) is known when
//    its batch's outcome comes back, after the walk has printed the lines of later entries. rsync's
//    generator prints in file-list order, so while a compare's line is unknown, every stdout line after it
//    waits in a queue behind a reserved place; the place is filled from the outcome, and the queue is
//    written out up to the next place still open. The work stays parallel: only lines are held.
//  - a symlink, FIFO, socket or device: rsync's generator itemizes one only once atomic_create made it
//    (generator.c recv_generator), so its line (-v, -i, --out-format, --log-file; a local run's or a
//    pull's) waits for its op's outcome as a compare's does, at a place reserved by made(), and is left
//    out when the op failed (run/entry.ts madeLine; an op set aside for the EMFILE retry fills it then).
//  - -v, -vv, -i: in a local rsync the generator's own lines ("is uptodate", deletions, "cannot delete
//    non-empty directory", "skipping non-regular file") go to the client at once as messages, while an
//    entry's -v or -i line is printed by the sender from the index (and item flags) the generator queues in
//    its data buffer, which it writes out when the buffer fills (64 KiB: some 3,400 files' requests) or the
//    pass over the list ends (docs/options.md, issue 9). So each such "sender line" takes its place in the
//    queue like any other line, and is written out when the generator's buffer would have filled (counted
//    by run/item-bytes.ts) or after the pass: at most a buffer's worth of names is held.
//  - --copy-unsafe-links at -v: rsync's sender prints "copying unsafe symlink" as it lists a link, and it
//    keeps its lists at least 1,000 entries ahead of the generator (MIN_FILECNT_LOOKAHEAD), so these lines
//    come before the generator's lines (deletions, names) about entries up to 1,000 places earlier. A place
//    at the head of the queue takes them as the walk meets them, a directory's at a time (put back in its
//    readdir() order); every other stdout line waits behind it until the walk has listed 1,000 entries past
//    the place where the line was printed and that directory's list-time lines are out, or the pass ends.

import { opendirSync } from 'node:fs';
import type { Reporter } from '../progress/reporter.js';
import { baseName, dirName } from '../util/names.js';

/** What rsync's generator holds for its sender before it writes it out: its 64 KiB buffer, less the frame header. */
const GENERATOR_BUFFER = 64 * 1024 - 4;
/** rsync's MIN_FILECNT_LOOKAHEAD: the entries its sender lists ahead of its generator. */
const LOOKAHEAD = 1000;

/** A reserved place in the output: the lines its entry prints once its outcome is known. */
export interface LineSlot {
  lines: Array<() => void>;
  open: boolean;
  /** Behind the list-time place: written once the walk has listed this many entries (LineOrder.listed). */
  at?: number;
}

export class LineOrder {
  private readonly queue: LineSlot[] = [];
  /** Sender lines whose turn in the queue came: written when the pass ends (release). Strings, not closures: -i holds every line. */
  private late: string[] = [];
  /** The reporter the run prints through: stdout lines go through the queue while a place is open. */
  readonly reporter: Reporter;
  /** An entry's line printed by rsync's sender (see the head comment); undefined unless -vv's order applies. */
  readonly sender: ((line: string) => void) | undefined;
  /** The pass is over: sender lines are written at their turn. */
  private released = false;
  /** `generated` when the held sender lines were last written out. */
  private flushedAt = 0;
  /** Writing to the real reporter (filling a place writes its own lines without queueing them). */
  private direct = false;
  /** The place of the sender's list-time lines (holds.listing), open until the pass ends. */
  private readonly listSlot: LineSlot | undefined;
  private readonly inner: Reporter;
  /** The bytes rsync's generator has queued for its sender so far. */
  private readonly generatedNow: () => number;

  constructor(
    inner: Reporter,
    /** What is held: -c's compares (places reserved by hold()), -v's sender lines. */
    private readonly holds: { compares: boolean; senderLate: boolean; listing?: boolean },
    /** The bytes rsync's generator has queued for its sender so far (run/item-bytes.ts generated). */
    generated?: () => number,
    /** The entries the walk has listed so far (run/tally.ts listedCount): list-time lines stream with it. */
    private readonly listedCount?: () => number,
  ) {
    this.inner = inner;
    this.generatedNow = generated ?? ((): number => 0);
    if (holds.listing) {
      this.listSlot = { lines: [], open: true };
      this.queue.push(this.listSlot);
    }
    const held = (write: (line: string) => void) => (line: string) => {
      if (this.direct || this.queue.length === 0) write(line);
      else {
        this.queue.push({ lines: [() => write(line)], open: false, ...(this.streams ? { at: this.listedCount!() + LOOKAHEAD } : {}) });
        this.pump();
      }
    };
    this.reporter = {
      ...inner,
      print: held((l) => inner.print(l)),
      item: held((l) => inner.item(l)),
      info: held((l) => inner.info(l)),
      draw: (text, open) => held((t) => inner.draw(t, open))(text),
    };
    // Its turn in the queue puts it on the late list, so late lines keep the list's order among themselves.
    this.sender = holds.senderLate
      ? held((l) => {
          if (this.released) {
            inner.item(l);
            return;
          }
          // rsync's generator buffer filled before this entry's request: the names before it go out.
          const g = generated?.() ?? 0;
          if (g - this.flushedAt > GENERATOR_BUFFER) {
            this.flushedAt = g;
            this.writeLate();
          }
          this.late.push(l);
        })
      : undefined;
  }

  /** Reserve the place of an entry whose line is known later (none when compares keep no order). */
  hold(): LineSlot | undefined {
    if (!this.holds.compares) return undefined;
    const slot: LineSlot = { lines: [], open: true };
    this.queue.push(slot);
    return slot;
  }

  /** Reserve the place of an entry whose line is printed only if its op makes it (see the head comment). */
  made(): LineSlot {
    const slot: LineSlot = { lines: [], open: true };
    this.queue.push(slot);
    return slot;
  }

  /** The entry's outcome is known: `print` writes its lines (through this.reporter) at its place. */
  fill(slot: LineSlot, print: () => void): void {
    const head = this.queue[0] === slot;
    if (head) {
      this.queue.shift();
      this.writing(print);
    } else {
      // Its lines wait with it: catch what `print` writes through the held reporter.
      const at = this.queue.indexOf(slot);
      const tail = this.queue.splice(at + 1);
      print();
      const caught = this.queue.splice(at + 1);
      slot.lines = caught.flatMap((s) => s.lines);
      this.queue.push(...tail);
    }
    slot.open = false;
    this.flush();
  }

  /** List-time lines with the source entry each is about, put in readdir order when the walk ends. */
  private readonly listedLines: { line: string; src: Buffer }[] = [];

  /**
   * A line rsync's sender prints while it lists `src` (see the head comment): ahead of every held line.
   * rsync lists a directory in readdir() order, arsync's walk in name order: each directory's lines are
   * put back in readdir order when the walk ends.
   */
  listed(line: string, src: Buffer): void {
    if (!this.listSlot?.open) {
      this.reporter.print(line);
      return;
    }
    if (this.streams) {
      // A new directory's first line: the last directory's lines are complete and go out.
      const last = this.listedLines[this.listedLines.length - 1];
      if (last && !dirName(last.src).equals(dirName(src))) this.writeListed();
      if (this.listedLines.length === 0) this.groupStart = this.listedCount!();
    }
    this.listedLines.push({ line, src });
    this.pump();
  }

  /** The walk is over: the list-time lines are written, then what waited behind them. */
  listDone(): void {
    const slot = this.listSlot;
    if (!slot?.open) return;
    if (this.streams) this.writeListed();
    else for (const group of byDirectory(this.listedLines.splice(0))) for (const { line } of group) slot.lines.push(() => this.inner.print(line));
    slot.open = false;
    this.flush();
  }

  /**
   * Whether list-time lines stream (only they and closed lines are queued: -c's places keep the whole
   * queue behind the list-time place until the walk ends).
   */
  private get streams(): boolean {
    return this.listSlot !== undefined && this.listedCount !== undefined && !this.holds.compares;
  }

  /** Where the held directory's list-time lines started (the walk's listed count then). */
  private groupStart = 0;

  /** The held directory's list-time lines, in its readdir() order, written now (the place stays open). */
  private writeListed(): void {
    for (const group of byDirectory(this.listedLines.splice(0))) for (const { line } of group) this.inner.print(line);
    this.pump();
  }

  /**
   * Lines behind the list-time place whose turn came: rsync's sender had listed 1,000 entries past them,
   * and no list-time line before that is still held.
   */
  private pump(): void {
    if (!this.streams || !this.listSlot?.open) return;
    const upTo = this.listedLines.length ? this.groupStart : this.listedCount!() + 1;
    while (this.queue.length > 1) {
      const next = this.queue[1]!;
      if (next.open || (next.at ?? 0) >= upTo) break;
      this.queue.splice(1, 1);
      this.writing(() => next.lines.forEach((w) => w()));
    }
  }

  /** rsync's generator writes out its requests (it waits for the next list): the sender lines whose turn came go out. */
  senderFlush(): void {
    if (this.released) return;
    const at = this.generatedNow();
    const flush = (): void => {
      this.flushedAt = at;
      this.writeLate();
    };
    // Behind a place still open, the generator's messages that came before this point wait in the queue:
    // the sender's lines follow them, as in rsync, where those messages went out at once.
    if (this.queue.length) this.queue.push({ lines: [flush], open: false });
    else flush();
  }

  /** The pass over the list is over: the sender lines whose turn came are written out, later ones at their turn. */
  release(): void {
    this.released = true;
    this.writeLate();
  }

  private writeLate(): void {
    const lines = this.late;
    this.late = [];
    for (const l of lines) this.inner.item(l);
  }

  /** The end of the run: every line still held is written, places never filled left empty. */
  close(): void {
    for (const s of this.queue) s.open = false;
    this.flush();
    this.release();
  }

  private flush(): void {
    while (this.queue.length && !this.queue[0]!.open) {
      const s = this.queue.shift()!;
      this.writing(() => s.lines.forEach((w) => w()));
    }
  }

  private writing(f: () => void): void {
    const was = this.direct;
    this.direct = true;
    try {
      f();
    } finally {
      this.direct = was;
    }
  }
}

/** Runs of lines about entries of one directory, each run in that directory's readdir() order. */
function byDirectory(lines: { line: string; src: Buffer }[]): { line: string; src: Buffer }[][] {
  const runs: { line: string; src: Buffer }[][] = [];
  for (const l of lines) {
    const last = runs[runs.length - 1];
    if (last && dirName(last[0]!.src).equals(dirName(l.src))) last.push(l);
    else runs.push([l]);
  }
  return runs.map((run) => {
    if (run.length < 2) return run;
    const at = readdirOrder(dirName(run[0]!.src));
    return at ? run.slice().sort((a, b) => (at.get(baseName(a.src).toString('latin1')) ?? 0) - (at.get(baseName(b.src).toString('latin1')) ?? 0)) : run;
  });
}

/** A directory's names by readdir() position, or undefined when it cannot be read again. */
function readdirOrder(dir: Buffer): Map<string, number> | undefined {
  try {
    const d = opendirSync((dir.length ? dir : Buffer.from('.')) as unknown as string, { encoding: 'buffer' as BufferEncoding });
    const at = new Map<string, number>();
    try {
      for (let e = d.readSync(); e; e = d.readSync()) at.set((e.name as unknown as Buffer).toString('latin1'), at.size);
    } finally {
      d.closeSync();
    }
    return at;
  } catch {
    return undefined;
  }
}
