// The -v summary's and --stats' byte figures of a local copy as rsync prints them: rsync copies locally
// as a sender and a receiver (itself a generator and a receiver) talking its protocol over pipes, and
// counts what its sender wrote and read after the handshake (io.c's stats.total_written/total_read,
// taken before the final goodbye), and the part of it written while the lists were being sent ("File
// list size"). This works the stream out for a run that changed nothing (a no-op re-sync, the everyday
// case), where rsync's own figures are the same from run to run:
//   the sender writes the first list and flushes it (one MSG_DATA frame; a first list of one entry
//   takes the next lists along until one has entries), then the other lists and NDX_FLIST_EOF, sent
//   when it first waits for the generator; the generator answers with one NDX_DONE per list and the
//   end of the first phase, in one frame, or in two when it had to wait for the second lot of lists
//   after finishing the first (its flushes follow its waits); the sender echoes each; then three more
//   NDX_DONEs (the phases, and protocol 31's late-delete phase) with --delete's statistics, and the
//   sender's two last NDX_DONEs. Each frame has a 4-byte header; a frame is cut at rsync's 64 KiB buffer.
// An entry whose attributes alone change adds its index and item flags both ways (run/item-bytes.ts).
// A run that creates entries and sends files whole adds, per entry, what rsync's generator asks and its
// sender answers (item-bytes.ts counts it as the walk goes), framed as below (exchanged, session); its
// lists may then go beyond the first 1,000-entry round, counted among the data. Where rsync's processes
// wait on each other decides a few of those frames, so rsync's own figures for such a run move by a few
// bytes from run to run; these come within that (docs/options.md, issue 9).
// --no-whole-file: a file searched against its basis (run/local-delta.ts) adds the basis' block sums to
// the generator's request and answers with the search's tokens instead of the whole data; rsync's
// sender, reading those sums 32 KiB at a time, sends what it holds before each read (item-bytes.ts
// searched and reads). rsync's generator stays ahead of its sender there, and its figures were the same
// from run to run on every tree measured. Not worked out (plain figures): -c with --no-whole-file, a
// --*-dest directory with it (rsync searches the twin), a file the search could not read.
// A deletion adds the message rsync's receiving side sends its sender for it (item-bytes.ts deleted). A
// no-op's lists beyond the first 1,000-entry round go in rounds (session, below).
// Outside what is worked out here (errors, -vv or -ii, whose generator names every entry to the sender,
// deletions made backups or cut short by --max-delete, the options exchanged() and stream-list.ts leave
// out), the caller keeps its plain figures.
// The lists come from scanTree's record when it made one (counted in C, native/streamlist.c, the
// counter's state handed over and back around each list), else from a walk here (stream-list.ts).

import type { Config } from '../model/config.js';
import type { FilterList } from '../plan/filter.js';
import type { Engine } from '../engine/engine.js';
import type { Exchange, ExchangePart, RunTotals, StreamTotals } from '../model/run-totals.js';
import type { RecordedLists } from '../model/listing.js';
import { NdxWriter, NDX_FLIST_EOF } from '../remote/ndx.js';
import { MuxCounter } from './stream-out.js';
import { listEncoder, listOptions, rsyncLists, unmodelled, wholeList, type RecordedList, type SentList } from './stream-list.js';
import { encodeFlistEnd } from '../remote/flist-send.js';
import { flistSettings } from '../remote/flist-settings.js';
import { Fle } from './push-native.js';
import { putVarint } from '../remote/wire.js';
import { groups, users } from '../util/userdb.js';
import { abbreviated } from '../remote/xattr-list.js';
import type { SendEntry } from '../remote/flist-send.js';

/** rsync's NDX_FLIST_OFFSET: a directory's list is announced as this minus the directory's index. */
const NDX_FLIST_OFFSET = -101;
/** rsync's MIN_FILECNT_LOOKAHEAD: the entries the sender keeps listed ahead of the generator. */
const LOOKAHEAD = 1000;
const HEADER = 4;
/**
 * What the sender's socket holds beyond what the receiver has read (Linux's default socket buffer): a
 * "list done" the receiver sends later than this before the stream's end reaches a sender that has
 * finished sending, and is answered in a frame of its own.
 */
const IN_FLIGHT = 212992;
/** NDX_DEL_STATS as rsync's write_ndx encodes it (0xff and its step). */
const DEL_STATS_NDX = 2;

