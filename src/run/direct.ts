// The direct path of a plain copy: a regular file the destination lacks, in a run whose options leave
// nothing to decide for it one by one, goes from the source listing to a batch without becoming a
// JavaScript object. The addon's pair cursor, or the tree scan for a re-sync's dirty directories,
// encodes its File op from the statx it already made (native/direct.c) and the walk only counts the ops
// and streams them to the sink. In fewer runs (runAllowsChanged) so does a regular file that replaces a
// destination file of one link whose data the quick check finds different: the planner's op for it is
// the same File op. Which runs may, below, is the whole list of what the planner's way (run/entry.ts
// decideEntry → planMember → queueCopy) would do differently for such a file; anything on it sends every
// entry the planner's way. The engines run the ops as any other, so every safety rule of an op still holds.

import type { DirectOps, DirectRequest, PairListing, TreeDirect } from '../model/listing.js';
import { notePlanned } from '../util/tiering.js';
import type { Frame, RunContext } from './context.js';
import { BATCH_BYTES } from './sink.js';
import { eachOpDest, eachOpSize } from '../engine/batch.js';
import { applyChmod } from '../plan/chmod.js';
import { OpFlag } from '../model/ops.js';
import type { Stat } from '../model/stat.js';
import { surelyUnreadable } from './unopenable.js';
import { receiverOutput } from '../model/config.js';

/** Where an encoded op's flags and mode are, from the op's start (engine/batch.ts BatchWriter.add). */
const FLAGS_AT = 1;
const MODE_AT = 12;

/** Whether a run may take the direct path (any: for new files; changed: for replacing ones too), decided once per run. */
const allowed = new WeakMap<RunContext, { any: boolean; changed: boolean }>();

function runAllows(rc: RunContext): boolean {
  const c = rc.c;
  return (
    // Nothing printed, logged, traced or reported per entry (a line, an event, a --progress mark), but a
    // sent file's bare name (-v): printed from the op's name (planDirect).
    (!rc.lines.active || rc.lines.namesOnly) &&
    !rc.trace &&
    !rc.events &&
    // A dry run queues nothing: its files are only counted and named (DirectChunk).
    (c.dryRun || rc.sink.takesEncoded) &&
    // Entries the planner would leave out, rename, re-stat or set aside (filter rules are the sender's
    // verdict on each name, applied to the ops below, unless -vv's filter trace names the rule).
    !(rc.filters && c.debug.FILTER > 0) &&
    !rc.overlay &&
    !rc.charsets &&
    // --max-size/--min-size and --existing leave a new file out silently below --info=skip (-vv names
    // each at its place in the list): its op is dropped here (planDirect).
    ((c.maxSize === undefined && c.minSize === undefined && !rc.spec.check.existing) || receiverOutput(c).info.SKIP < 1) &&
    // A new file found elsewhere first (--*-dest, -y), a waiting partial file.
    !rc.alt.any &&
    !rc.fuzzy &&
    !rc.partials
  );
}

/**
 * Whether a run that may take the direct path may also take it for a file that replaces a regular
 * destination file of one link whose data differs (the addon checks the file itself: direct_replaces).
 * The planner would decide such a file otherwise under: the quick check's other verdicts (-u,
 * --ignore-existing; -c, -I and --size-only turn off the check the addon's test is the twin of), a backup
 * of the file replaced, --append's kept data, --no-whole-file's delta search, a pull's file it found
 * current and never fetched (run/staged-source.ts unfetched); a line of its own (-i's letters: only none
 * or -v's bare names will do); and the rules planDirect applies only to new files (filter rules'
 * verdicts, --max-size/--min-size, --existing).
 */
function runAllowsChanged(rc: RunContext): boolean {
  const c = rc.c;
  const check = rc.spec.check;
  return (
    (!rc.lines.active || rc.lines.bareNames) &&
    !check.update &&
    !check.ignoreExisting &&
    !check.existing &&
    !check.checksum &&
    c.maxSize === undefined &&
    c.minSize === undefined &&
    !rc.filters &&
    !c.backup &&
    !c.append &&
    !c.appendVerify &&
    c.localDelta === undefined &&
    rc.source.unfetched === undefined
  );
}

/** The run's two answers, worked out once (nothing they read changes during a run). */
function runDirect(rc: RunContext): { any: boolean; changed: boolean } {
  let ok = allowed.get(rc);
  if (ok === undefined) {
    const any = runAllows(rc);
    ok = { any, changed: any && runAllowsChanged(rc) };
    allowed.set(rc, ok);
  }
  return ok;
}

/** What the cursor of `dir` needs to encode its new (and changed) regular files, or undefined when the run may not. */
export function directRequest(rc: RunContext, dir: Frame): DirectRequest | undefined {
  const ok = runDirect(rc);
  if (!ok.any || !frameAllows(rc, dir)) return undefined;
  // Every entry directly inside one directory has the same anchor (the longest registered prefix).
  return { rel: dir.rel, anchor: rc.anchors.ofEntryIn(dir.src), big: BATCH_BYTES, hardLinks: rc.c.hardLinks, changed: ok.changed };
}

