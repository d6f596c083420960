// src/pool/dispatcher.ts: the inline start and its budget (time, data per batch, data in all), the bound
// on batches in flight, this thread taking a small batch while the pool is full (one worker fewer), the fallback to inline when a worker fails, and the EMFILE/ENFILE retry at the end. piscina is
// replaced by a pool whose tasks finish when the test says so; the engine contexts are recorders.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BatchWriter } from '../../../src/engine/batch.js';
import { OpKind } from '../../../src/model/ops.js';
import type { EngineContext, EngineOptions, OpFailure } from '../../../src/engine/types.js';
import type { Stat } from '../../../src/model/stat.js';
import { ERRNO } from '../../../src/util/errors.js';
import type { Task, TaskResult } from '../../../src/pool/worker.js';
import { readBatch } from '../../../src/engine/batch.js';
import { claimTask } from '../../../src/pool/task-state.js';

interface Pending {
  task: Task;
  resolve: (r: TaskResult) => void;
  reject: (e: Error) => void;
}

/** What the fake pool saw: tasks waiting for the test to finish them, pools made and destroyed. */
const pool = {
  pending: [] as Pending[],
  made: 0,
  destroyed: 0,
  threads: 0,
  /** The workers piscina starts at once (the rest only for a batch that waits with every worker busy). */
  minThreads: 0,
  /** piscina's choice of worker for a task, when the dispatcher gives one. */
  balancer: undefined as BalancerFn | undefined,
  onError: [] as (() => void)[],
  /** The workers' "up" slot (pool/worker.ts bumps it); `startUp` false leaves it for the test to set. */
  up: undefined as Int32Array | undefined,
  startUp: true,
};

interface FakeWorker {
  currentUsage: number;
}
type BalancerFn = (task: Record<symbol, unknown>, workers: FakeWorker[]) => FakeWorker | null;

// The dispatcher loads piscina through util/packages.ts (require, which vi.mock does not see).
class FakePiscina {
  static readonly queueOptionsSymbol = Symbol('queueOptions');
  /** As piscina's: the workers started (here, the ones it starts at once). */
  get threads(): unknown[] {
    return Array.from({ length: pool.minThreads }, () => ({}));
  }
  constructor(o: { minThreads?: number; maxThreads: number; workerData?: { up?: Int32Array }; loadBalancer?: BalancerFn }) {
    pool.made++;
    pool.threads = o.maxThreads;
    pool.minThreads = o.minThreads ?? o.maxThreads;
    pool.balancer = o.loadBalancer;
    pool.up = o.workerData?.up;
    if (pool.startUp && pool.up) Atomics.add(pool.up, 0, 1);
  }
  run(task: Task): Promise<TaskResult> {
    return new Promise((resolve, reject) => pool.pending.push({ task, resolve, reject }));
  }
  on(event: string, fn: () => void): void {
    if (event === 'error') pool.onError.push(fn);
  }
  destroy(): Promise<void> {
    pool.destroyed++;
    // As piscina does: tasks not finished are rejected.
    for (const p of pool.pending.splice(0)) p.reject(new Error('Terminating worker thread'));
    return Promise.resolve();
  }
}
vi.mock('../../../src/util/packages.js', () => ({
  loadPackage: (name: string) => {
    if (name !== 'piscina') throw new Error(`the dispatcher asked for ${name}`);
    return { Piscina: FakePiscina };
  },
}));

const { Dispatcher, INLINE_BUDGET } = await import('../../../src/pool/dispatcher.js');
type DispatcherOptions = ConstructorParameters<typeof Dispatcher>[0];

const STAT: Stat = { mode: 0o100644, uid: 0, gid: 0, size: 1, mtimeSec: 0, mtimeNsec: 0, ino: 0, dev: 0, nlink: 1, rdev: 0, blocks: 0 };

/** A batch of File ops named by `names`. */
function batch(...names: string[]): Uint8Array {
  const w = new BatchWriter();
  for (const n of names) w.add(OpKind.File, Buffer.from(`/src/${n}`), Buffer.from(n), STAT);
  return w.finish();
}

/** The same, encoded into the dispatcher's reused memory (as the sink does). */
function pooled(d: { batchBuffer(n: number): Uint8Array }, ...names: string[]): Uint8Array {
  const w = new BatchWriter();
  for (const n of names) w.add(OpKind.File, Buffer.from(`/src/${n}`), Buffer.from(n), STAT);
  return w.finish((n) => d.batchBuffer(n));
}

