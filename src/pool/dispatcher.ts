// Sends batches to the engines. Batches run inline on the main thread from the first one, so a small job
// never pays for workers (starting them costs more than copying a few thousand small files); once a job
// proves large (POOL_AFTER_OPS ops, or a batch heavy with data) a piscina pool starts in the background
// while the main thread keeps copying, and batches go to the workers only once one has started. Then a
// bounded number of batches is in flight, so the walk runs ahead of the copy without buffering the whole
// tree. Ops that failed with EMFILE/ENFILE are retried at the end, one batch at a time on the main
// thread: running out of descriptors lowers the concurrency instead of failing the run.

import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { EngineContext, EngineOptions, OpFailure } from '../engine/types.js';
import { FdRetry } from './fd-retry.js';
import type { Task, TaskResult } from './worker.js';

type Piscina = import('piscina').Piscina;

/**
 * Ops submitted before the pool is started: below this a job runs entirely on the main thread. Measured
 * on 2 CPUs (docs/benchmarks.md, "Fixed costs of small jobs"): two workers cost about 130 ms of CPU to
 * start, more than copying a thousand small files here; past it the main thread keeps copying while
 * they start, so starting early costs little wall time (1,024, 4,096 and never were within the noise
 * at 3,000 files; 1,024 keeps workers on a 20,000-file job from its first tenth).
 */
export const POOL_AFTER_OPS = 1024;
/** A batch carrying this much file data waits for the workers instead of running here (large files copy in parallel). */
export const POOL_BATCH_BYTES = 8 * 1024 * 1024;

export interface DispatcherOptions {
  engineOptions: EngineOptions;
  workers: number;
  /** Main-thread context, used for inline batches and for the retries. */
  inline: EngineContext;
  /** Called with each batch's failures as soon as it completes. */
  onFailures: (failures: OpFailure[]) => void;
  /** Called with a batch's per-op outcomes when it was submitted with a token. */
  onOutcomes?: (token: unknown, outcomes: Uint8Array) => void;
  /** A context that copies one file at a time (for the EMFILE retries); defaults to `inline`. */
  serial?: () => EngineContext;
  /** Thresholds (tests set them small): POOL_AFTER_OPS, POOL_BATCH_BYTES. */
  poolAfterOps?: number;
  poolBatchBytes?: number;
}

interface Item {
  batch: Uint8Array;
  count: number;
  token: unknown;
}

const toBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

export class Dispatcher {
  private pool: Piscina | undefined;
  /** The pool being started (memoized: one import, one Piscina). */
  private starting: Promise<Piscina | undefined> | undefined;
  /** A worker has opened its engine: batches go to the pool from now on. */
  private ready = false;
  /** No pool from now on (closed, or piscina could not load): everything runs inline. */
  private poolBroken = false;
  private submitted = 0;
  private inFlight = new Set<Promise<void>>();
  private readonly retry = new FdRetry(64 * 1024);
  private maxInFlight: number;
  private readonly afterOps: number;
  private readonly heavyBytes: number;
  /** Threads actually used, for -v. */
  threadsUsed = 0;

  constructor(private readonly o: DispatcherOptions) {
    this.maxInFlight = Math.max(2, o.workers * 2);
    this.afterOps = o.poolAfterOps ?? POOL_AFTER_OPS;
    this.heavyBytes = o.poolBatchBytes ?? POOL_BATCH_BYTES;
  }

  /**
   * Run or queue one encoded batch of `count` ops carrying `bytes` of file data; resolves when there is
   * room for another. With a `token`, onOutcomes(token, outcomes) is called when it completes.
   */
  async submit(batch: Uint8Array, count: number, token?: unknown, bytes = 0): Promise<void> {
    const item: Item = { batch, count, token };
    this.submitted += count;
    const heavy = bytes >= this.heavyBytes;
    if (!this.ready && (heavy || this.submitted >= this.afterOps)) this.startInBackground();
    // Until a worker is up, the main thread copies (a heavy batch is worth waiting for the workers).
    if (this.ready || (heavy && this.starting)) await this.send(item);
    else this.runInline(item);
  }

  /** Start the pool without waiting for it; `ready` once a worker has opened its engine. */
  private startInBackground(): void {
    if (this.starting || this.o.workers <= 1 || this.poolBroken) return;
    this.starting = this.startPool();
    void this.starting
      .then(async (pool) => {
        if (!pool) return;
        const warm: Task = { batch: new Uint8Array(0), count: 0, warm: true };
        await pool.run(warm);
        if (this.pool === pool) this.ready = true;
      })
      // A worker that cannot open its engine: the batches keep running here.
      .catch(() => undefined);
  }