/**
 * Whether the direct path's ops may stand for `dir`'s files: not in a directory with a merge file of its
 * own (its rules are read as the walk enters it), nor in one whose entries have x-rules of their own
 * (run/xattr-views.ts: the ops carry no views), nor in a dry run's directory below a kept non-directory
 * (its files' stats fail one by one: statErrno).
 */
export function frameAllows(rc: RunContext, dir: Frame): boolean {
  return !dir.merged && dir.statErrno === undefined && !rc.xattrViews?.has(dir);
}

/**
 * What a tree scan of `scanSrc` needs to encode its dirty directories' new (and changed) regular files,
 * or undefined when the run may not. One anchor serves the whole tree only when no registered anchor
 * lies inside it (then every directory's is `scanSrc`'s own, SourceAnchors.ofEntryIn). What keeps a
 * frame's own reasons out (frameAllows: a merge file, x-rule views) is mostly that a run with a tree scan
 * has neither (run/spec.ts treeQuery needs the collapsing check: no filter rules, no -X); treeFrames
 * still checks each dirty directory's frame and lets the walk list one that may not again.
 */
export function treeDirect(rc: RunContext, scanSrc: Buffer): TreeDirect | undefined {
  const ok = runDirect(rc);
  if (!ok.any || rc.anchors.hasBelow(scanSrc)) return undefined;
  return { anchor: rc.anchors.ofEntryIn(scanSrc), big: BATCH_BYTES, hardLinks: rc.c.hardLinks, changed: ok.changed };
}

/**
 * A chunk's encoded File ops: counted as the planner counts a created file (listed, total size, created,
 * to be sent) and the directory's mtime to restore, here; streamed to the sink by the DirectChunk
 * returned, at their places in the listing's name order among the chunk's other entries.
 */
export function planDirect(rc: RunContext, dir: Frame, chunk: PairListing): DirectChunk | undefined {
  const encoded = chunk.direct;
  if (!encoded || encoded.count === 0) return undefined;
  // Filter rules: what the sender excludes is not in the list at all (its verdict on each name, as walk.ts
  // classify gives it to the planner's entries).
  const scope = dir.sender;
  const d = scope ? selected(encoded, (name) => scope.check(name, false) !== 'exclude').ops : encoded;
  if (d.count === 0) return undefined;
  // Listed but not sent (entry.ts's order: counted in the list first, then left out): a size outside
  // --max-size/--min-size, any new file under --existing.
  const c = rc.c;
  const skips = c.maxSize !== undefined || c.minSize !== undefined || rc.spec.check.existing;
  const { ops: sent, mask } = skips
    ? selected(d, (_name, size) => !rc.spec.check.existing && !(c.maxSize !== undefined && size > c.maxSize) && !(c.minSize !== undefined && size < c.minSize))
    : { ops: d, mask: undefined };
  const t = rc.tally.totals;
  // rsync's byte figures count what each file adds to its stream (item-bytes.ts): the files in the
  // order encoded, numbered after the entries listed so far; a skipped one is numbered and asks nothing.
  if (rc.items.exchanges) {
    let listed = rc.tally.listedCount();
    let i = 0;
    eachOpSize(d.ops, (size) => {
      ++listed;
      if (mask && !mask[i++]) return;
      // A dry run's generator asks for each file without a checksum header (no data follows).
      if (rc.c.dryRun) rc.items.created(rc.lists, listed);
      else rc.items.sent(rc.lists, listed, size);
    });
  }
  t.listed.reg += d.count;
  t.totalSize += d.bytes;
  if (sent.count === 0) return undefined;
  notePlanned(sent.count);
  // Replacing ops come only in runs with no selection above (runAllowsChanged): all of them are sent.
  if (encoded.replaced > 0 && sent !== encoded) throw new Error('direct path: replacing ops under a selection');
  t.created.reg += sent.count - encoded.replaced;
  t.plannedFiles += sent.count;
  t.plannedBytes += sent.bytes;
  rc.dirs.touch(dir.record);
  return new DirectChunk(rc, sent.ops, sent.count);
}

/**
 * The ops `keep` (given each op's destination name and size) says yes to, and which those were; the same
 * ops when it says yes to all.
 */