const names = (b: Uint8Array): string[] => [...readBatch(b)].map((op) => op.dst.toString());

/** An engine context that records the ops it ran and fails the ones `fail` names. */
function recorder(fail: (name: string) => number | undefined = () => undefined) {
  const ran: string[][] = [];
  let closed = 0;
  const ctx = {
    name: 'node',
    run(b: Uint8Array, outcomes?: Uint8Array): OpFailure[] {
      const ops = names(b);
      ran.push(ops);
      outcomes?.fill(1);
      const failures: OpFailure[] = [];
      ops.forEach((n, index) => {
        const errno = fail(n);
        if (errno !== undefined) failures.push({ index, errno, syscall: 'open', path: new Uint8Array(Buffer.from(n)) as Buffer, onDest: true });
      });
      return failures;
    },
    close() {
      closed++;
    },
  } as unknown as EngineContext;
  return { ctx, ran, closed: () => closed };
}

/** No inline start: every batch goes to the pool (the behaviour of a job that has proved large). */
const POOL_NOW = { inlineBudget: { ms: 0, batchBytes: 0, totalBytes: 0 } };

function options(inline: EngineContext, o: Partial<DispatcherOptions> = {}) {
  const failures: OpFailure[] = [];
  const outcomes: [unknown, number[]][] = [];
  const opts: DispatcherOptions = {
    engineOptions: { engine: 'node', destRoot: Buffer.from('/dst') } as EngineOptions,
    workers: 2,
    inline,
    onFailures: (f) => failures.push(...f),
    onOutcomes: (token, out) => outcomes.push([token, [...out]]),
    ...o,
  };
  return { opts, failures, outcomes };
}

/** Let the dispatcher's awaits run. */
const tick = () => new Promise((r) => setTimeout(r, 0));

/** Finish the oldest pending task with these failures (none by default). */
function finish(failures: OpFailure[] = []): void {
  const p = pool.pending.shift();
  if (!p) throw new Error('no task in flight');
  p.resolve({ failures, outcomes: new Uint8Array(p.task.count).fill(2) });
}

