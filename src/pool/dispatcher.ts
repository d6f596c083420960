// Sends batches to the engines. A job starts on the main thread: its batches run inline, one at a time,
// with the event loop let in between (signals, timers, --info=progress2), until the job proves large —
// more inline time than starting workers costs, or a batch carrying much file data. Only then is a piscina
// pool started, and from there a bounded number of batches is kept in flight, so the walk runs ahead of
// the copy without buffering the whole tree; until the first worker has loaded, batches still run here
// (this thread would only wait for it). Once the pool runs, this thread still takes a small batch itself
// whenever every worker already has one running and one queued (it would otherwise only wait), so the
// pool starts one worker fewer than asked and grows to the full count only for batches this thread may
// not run (much file data). Small jobs never pay for worker start-up. A batch carrying much file data
// goes, while no pool runs and when the engine can lend a context to a native thread (the sync engine), to
// such a thread instead of a worker: the copy starts at once, with no worker to boot, and the event loop
// stays free meanwhile (its own venue, `offThread`, at most `workers` at a time). A sync run (`lendAll`)
// lends its contexts for every batch from the first: a lent thread has nothing to boot, so there is no
// start-up to save by copying here first, and no pool at all. Ops that failed
// with EMFILE/ENFILE are retried at the end, one batch at a time on the main thread: running out of
// descriptors lowers the concurrency instead of failing the run.

import { TEMP_LETTERS } from '../model/temp-name.js';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { EngineContext, EngineOptions, OpFailure } from '../engine/types.js';
import { FdRetry, isFdShortage, runSetAside } from './fd-retry.js';
import { startingBatch } from './live.js';
import { reclaimTask } from './task-state.js';
import { SharedSlots } from './shared-slots.js';
import { BatchBuffers } from './batch-buffers.js';
import { holdOptimizer, releaseOptimizer } from '../util/tiering.js';
import type { TaskResult } from './worker.js';
import { loadPackage } from '../util/packages.js';

type Piscina = import('piscina').Piscina;
type Balancer = NonNullable<ConstructorParameters<typeof import('piscina').Piscina>[0]>['loadBalancer'];

/** Marks a task as carrying more file data than this thread may copy in one go (BIG.big, below). */
const BIG = { big: true };

/**
 * piscina's choice of worker when this thread helps: an idle worker takes any batch; a small batch may
 * also wait behind a running one (one queued per worker, as maxInFlight allows); a batch with much data
 * waits for no one: with every worker busy piscina starts the last worker for it (up to maxThreads), so
 * large files are still copied side by side.
 */
function helpingBalancer(queueOptions: symbol): Balancer {
  return (task, workers) => {
    let behind: (typeof workers)[number] | null = null;
    for (const w of workers) {
      if (w.currentUsage === 0) return w;
      if (w.currentUsage < 2 && !behind) behind = w;
    }
    return ((task as unknown as Record<symbol, typeof BIG | undefined>)[queueOptions]?.big ?? false) ? null : behind;
  };
}

export interface DispatcherOptions {
  engineOptions: EngineOptions;
  workers: number;
  /** Main-thread context, used for inline batches and for the retries. */
  inline: EngineContext;
  /** Called with each batch's failures as soon as it completes, with the batch they index into. */
  onFailures: (failures: OpFailure[], batch: Uint8Array) => void;
  /**
   * Called with a batch's per-op outcomes when it was submitted with a token; `aside`: the indexes of the
   * ops set aside for the EMFILE retry (their outcome says failed, but they run again: onRetried).
   */
  onOutcomes?: (token: unknown, outcomes: Uint8Array, aside: ReadonlySet<number> | undefined) => void;
  /** A context that copies one file at a time (for the EMFILE retries); defaults to `inline`. */
  serial?: () => EngineContext;
  /**
   * --progress: batches run one after the other on one worker thread, never on this thread (which draws
   * the live line meanwhile); each says when it starts (pool/live.ts).
   */
  live?: boolean;
  /** How much a job may run inline before workers start (defaults: INLINE_BUDGET). */
  inlineBudget?: InlineBudget;
  /**
   * --partial: no batch runs inline while the walk goes on, so the main thread stays free to hear a
   * signal mid-file (a signal's handler runs only between engine calls) and the engines can keep the
   * partial data; with one worker or none every batch still runs here.
   */
  noInline?: boolean;
  /** The EMFILE retries' batch and outcomes (--delay-updates keeps the files they placed). */
  onRetried?: (batch: Uint8Array, outcomes: Uint8Array) => void;
  /** -vvv: the outcome bytes have room for each op's temp-name letters (docs/native-contract.md, "run() outcomes"). */
  tempNames?: boolean;
  /**
   * Opens another context of the run's engine; used for the batches with much file data when it can run
   * them off this thread (EngineContext.runOff). Absent: those batches go to the pool as before.
   */
  offThread?: () => EngineContext;
  /**
   * Every batch, from the first, goes to contexts lent to native threads (offThread), and no pool worker
   * is started: for an engine whose lent contexts are its own (sync), a worker would only boot a Node
   * isolate to make the same calls (docs/benchmarks.md, "Session 41"), and a lent thread costs nothing to
   * start, so nothing runs inline first ("Session 43").
   */
  lendAll?: boolean;
}