function selected(d: DirectOps, keep: (name: Buffer, size: number) => boolean): { ops: DirectOps; mask: Uint8Array } {
  const view = Buffer.from(d.ops.buffer, d.ops.byteOffset, d.ops.byteLength);
  const sizes: number[] = [];
  eachOpSize(d.ops, (size) => sizes.push(size));
  const mask = new Uint8Array(d.count);
  const kept: number[] = [];
  let from = 0;
  let i = 0;
  let bytes = 0;
  eachOpDest(d.ops, (start, end, opEnd) => {
    if (keep(view.subarray(start, end), sizes[i]!)) {
      kept.push(from, opEnd);
      bytes += sizes[i]!;
      mask[i] = 1;
    }
    from = opEnd;
    i++;
  });
  const count = kept.length / 2;
  if (count === d.count) return { ops: d, mask };
  let length = 0;
  for (let k = 0; k < kept.length; k += 2) length += kept[k + 1]! - kept[k]!;
  const ops = new Uint8Array(length);
  let at = 0;
  for (let k = 0; k < kept.length; k += 2) {
    ops.set(d.ops.subarray(kept[k]!, kept[k + 1]!), at);
    at += kept[k + 1]! - kept[k]!;
  }
  return { ops: { ops, count, bytes, replaced: 0 }, mask };
}

/**
 * A chunk's direct ops, put in the sink in the listing's name order among the planner's entries of the
 * chunk (before(rel) as the walk comes to each of them), so that ops run, fail and are reported in
 * rsync's list order as on the planner's way; under -v (Lines.namesOnly) each file's name is printed as
 * its op is queued, where the planner prints a sent file's line. The ops' names are only looked at when
 * the chunk has such entries or -v prints them: a fresh copy's plain chunk goes to the sink whole.
 */
export class DirectChunk {
  /** Per op: where its destination name starts and ends in `ops`, and where the op ends (read on demand). */
  private marks: Uint32Array | undefined;
  /** Names not printed: files the sender cannot open have no line in rsync (run/unopenable.ts). */
  private silent: Uint8Array | undefined;
  /** The first op not yet queued, and its offset. */
  private next = 0;
  private from = 0;
  private readonly view: Buffer;

  constructor(
    private readonly rc: RunContext,
    private readonly ops: Uint8Array,
    private readonly count: number,
  ) {
    this.view = Buffer.from(ops.buffer, ops.byteOffset, ops.byteLength);
    if (rc.c.chmod.length) this.chmod();
    // --remove-source-files (and --remove-sent-files): each sent file's source is unlinked by its op,
    // beneath its anchor and only if it is still the file the cursor saw, as the planner's ops do.
    if (rc.c.removeSourceFiles) {
      let op = 0;
      const taken = rc.takenFromSource;
      eachOpDest(ops, (start, end, opEnd) => {
        this.view[op + FLAGS_AT] = this.view[op + FLAGS_AT]! | OpFlag.RemoveSource;
        taken?.add(this.view.toString('latin1', start, end));
        op = opEnd;
      });
    }
  }

  /**
   * --chmod: each op's mode as the planner's (context.ts withChmod) before the engines see it; which
   * files have no line is judged from their own modes first (run/unopenable.ts, as the planner does).
   */
  private chmod(): void {
    if (this.rc.lines.active) this.read();
    const c = this.rc.c;
    const umask = this.rc.spec.engineOptions.umask;
    let op = 0;
    eachOpDest(this.ops, (_start, _end, opEnd, mode) => {
      // The mode sits 12 bytes into the op's header (engine/batch.ts).
      this.view.writeUInt32LE(applyChmod(mode, c.chmod, umask) >>> 0, op + MODE_AT);
      op = opEnd;
    });
  }

  /**
   * Queues (and under -v prints) the ops whose names sort before `rel`, every one left when `rel` is
   * undefined; `print` false after an interrupt (the planner prints nothing more then either).
   */
  async before(rel: Buffer | undefined, print = true): Promise<void> {
    const printing = print && this.rc.lines.active;
    if (rel === undefined && !printing) return this.queue(this.count, this.ops.byteLength);
    const marks = this.read();
    let n = this.next;
    while (n < this.count && (rel === undefined || rel.compare(this.view, marks[3 * n]!, marks[3 * n + 1]!) > 0)) {
      if (printing && !this.silent![n]) this.rc.lines.sentFile(this.view.subarray(marks[3 * n]!, marks[3 * n + 1]!));
      n++;
    }
    if (n > this.next) await this.queue(n, marks[3 * n - 1]!);
  }

  private async queue(n: number, to: number): Promise<void> {
    if (n === this.next) return;
    if (!this.rc.c.dryRun) await this.rc.sink.addEncoded(this.ops.subarray(this.from, to), n - this.next);
    this.from = to;
    this.next = n;
  }

  private read(): Uint32Array {
    if (this.marks) return this.marks;
    const marks = new Uint32Array(3 * this.count);
    // (A dry run's sender opens nothing: every file has its line.)
    const silent = this.rc.lines.active ? new Uint8Array(this.count) : undefined;
    const unreadable = this.rc.lines.active && !this.rc.c.dryRun;
    let i = 0;
    eachOpDest(this.ops, (start, end, opEnd, mode, uid, gid) => {
      marks[3 * i] = start;
      marks[3 * i + 1] = end;
      marks[3 * i + 2] = opEnd;
      if (unreadable && surelyUnreadable({ mode, uid, gid } as Stat)) silent![i] = 1;
      i++;
    });
    this.silent = silent;
    this.marks = marks;
    return marks;
  }
}
