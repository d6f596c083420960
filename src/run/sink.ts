// Where the planner's ops go (the second transport seam: a local engine today, a remote receiver later).
// Ops are executed in one of three ways, and the name says which:
//   - add():   streamed: appended to the current batch, sent to the pool when it is full (BATCH_OPS ops
//              or BATCH_BYTES of file data, less while the job still runs on this thread); its outcome
//              comes back later (settled).
//   - now():   on this thread before the walk goes on: directories that files will land in, deletions.
//   - later(): after the walk, once every file exists: the links of -H members the walk meets (the
//              groups settled after the walk link theirs through nowOutcomes(), to print by outcome).
//   - runDelayed(): --delay-updates' renames out of the partial dirs, for the File ops that were done.
// The sink also keeps the ops that ran out of descriptors on this thread (pool/fd-retry.ts).

import type { ItemPlace } from './item-bytes.js';
import { showPath } from '../util/errors.js';
import type { SysFailure } from '../model/failure.js';
import { BatchWriter, OP_HEADER, opsAt, readBatch, type Op } from '../engine/batch.js';
import { openContext } from '../engine/index.js';
import { OpFlag, OpKind, Outcome, adoptsSource } from '../model/ops.js';
import { TEMP_LETTERS } from '../model/temp-name.js';
import type { EngineContext, EngineOptions, OpFailure } from '../engine/types.js';
import type { EngineName } from '../model/config.js';
import type { Stat, FileType } from '../model/stat.js';
import type { SourceAnchors } from '../plan/anchors.js';
import { Dispatcher, NO_INLINE } from '../pool/dispatcher.js';
import { FdRetry, isFdShortage, runSetAside } from '../pool/fd-retry.js';
import type { Fallback } from './alt-dest.js';
import type { DirRecord } from './dirmeta.js';
import { NO_LINE, type Line } from './lines.js';
import type { LineSlot } from './line-order.js';
import type { Verdict } from '../plan/quickcheck.js';
import type { FileMark } from '../progress/file-progress.js';
import type { RemovalQueue, SourceRemoval } from './removal-queue.js';

/** Flush a batch at this many ops or this many bytes of file data. */
export const BATCH_OPS = 256;
export const BATCH_BYTES = 16 * 1024 * 1024;

/** What to do with an op's outcome, when only the outcome can tell (-c compares, --progress, basis files). */
export interface Pending {
  kind: FileType;
  verdict: Verdict;
  line: Line;
  /** The parent directory, whose mtime needs restoring if the engine did copy. */
  record?: DirRecord | undefined;
  size: number;
  /** --progress: the file's place in the reporter's queue (its lines follow its outcome). */
  mark?: FileMark | undefined;
  /** -c without --progress: the compare's place among the printed lines (run/line-order.ts); or made's. */
  slot?: LineSlot | undefined;
  /**
   * A symlink, FIFO, socket or device: its line, printed (at `slot` or `mark` when given) only if the op
   * made the entry (entry.ts queueCopy); `unmade` when it did not. An op set aside for the EMFILE retry
   * is settled by the retry's outcome (LocalSink.retried).
   */
  made?: () => void;
  unmade?: () => void;
  /** made's entry: its name in the destination (the EMFILE retry's op is found by it). */
  rel?: Buffer;
  /** --json=events: the file's name, whose entry event waits for this outcome. */
  eventName?: string;
  /** An op reading a basis file: what to do instead if that file changed under it. */
  fallback?: Fallback;
  /** --info=remove: the entry whose "sender removed" line rsync gives once the op removed the source. */
  removed?: Buffer;
  /** A removal waiting for the transfer's end (LocalSinkOptions.removals), marked sent once the op is done. */
  removal?: SourceRemoval;
  /** --delay-updates: the op's file waits in its partial dir; once done, it is renamed into place at the end. */
  delayed?: { src: Buffer; rel: Buffer; st: Stat };
  /** -vvv: the six letters of the temp file the engine renamed into place (LocalSinkOptions.tempNames). */
  temp?: string;
  /** --info=progress2: the file's end is told to the reporter once its op is done (LocalSinkOptions.fileEnds). */
  ends?: boolean;
  /** -c: where the walk listed the file, for the byte figures of what the compare found (run/item-bytes.ts). */
  at?: ItemPlace;
}