/** --delete's statistics (write_del_stats): the index, then the deleted files, directories, symlinks, devices and specials as varints. */
function delStats(d: RunTotals['deleted']): number {
  let n = DEL_STATS_NDX;
  for (const v of [d.reg, d.dir, d.link, d.dev, d.special]) n += putVarint(varintScratch, 0, v);
  return n;
}
const varintScratch = Buffer.alloc(8);

const none = (c: RunTotals['created']): boolean => c.reg + c.dir + c.link + c.dev + c.special === 0;

const total = (n: RunTotals['deleted']): number => n.reg + n.dir + n.link + n.dev + n.special;

/**
 * The ops of the deletions, where the figures count them (deletionsCounted), else 0: one per entry, and
 * one per directory deleted in, whose time is set back after.
 */
const deletionOps = (c: Config, t: RunTotals): number => (deletionsCounted(c, t) ? total(t.deleted) + (t.items?.deletions?.dirs ?? 0) : 0);

/**
 * Whether the run's deletions are worked out: none, or deletions as rsync's generator makes them (before
 * the transfer, while it goes through the lists, or after the sender took its figures: --delete-delay,
 * --delete-after), each with rsync's logged message (item-bytes.ts deleted), none turned into a backup
 * (the backup's own lines and ops are not) or cut short by --max-delete.
 */
function deletionsCounted(c: Config, t: RunTotals): boolean {
  if (none(t.deleted)) return true;
  return c.deleteMode !== 'none' && !c.backup && t.deleteSkipped === 0;
}

/**
 * Whether rsync's generator would have sent its sender nothing but the NDX_DONEs and the items of entries
 * whose attributes alone changed (their ops, one each, set those attributes): nothing else changed,
 * nothing else itemized.
 */
function quiet(c: Config, t: RunTotals): boolean {
  const items = t.items?.count ?? 0;
  // (An entry made against a --*-dest twin is not counted as created, but is told: an exchange.)
  return t.ops !== undefined && t.ops <= items + deletionOps(c, t) + (t.unchangedOps ?? 0) && !(sentFiles(t) > 0) && none(t.created) && t.items?.exchange === undefined && deletionsCounted(c, t) && t.ioErrors === 0 && t.vanished === 0 && t.errors.length === 0;
}

/** The files the run sent: those it planned, less the copies rsync's generator makes of --*-dest twins. */
const sentFiles = (t: RunTotals): number => t.plannedFiles - (t.localCopies?.files ?? 0);

/**
 * Whether every entry the run acted on was a plain one of rsync's exchange (run/item-bytes.ts counted
 * them all): files sent whole, or searched against their own basis (deltaModelled), with no basis of
 * another name, other entries created, attributes set, entries deleted as deletionsCounted says; nothing failed, redone, or written by the options that
 * change what the two sides say (a dry run's requests without data, a --*-dest or -y basis, a partial
 * file or a fuzzy one, --append, -H's links, --remove-source-files' acknowledgements,
 * --delay-updates, -z's compressed data, -A/-X/-U). A --*-dest twin tells rsync's sender only what its
 * entry's flags say (run/alt-entry.ts; a file sent against a twin names the basis' type).
 */
function exchanged(c: Config, t: RunTotals, x: Exchange): boolean {
  const made = t.created.dir + t.created.link + t.created.dev + t.created.special;
  return (
    // A dry run's generator asks for each file without a checksum header, and its sender answers with
    // the index and flags alone (item-bytes.ts created): entries made, none sent.
    (c.dryRun ? x.files === 0 && x.made >= made + sentFiles(t) : x.files === sentFiles(t) && x.made >= made) &&
    deletionsCounted(c, t) &&
    t.ioErrors === 0 &&
    t.vanished === 0 &&
    t.errors.length === 0 &&
    !(t.xferErrors! > 0) &&
    t.redo === undefined &&
    deltaModelled(c) &&
    // -y: a file the destination lacks may get a fuzzy basis, named to the sender (its type and name).
    !(c.fuzzy && t.created.reg > 0) &&
    // --partial-dir: a waiting partial file is a basis named to the sender (its type).
    !(t.partialsFound! > 0) &&
    !c.append &&
    !c.hardLinks &&
    !c.removeSourceFiles &&
    // -z: rsync compresses a local copy's file data too (its negotiated compressor's own output).
    !(c.compress && c.compress.count > 0 && x.files > 0)
  );
}

/**
 * --no-whole-file: the delta search's sums and tokens (item-bytes.ts searched) are worked out for files
 * searched against the destination file of the same name (under -c too: a file its compare finds
 * different is searched before its request is counted, run/entry.ts); not with a --*-dest basis (rsync
 * searches the twin, arsync counts the file whole).
 */