export interface InlineBudget {
  /** Inline CPU time after which the job counts as large (about what starting the workers costs); 0: nothing inline. */
  ms: number;
  /** File data one inline batch may carry, and all inline batches together. */
  batchBytes: number;
  totalBytes: number;
}

/**
 * Measured on 2 cores (docs/benchmarks.md, "Inline first"): starting two workers costs 80–150 ms of wall
 * time before their first batch completes, while a batch of 256 small files runs inline in a few ms. A
 * batch's data bounds how long the event loop waits for it (how late a signal or a progress line comes):
 * 8 MiB is a few milliseconds on tmpfs or in the page cache, under 100 on a cold disk. While the job runs
 * inline the sink cuts its batches at half that (inlineCut), so a batch of small files never proves the
 * job large by its data alone: a re-sync that copies 1% of a tree's files (a few MiB in all) used to start
 * both workers for its first 256 files.
 */
export const INLINE_BUDGET: InlineBudget = { ms: 100, batchBytes: 8 << 20, totalBytes: 32 << 20 };

/** No inline start: every batch goes to the workers (--bwlimit, whose sleeps would hold the event loop). */
export const NO_INLINE: InlineBudget = { ms: 0, batchBytes: 0, totalBytes: 0 };


interface Held {
  batch: Uint8Array;
  count: number;
  token: unknown;
  /** The file data its ops carry. */
  bytes: number;
  /** Outcome bytes the submitter reads while the batch runs (over a SharedArrayBuffer). */
  outcomes?: Uint8Array | undefined;
  /** --progress: the batch's number (Counter.Batch). */
  seq?: number | undefined;
  /** Sent to a worker: who claimed it (pool/worker.ts, TaskState), shared with the worker thread. */
  state?: Int32Array;
  /** Taken back from the pool (no worker began it, or its worker failed) and run here: the pool's answer is ignored. */
  reclaimed?: boolean;
}

/** What the submitter of a --progress batch watches while it runs. */
export interface LiveBatch {
  outcomes: Uint8Array;
  seq: number;
}

/** Lets the event loop run: signal handlers, timers (progress lines), I/O callbacks. */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const toBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

export class Dispatcher {
  private pool: Piscina | undefined;
  /** Still running batches inline (the job has not proved large yet). */
  private inlineFirst = true;
  /**
   * Proved large, and no batch sent to the pool yet: while no worker has loaded (`up`), batches keep
   * running here instead of queueing for a worker that is still starting.
   */
  private starting = false;
  /** Bumped by each pool worker once its module is loaded and its engine opened (pool/worker.ts). */
  private up: Int32Array | undefined;
  private inlineMs = 0;
  private inlineBytes = 0;
  private readonly budget: InlineBudget;
  private inFlight = new Map<Promise<void>, Held>();
  private readonly retry = new FdRetry(64 * 1024);
  private maxInFlight: number;
  /** The shared memory batches go to the workers in. */
  private readonly slots: SharedSlots;
  /** The memory the sink encodes batches into (batch-buffers.ts), given back here once a batch is done. */
  private readonly buffers: BatchBuffers;
  /** Outcome bytes of inline batches nobody reads afterwards (no token), reused. */
  private scratch = new Uint8Array(0);
  /**
   * Whether this thread runs a small batch itself when the pool is busy (not under --progress,
   * --partial or --bwlimit, which keep batches off this thread; not once descriptors ran short).
   */
  private helps: boolean;
  /** Threads actually used, for -v. */
  threadsUsed = 0;
  /** Contexts lent to native threads (runOff): the idle ones, and how many there are in all. */
  private offIdle: EngineContext[] = [];
  private offMade = 0;
  /** No more off-thread runs: the engine cannot, or opening a context failed. */
  private offBroken = false;
  /** An off-thread run that threw (what run() would have thrown inline), rethrown by drain(). */
  private offError: unknown;

