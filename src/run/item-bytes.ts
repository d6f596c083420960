// The bytes rsync's two processes exchange for the entries its generator acts on, counted as the walk
// meets them, for the -v summary and --stats (run/stream-totals.ts). For each such entry rsync's
// generator tells its sender the entry's index and item flags (generator.c itemize() for any
// significant flag, -v or not; recv_generator for a transfer, followed by the 16-byte checksum header
// of a file sent whole), and the sender writes them back (send_files): alone for an entry without
// ITEM_TRANSFER (a new directory or link, changed attributes), or followed by the header, the file's data
// as literal tokens and its checksum (run/wire-bytes.ts) for a transfer. The index is written as a
// difference from the one before (io.c write_ndx: one byte for a step of 1..253), the flags as two bytes.
// Attribute-only entries keep their own count and total (a run that changed nothing else, the no-op
// model); with entries created or sent, each side's writes also go through counters of rsync's 64 KiB
// multiplexed frames in the order rsync writes them (run/stream-out.ts): the generator's in two parts,
// the entries of rsync's first lot of lists (the root's list, or a root's list of one entry and the
// lists it takes along until one has entries: the generator writes them out when it waits for the next
// list) and the rest; the sender's both as one stream (it answers as it reads, its frames cut where its
// buffer fills) and split the same way (for a run that sends no data, where it waits after each part).
// A new directory's own entry is itemized when its list starts, as rsync's generator does (generate_files).
// A file --no-whole-file searched against its basis carries the basis' block sums in its request and the
// search's tokens in its answer (searched); rsync's sender then sends its stream before each read of
// the generator's beyond its input buffer (reads).

import { NdxWriter } from '../remote/ndx.js';
import type { ListWindow } from '../model/list-window.js';
import type { Root } from '../plan/sources.js';
import type { Exchange, ExchangePart } from '../model/run-totals.js';
import { MuxCounter } from './stream-out.js';
import { TOKEN_CHUNK } from './wire-bytes.js';
import type { BasisSearch } from './local-delta.js';

const FLAGS = 2;
/** ITEM_BASIS_TYPE_FOLLOWS: the basis file's type, one byte after the flags. */
const BASIS_TYPE = 1;
/** A multiplexed message's header. */
const HEADER = 4;
/**
 * How far the sender's stream moves on while rsync's generator sleeps between two wake-ups by its
 * receiver: lists finished within it are said done in one frame. rsync's own timing decides it; 32 KiB
 * came closest to rsync's figures over the shapes measured (docs/options.md, issue 9).
 */
const DONE_SPAN = 32 * 1024;
/** The checksum header before a file's data (count, block length, checksum length, remainder). */
const SUM_HEAD = 16;
const TOKEN = 4;
/** rsync's iobuf.in.size: its sender reads the generator's stream at most this much at a time. */
const IN_SIZE = 32 * 1024;

/**
 * rsync's index of an entry: under incremental recursion each list starts one past the last one's end
 * (its first at 1), so the index is the place plus the lists before; a list sent whole starts at 0.
 */
function ndxOf(w: ListWindow, listed: number): number {
  const place = w.place(listed);
  return w.incremental ? place + w.current : place - 1;
}

const part = (): ExchangePart & { generator: MuxCounter } => ({ sender: new MuxCounter(), generator: new MuxCounter() });

/**
 * Whether rsync's generator itemizes the entry at `rel` while it goes through the root directory's own
 * list (rootListed): the root of a "dir/" operand itself, or a non-directory directly in it (another
 * directory is itemized where its own list starts).
 */
export function inRootList(root: Root | undefined, rel: Buffer, dir: boolean): boolean {
  if (!root?.contents || root.rel.length !== 0) return false;
  return dir ? rel.length === 0 : rel.indexOf(0x2f) < 0;
}

/**
 * Where an entry stood when the walk listed it (its index, its list, whether in the first lot), for an
 * entry decided later: -c's compares come back from the engines after the walk has gone on.
 */
export interface ItemPlace {
  ndx: number;
  list: number;
  first: boolean;
  /** In the root directory's own list (rootList below). */
  rootList?: boolean;
}