function deltaModelled(c: Config): boolean {
  if (!c.localDelta) return true;
  return c.linkDest.length + c.compareDest.length + c.copyDest.length === 0;
}

/**
 * -X: what rsync's generator asks and its sender answers for the xattrs of entries it creates (xattrs.c
 * send_xattr_request): an entry with xattrs is itemized with ITEM_REPORT_XATTR, so each side ends a
 * request list (one byte); the first entry of each distinct xattr list also asks for its abbreviated
 * values (over 32 bytes: each item's number, as a step from the one before), which the sender sends
 * (the number, the length, the value). Worked out where the run created every entry (a fresh copy), or
 * created none and found no xattrs changed (nothing asked); otherwise plain figures (which entries rsync
 * asks about, and for which values, depends on what the destination holds).
 */
class XattrRequests {
  generator = 0;
  sender = 0;
  private any = false;
  private readonly asked = new Set<number>();

  entry(e: SendEntry): void {
    const items = e.xattrItems;
    if (!items || items.length === 0) return;
    this.any = true;
    this.generator++;
    this.sender++;
    if (e.xattr === undefined || this.asked.has(e.xattr)) return;
    this.asked.add(e.xattr);
    let prior = 0;
    for (const it of items) {
      if (!abbreviated(it)) continue;
      const step = putVarint(varintScratch, 0, it.num - prior);
      prior = it.num;
      this.generator += step;
      this.sender += step + putVarint(varintScratch, 0, it.len) + it.len;
    }
  }

  /** What the requests add for run `t` ([generator, sender]), or undefined where not worked out. */
  added(t: RunTotals): [number, number] | undefined {
    if (!this.any) return [0, 0];
    const l = t.listed;
    if (total(t.created) === l.reg + l.dir + l.link + l.dev + l.special) return [this.generator, this.sender];
    return total(t.created) === 0 && !(t.xattrsChanged! > 0) ? [0, 0] : undefined;
  }
}

/** The figures, or undefined where they are not worked out (see above). */
export function streamTotals(c: Config, t: RunTotals, engine: Engine, filters?: FilterList): StreamTotals | undefined {
  if (unmodelled(c) !== undefined || t.streamUnknown) return undefined;
  const x = t.items?.exchange;
  const still = quiet(c, t);
  // Entries created or sent are worked out for incremental recursion's lists only.
  if (!still && !(x && exchanged(c, t, x))) return undefined;
  try {
    // The deletions' messages, each in a frame of its own (--delete-delay's and --delete-after's come
    // after the sender took its figures).
    const del = c.deleteMode === 'delay' || c.deleteMode === 'after' ? undefined : t.items?.deletions;
    if (!still) {
      const s = session(c, engine, t, filters, x);
      return s && { ...s, received: s.received + (t.messages ?? 0) + (del?.bytes ?? 0) };
    }
    const s = session(c, engine, t, filters)!;
    // The items go out among the generator's NDX_DONEs, and come back among the sender's; those of the
    // root directory's list in a frame of their own each way first (incremental recursion, one
    // "dir/" operand: item-bytes.ts rootListed).
    const rootFrame = (t.items?.rootListed ?? 0) > 0 && c.incRecursive && c.sources.length === 1 && !c.relative ? HEADER : 0;
    const items = (t.items?.bytes ?? 0) + rootFrame;
    return { ...s, sent: s.sent + items, received: s.received + items + (t.messages ?? 0) + (del?.bytes ?? 0) };
  } catch {
    // A source that could not be read again: no figures.
    return undefined;
  }
}

/** Counts recorded lists into `out` through the addon (its counter's state handed over and back). */
function recordedCounter(c: Config, r: RecordedLists, out: MuxCounter): (l: RecordedList) => number {
  const o = flistSettings(c);
  const bits = Fle.VarintFlags | (o.uid ? Fle.Uid : 0) | (o.gid ? Fle.Gid : 0) | (o.links ? Fle.Links : 0) | (o.devices ? Fle.Devices : 0) | (o.specials ? Fle.Specials : 0) | (o.numericIds ? Fle.NumericIds : 0);
  const settings = Float64Array.of(bits, c.protocol ?? 32);
  const state = new Float64Array(2);
  // listEncoder's names: the bytes of the name the user database gives, none when it has none.
  const nameLen = (id: number, user: boolean): number => {
    const n = (user ? users : groups).nameOf(id);
    return n === undefined ? -1 : Buffer.byteLength(n);
  };
  return (l) => {
    out.saveState(state);
    const n = r.count(l.list, l.prefix, l.top, l.topMeta, settings, state, nameLen);
    if (n !== l.count) throw new Error('a recorded list could not be counted');
    out.loadState(state);
    return n;
  };
}