  private async send(item: Item): Promise<void> {
    const pool = this.pool ?? (await this.starting);
    if (!pool || this.pool !== pool) {
      this.runInline(item);
      return;
    }
    this.threadsUsed = this.o.workers;
    // Not transferred: the batch is small next to the data it describes, and keeping it lets EMFILE
    // failures be re-run from it.
    const p: Promise<void> = pool
      .run({ batch: item.batch, count: item.count } satisfies Task)
      .then(
        (r: TaskResult) => this.done(item, r.failures, r.outcomes),
        // A worker that could not start its engine (or died): run the batch here instead.
        () => this.runInline(item),
      )
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
  }

  private runInline(item: Item): void {
    const outcomes = new Uint8Array(item.count);
    const failures = this.o.inline.run(item.batch, outcomes);
    this.done(item, failures, outcomes);
  }

  private done(item: Item, failures: OpFailure[], outcomes: Uint8Array): void {
    this.handle(item.batch, failures);
    if (item.token !== undefined) this.o.onOutcomes?.(item.token, outcomes);
  }

  /** Report failures; set EMFILE/ENFILE ones aside for a retry at lower concurrency (fd-retry.ts). */
  private handle(batch: Uint8Array, failures: OpFailure[]): void {
    if (failures.length === 0) return;
    const fixed = failures.map((f): OpFailure => ({ ...f, path: toBuffer(f.path), ...(f.dest ? { dest: toBuffer(f.dest) } : {}) }));
    const report = this.retry.setAside(batch, fixed);
    if (report.length) this.o.onFailures(report);
  }

  private async startPool(): Promise<Piscina | undefined> {
    let Piscina: typeof import('piscina').Piscina;
    try {
      ({ Piscina } = await import('piscina'));
    } catch {
      // Loading the pool needs descriptors too; without them the run goes on inline.
      this.poolBroken = true;
      return undefined;
    }
    // Closed while piscina was loading (the job ended, or descriptors ran out): no workers after all.
    if (this.poolBroken) return undefined;
    const here = dirname(fileURLToPath(import.meta.url));
    const { destRoot, backupDir, ...rest } = this.o.engineOptions;
    this.pool = new Piscina({
      filename: join(here, 'worker.js'),
      minThreads: this.o.workers,
      maxThreads: this.o.workers,
      idleTimeout: 60_000,
      workerData: { opts: { ...rest, destRoot: new Uint8Array(destRoot), ...(backupDir ? { backupDir: new Uint8Array(backupDir) } : {}) } },
    });
    // A worker that cannot start (EMFILE under a tight ulimit, no memory for its ring) must not take the
    // run down: the batches it would have run go inline, and no more workers are tried.
    this.pool.on('error', () => {
      this.poolBroken = true;
    });
    return this.pool;
  }

  /**
   * Out of descriptors on the main thread: let every batch in flight finish (closing its files), keep
   * fewer in flight from now on, and when that is not enough stop the workers (their rings and held
   * descriptors go with them) and run the rest inline.
   */
  async lowerConcurrency(): Promise<void> {
    const busy = this.inFlight.size > 0;
    while (this.inFlight.size) await Promise.race(this.inFlight);
    if (busy && this.maxInFlight > 1) {
      this.maxInFlight = Math.max(1, this.maxInFlight >> 1);
      return;
    }
    await this.close();
  }

  /** Finish what is in flight and stop the workers: every batch from now on runs inline. */
  async goInline(): Promise<void> {
    while (this.inFlight.size) await Promise.race(this.inFlight);
    await this.close();
  }

  /** Wait for everything sent, then the EMFILE retries. */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.race(this.inFlight);
    // Idle workers hold descriptors (rings, buffers); what runs on the main thread from here on may need them.
    await this.close();
    if (this.retry.count > 0) {
      const batch = this.retry.take();
      // Second chance, one file at a time on the main thread; what fails now is reported.
      let ctx = this.o.inline;
      try {
        ctx = this.o.serial?.() ?? this.o.inline;
      } catch {
        // keep the inline context
      }
      const failures = ctx.run(batch).map((f) => ({ ...f, path: toBuffer(f.path) }));
      if (ctx !== this.o.inline) ctx.close();
      if (failures.length) this.o.onFailures(failures);
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.ready = false;
    this.poolBroken = true;
    if (pool) await pool.destroy().catch(() => undefined);
  }
}