beforeEach(() => {
  Object.assign(pool, { pending: [], made: 0, destroyed: 0, threads: 0, minThreads: 0, balancer: undefined, onError: [], up: undefined, startUp: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('Dispatcher: the inline start', () => {
  it('runs a small job inline as it is submitted, without starting a pool', async () => {
    const inline = recorder();
    const { opts, outcomes } = options(inline.ctx);
    const d = new Dispatcher(opts);
    await d.submit(batch('a', 'b'), 2, 'tok');
    expect(inline.ran).toEqual([['a', 'b']]);
    await d.submit(batch('c'), 1);
    await d.drain();
    expect(inline.ran).toEqual([['a', 'b'], ['c']]);
    expect(pool.made).toBe(0);
    expect(d.threadsUsed).toBe(0);
    expect(outcomes).toEqual([['tok', [1, 1]]]);
  });

  it('lets the event loop run after each inline batch (signals and progress timers are not starved)', async () => {
    const d = new Dispatcher(options(recorder().ctx).opts);
    let fired = 0;
    const timer = setImmediate(() => fired++);
    await d.submit(batch('a'), 1);
    expect(fired).toBe(1);
    clearImmediate(timer);
    await d.drain();
  });

  it('a batch carrying more file data than one inline batch may goes to the pool, and so does everything after it', async () => {
    const inline = recorder();
    const d = new Dispatcher(options(inline.ctx).opts);
    await d.submit(batch('a'), 1, undefined, 10);
    await d.submit(batch('big'), 1, undefined, INLINE_BUDGET.batchBytes + 1);
    await d.submit(batch('c'), 1, undefined, 1);
    expect(inline.ran).toEqual([['a']]);
    expect(pool.made).toBe(1);
    expect(pool.pending.map((p) => names(p.task.batch))).toEqual([['big'], ['c']]);
    finish();
    finish();
    await d.drain();
  });

  it('inline data adds up: past the total, the job is large', async () => {
    const inline = recorder();
    const d = new Dispatcher(options(inline.ctx, { inlineBudget: { ms: 1e9, batchBytes: 100, totalBytes: 150 } }).opts);
    await d.submit(batch('a'), 1, undefined, 100);
    await d.submit(batch('b'), 1, undefined, 100);
    expect(inline.ran).toEqual([['a']]);
    expect(pool.pending.map((p) => names(p.task.batch))).toEqual([['b']]);
    finish();
    await d.drain();
  });

  it('inline CPU time adds up: once it passes the budget, the job is large', async () => {
    const inline = recorder();
    // A CPU clock the engine moves: each batch costs 5 ms, however loaded the machine is.
    let clock = 0;
    vi.spyOn(process, 'cpuUsage').mockImplementation((prev?: NodeJS.CpuUsage) => ({ user: clock * 1000 - (prev?.user ?? 0), system: 0 }));
    const slow = { ...inline.ctx, run: (b: Uint8Array, o?: Uint8Array) => ((clock += 5), inline.ctx.run(b, o)) } as EngineContext;
    const d = new Dispatcher(options(slow, { inlineBudget: { ms: 8, batchBytes: 1e9, totalBytes: 1e9 } }).opts);
    await d.submit(batch('a'), 1);
    await d.submit(batch('b'), 1);
    await d.submit(batch('c'), 1);
    expect(inline.ran).toEqual([['a'], ['b']]);
    expect(pool.pending.map((p) => names(p.task.batch))).toEqual([['c']]);
    finish();
    await d.drain();
  });

  it('once the job is large, batches keep running here until a worker is up, then all go to the pool', async () => {
    pool.startUp = false;
    const inline = recorder();
    // Each batch costs 5 ms of CPU: the second passes the budget.
    let clock = 0;
    vi.spyOn(process, 'cpuUsage').mockImplementation((prev?: NodeJS.CpuUsage) => ({ user: clock * 1000 - (prev?.user ?? 0), system: 0 }));
    const slow = { ...inline.ctx, run: (b: Uint8Array, o?: Uint8Array) => ((clock += 5), inline.ctx.run(b, o)) } as EngineContext;
    const d = new Dispatcher(options(slow, { inlineBudget: { ms: 8, batchBytes: 100, totalBytes: 1000 } }).opts);
    await d.submit(batch('a'), 1, undefined, 100);
    await d.submit(batch('b'), 1, undefined, 100);
    expect(pool.made).toBe(0);
    await d.submit(batch('x'), 1, undefined, 100); // past the budget: the job is large, the pool starts
    expect(pool.made).toBe(1);
    await d.submit(batch('c'), 1, undefined, 10); // no worker up yet
    expect(inline.ran).toEqual([['a'], ['b'], ['x'], ['c']]);
    expect(pool.pending).toEqual([]);
    Atomics.add(pool.up!, 0, 1);
    await d.submit(batch('d'), 1, undefined, 10);
    expect(pool.pending.map((p) => names(p.task.batch))).toEqual([['d']]);
    Atomics.sub(pool.up!, 0, 1); // the pool is not asked again once a batch went to it
    await d.submit(batch('e'), 1, undefined, 10);
    expect(pool.pending.map((p) => names(p.task.batch))).toEqual([['d'], ['e']]);
    finish();
    finish();
    await d.drain();
    expect(inline.ran).toEqual([['a'], ['b'], ['x'], ['c']]);
  });

  it('while the workers start, a batch over the per-batch or total data bound goes to the pool, and so does everything after it', async () => {
    pool.startUp = false;
    const inline = recorder();
    const d = new Dispatcher(options(inline.ctx, { inlineBudget: { ms: 1e9, batchBytes: 100, totalBytes: 1000 } }).opts);
    await d.submit(batch('a'), 1, undefined, 101);
    await d.submit(batch('b'), 1, undefined, 1);
    expect(inline.ran).toEqual([]);
    expect(pool.pending.map((p) => names(p.task.batch))).toEqual([['a'], ['b']]);
    finish();
    finish();
    await d.drain();
  });

  it('with no inline budget (--bwlimit), nothing runs here while the workers start', async () => {
    pool.startUp = false;
    const inline = recorder();
    const d = new Dispatcher(options(inline.ctx, POOL_NOW).opts);
    await d.submit(batch('a'), 1);
    expect(inline.ran).toEqual([]);
    expect(pool.pending.map((p) => names(p.task.batch))).toEqual([['a']]);
    finish();
    await d.drain();
  });

  it('without a token, no outcomes are reported', async () => {
    const inline = recorder();
    const { opts, outcomes } = options(inline.ctx);
    const d = new Dispatcher(opts);
    await d.submit(batch('a'), 1);
    await d.drain();
    expect(outcomes).toEqual([]);
  });
});

describe('Dispatcher: no workers', () => {
  it('workers 0: every batch runs inline as it is submitted', async () => {
    const inline = recorder();
    const d = new Dispatcher(options(inline.ctx, { workers: 0 }).opts);
    await d.submit(batch('a'), 1);
    expect(inline.ran).toEqual([['a']]);
    await d.submit(batch('b'), 1);
    expect(inline.ran).toEqual([['a'], ['b']]);
    await d.drain();
    expect(pool.made).toBe(0);
  });

  it('workers 1: past the inline budget, batches still run inline in order (no pool for one worker)', async () => {
    const inline = recorder();
    const d = new Dispatcher(options(inline.ctx, { workers: 1, ...POOL_NOW }).opts);
    await d.submit(batch('a'), 1);
    await d.submit(batch('b'), 1);
    expect(inline.ran).toEqual([['a'], ['b']]);
    await d.drain();
    expect(pool.made).toBe(0);
  });
});

describe('Dispatcher: a pool', () => {
  it('a job past its inline budget starts the pool and sends its batches in order', async () => {
    const inline = recorder();
    const { opts, outcomes } = options(inline.ctx, POOL_NOW);
    const d = new Dispatcher(opts);
    await d.submit(batch('a'), 1, 1);
    await d.submit(batch('b'), 1, 2);
    expect(pool.made).toBe(1);
    expect(d.threadsUsed).toBe(2);
    expect(pool.pending.map((p) => names(p.task.batch))).toEqual([['a'], ['b']]);
    finish();
    finish();
    await d.drain();
    expect(inline.ran).toEqual([]);
    expect(outcomes).toEqual([
      [1, [2]],
      [2, [2]],
    ]);
    expect(pool.destroyed).toBe(1);
  });

  it('a worker gets its batch, outcomes and claim word in shared memory, reused once the batch is answered', async () => {
    const { opts, outcomes } = options(recorder().ctx, POOL_NOW);
    const d = new Dispatcher(opts);
    const mine = batch('a');
    await d.submit(mine, 1, 1);
    const first = pool.pending[0]!.task;
    expect(first.batch.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(first.outcomes!.buffer).toBe(first.batch.buffer);
    expect(first.state!.buffer).toBe(first.batch.buffer);
    expect(names(first.batch)).toEqual(['a']);
    // As the pool worker does: it writes the outcomes in place and sends none back.
    const p = pool.pending.shift()!;
    p.task.outcomes!.fill(3);
    p.resolve({ failures: [] });
    await tick();
    expect(outcomes).toEqual([[1, [3]]]);
    // The next batch takes the same memory; the outcomes reported before are a copy.
    await d.submit(batch('b'), 1, 2);
    const second = pool.pending[0]!.task;
    expect(second.batch.buffer).toBe(first.batch.buffer);
    expect([...second.outcomes!]).toEqual([0]);
    expect(names(second.batch)).toEqual(['b']);
    expect(outcomes).toEqual([[1, [3]]]);
    finish();
    await d.drain();
  });

  it("the main thread's batch memory is reused only once its batch is done: inline at once, sent when answered", async () => {
    const inline = recorder();
    const d = new Dispatcher(options(inline.ctx, { inlineBudget: { ms: 1e9, batchBytes: 100, totalBytes: 150 } }).opts);
    // Inline: the batch has run when submit returns; its memory serves the next one.
    const a = pooled(d, 'a');
    await d.submit(a, 1, undefined, 100);
    const b = pooled(d, 'b');
    expect(b.buffer).toBe(a.buffer);
    // Past the total: 'b' goes to the pool. Until its worker answers, its memory is not handed out.
    await d.submit(b, 1, undefined, 100);
    expect(pool.pending.length).toBe(1);
    const c = pooled(d, 'c');
    expect(c.buffer).not.toBe(b.buffer);
    expect(names(b)).toEqual(['b']);
    finish();
    await tick();
    expect(pooled(d, 'd').buffer).toBe(b.buffer);
    expect(inline.ran).toEqual([['a']]);
    await d.drain();
  });

  it('an EMFILE op of a pooled batch is re-run from its own bytes after the memory served another batch', async () => {
    const inline = recorder();
    const { opts, failures } = options(inline.ctx, POOL_NOW);
    const d = new Dispatcher(opts);
    const first = pooled(d, 'x', 'm');
    await d.submit(first, 2);
    finish([{ index: 1, errno: ERRNO.EMFILE, syscall: 'open', path: Buffer.from('m'), onDest: true }]);
    await tick();
    const second = pooled(d, 'y', 'z');
    expect(second.buffer).toBe(first.buffer);
    await d.submit(second, 2);
    finish();
    await d.drain();
    expect(inline.ran).toEqual([['m']]);
    expect(failures).toEqual([]);
  });

  it('a batch taken back from an abandoned pool runs here, and its memory is reused only after the pool let it go', async () => {
    const inline = recorder();
    const d = new Dispatcher(options(inline.ctx, POOL_NOW).opts);
    const a = pooled(d, 'a');
    await d.submit(a, 1);
    const b = pooled(d, 'b');
    await d.submit(b, 1);
    pool.pending.shift()!.reject(new Error('worker died'));
    await tick();
    expect(inline.ran).toEqual([['a'], ['b']]);
    expect(pool.destroyed).toBe(1);
    // Both answered (the second rejected by destroy): both buffers free, each handed out once.
    const got = [pooled(d, 'c').buffer, pooled(d, 'e').buffer];
    expect(new Set(got)).toEqual(new Set([a.buffer, b.buffer]));
    await d.drain();
  });

  it('keeps at most two batches per worker in flight: submit waits for room', async () => {
    const d = new Dispatcher(options(recorder().ctx, { workers: 2, ...POOL_NOW }).opts);
    await d.submit(batch('0'), 1);
    for (let i = 1; i < 3; i++) await d.submit(batch(String(i)), 1);
    expect(pool.pending.length).toBe(3);
    let returned = false;
    const fourth = d.submit(batch('3'), 1).then(() => (returned = true));
    await tick();
    expect(pool.pending.length).toBe(4); // sent, but the caller waits: 4 = 2 workers x 2
    expect(returned).toBe(false);
    finish();
    await fourth;
    expect(returned).toBe(true);
    while (pool.pending.length) finish();
    await d.drain();
  });

  it('a batch whose worker failed runs inline, the pool is given up, and what it still held runs inline too', async () => {
    const inline = recorder();
    const { opts, failures } = options(inline.ctx, POOL_NOW);
    const d = new Dispatcher(opts);
    await d.submit(batch('a'), 1);
    await d.submit(batch('b'), 1);
    // piscina starts no more workers after a failure at start-up: 'b' would wait in its queue forever.
    pool.pending.shift()!.reject(new Error('worker died'));
    await tick();
    expect(pool.destroyed).toBe(1);
    expect(inline.ran).toEqual([['a'], ['b']]);
    await d.submit(batch('c'), 1);
    await d.drain();
    expect(inline.ran).toEqual([['a'], ['b'], ['c']]);
    expect(pool.made).toBe(1);
    expect(failures).toEqual([]);
  });

  it('a batch a worker has begun is never stopped half-way: the pool is destroyed only once it is done, and it does not run again', async () => {
    const inline = recorder();
    const { opts, outcomes } = options(inline.ctx, POOL_NOW);
    const d = new Dispatcher(opts);
    await d.submit(batch('a'), 1, 'a');
    await d.submit(batch('b'), 1, 'b');
    await d.submit(batch('c'), 1, 'c');
    // 'b' is being copied by a healthy worker when the worker of 'a' fails to start its engine.
    expect(claimTask(pool.pending[1]!.task.state)).toBe(true);
    pool.pending.shift()!.reject(new Error('EMFILE while opening the engine'));
    await tick();
    // 'a' (failed) and 'c' (queued, taken back) run here; 'b' is left to its worker.
    expect(inline.ran).toEqual([['a'], ['c']]);
    expect(pool.destroyed).toBe(0);
    // A worker that meets the taken-back batch later leaves it alone.
    expect(claimTask(pool.pending[1]!.task.state)).toBe(false);
    finish();
    await tick();
    expect(pool.destroyed).toBe(1);
    await d.drain();
    expect(inline.ran).toEqual([['a'], ['c']]);
    expect(outcomes.map(([t]) => t).sort()).toEqual(['a', 'b', 'c']);
  });

  it("a worker that fails while starting (the pool's error event): batches no worker began run here, nothing waits for ever", async () => {
    const inline = recorder();
    const d = new Dispatcher(options(inline.ctx, POOL_NOW).opts);
    await d.submit(batch('a'), 1);
    await d.submit(batch('b'), 1);
    pool.onError.forEach((fn) => fn());
    await tick();
    expect(pool.destroyed).toBe(1);
    expect(inline.ran).toEqual([['a'], ['b']]);
    await d.submit(batch('c'), 1);
    await d.drain();
    expect(inline.ran).toEqual([['a'], ['b'], ['c']]);
    expect(pool.made).toBe(1);
  });

  it('failures from a worker are reported with Buffer paths', async () => {
    const { opts, failures } = options(recorder().ctx, POOL_NOW);
    const d = new Dispatcher(opts);
    await d.submit(batch('a'), 1);
    await d.submit(batch('b'), 1);
    const raw = new Uint8Array(Buffer.from('a'));
    finish([{ index: 0, errno: ERRNO.EACCES, syscall: 'open', path: raw as Buffer, dest: raw as Buffer, onDest: false }]);
    finish();
    await d.drain();
    expect(failures).toHaveLength(1);
    expect(Buffer.isBuffer(failures[0]!.path)).toBe(true);
    expect(Buffer.isBuffer(failures[0]!.dest)).toBe(true);
    expect(failures[0]!.path.toString()).toBe('a');
  });

  it('goInline lets the batches in flight finish, stops the workers, and runs the rest inline', async () => {
    const inline = recorder();
    const d = new Dispatcher(options(inline.ctx, POOL_NOW).opts);
    await d.submit(batch('a'), 1);
    await d.submit(batch('b'), 1);
    let stopped = false;
    const going = d.goInline().then(() => (stopped = true));
    await tick();
    expect(stopped).toBe(false);
    finish();
    finish();
    await going;
    expect(pool.destroyed).toBe(1);
    await d.submit(batch('c'), 1);
    await d.submit(batch('d'), 1);
    await d.drain();
    expect(inline.ran).toEqual([['c'], ['d']]);
    expect(pool.made).toBe(1);
  });
});

describe('Dispatcher: this thread helps the pool', () => {
  /** A job that proved large at its first batch (no inline CPU budget left), with the default data bounds. */
  const LARGE = { inlineBudget: { ms: 1e-9, batchBytes: 100, totalBytes: 1000 } };

  /** Past the budget: the first batch ran inline and started the pool, its worker is up. */
  async function started(inline: EngineContext, o: Partial<DispatcherOptions> = {}) {
    let clock = 0;
    vi.spyOn(process, 'cpuUsage').mockImplementation((prev?: NodeJS.CpuUsage) => ({ user: clock++ * 1000 - (prev?.user ?? 0), system: 0 }));
    const d = new Dispatcher(options(inline, { workers: 2, ...LARGE, ...o }).opts);
    await d.submit(batch('first'), 1, undefined, 1);
    await d.submit(batch('last-inline'), 1, undefined, 1);
    return d;
  }

  it('the pool starts one worker fewer than asked, and grows to the full count only on its own (piscina, for a waiting batch)', async () => {
    const inline = recorder();
    const d = await started(inline.ctx);
    expect(pool.made).toBe(1);
    expect(pool.minThreads).toBe(1);
    expect(pool.threads).toBe(2);
    expect(pool.balancer).toBeTypeOf('function');
    expect(d.threadsUsed).toBe(1);
    while (pool.pending.length) finish();
    await d.drain();
  });

  it('with every worker holding a running and a queued batch, a small batch runs here instead of waiting; once there is room, batches go to the pool again', async () => {
    const inline = recorder();
    const { opts, outcomes } = options(inline.ctx, { workers: 2, ...LARGE });
    let clock = 0;
    vi.spyOn(process, 'cpuUsage').mockImplementation((prev?: NodeJS.CpuUsage) => ({ user: clock++ * 1000 - (prev?.user ?? 0), system: 0 }));
    const d = new Dispatcher(opts);
    await d.submit(batch('a'), 1, 'a', 1); // inline: the budget is spent by it
    await d.submit(batch('b'), 1, 'b', 1); // the pool starts; its worker is up at once here
    await d.submit(batch('c'), 1, 'c', 1);
    expect(inline.ran).toEqual([['a']]);
    expect(pool.pending.map((p) => names(p.task.batch))).toEqual([['b'], ['c']]);
    // One worker, two batches in flight: this thread would wait; it copies 'd' itself, and returns at once.
    await d.submit(batch('d'), 1, 'd', 1);
    expect(inline.ran).toEqual([['a'], ['d']]);
    expect(pool.pending.length).toBe(2);
    finish();
    await tick();
    await d.submit(batch('e'), 1, 'e', 1);
    expect(pool.pending.map((p) => names(p.task.batch))).toEqual([['c'], ['e']]);
    while (pool.pending.length) finish();
    await d.drain();
    expect(inline.ran).toEqual([['a'], ['d']]);
    // Every batch's outcomes came back once, wherever it ran.
    expect(outcomes.map(([t]) => t).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('a batch over the inline data bound is never run here: it goes to the pool marked, and waits for room', async () => {
    const inline = recorder();
    const d = await started(inline.ctx);
    await d.submit(batch('s1'), 1, undefined, 1);
    await d.submit(batch('s2'), 1, undefined, 1);
    let returned = false;
    const big = d.submit(batch('big'), 1, undefined, 101).then(() => (returned = true));
    await tick();
    // 's2' found the one worker with two batches: it ran here; 'big' went to the pool all the same.
    expect(inline.ran).toEqual([['first'], ['s2']]);
    expect(pool.pending.map((p) => names(p.task.batch))).toEqual([['last-inline'], ['s1'], ['big']]);
    const sym = FakePiscina.queueOptionsSymbol;
    const marks = pool.pending.map((p) => (p.task as unknown as Record<symbol, unknown>)[sym]);
    expect(marks).toEqual([undefined, undefined, { big: true }]);
    // Below the bound on batches in flight (two per worker asked for: 4), it returns at once.
    expect(returned).toBe(true);
    while (pool.pending.length) finish();
    await big;
    await d.drain();
  });

  it("the balancer: an idle worker takes any batch, a small one may wait behind a running one, a marked one waits for no one (piscina's cue to start the last worker)", async () => {
    const d = await started(recorder().ctx);
    const choose = pool.balancer!;
    const sym = FakePiscina.queueOptionsSymbol;
    const small = {} as Record<symbol, unknown>;
    const big = { [sym]: { big: true } } as Record<symbol, unknown>;
    const idle = { currentUsage: 0 };
    const one = { currentUsage: 1 };
    const two = { currentUsage: 2 };
    expect(choose(small, [one, idle])).toBe(idle);
    expect(choose(big, [one, idle])).toBe(idle);
    expect(choose(small, [two, one])).toBe(one);
    expect(choose(small, [two, two])).toBe(null);
    expect(choose(big, [one])).toBe(null);
    while (pool.pending.length) finish();
    await d.drain();
  });

  it('no help, and every worker at once, under --progress, --partial or --bwlimit (batches stay off this thread)', async () => {
    for (const o of [{ live: true }, { noInline: true }, POOL_NOW] as Partial<DispatcherOptions>[]) {
      Object.assign(pool, { pending: [], made: 0, balancer: undefined });
      const inline = recorder();
      const d = new Dispatcher(options(inline.ctx, { workers: 2, ...o }).opts);
      await d.submit(batch('a'), 1, undefined, 1);
      // --progress keeps two batches in flight with its one worker: the second waits for room, as before.
      const second = d.submit(batch('b'), 1, undefined, 1);
      await tick();
      expect(pool.pending.map((p) => names(p.task.batch))).toEqual([['a'], ['b']]);
      expect(pool.balancer).toBeUndefined();
      expect(pool.minThreads).toBe(pool.threads);
      expect(inline.ran).toEqual([]);
      while (pool.pending.length) finish();
      await second;
      await d.drain();
    }
  });

  it('once descriptors ran short, this thread only waits', async () => {
    const inline = recorder();
    const d = await started(inline.ctx);
    await d.submit(batch('s1'), 1, undefined, 1);
    const lowered = d.lowerConcurrency();
    while (pool.pending.length) finish();
    await lowered;
    await d.submit(batch('s2'), 1, undefined, 1);
    const third = d.submit(batch('s3'), 1, undefined, 1);
    await tick();
    expect(pool.pending.map((p) => names(p.task.batch))).toEqual([['s2'], ['s3']]);
    expect(inline.ran).toEqual([['first']]);
    while (pool.pending.length) finish();
    await third;
    await d.drain();
  });
});

describe('Dispatcher: out of descriptors', () => {
  it('EMFILE and ENFILE ops are retried at drain, one batch on the serial context; what fails again is reported', async () => {
    const inline = recorder((n) => (n === 'm' ? ERRNO.EMFILE : n === 'n' ? ERRNO.ENFILE : n === 'x' ? ERRNO.EACCES : n === 'o' ? ERRNO.EMFILE : undefined));
    // 'n' never finds a descriptor; 'o' finds one on the third round (what held them went away).
    let oRounds = 0;
    const serial = recorder((n) => (n === 'n' ? ERRNO.ENFILE : n === 'o' && ++oRounds < 3 ? ERRNO.EMFILE : undefined));
    const { opts, failures } = options(inline.ctx, { workers: 0, serial: () => serial.ctx });
    const d = new Dispatcher(opts);
    await d.submit(batch('a', 'm', 'x'), 3);
    await d.submit(batch('n', 'b', 'o'), 3);
    expect(failures.map((f) => f.path.toString())).toEqual(['x']);
    await d.drain();
    // The first round, then the ops still short of descriptors, four more times at most.
    expect(serial.ran).toEqual([['m', 'n', 'o'], ['n', 'o'], ['n', 'o'], ['n'], ['n']]);
    expect(serial.closed()).toBe(1);
    expect(failures.map((f) => [f.path.toString(), f.errno])).toEqual([
      ['x', ERRNO.EACCES],
      ['n', ERRNO.ENFILE],
    ]);
    expect(Buffer.isBuffer(failures[1]!.path)).toBe(true);
  });

  it('without a serial context, or when making one throws, the retry runs on the inline one', async () => {
    for (const serial of [undefined, () => { throw new Error('no descriptors'); }]) {
      let first = true;
      const inline = recorder((n) => (n === 'm' && first ? ((first = false), ERRNO.EMFILE) : undefined));
      const { opts, failures } = options(inline.ctx, { workers: 0, ...(serial ? { serial } : {}) });
      const d = new Dispatcher(opts);
      await d.submit(batch('a', 'm'), 2);
      await d.drain();
      expect(inline.ran).toEqual([['a', 'm'], ['m']]);
      expect(inline.closed()).toBe(0);
      expect(failures).toEqual([]);
    }
  });

  it('a failure without an op index (the batch as a whole) is reported, not retried', async () => {
    const inline = recorder();
    const { opts, failures } = options(inline.ctx, { workers: 0 });
    const d = new Dispatcher(opts);
    const whole = { index: -1, errno: ERRNO.EMFILE, syscall: 'io_uring_setup', path: Buffer.from(''), onDest: false };
    vi.spyOn(inline.ctx, 'run').mockReturnValueOnce([whole]);
    await d.submit(batch('a'), 1);
    await d.drain();
    expect(failures).toEqual([whole]);
  });

  it('lowerConcurrency halves the batches in flight, then stops the workers', async () => {
    const inline = recorder();
    const d = new Dispatcher(options(inline.ctx, { workers: 1 }).opts);
    // One worker has no pool: lowering goes straight to inline and closes nothing.
    await d.lowerConcurrency();
    expect(pool.destroyed).toBe(0);

    const d2 = new Dispatcher(options(inline.ctx, { workers: 2, ...POOL_NOW }).opts);
    await d2.submit(batch('a'), 1);
    await d2.submit(batch('b'), 1);
    const lowered = d2.lowerConcurrency();
    finish();
    finish();
    await lowered;
    expect(pool.destroyed).toBe(0); // busy: the bound went from 4 to 2, the workers stay
    // Now 2 in flight is the limit: the second submit waits until one finishes.
    await d2.submit(batch('c'), 1);
    let returned = false;
    const next = d2.submit(batch('d'), 1).then(() => (returned = true));
    await tick();
    expect(returned).toBe(false);
    finish();
    await next;
    // Nothing in flight but one: lowering again with work in flight halves to 1.
    const again = d2.lowerConcurrency();
    finish();
    await again;
    expect(pool.destroyed).toBe(0);
    // Idle: the workers go, and later batches run inline.
    await d2.lowerConcurrency();
    expect(pool.destroyed).toBe(1);
    await d2.submit(batch('e'), 1);
    await d2.submit(batch('f'), 1);
    await d2.drain();
    expect(inline.ran).toEqual([['e'], ['f']]);
    expect(pool.made).toBe(1);
  });
});