  constructor(private readonly o: DispatcherOptions) {
    // workers: 0 means every batch on this thread (tests): nothing to draw meanwhile.
    if (o.workers <= 0) this.o = { ...o, live: false };
    // --progress: one batch queued behind the running one, so the walk keeps a step ahead of the copy.
    this.maxInFlight = this.o.live ? 2 : Math.max(2, o.workers * 2);
    this.budget = o.inlineBudget ?? INLINE_BUDGET;
    this.slots = new SharedSlots(this.maxInFlight + 1);
    this.buffers = new BatchBuffers(this.maxInFlight + 2);
    this.helps = !this.o.live && !o.noInline && this.budget.ms > 0 && this.budget.batchBytes > 0;
    // The job starts small: V8 optimizes nothing more until it proves large (util/tiering.ts).
    holdOptimizer();
  }

  /**
   * Memory for the next batch's `length` encoded bytes; it is reused once that batch, submitted here, is
   * done (ran, or answered, and its failures handled).
   */
  batchBuffer(length: number): Uint8Array {
    return this.buffers.take(length);
  }

  /**
   * Queue one encoded batch of `count` ops carrying `bytes` of file data; resolves when there is room
   * for another. With a `token`, onOutcomes(token, outcomes) is called when it completes. A --progress
   * batch (`live`) never runs inline: this thread draws its line meanwhile.
   */
  async submit(batch: Uint8Array, count: number, token?: unknown, bytes = 0, live?: LiveBatch): Promise<void> {
    const outcomes = live?.outcomes ?? (this.o.tempNames ? new Uint8Array(count * (1 + TEMP_LETTERS)) : undefined);
    const item: Held = { batch, count, token, bytes, outcomes, seq: live?.seq };
    // Much file data: a native thread copies it now, without proving the job large (no worker is started
    // for it) and without holding the event loop.
    if (bytes > this.budget.batchBytes && (await this.sendOff(item))) return;
    // Contexts lent to native threads for every batch (lendAll) cost no start-up, unlike pool workers (no
    // Node isolate to boot): copying here first gains nothing, and from the first batch both CPUs work
    // while this thread plans (3,000 small files 209.5 -> 174.0 ms in the harness; docs/benchmarks.md, "Session 43"). What
    // proves the job large for V8's tiering is then the planner's entry count (util/tiering.ts
    // notePlanned), not CPU spent copying here. If no context can be lent, the inline start below.
    if (this.o.lendAll && this.inlineFirst && !this.pool && (await this.sendOff(item))) {
      this.inlineFirst = false; // nor are batches cut short for this thread any more (inlineCut)
      return;
    }
    if (this.inlineFirst && !this.pool && !this.o.live && !this.o.noInline) {
      const b = this.budget;
      if (this.inlineMs < b.ms && bytes <= b.batchBytes && this.inlineBytes + bytes <= b.totalBytes) {
        // CPU time, not wall time: on a loaded machine a batch preempted for a while has not proved the
        // job large (no worker would run it sooner).
        const t0 = process.cpuUsage();
        this.runHere(item);
        const used = process.cpuUsage(t0);
        this.inlineMs += (used.user + used.system) / 1000;
        this.inlineBytes += bytes;
        await yieldToLoop();
        return;
      }
      // Proved large: from here on hot code is worth optimizing.
      this.inlineFirst = false;
      this.starting = this.budget.ms > 0;
      releaseOptimizer();
    }
    if (this.o.lendAll && !this.pool && (await this.sendOff(item))) {
      this.starting = false;
      return;
    }
    if (this.starting) {
      // Starting two workers takes tens of ms of wall time (each boots Node, loads its bundle and the addon,
      // opens its engine) and the pool holds at most maxInFlight batches meanwhile: the walk would stall
      // behind them. So this thread goes on copying, under the same per-batch and total data bounds, until
      // a worker is up; from the first batch sent on, every batch goes to the pool.
      const pool = await this.startPool();
      const b = this.budget;
      if (pool && !this.workerUp() && bytes <= b.batchBytes && this.inlineBytes + bytes <= b.totalBytes) {
        this.runHere(item);
        this.inlineBytes += bytes;
        await yieldToLoop();
        return;
      }
      this.starting = false;
    }
    await this.send(item);
  }