/** The seam the planner sends ops through. */
export interface OpSink {
  /** Streamed: queued in the current batch (its outcome, when `pending` is given, comes to `settled`). */
  /**
   * `shown` false: a file rsync's generator copies itself (from a --copy-dest twin), which has no
   * --progress lines of its own and no place in progress2's figures.
   */
  add(kind: OpKind, src: Buffer, rel: Buffer, st: Stat, flags?: number, pending?: Pending, target?: Buffer, shown?: boolean): void;
  /** Ops queued in the current batch. */
  readonly queued: number;
  /** Ops of every kind handed over so far (the byte figures count the ops rsync makes without a word to its sender). */
  readonly opsAdded: number;
  /**
   * Whether File ops may come already encoded (addEncoded): no op's outcome is wanted for its own sake
   * (--progress, --json=events, --info=remove or progress2, --delay-updates ask for each File op's).
   */
  readonly takesEncoded: boolean;
  /** File ops encoded by a pair cursor (the direct path), streamed as add() streams them. */
  addEncoded(ops: Uint8Array, count: number): Promise<void>;
  /** Send the current batch if it is full. */
  maybeFlush(): Promise<void>;
  /** Send the current batch. */
  flush(): Promise<void>;
  /** Run these ops here and now, before the walk goes on; false when one of them failed (reported). */
  now(w: BatchWriter): boolean;
  /**
   * As now(), but the failures come back with their ops instead of being reported: the caller words
   * them (run/deletion-batch.ts: rsync prints a deletion's line only once it worked).
   */
  nowUnreported(w: BatchWriter): { f: OpFailure; op: Op | undefined }[];
  /**
   * As now(), with each op's Outcome (failures reported); undefined when nothing ran (-n). An op that
   * ran out of descriptors counts as Done: it runs again at retryFdShortage(), which reports it if it fails.
   */
  nowOutcomes(w: BatchWriter): Uint8Array | undefined;
  /**
   * Queue an op for after the walk (once every file exists); `settle`, when given, is told its Outcome once
   * it ran (Done under -n, where nothing runs).
   */
  later(kind: OpKind, src: Buffer, rel: Buffer, st: Stat, flags?: number, settle?: (o: number) => void): void;
  /** Run what later() queued. */
  runLater(): void;
  /** --delay-updates: rename every finished file out of its partial dir into place (after drain()). */
  runDelayed(): void;
  /**
   * --remove-source-files for an entry that needed no op: unlink the source if it is still the file
   * `st` describes (`follow`: through the link -L follows; the link goes); a failure to report, or null.
   */
  unlinkSource(src: Buffer, st: Stat, anchor: number, follow: boolean): SysFailure | null;
  /** Run again the ops that ran out of descriptors on this thread (after stopping the workers). */
  retryFdShortage(): Promise<void>;
  /** Out of descriptors for a listing: fewer batches in flight, or none. */
  lowerConcurrency(): Promise<void>;
  /** Wait for every batch sent (and the pool's own descriptor retries). */
  drain(): Promise<void>;
  close(): Promise<void>;
  /** Worker threads used (for -v). */
  readonly threadsUsed: number;
}