/** The lists as the sender writes them, counted into `out`, and how they went. */
interface Lists {
  lists: number;
  /** Lists in the first frame. */
  inFirst: number;
  /** What went out while the lists were made ("File list size"). */
  listBytes: number;
  /** A no-op's rounds of lists after the first (each a frame, answered in one). */
  rounds: number;
}

/**
 * Without incremental recursion: one list, its end and the id lists (send_id_lists), flushed once made;
 * then the generator and the sender answer it as one list of incremental recursion's.
 */
function wholeLists(c: Config, engine: Engine, filters: FilterList | undefined, out: MuxCounter, seen?: XattrRequests): Lists {
  const protocol = c.protocol ?? 32;
  const enc = listEncoder(c, protocol, false);
  let index = 0;
  for (const e of wholeList(c, engine, filters)) {
    enc.entry(out, e, index++);
    seen?.entry(e);
  }
  encodeFlistEnd(out, enc.users, enc.groups, listOptions(c, protocol), 0);
  const listBytes = out.written;
  out.flush();
  return { lists: 1, inFirst: 1, listBytes, rounds: 0 };
}

/** Incremental recursion's lists: the first, then the others as rsync's lookahead sends them. */
function incrementalLists(c: Config, engine: Engine, recorded: RecordedLists | undefined, filters: FilterList | undefined, out: MuxCounter, x: Exchange | undefined, seen?: XattrRequests): Lists {
  const enc = listEncoder(c, c.protocol ?? 32);
  const counted = recorded ? recordedCounter(c, recorded, out) : undefined;
  const ndx = new NdxWriter();
  const b = Buffer.allocUnsafe(8);
  let index = 0;
  let lists = 0;
  const send = (l: SentList): number => {
    if (l.dirNdx !== undefined) out.put(ndx.encodeInto(NDX_FLIST_OFFSET - l.dirNdx, b, 0));
    const start = index;
    let n: number;
    if ('recorded' in l) {
      if (!counted) throw new Error('no recorded lists');
      n = counted(l.recorded);
      index += n;
    } else {
      for (const e of l.entries) {
        enc.entry(out, e, index++, start);
        seen?.entry(e);
      }
      n = l.entries.length;
    }
    // The end: a zero flags varint and the I/O-error varint (write_end_of_flist).
    out.varint(0);
    out.varint(0);
    lists++;
    return n;
  };
  const it = rsyncLists(c, engine, recorded, filters);
  let next = it.next();
  const eof = (): void => out.put(ndx.encodeInto(NDX_FLIST_EOF, b, 0));

  // send_file_list: the first list (a first list of one entry takes lists along until one has entries).
  const firstCount = send(next.value as SentList);
  next = it.next();
  let ahead = 0;
  if (firstCount === 1) {
    while (!next.done && ahead < 1) {
      ahead += send(next.value);
      next = it.next();
    }
  }
  if (next.done) eof();
  let listBytes = out.written;
  const inFirst = lists;
  out.flush();

  // send_files' first round: the other lists while fewer than LOOKAHEAD entries are listed ahead.
  let rounds = 0;
  if (!next.done) {
    const before = out.written;
    while (!next.done && ahead < LOOKAHEAD) {
      ahead += send(next.value);
      next = it.next();
    }
    // More lists than one round sends: rsync spreads them over the generator's answers. Where entries
    // were sent they are sent as the answers come, among the data (their bytes counted, their place
    // between the data's frames not worked out). Where nothing is sent, the generator goes through
    // every list it has, then waits for more, which flushes its "list done" answers; the sender frees
    // those lists as it reads the answers and tops its lists up to LOOKAHEAD entries ahead, all of them
    // new by then, and flushes them when it waits in its turn: a round of lists of at least LOOKAHEAD
    // entries per frame, and NDX_FLIST_EOF in a frame of its own once the last is sent.
    const sends = x !== undefined && x.files > 0;
    while (!next.done) {
      let round = 0;
      while (!next.done && (sends || round < LOOKAHEAD)) {
        round += send(next.value);
        next = it.next();
      }
      if (sends) break;
      rounds++;
      out.flush();
    }
    eof();
    // "File list size" counts what rsync's sender wrote out while it made the lists; a sender that waits
    // between rounds writes its lists out while idle instead (rsync printed 0 for every such no-op
    // measured, up to the Linux tree).
    if (rounds === 0) listBytes += out.written - before;
    out.flush();
  }
  return { lists, inFirst, listBytes, rounds };
}