export class ItemBytes {
  private readonly ndx = new NdxWriter();
  private readonly exchangeNdx = new NdxWriter();
  private readonly b = Buffer.allocUnsafe(8);
  /** Entries itemized without a transfer because their attributes alone changed, and the bytes one side wrote for them. */
  count = 0;
  bytes = 0;
  /**
   * How many of those rsync's generator itemized while going through the root directory's list (of more
   * than one entry, its sender's first frame): it writes them out as it waits for the next lists, in a
   * frame of their own that its sender answers in one (measured: 4 bytes more each way, once).
   */
  rootListed = 0;
  /**
   * What rsync's generator has written to its sender so far for the entries it acted on (an entry's
   * index and flags, a transfer's checksum header), kept whether or not the figures are printed: where
   * its 64 KiB buffer would have filled, rsync's sender gets the requests and prints their names
   * (line-order.ts).
   */
  generated = 0;
  private readonly first = part();
  private readonly rest = part();
  /** The sender's writes as one stream. */
  private readonly stream = new MuxCounter();
  private firstItems = 0;
  /** Regular files sent, and other entries created or replaced. */
  private files = 0;
  private made = 0;
  /** Lists with a file sent, and the list of the last file sent. */
  private sendLists = 0;
  private lastSendList = -1;
  /** The receiver's "list done" answers before the last list's, grouped: [stream offset, lists] pairs. */
  private readonly groups: number[] = [];
  private groupStart = 0;
  private groupCount = 0;
  /** The messages (MSG_DELETED) of the deletions rsync's receiving side reports to its sender. */
  deletionBytes = 0;
  /** Directories deleted in (each gets its time back afterwards: one op rsync does not itemize). */
  deletionDirs = 0;
  private newDeletionDir = false;
  /** The place of an entry decided later (at), instead of the walk's current one. */
  private placed: ItemPlace | undefined;
  /** A placed index is encoded against the index before it in rsync's list, not the stream's last. */
  private readonly placedNdx = new NdxWriter();
  /** The delta search of the file whose request comes next (searched, then sent). */
  private search: BasisSearch | undefined;
  /** How far into the generator's requests rsync's sender has read (with `searches`: reads). */
  private readTo = 0;

  /**
   * `sumLength`: the transfer checksum's length (wire-bytes.ts xferSumLength). `exchanges`: whether the
   * run will print the figures (stream-list.ts streamFigures); without it only the attribute-only
   * total is kept.
   */
  constructor(
    private readonly sumLength = 16,
    readonly exchanges = true,
    /**
     * rsync's generator itemizes every entry to its sender, changed or not: its --info=name2 (-vv) or a
     * format with %i given twice (-ii) on the receiving side (generator.c itemize).
     */
    readonly everyEntry = false,
    /**
     * --no-whole-file on a local copy (not a dry run): the requests carry block sums, so rsync's sender
     * reads them in many pieces, and each time it must read on it first sends what it has written out
     * (reads, below).
     */
    private readonly searches = false,
  ) {}

  /** Where an entry counted now (`listed` entries with it) stands, for deciding it later (at). */
  place(w: ListWindow, listed: number, rootList = false): ItemPlace {
    return { ndx: ndxOf(w, listed), list: w.incremental ? w.current : 0, first: w.incremental && w.lastListed <= 1, rootList };
  }

  /** Counts what `count` adds as the entry at `p` (decided after the walk moved on). */
  at(p: ItemPlace, count: () => void): void {
    this.placed = p;
    try {
      count();
    } finally {
      this.placed = undefined;
    }
  }

  /** An entry just counted in the list that the run leaves as it is: itemized all the same under everyEntry. */
  unchanged(w: ListWindow, listed: number): void {
    if (this.everyEntry) this.note(w, listed);
  }

  /**
   * An entry just counted in the list (`listed` entries so far, `w` the walk's lists) whose attributes
   * alone change. A directory's too, where the walk meets it rather than where its own list starts: a
   * re-sync that starts with scanTree does not enter a directory it found clean inside. `rootList`: the
   * entry is itemized while rsync's generator goes through the root directory's own list (the root of
   * a "dir/" operand, or a non-directory directly in it: see rootListed).
   */
  note(w: ListWindow, listed: number, rootList = false): void {
    this.count++;
    if (rootList || this.placed?.rootList) this.rootListed++;
    const head = this.index(w, listed) + FLAGS;
    this.bytes += head;
    this.generated += head;
    if (!this.exchanges) return;
    const n = this.exchangeIndex(w, listed);
    this.both(w, [n, FLAGS], [n, FLAGS]);
  }