export interface LocalSinkOptions {
  /** The main thread's engine context; none under -n onto a destination that does not exist yet. */
  ctx: EngineContext | undefined;
  engineOptions: EngineOptions;
  /** The engine for batches run on this thread when workers cannot be used (RunSpec.serialEngine). */
  serialEngine: EngineName;
  workers: number;
  /** Whether a job may start on this thread before workers (not under --bwlimit: pool/dispatcher.ts). */
  inlineFirst: boolean;
  dryRun: boolean;
  /** --progress: every file op gets a place in the reporter's queue (undefined when it is off). */
  fileMark?: ((size: number, rel: Buffer) => FileMark | undefined) | undefined;
  /**
   * --progress: the marked files' batches run one at a time, each saying when it starts, so the file
   * being copied shows live (pool/live.ts). --info=progress2's marks keep every worker busy (false).
   */
  liveMarks?: boolean;
  /** --json=events: every file op's outcome is wanted, under its printed name. */
  eventNames: boolean;
  /** --info=remove: the outcome of every op that removes its source is wanted. */
  removedNames?: boolean;
  /** Told of every op queued to remove its source (RunContext.takenFromSource). */
  onRemoveSource?: ((rel: Buffer) => void) | undefined;
  /**
   * Where ops' removals wait when one file may have two names (run/removal-queue.ts): such an op goes
   * to the engine without OpFlag.RemoveSource, and its removal is queued at its place in the list.
   */
  removals?: RemovalQueue | undefined;
  anchors: SourceAnchors;
  fail: (f: OpFailure, op?: Op) => void;
  /** Every batch's failures with the batch they index into, before they are reported (run/redo.ts). */
  failedIn?: (batch: Uint8Array, failures: OpFailure[]) => void;
  settled: (p: Pending, outcome: number) => void;
  /** --partial: batches go to the workers, leaving this thread free to hear a signal (Dispatcher.noInline). */
  keepPartial?: boolean;
  /** --delay-updates: File ops' outcomes are wanted, to move the finished files into place at the end. */
  delayUpdates?: boolean;
  /** -vvv: the temp name each File op renamed into place is wanted (Pending.temp; with eventNames). */
  tempNames?: boolean;
  /** --info=progress2: every File op's outcome is wanted, to draw the line's counts as each file ends. */
  fileEnds?: boolean;
  /** The engine whose contexts are lent to native threads (EngineCaps.offThread): batches with much data run there. */
  offThread?: EngineName | undefined;
  /** -X with x-rules in per-directory merge files: an op's own views (run/xattr-views.ts ofOp). */
  xrules?: ((kind: OpKind, rel: Buffer) => Buffer | undefined) | undefined;
}

/** The OpSink over the local engines: the pool's workers and this thread's context. */
export class LocalSink implements OpSink {
  private readonly dispatcher: Dispatcher | undefined;
  private batch = new BatchWriter();
  private batchBytes = 0;
  /** Lines for ops whose outcome decides what is printed (-c compares, --progress). */
  private batchPending = new Map<number, Pending>();
  private readonly deferred = new BatchWriter(4096);
  /** What later()'s ops with a settle call are told of their outcome, by their index in `deferred`. */
  private readonly deferredSettle = new Map<number, (o: number) => void>();
  /** --delay-updates: the Delayed ops of the File ops that were done. */
  private readonly delayedOps = new BatchWriter(4096);
  private readonly fdRetry = new FdRetry(1024);
  /** made's pending outcomes whose ops were set aside for the EMFILE retry, by destination name (latin1). */
  private readonly awaitingRetry = new Map<string, Pending>();
  /** Batches sent so far (--progress numbers them). */
  private batches = 0;
  /** Ops of every kind handed to this sink (a run that made none changed nothing: progress/stream's no-op). */
  opsAdded = 0;

  constructor(private readonly o: LocalSinkOptions) {
    const ctx = o.ctx;
    if (!o.dryRun && ctx) {
      this.dispatcher = new Dispatcher({
        engineOptions: o.engineOptions,
        workers: o.workers,
        ...(o.inlineFirst ? {} : { inlineBudget: NO_INLINE }),
        inline: ctx,
        noInline: o.keepPartial === true,
        onRetried: (b: Uint8Array, out: Uint8Array) => this.retried(b, out),
        onFailures: (fs, batch) => this.failed(batch, fs),
        onOutcomes: (pending, outcomes, aside) => this.settle(pending as Map<number, Pending>, outcomes, aside),
        // A second context only when the serial engine differs (uring → sync): one of the same engine
        // would hold a second set of descriptors exactly when they are short; the inline one serves.
        serial: o.serialEngine === o.engineOptions.engine ? undefined : () => openContext({ ...o.engineOptions, engine: o.serialEngine }),
        live: o.fileMark !== undefined && o.liveMarks !== false,
        tempNames: o.tempNames === true,
        ...(o.offThread ? { offThread: () => openContext({ ...o.engineOptions, engine: o.offThread! }), lendAll: o.offThread === o.engineOptions.engine } : {}),
      });
    }
  }

