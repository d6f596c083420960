// Sends batches to the engines. A job that fits in one batch runs inline on the main thread and never
// starts a worker (start-up cost matters for tiny jobs); anything bigger starts a piscina pool lazily and
// keeps a bounded number of batches in flight, so the walk runs ahead of the copy without buffering the
// whole tree. Ops that failed with EMFILE/ENFILE are retried at the end, one batch at a time on the main
// thread: running out of descriptors lowers the concurrency instead of failing the run.

import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { EngineContext, EngineOptions, OpFailure } from '../engine/types.js';
import { FdRetry } from './fd-retry.js';
import type { TaskResult } from './worker.js';

type Piscina = import('piscina').Piscina;

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
  /**
   * --partial: no batch runs inline while the walk goes on, so the main thread stays free to hear a
   * signal mid-file (a signal's handler runs only between engine calls) and the engines can keep the
   * partial data; with one worker or none every batch still runs here.
   */
  noInline?: boolean;
  /** The EMFILE retries' batch and outcomes (--delay-updates keeps the files they placed). */
  onRetried?: (batch: Uint8Array, outcomes: Uint8Array) => void;
}

interface Held {
  batch: Uint8Array;
  count: number;
  token: unknown;
}

const toBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

export class Dispatcher {
  private pool: Piscina | undefined;
  private held: Held | undefined;
  private inFlight = new Set<Promise<void>>();
  private readonly retry = new FdRetry(64 * 1024);
  private maxInFlight: number;
  /** Threads actually used, for -v. */
  threadsUsed = 0;

  constructor(private readonly o: DispatcherOptions) {
    this.maxInFlight = Math.max(2, o.workers * 2);
  }

  /**
   * Queue one encoded batch of `count` ops; resolves when there is room for another. With a `token`,
   * onOutcomes(token, outcomes) is called when it completes.
   */
  async submit(batch: Uint8Array, count: number, token?: unknown): Promise<void> {
    const item: Held = { batch, count, token };
    if (!this.pool && this.held === undefined && this.o.workers > 0 && !this.o.noInline) {
      // Hold the first batch back: if it is the only one, it runs inline.
      this.held = item;
      return;
    }
    if (this.held !== undefined) {
      const first = this.held;
      this.held = undefined;
      await this.send(first);
    }
    await this.send(item);
  }

  private async send(item: Held): Promise<void> {
    const pool = await this.startPool();
    if (!pool) {
      this.runInline(item);
      return;
    }
    // Not transferred: the batch is small next to the data it describes, and keeping it lets EMFILE
    // failures be re-run from it.
    const p: Promise<void> = pool
      .run({ batch: item.batch, count: item.count })
      .then(
        (r: TaskResult) => this.done(item, r.failures, r.outcomes),
        // A worker that could not start its engine (or died): run the batch here instead.
        () => this.runInline(item),
      )
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
  }

  private runInline(item: Held): void {
    const outcomes = new Uint8Array(item.count);
    const failures = this.o.inline.run(item.batch, outcomes);
    this.done(item, failures, outcomes);
  }

  private done(item: Held, failures: OpFailure[], outcomes: Uint8Array): void {
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

  private poolBroken = false;

  private async startPool(): Promise<Piscina | undefined> {
    if (this.pool) return this.pool;
    if (this.o.workers <= 1 || this.poolBroken) return undefined;
    let Piscina: typeof import('piscina').Piscina;
    try {
      ({ Piscina } = await import('piscina'));
    } catch {
      // Loading the pool needs descriptors too; without them the run goes on inline.
      this.poolBroken = true;
      return undefined;
    }
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
    this.threadsUsed = this.o.workers;
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

  /** Wait for everything sent, run what was held back inline, then the EMFILE retries. */
  async drain(): Promise<void> {
    if (this.held !== undefined) {
      const only = this.held;
      this.held = undefined;
      this.runInline(only);
    }
    while (this.inFlight.size) await Promise.race(this.inFlight);
    // Idle workers hold descriptors (rings, buffers); what runs on the main thread from here on may need them.
    await this.close();
    if (this.retry.count > 0) {
      const outcomes = new Uint8Array(this.retry.count);
      const batch = this.retry.take();
      // Second chance, one file at a time on the main thread; what fails now is reported.
      let ctx = this.o.inline;
      try {
        ctx = this.o.serial?.() ?? this.o.inline;
      } catch {
        // keep the inline context
      }
      const failures = ctx.run(batch, outcomes).map((f) => ({ ...f, path: toBuffer(f.path) }));
      if (ctx !== this.o.inline) ctx.close();
      if (failures.length) this.o.onFailures(failures);
      this.o.onRetried?.(batch, outcomes);
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.poolBroken = true;
    if (pool) await pool.destroy().catch(() => undefined);
  }
}