  /**
   * The walk starts a directory's own list: rsync's generator itemizes a new directory there, with the
   * index just before its list's first entry (generate_files). (One whose attributes alone change is
   * counted where the walk lists it, note(): near enough for the frames, and seen in every walk.)
   */
  dirList(w: ListWindow, action: string | undefined): void {
    if (action !== 'create') return;
    this.generated += 1 + FLAGS;
    if (!w.incremental || !this.exchanges) return;
    this.made++;
    const n = this.exchangeNdx.encodeInto(w.lastListed + w.current, this.b, 0);
    this.both(w, [n, FLAGS], [n, FLAGS]);
  }

  /**
   * Without incremental recursion a new directory is itemized where the one list holds it (the walk
   * meets it there), not where a list of its own would start (dirList counts what it adds to the
   * generator's buffer).
   */
  newDir(w: ListWindow, listed: number): void {
    if (w.incremental || !this.exchanges) return;
    const n = this.exchangeIndex(w, listed);
    this.made++;
    this.both(w, [n, FLAGS], [n, FLAGS]);
  }

  /**
   * A link, device or special the run creates or replaces, or a dry run's file (rsync itemizes it: no
   * data follows). `basis`: a dry run's file with a basis in a --*-dest directory (its type follows the flags).
   */
  created(w: ListWindow, listed: number, basis = false): void {
    const flags = FLAGS + (basis ? BASIS_TYPE : 0);
    this.generated += 1 + flags;
    if (!this.exchanges) return;
    const n = this.exchangeIndex(w, listed);
    this.made++;
    this.both(w, [n, flags], [n, flags]);
  }

  /**
   * --no-whole-file: the file the next sent() counts was searched against its basis (run/local-delta.ts),
   * so rsync's generator follows its request with the basis' block sums, and its sender answers with the
   * search's tokens instead of the whole data (generator.c generate_and_send_sums, sender.c send_files).
   */
  searched(s: BasisSearch): void {
    this.search = s;
  }

  /**
   * A regular file of `size` bytes sent whole, or as the tokens of the search just counted (searched);
   * `basis`: against a basis file in a --*-dest directory,
   * whose type (rsync's fnamecmp_type) follows the item flags both ways.
   */
  sent(w: ListWindow, listed: number, size: number, basis = false): void {
    const search = this.search;
    this.search = undefined;
    const flags = FLAGS + (basis ? BASIS_TYPE : 0);
    this.generated += 1 + flags + SUM_HEAD;
    if (!this.exchanges) return;
    const n = this.exchangeIndex(w, listed);
    this.files++;
    // Without incremental recursion there is one list, whatever directory the walk is in.
    const list = this.placed ? this.placed.list : w.incremental ? w.current : 0;
    if (list !== this.lastSendList) {
      if (this.lastSendList >= 0) this.listDone(this.stream.length);
      this.sendLists++;
      this.lastSendList = list;
    }
    this.both(w, [n, flags, SUM_HEAD], [n, flags, SUM_HEAD], search ?? size);
  }

  /**
   * A list with files sent ends at `offset` of the sender's stream: rsync's receiver finishes it about
   * when it has read that far, and its generator, woken by the receiver, says so for every list finished
   * since it last woke, in one frame. Lists finished within DONE_SPAN bytes of the stream share one.
   */
  private listDone(offset: number): void {
    if (this.groupCount > 0 && offset - this.groupStart < DONE_SPAN) {
      this.groupCount++;
      return;
    }
    if (this.groupCount > 0) this.groups.push(this.groupStart, this.groupCount);
    this.groupStart = offset;
    this.groupCount = 1;
  }

  /** A directory's deletions start (delete_in_dir, or room made for an entry). */
  deletingIn(): void {
    this.newDeletionDir = true;
  }

  /**
   * An entry rsync would log as deleted (delete.c log_delete), named by `nameBytes` bytes: rsync's
   * receiving side sends the name to its sender as a message (a directory's with its NUL), in its
   * buffer of messages, apart from the data frames (io.c send_msg).
   */
  deleted(nameBytes: number, dir: boolean): void {
    this.deletionBytes += HEADER + nameBytes + (dir ? 1 : 0);
    if (this.newDeletionDir) this.deletionDirs++;
    this.newDeletionDir = false;
  }