  get queued(): number {
    return this.batch.count;
  }

  get threadsUsed(): number {
    return this.dispatcher?.threadsUsed ?? 0;
  }

  get takesEncoded(): boolean {
    const o = this.o;
    return this.dispatcher !== undefined && !o.fileMark && !o.eventNames && !o.removedNames && !o.fileEnds && !o.delayUpdates && !o.removals;
  }

  async addEncoded(ops: Uint8Array, count: number): Promise<void> {
    this.opsAdded += count;
    // Cut where add() would have flushed: at BATCH_OPS ops or BATCH_BYTES of file data (the cursor
    // leaves files of BATCH_BYTES or more to the planner, so none needs a batch of its own here).
    const v = new DataView(ops.buffer, ops.byteOffset, ops.byteLength);
    let from = 0;
    let at = 0;
    let n = 0;
    for (let i = 0; i < count; i++) {
      this.batchBytes += v.getFloat64(at + 32, true);
      // (A direct op carries no target; its x-rules, if any, are counted by the header's u16.)
      at += OP_HEADER + ((v.getUint32(at + 4, true) + v.getUint32(at + 8, true) + v.getUint16(at + 2, true) + 7) & ~7);
      n++;
      if (this.batch.count + n >= BATCH_OPS || this.batchBytes >= BATCH_BYTES) {
        this.batch.append(ops.subarray(from, at), n);
        from = at;
        n = 0;
        await this.flush();
      }
    }
    if (n) this.batch.append(ops.subarray(from, at), n);
  }

  add(kind: OpKind, src: Buffer, rel: Buffer, st: Stat, flagsIn = 0, pendingIn?: Pending, target?: Buffer, shown = true): void {
    this.opsAdded++;
    const anchor = this.o.anchors.of(src);
    const removal = flagsIn & OpFlag.RemoveSource && this.o.removals ? this.o.removals.add({ src, st, anchor, follow: (flagsIn & OpFlag.FollowSource) !== 0, name: rel, sent: false }) : undefined;
    const flags = removal ? flagsIn & ~OpFlag.RemoveSource : flagsIn;
    const index = this.batch.add(kind, src, rel, st, flags, anchor, target, this.o.xrules?.(kind, rel));
    let pending = pendingIn;
    if (removal) pending = pending ? { ...pending, removal } : { kind: 'reg', verdict: { action: 'create' }, line: NO_LINE, size: st.size, removal };
    const mark = this.dispatcher && kind === OpKind.File && shown ? this.o.fileMark?.(st.size, rel) : undefined;
    if (mark) pending = pending ? { ...pending, mark } : { kind: 'reg', verdict: { action: 'create' }, line: NO_LINE, size: st.size, mark };
    if (this.o.eventNames && kind === OpKind.File) {
      const eventName = showPath(rel);
      pending = pending ? { ...pending, eventName } : { kind: 'reg', verdict: { action: 'create' }, line: NO_LINE, size: st.size, eventName };
    }
    if (flagsIn & OpFlag.RemoveSource) this.o.onRemoveSource?.(rel);
    if (this.o.removedNames && flags & OpFlag.RemoveSource) {
      const removed = rel;
      pending = pending ? { ...pending, removed } : { kind: 'reg', verdict: { action: 'create' }, line: NO_LINE, size: st.size, removed };
    }
    if (this.o.fileEnds && kind === OpKind.File && shown) {
      pending = pending ? { ...pending, ends: true } : { kind: 'reg', verdict: { action: 'create' }, line: NO_LINE, size: st.size, ends: true };
    }
    if (this.o.delayUpdates && kind === OpKind.File) {
      const delayed = { src, rel, st };
      pending = pending ? { ...pending, delayed } : { kind: 'reg', verdict: { action: 'create' }, line: NO_LINE, size: st.size, delayed };
    }
    if (pending) this.batchPending.set(index, pending);
    // A pull's staged file linked into place moves no data: its size is no reason to start the workers.
    if (kind === OpKind.File && !adoptsSource(this.o.engineOptions.flags, flags)) this.batchBytes += st.size;
  }