function session(c: Config, engine: Engine, t: RunTotals, filters: FilterList | undefined, x?: Exchange): StreamTotals | undefined {
  const { lists: recorded, deleted } = t;
  const out = new MuxCounter();
  const seen = x && c.xattrs ? new XattrRequests() : undefined;
  const { lists, inFirst, listBytes, rounds } = c.incRecursive ? incrementalLists(c, engine, recorded, filters, out, x, seen) : wholeLists(c, engine, filters, out, seen);
  const requests: [number, number] | undefined = seen ? seen.added(t) : [0, 0];
  if (!requests) return undefined;

  // The generator's NDX_DONEs and the sender's echoes, frame by frame.
  let sent = out.written;
  let received = 0;
  const early = inFirst - 1;
  const rest = lists - Math.max(early, 0);
  if (x && x.files > 0) {
    // Files sent: rsync's generator writes out the first lot's requests when it waits for the next list,
    // and the rest as its buffer fills or it waits; it says a list is done (NDX_DONE) once the receiver
    // has finished the list's files: at once for a list with nothing sent (among its requests), for the
    // others when the receiver wakes it (lists finished close together share a frame: item-bytes.ts),
    // and the last list with a file sent together with the lists after it. The sender answers as it
    // reads, in one stream cut where its buffer fills; a "done" reaching it while it still has data to
    // send is echoed among the data, the later ones in frames of their own. Where rsync's processes
    // wait on each other decides some of these frames, so rsync's own figures move by a few bytes from
    // run to run; these are its usual ones.
    const last = x.lastSendList;
    const quietLists = last - (x.sendLists - 1);
    for (let i = 0; i < quietLists; i++) x.rest.generator.put(1);
    if (x.firstItems > 0) {
      x.first.generator.flush();
      received += x.first.generator.written;
    }
    // Without incremental recursion the generator ends its one list with NDX_DONE right after its last
    // request, in the same frame, and the sender echoes it after its last file's data, as it reads it.
    const whole = !c.incRecursive;
    if (whole) {
      x.rest.generator.put(1);
      x.stream.put(1);
    }
    const g = x.doneGroups;
    for (let i = 0; i < g.length; i += 2) x.rest.generator.put(g[i + 1]!);
    x.rest.generator.flush();
    received += x.rest.generator.written + (whole ? 0 : HEADER + (lists - last));
    const end = x.stream.length;
    let alone = 0;
    for (let i = 0; i < g.length; i += 2) {
      if (g[i]! < end - IN_FLIGHT) for (let j = 0; j < g[i + 1]!; j++) x.stream.put(1);
      else alone += HEADER + g[i + 1]!;
    }
    for (let i = 0; i < quietLists; i++) x.stream.put(1);
    x.stream.flush();
    sent += x.stream.written + alone + (whole ? 0 : HEADER + (lists - last));
  } else if (x) {
    // Entries created, nothing sent: as a no-op's frames, each part's items with its NDX_DONEs, and the
    // first lot's apart whenever it has any (the generator waits for the next list with them held).
    const frame = (p: ExchangePart, dones: number): void => {
      for (let i = 0; i < dones; i++) {
        p.generator.put(1);
        p.sender.put(1);
      }
      p.generator.flush();
      p.sender.flush();
      received += p.generator.written;
      sent += p.sender.written;
    };
    if (early > 0 || x.firstItems > 0) frame(x.first, Math.max(early, 0));
    frame(x.rest, rest);
  } else {
    if (early > 0) {
      received += HEADER + early;
      sent += HEADER + early;
    }
    received += HEADER + rest;
    sent += HEADER + rest;
  }
  // Each later round of lists: the generator's answers held until it waited for it, in a frame.
  received += HEADER * rounds;
  // --delete-delay and --delete-after delete after the transfer: their statistics and the last NDX_DONE
  // come after the sender took its figures.
  if (c.deleteMode === 'delay' || c.deleteMode === 'after') received += HEADER + 2;
  else received += HEADER + 3 + (c.deleteMode !== 'none' ? delStats(deleted) : 0);
  sent += HEADER + 2;
  // --delay-updates: the generator's NDX_DONE for that phase waits for it (EARLY_DELAY_DONE_MSG), in a
  // frame of its own, echoed in one.
  if (c.delayUpdates) {
    received += HEADER;
    sent += HEADER;
  }
  // -X: the requests among the generator's items, the values among the sender's answers.
  received += requests[0];
  sent += requests[1];
  return { sent, received, listBytes };
}