  /** What the created and sent entries added, or undefined when there were none. */
  exchange(): Exchange | undefined {
    if (!this.acted) return undefined;
    return {
      first: this.first,
      rest: this.rest,
      stream: this.stream,
      firstItems: this.firstItems,
      files: this.files,
      made: this.made,
      sendLists: this.sendLists,
      lastSendList: this.lastSendList,
      doneGroups: this.groupCount > 0 ? [...this.groups, this.groupStart, this.groupCount] : this.groups,
    };
  }

  /** The bytes of an entry's index for the attribute-only total. */
  private index(w: ListWindow, listed: number): number {
    if (this.placed) return this.placedIndex();
    return this.ndx.encodeInto(ndxOf(w, listed), this.b, 0);
  }

  /** A placed entry's index bytes: a step from the index before it. */
  private placedIndex(): number {
    this.placedNdx.rewind(this.placed!.ndx - 1);
    return this.placedNdx.encodeInto(this.placed!.ndx, this.b, 0);
  }

  /** The bytes of an entry's index in the exchange's order (directories at their own lists). */
  private exchangeIndex(w: ListWindow, listed: number): number {
    if (this.placed) return this.placedIndex();
    return this.exchangeNdx.encodeInto(ndxOf(w, listed), this.b, 0);
  }

  /**
   * Each side's writes for one entry: `sender`'s and `generator`'s heads, and for a file sent the data:
   * `data` bytes sent whole (literal tokens of a length and at most 32 KiB each), or a search's tokens
   * after the generator's block sums (write_int of the weak sum, write_buf of the strong one, per
   * block); then the sender's end token and the checksum.
   */
  private both(w: ListWindow, sender: number[], generator: number[], data?: number | BasisSearch): void {
    // The first lot: every list closed so far holds the root's entry at most.
    const inFirst = this.placed ? this.placed.first : w.incremental && w.lastListed <= 1;
    const to = inFirst ? this.first : this.rest;
    if (inFirst) this.firstItems++;
    // The generator's request first: rsync's sender reads it before it answers.
    const ask = (n: number): void => {
      to.generator.put(n);
      if (this.searches) this.reads(n);
    };
    generator.forEach(ask);
    if (typeof data === 'object') {
      for (let i = 0; i < data.count; i++) {
        ask(4);
        ask(data.s2length);
      }
    }
    const put = (n: number): void => {
      to.sender.put(n);
      const cut = this.stream.written;
      this.stream.put(n);
      // A full buffer: while rsync's sender waits to write it, it reads what its generator sent.
      if (this.searches && this.stream.written !== cut) this.readTo = Math.max(this.readTo, this.generatorRaw() + IN_SIZE);
    };
    sender.forEach(put);
    if (typeof data === 'number') {
      for (let left = data; left > 0; left -= TOKEN_CHUNK) {
        put(TOKEN);
        put(Math.min(left, TOKEN_CHUNK));
      }
      put(TOKEN);
    } else if (data !== undefined) {
      // (TokenBytes' writes hold the end token.)
      for (const n of data.writes) {
        if (n > 0) {
          put(TOKEN);
          put(n);
        } else for (let i = 0; i < -n; i++) put(TOKEN);
      }
    }
    if (data !== undefined) put(this.sumLength);
  }

  /** Where the generator's requests end on the wire (both parts, with their frames' headers). */
  private generatorRaw(): number {
    return this.first.generator.raw + this.rest.generator.raw;
  }

  /**
   * rsync's sender has read the generator's write of `n` bytes just counted: where that goes beyond what
   * it has read, it waits for input (io.c perform_io), which first sends the data it holds as a frame,
   * then reads as much as its 32 KiB input buffer takes (its generator, summing basis files while the
   * sender searches, is ahead of it: rsync's figures for such runs are the same from run to run).
   */
  private reads(n: number): void {
    const end = this.generatorRaw();
    if (end <= this.readTo) return;
    this.stream.flush();
    this.readTo = end - n + IN_SIZE;
  }

  /** Whether the run created, sent or replaced anything (counted only while `exchanges`). */
  get acted(): boolean {
    return this.files + this.made > 0;
  }
}