  async maybeFlush(): Promise<void> {
    if (this.batch.count >= BATCH_OPS || this.batchBytes >= BATCH_BYTES) await this.flush();
    // A job still running on this thread takes smaller batches (pool/dispatcher.ts, inlineCut).
    else if (this.batchBytes > 0 && this.batchBytes >= (this.dispatcher?.inlineCut ?? Infinity)) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.batch.count === 0) return;
    const count = this.batch.count;
    const d = this.dispatcher;
    const encoded = this.batch.finish(d ? (n) => d.batchBuffer(n) : undefined);
    const pending = this.batchPending;
    const bytes = this.batchBytes;
    this.batchPending = new Map();
    this.batchBytes = 0;
    if (!this.dispatcher) return;
    // --progress: the outcome bytes are shared, so a file's last line need not wait for its whole batch.
    let shared: Uint8Array | undefined;
    const seq = ++this.batches;
    for (const [i, p] of pending) {
      // A -c compare's line comes with its outcome from the batch: its file waits for that.
      if (!p.mark || p.verdict.action === 'compare' || p.mark.held) continue;
      shared ??= new Uint8Array(new SharedArrayBuffer(count * (this.o.tempNames ? 1 + TEMP_LETTERS : 1)));
      p.mark.shared = shared;
      p.mark.index = i;
      p.mark.batch = seq;
    }
    await this.dispatcher.submit(encoded, count, pending.size ? pending : undefined, bytes, shared ? { outcomes: shared, seq } : undefined);
  }

  private failed(batch: Uint8Array, failures: OpFailure[]): void {
    this.o.failedIn?.(batch, failures);
    this.report(batch, failures);
  }

  /** Each failure with the op it came from (its words depend on what the op was doing). */
  private report(batch: Uint8Array, failures: OpFailure[]): void {
    if (failures.length === 0) return;
    const ops = opsAt(batch, failures.map((f) => f.index));
    failures.forEach((f) => this.o.fail(f, ops.get(f.index)));
  }

  private settle(map: Map<number, Pending>, outcomes: Uint8Array, aside?: ReadonlySet<number>): void {
    // -vvv: after the outcome bytes, 6 letters per op of the temp file it renamed into place (zero: none).
    const ops = this.o.tempNames ? outcomes.length / (1 + TEMP_LETTERS) : 0;
    for (const [i, p] of map) {
      // Out of descriptors: the op runs again (retried), and that outcome decides whether it made its entry.
      if (p.made && p.rel && aside?.has(i)) {
        this.awaitingRetry.set(p.rel.toString('latin1'), p);
        continue;
      }
      const o = outcomes[i]!;
      const at = ops + i * TEMP_LETTERS;
      if (ops && outcomes[at]) p.temp = Buffer.from(outcomes.subarray(at, at + TEMP_LETTERS)).toString('latin1');
      // Done: the file was written into its partial dir (Equal: the target already had its bytes).
      if (p.delayed && o === Outcome.Done) this.delayedOps.add(OpKind.Delayed, p.delayed.src, p.delayed.rel, p.delayed.st);
      // Equal: a -c compare found the file current, which rsync's generator reports done as well.
      if (p.removal && (o === Outcome.Done || o === Outcome.Equal)) p.removal.sent = true;
      this.o.settled(p, o);
    }
  }

  now(w: BatchWriter): boolean {
    const ran = this.runHere(w);
    if (ran) this.report(ran.batch, ran.failures);
    return !ran || ran.failures.length === 0;
  }

  nowUnreported(w: BatchWriter): { f: OpFailure; op: Op | undefined }[] {
    const ran = this.runHere(w);
    if (!ran || ran.failures.length === 0) return [];
    const ops = opsAt(ran.batch, ran.failures.map((f) => f.index));
    return ran.failures.map((f) => ({ f, op: ops.get(f.index) }));
  }

  nowOutcomes(w: BatchWriter): Uint8Array | undefined {
    const outcomes = new Uint8Array(w.count);
    const ran = this.runHere(w, outcomes);
    if (!ran) return undefined;
    this.report(ran.batch, ran.failures);
    return outcomes;
  }

  /** now()'s run on this thread: the batch and its failures, or undefined when nothing ran (-n, no context). */
  private runHere(w: BatchWriter, outcomes?: Uint8Array): { batch: ReturnType<BatchWriter['finish']>; failures: OpFailure[] } | undefined {
    if (w.count === 0) return undefined;
    this.opsAdded += w.count;
    const batch = w.finish();
    const ctx = this.o.ctx;
    if (this.o.dryRun || !ctx) return undefined;
    // Out of descriptors while the workers hold theirs: set aside for retryFdShortage().
    const all = ctx.run(batch, outcomes);
    const failures = this.fdRetry.setAside(batch, all);
    if (outcomes && failures.length < all.length) for (const f of all) if (f.index >= 0 && isFdShortage(f.errno)) outcomes[f.index] = Outcome.Done;
    return { batch, failures };
  }

  later(kind: OpKind, src: Buffer, rel: Buffer, st: Stat, flags = 0, settle?: (o: number) => void): void {
    this.opsAdded++;
    const i = this.deferred.add(kind, src, rel, st, flags);
    if (settle) this.deferredSettle.set(i, settle);
  }

  runLater(): void {
    if (!this.deferredSettle.size) {
      this.now(this.deferred);
      return;
    }
    const outcomes = this.nowOutcomes(this.deferred);
    for (const [i, settle] of this.deferredSettle) settle(outcomes ? outcomes[i]! : Outcome.Done);
    this.deferredSettle.clear();
  }

  runDelayed(): void {
    this.now(this.delayedOps);
  }

  /**
   * Ops that ran again after an EMFILE (their pending outcomes said failed): under --delay-updates the File
   * ops that were done wait for their Delayed op too, a waiting removal is marked sent, and a symlink's or
   * special's line that waited for the retry (settle()) is printed.
   */
  private retried(batch: Uint8Array, outcomes: Uint8Array): void {
    let i = 0;
    for (const op of readBatch(batch)) {
      const o = outcomes[i++];
      const waiting = this.awaitingRetry.size && (o === Outcome.Done || o === Outcome.Equal) ? Buffer.from(op.dst).toString('latin1') : undefined;
      const p = waiting !== undefined ? this.awaitingRetry.get(waiting) : undefined;
      if (p) {
        this.awaitingRetry.delete(waiting!);
        this.o.settled(p, o!);
      }
      if (this.o.delayUpdates && op.kind === OpKind.File && o === Outcome.Done) this.delayedOps.add(OpKind.Delayed, Buffer.from(op.src), Buffer.from(op.dst), op.stat);
      if (o === Outcome.Done || o === Outcome.Equal) this.o.removals?.confirm(op.dst);
    }
  }

  unlinkSource(src: Buffer, st: Stat, anchor: number, follow: boolean): SysFailure | null {
    return this.o.ctx?.unlinkSource?.(src, st, anchor, follow) ?? null;
  }

  /**
   * Ops run here that failed with EMFILE/ENFILE run again once the workers are drained and stopped (the
   * walk goes on inline from there): called before a directory's contents are planned, and before the
   * final passes.
   */
  async retryFdShortage(): Promise<void> {
    const ctx = this.o.ctx;
    if (this.fdRetry.count === 0 || !ctx) return;
    // The workers' rings and open files are what is in the way: stop them, the rest of the run is inline.
    await this.dispatcher?.goInline();
    await runSetAside(ctx, this.fdRetry, (failures, batch) => this.failed(batch, failures));
  }

  async lowerConcurrency(): Promise<void> {
    if (this.dispatcher) await this.dispatcher.lowerConcurrency();
  }

  async drain(): Promise<void> {
    await this.dispatcher?.drain();
    // What the retries did not make (their failures reported) is settled as failed.
    const left = [...this.awaitingRetry.values()];
    this.awaitingRetry.clear();
    for (const p of left) this.o.settled(p, Outcome.Failed);
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }
}