  /**
   * While batches may still run on this thread (the job has not proved large, or its workers are still
   * starting): the file data after which the sink should close its batch, so that the batch, with one more
   * file of up to the same size, stays within the inline bound. Undefined once batches go to the workers,
   * which take the sink's full-size batches.
   */
  get inlineCut(): number | undefined {
    if (this.o.workers <= 0 || this.o.live || this.o.noInline || this.budget.ms <= 0) return undefined;
    if ((this.inlineFirst && !this.pool) || this.starting) return this.budget.batchBytes / 2;
    return undefined;
  }

  /** Whether a pool worker has loaded and opened its engine. */
  private workerUp(): boolean {
    return this.up === undefined || Atomics.load(this.up, 0) > 0;
  }

  private async send(item: Held): Promise<void> {
    const pool = await this.startPool();
    // The pool may have been abandoned while it started: never hand it a batch after that (a worker could
    // begin it just before the pool is destroyed, and be stopped in the middle of a file).
    if (!pool || pool !== this.pool) {
      this.runHere(item);
      return;
    }
    // Every worker has a batch running and one queued: this thread would only wait for room, so it runs
    // a batch the inline bounds allow itself (the event loop let in after it, as before the pool).
    const live = Math.max(1, pool.threads.length);
    this.threadsUsed = Math.max(this.threadsUsed, live);
    if (this.helps && this.inFlight.size >= 2 * live && item.bytes <= this.budget.batchBytes) {
      this.runHere(item);
      await yieldToLoop();
      return;
    }
    // The worker gets a copy in shared memory (shared-slots.ts: it allocates nothing per batch); this
    // thread keeps its own, from which EMFILE failures are re-run. --progress's outcomes are shared
    // already and go as they are.
    const shared = item.outcomes !== undefined && item.outcomes.buffer instanceof SharedArrayBuffer;
    const slot = this.slots.take(item.batch, shared ? 0 : (item.outcomes?.length ?? item.count));
    item.state = slot.state;
    const outcomes = shared ? item.outcomes! : slot.outcomes;
    const task = { batch: slot.batch, count: item.count, outcomes, seq: item.seq, state: item.state };
    // The balancer reads it (piscina hands it the task's queue options; a symbol is not posted to the worker).
    if (this.helps && item.bytes > this.budget.batchBytes) Object.assign(task, { [this.queueOptions!]: BIG });
    const p: Promise<void> = pool
      .run(task)
      .then(
        (r: TaskResult) => {
          if (item.reclaimed) return;
          // Out of the slot before it serves another batch (a worker that made its own sends them back).
          const got = r.outcomes ?? outcomes;
          // Without a token nobody reads them after done(): the slot's bytes serve, copied nowhere.
          const out = shared || item.token === undefined ? got : (item.outcomes ?? new Uint8Array(got.length));
          if (out !== got) out.set(got);
          this.done(item, r.failures, out);
        },
        // A worker that could not start its engine (or died): run the batch here instead, and stop using
        // the pool (abandonPool).
        () => {
          if (item.reclaimed) return;
          item.reclaimed = true;
          this.poolBroken = true;
          this.runInline(item);
          void this.abandonPool();
        },
      )
      .finally(() => {
        this.inFlight.delete(p);
        // The worker has answered (or died): it reads the slot no more; this thread is done with the batch
        // (ran it itself if it was reclaimed).
        this.slots.give(slot);
        this.buffers.give(item.batch);
      });
    this.inFlight.set(p, item);
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight.keys());
  }

  /**
   * Runs the batch on a context lent to a native thread, once one is free (at most `workers` at a time);
   * false when this venue is not used (no factory, an engine that cannot, --progress, --partial,
   * --bwlimit, descriptors short, the pool already started), and then the caller sends the batch its
   * usual way.
   */
  private async sendOff(item: Held): Promise<boolean> {
    // Once the pool runs, its workers take these batches as before: lent threads beside them would only
    // crowd the CPUs. Under lendAll the contexts take the place of the workers and of their queues: as
    // many as there may be batches in flight, so that a thread that ends a batch while this one is busy
    // planning is not left idle (with one context a CPU, a 100,000-file copy took 23% longer).
    if (!this.helps || this.offBroken || !this.o.offThread || this.o.workers < 1 || this.pool) return false;
    while (this.offIdle.length === 0 && this.offMade >= (this.o.lendAll ? this.maxInFlight : this.o.workers)) await Promise.race(this.inFlight.keys());
    let ctx = this.offIdle.pop();
    if (!ctx) {
      try {
        ctx = this.o.offThread();
      } catch {
        ctx = undefined;
      }
      if (!ctx?.runOff) {
        ctx?.close();
        this.offBroken = true;
        return false;
      }
      this.offMade++;
    }
    const lent = ctx;
    const outcomes = item.outcomes ?? new Uint8Array(item.count);
    this.threadsUsed = Math.max(this.threadsUsed, this.offMade - this.offIdle.length);
    const p: Promise<void> = lent
      .runOff!(item.batch, outcomes)
      .then(
        (failures) => this.done(item, failures, outcomes),
        (e: unknown) => {
          this.offError ??= e;
        },
      )
      .finally(() => {
        // The native thread has let go of the batch.
        this.buffers.give(item.batch);
        this.offIdle.push(lent);
        this.inFlight.delete(p);
      });
    this.inFlight.set(p, item);
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight.keys());
    return true;
  }

  /** Runs a batch that was never in flight here, and frees its memory: nothing reads it afterwards. */
  private runHere(item: Held): void {
    this.runInline(item);
    this.buffers.give(item.batch);
  }

  /** Outcome bytes for an inline batch: reused when nobody reads them after done() (no token). */
  private inlineOutcomes(item: Held): Uint8Array {
    if (item.outcomes) return item.outcomes;
    if (item.token !== undefined) return new Uint8Array(item.count);
    if (this.scratch.length < item.count) this.scratch = new Uint8Array(Math.max(item.count, 256));
    const out = this.scratch.subarray(0, item.count);
    out.fill(0);
    return out;
  }

  private runInline(item: Held): void {
    const outcomes = this.inlineOutcomes(item);
    if (this.o.live && item.seq !== undefined) startingBatch(this.o.engineOptions.counters, item.seq);
    const failures = this.o.inline.run(item.batch, outcomes);
    this.done(item, failures, outcomes);
  }

  private done(item: Held, failures: OpFailure[], outcomes: Uint8Array): void {
    const aside = this.handle(item.batch, failures);
    if (item.token !== undefined) this.o.onOutcomes?.(item.token, outcomes, aside);
  }

  /** Report failures; set EMFILE/ENFILE ones aside for a retry at lower concurrency (fd-retry.ts): their indexes. */
  private handle(batch: Uint8Array, failures: OpFailure[]): Set<number> | undefined {
    if (failures.length === 0) return undefined;
    const fixed = failures.map((f): OpFailure => ({ ...f, path: toBuffer(f.path), ...(f.dest ? { dest: toBuffer(f.dest) } : {}) }));
    const report = this.retry.setAside(batch, fixed);
    if (report.length) this.o.onFailures(report, batch);
    if (report.length === fixed.length) return undefined;
    return new Set(fixed.filter((f) => isFdShortage(f.errno) && f.index >= 0).map((f) => f.index));
  }

  private poolBroken = false;
  /** piscina's symbol for a task's queue options (what its balancer sees of a task). */
  private queueOptions: symbol | undefined;

  private async startPool(): Promise<Piscina | undefined> {
    if (this.pool) return this.pool;
    if ((this.o.workers <= 1 && !this.o.live) || this.poolBroken) return undefined;
    // Workers share V8's flags with this thread: a job big enough for them is big enough to optimize.
    releaseOptimizer();
    const threads = this.o.live ? 1 : this.o.workers;
    // This thread takes the place of one worker while batches are small; piscina starts the last one
    // only when a batch waits with every worker busy (one this thread may not run).
    const first = this.helps ? Math.max(1, threads - 1) : threads;
    let Piscina: typeof import('piscina').Piscina;
    try {
      ({ Piscina } = loadPackage('piscina'));
    } catch {
      // Loading the pool needs descriptors too; without them the run goes on inline.
      this.poolBroken = true;
      return undefined;
    }
    const here = dirname(fileURLToPath(import.meta.url));
    // (twinDirs stays here: only the main thread's pair cursors look at twins.)
    const { destRoot, backupDir, twinDirs, ...rest } = this.o.engineOptions;
    void twinDirs;
    this.up = new Int32Array(new SharedArrayBuffer(4));
    this.pool = new Piscina({
      filename: join(here, 'worker.js'),
      minThreads: first,
      maxThreads: threads,
      ...(this.helps ? { loadBalancer: helpingBalancer((this.queueOptions = Piscina.queueOptionsSymbol)) } : {}),
      idleTimeout: 60_000,
      workerData: { opts: { ...rest, destRoot: new Uint8Array(destRoot), ...(backupDir ? { backupDir: new Uint8Array(backupDir) } : {}) }, up: this.up },
    });
    // A worker that cannot start (EMFILE under a tight ulimit, no memory for its ring) must not take the
    // run down: the batches it would have run go inline, and no more workers are tried.
    this.pool.on('error', () => {
      void this.abandonPool();
    });
    this.threadsUsed = first;
    return this.pool;
  }

  /**
   * Out of descriptors on the main thread: let every batch in flight finish (closing its files), keep
   * fewer in flight from now on, and when that is not enough stop the workers (their rings and held
   * descriptors go with them) and run the rest inline.
   */
  async lowerConcurrency(): Promise<void> {
    const busy = this.inFlight.size > 0;
    while (this.inFlight.size) await Promise.race(this.inFlight.keys());
    // This thread's own batches would hold descriptors too: it only waits from now on.
    this.helps = false;
    if (busy && this.maxInFlight > 1) {
      this.maxInFlight = Math.max(1, this.maxInFlight >> 1);
      return;
    }
    await this.close();
  }

  /** Finish what is in flight and stop the workers: every batch from now on runs inline. */
  async goInline(): Promise<void> {
    while (this.inFlight.size) await Promise.race(this.inFlight.keys());
    await this.close();
  }

  /** Wait for everything sent, then the EMFILE retries. */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.race(this.inFlight.keys());
    if (this.offError !== undefined) {
      await this.close();
      throw this.offError;
    }
    // Idle workers hold descriptors (rings, buffers); what runs on the main thread from here on may need them.
    await this.close();
    if (this.retry.count === 0) return;
    // Second chance, one file at a time on the main thread (with a few more rounds for what still finds
    // no descriptor: fd-retry.ts).
    let ctx = this.o.inline;
    try {
      ctx = this.o.serial?.() ?? this.o.inline;
    } catch {
      // keep the inline context
    }
    await runSetAside(ctx, this.retry, (failures, batch) => this.o.onFailures(failures.map((f) => ({ ...f, path: toBuffer(f.path) })), batch), this.o.onRetried);
    if (ctx !== this.o.inline) ctx.close();
  }

  /**
   * Stop using a pool that lost a worker. piscina starts no more workers once they fail while starting
   * (EMFILE under a tight ulimit), so batches still queued in it could wait for ever, and destroying it
   * stops every worker at once, in the middle of a file (its temp file left behind, the batch run twice).
   * So: each batch no worker has begun is claimed back and run here; the ones a worker has begun are
   * waited for; only then is the pool destroyed, with nothing running in it.
   */
  private async abandonPool(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.poolBroken = true;
    if (!pool) return;
    const begun: Promise<void>[] = [];
    for (const [p, item] of this.inFlight) {
      if (item.reclaimed || !item.state) continue;
      if (reclaimTask(item.state)) {
        item.reclaimed = true;
        this.runInline(item);
      } else {
        begun.push(p);
      }
    }
    await Promise.allSettled(begun);
    await pool.destroy().catch(() => undefined);
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.poolBroken = true;
    if (pool) await pool.destroy().catch(() => undefined);
    // A lent context is closed only once its run is back (the addon refuses to close it before).
    this.offBroken = true;
    while (this.offIdle.length < this.offMade) await Promise.race(this.inFlight.keys());
    for (const ctx of this.offIdle.splice(0)) ctx.close();
    this.offMade = 0;
  }
}
