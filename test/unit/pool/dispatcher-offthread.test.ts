// src/pool/dispatcher.ts, the off-thread venue: a batch carrying more file data than an inline batch may
// runs on a context lent to a native thread (EngineContext.runOff), at most `workers` at a time, without
// starting the pool; not under --progress, --partial or --bwlimit; an engine that cannot lend falls back to
// the pool. piscina is replaced by a pool that only counts what it was given; the lent contexts' runs finish
// when the test says so.

import { beforeEach, describe, expect, it, vi } from 'vitest';
import { BatchWriter, readBatch } from '../../../src/engine/batch.js';
import { OpKind } from '../../../src/model/ops.js';
import type { EngineContext, EngineOptions, OpFailure } from '../../../src/engine/types.js';
import type { Stat } from '../../../src/model/stat.js';
import type { Task, TaskResult } from '../../../src/pool/worker.js';

const pool = { made: 0, tasks: [] as Task[] };

class FakePiscina {
  static readonly queueOptionsSymbol = Symbol('queueOptions');
  readonly threads: unknown[] = [{}];
  constructor(o: { workerData?: { up?: Int32Array } }) {
    pool.made++;
    if (o.workerData?.up) Atomics.add(o.workerData.up, 0, 1);
  }
  run(task: Task): Promise<TaskResult> {
    // The batch as sent: its shared slot serves another batch once this one is answered.
    pool.tasks.push({ ...task, batch: task.batch.slice() });
    return Promise.resolve({ failures: [], outcomes: new Uint8Array(task.count).fill(1) });
  }
  on(): void {}
  destroy(): Promise<void> {
    return Promise.resolve();
  }
}
vi.mock('../../../src/util/packages.js', () => ({
  loadPackage: () => ({ Piscina: FakePiscina }),
}));

const { Dispatcher, INLINE_BUDGET, NO_INLINE } = await import('../../../src/pool/dispatcher.js');
type DispatcherOptions = ConstructorParameters<typeof Dispatcher>[0];

const STAT: Stat = { mode: 0o100644, uid: 0, gid: 0, size: 1, mtimeSec: 0, mtimeNsec: 0, ino: 0, dev: 0, nlink: 1, rdev: 0, blocks: 0 };
const BIG = INLINE_BUDGET.batchBytes + 1;

function batch(...names: string[]): Uint8Array {
  const w = new BatchWriter();
  for (const n of names) w.add(OpKind.File, Buffer.from(`/src/${n}`), Buffer.from(n), STAT);
  return w.finish();
}
const names = (b: Uint8Array): string[] => [...readBatch(b)].map((op) => op.dst.toString());

interface Lent {
  names: string[];
  outcomes: Uint8Array | undefined;
  finish: (failures?: OpFailure[]) => void;
  fail: (e: Error) => void;
}

/** Contexts the dispatcher opens for the venue: each records its runs, which end when the test says. */
function lender(canLend = true) {
  const runs: Lent[] = [];
  let made = 0;
  let closed = 0;
  let inline = 0;
  const open = (): EngineContext => {
    made++;
    const ctx = {
      name: 'sync',
      run: () => {
        inline++;
        return [];
      },
      close: () => {
        closed++;
      },
      ...(canLend
        ? {
            runOff: (b: Uint8Array, outcomes?: Uint8Array) =>
              new Promise<OpFailure[]>((resolve, reject) => {
                runs.push({
                  names: names(b),
                  outcomes,
                  finish: (failures = []) => {
                    outcomes?.fill(2);
                    resolve(failures);
                  },
                  fail: reject,
                });
              }),
          }
        : {}),
    };
    return ctx as unknown as EngineContext;
  };
  return { open, runs, made: () => made, closed: () => closed, inlineRuns: () => inline };
}

function options(o: Partial<DispatcherOptions>) {
  const inlineRan: string[][] = [];
  const failures: OpFailure[] = [];
  const outcomes: [unknown, number[]][] = [];
  const inline = {
    name: 'sync',
    run: (b: Uint8Array, out?: Uint8Array) => {
      inlineRan.push(names(b));
      out?.fill(1);
      return [];
    },
    close: () => undefined,
  } as unknown as EngineContext;
  const opts: DispatcherOptions = {
    engineOptions: { engine: 'sync', destRoot: Buffer.from('/dst') } as EngineOptions,
    workers: 2,
    inline,
    onFailures: (f) => failures.push(...f),
    onOutcomes: (token, out) => outcomes.push([token, [...out]]),
    ...o,
  };
  return { opts, inlineRan, failures, outcomes };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

beforeEach(() => {
  pool.made = 0;
  pool.tasks = [];
});

describe('Dispatcher: batches with much file data on lent native threads', () => {
  it('runs such a batch on a lent context, not the pool, and the event loop runs while it copies', async () => {
    const l = lender();
    const { opts, inlineRan, failures, outcomes } = options({ offThread: l.open });
    const d = new Dispatcher(opts);
    await d.submit(batch('small'), 1, undefined, 10);
    await d.submit(batch('big'), 1, 'tok', BIG);
    expect(inlineRan).toEqual([['small']]);
    expect(l.runs.map((r) => r.names)).toEqual([['big']]);
    // Immediates run in the order they were set: the second's promise settles after the first ran (a
    // timer's turn against an immediate's depends on how long the loop took, a flake under load).
    let fired = false;
    setImmediate(() => (fired = true));
    await new Promise((r) => setImmediate(r));
    expect(fired).toBe(true);
    const fail: OpFailure = { index: 0, errno: 28, syscall: 'write', path: Buffer.from('big'), onDest: true };
    l.runs[0]!.finish([fail]);
    await d.drain();
    expect(failures.map((f) => f.syscall)).toEqual(['write']);
    expect(outcomes).toEqual([['tok', [2]]]);
    expect(pool.made).toBe(0);
    expect(l.closed()).toBe(1);
  });

  it("a lent batch's memory is not handed out again until its native thread is done with it", async () => {
    const l = lender();
    const d = new Dispatcher(options({ offThread: l.open }).opts);
    const w = new BatchWriter();
    w.add(OpKind.File, Buffer.from('/src/big'), Buffer.from('big'), STAT);
    const big = w.finish((n) => d.batchBuffer(n));
    await d.submit(big, 1, undefined, BIG);
    expect(l.runs.map((r) => r.names)).toEqual([['big']]);
    // The native thread still reads it.
    expect(d.batchBuffer(big.length).buffer).not.toBe(big.buffer);
    l.runs[0]!.finish();
    await tick();
    expect(d.batchBuffer(big.length).buffer).toBe(big.buffer);
    await d.drain();
  });

  it('lends at most `workers` contexts at a time, and reuses them', async () => {
    const l = lender();
    const d = new Dispatcher(options({ offThread: l.open, workers: 2 }).opts);
    await d.submit(batch('a'), 1, undefined, BIG);
    await d.submit(batch('b'), 1, undefined, BIG);
    let third = false;
    const p = d.submit(batch('c'), 1, undefined, BIG).then(() => (third = true));
    await tick();
    expect(l.runs.map((r) => r.names)).toEqual([['a'], ['b']]);
    expect(third).toBe(false);
    l.runs[1]!.finish();
    await p;
    expect(l.runs.map((r) => r.names)).toEqual([['a'], ['b'], ['c']]);
    expect(l.made()).toBe(2);
    expect(d.threadsUsed).toBe(2);
    l.runs[0]!.finish();
    l.runs[2]!.finish();
    await d.drain();
    expect(l.closed()).toBe(2);
    expect(pool.made).toBe(0);
  });

  it('small batches after a lent one keep running inline until the job proves large', async () => {
    const l = lender();
    const { opts, inlineRan } = options({ offThread: l.open });
    const d = new Dispatcher(opts);
    await d.submit(batch('big'), 1, undefined, BIG);
    await d.submit(batch('x'), 1, undefined, 10);
    expect(inlineRan).toEqual([['x']]);
    l.runs[0]!.finish();
    await d.drain();
    expect(pool.made).toBe(0);
  });

  it('once the pool runs, such batches go to it as before', async () => {
    const l = lender();
    const { opts, inlineRan } = options({ offThread: l.open, inlineBudget: { ms: 1e9, batchBytes: 100, totalBytes: 150 } });
    const d = new Dispatcher(opts);
    await d.submit(batch('a'), 1, undefined, 100);
    await d.submit(batch('b'), 1, undefined, 100);
    await d.submit(batch('big'), 1, undefined, 101);
    await d.drain();
    expect(inlineRan).toEqual([['a']]);
    expect(pool.tasks.map((t) => names(t.batch))).toEqual([['b'], ['big']]);
    expect(l.made()).toBe(0);
  });

  it.each([
    ['--progress', { live: true }],
    ['--partial', { noInline: true }],
    ['--bwlimit', { inlineBudget: NO_INLINE }],
    ['workers: 0', { workers: 0 }],
  ] as [string, Partial<DispatcherOptions>][])('not under %s', async (_what, o) => {
    const l = lender();
    const { opts } = options({ offThread: l.open, ...o });
    const d = new Dispatcher(opts);
    await d.submit(batch('big'), 1, undefined, BIG, o.live ? { outcomes: new Uint8Array(1), seq: 0 } : undefined);
    await d.drain();
    expect(l.made()).toBe(0);
  });

  it('a context that cannot lend itself is closed, and such batches go to the pool from then on', async () => {
    const l = lender(false);
    const d = new Dispatcher(options({ offThread: l.open }).opts);
    await d.submit(batch('a'), 1, undefined, BIG);
    await d.submit(batch('b'), 1, undefined, BIG);
    await d.drain();
    expect(l.made()).toBe(1);
    expect(l.closed()).toBe(1);
    expect(pool.tasks.map((t) => names(t.batch))).toEqual([['a'], ['b']]);
  });

  it('once descriptors ran short, nothing more is lent', async () => {
    const l = lender();
    const { opts, inlineRan } = options({ offThread: l.open, workers: 1 });
    const d = new Dispatcher(opts);
    await d.lowerConcurrency();
    await d.submit(batch('big'), 1, undefined, BIG);
    await d.drain();
    expect(l.made()).toBe(0);
    expect(inlineRan).toEqual([['big']]);
  });

  it('a lent run that throws makes drain() throw it, after every run is back', async () => {
    const l = lender();
    const d = new Dispatcher(options({ offThread: l.open }).opts);
    await d.submit(batch('a'), 1, undefined, BIG);
    await d.submit(batch('b'), 1, undefined, BIG);
    l.runs[0]!.fail(new Error('out of memory'));
    const drained = d.drain();
    await tick();
    l.runs[1]!.finish();
    await expect(drained).rejects.toThrow('out of memory');
  });

  it('lendAll (a sync run): every batch goes to lent contexts from the first, up to the batches in flight, and no worker starts', async () => {
    const l = lender();
    const { opts, inlineRan } = options({ offThread: l.open, lendAll: true, workers: 2, inlineBudget: { ms: 1e9, batchBytes: 100, totalBytes: 150 } });
    const d = new Dispatcher(opts);
    for (const n of ['a', 'b', 'c']) await d.submit(batch(n), 1, undefined, 100);
    // The fourth starts on a context of its own (where a worker's queue would have held it), and with four
    // in flight its submit waits until one ends.
    let fourth = false;
    const p = d.submit(batch('d'), 1, undefined, 100).then(() => (fourth = true));
    await tick();
    expect(inlineRan).toEqual([]);
    expect(l.runs.map((r) => r.names)).toEqual([['a'], ['b'], ['c'], ['d']]);
    expect(fourth).toBe(false);
    l.runs[2]!.finish();
    await p;
    // The next one takes the context that ended: no fifth is opened.
    const q = d.submit(batch('e'), 1, undefined, 100);
    await tick();
    expect(l.runs.map((r) => r.names).at(-1)).toEqual(['e']);
    expect(l.made()).toBe(4);
    for (const r of l.runs) r.finish();
    await q;
    await d.drain();
    expect(pool.made).toBe(0);
    expect(pool.tasks).toEqual([]);
  });

  it('lendAll with a context that cannot lend itself: it is closed, and the batches start on this thread as without lendAll', async () => {
    const l = lender(false);
    const { opts, inlineRan } = options({ offThread: l.open, lendAll: true, workers: 2, inlineBudget: { ms: 1e9, batchBytes: 100, totalBytes: 1000 } });
    const d = new Dispatcher(opts);
    for (const n of ['a', 'b']) await d.submit(batch(n), 1, undefined, 10);
    await d.drain();
    expect(l.made()).toBe(1);
    expect(l.closed()).toBe(1);
    expect(inlineRan).toEqual([['a'], ['b']]);
    expect(pool.tasks).toEqual([]);
  });

  it('lendAll is not taken under --progress: the pool runs those batches', async () => {
    const l = lender();
    const { opts } = options({ offThread: l.open, lendAll: true, live: true, inlineBudget: { ms: 1e9, batchBytes: 100, totalBytes: 150 } });
    const d = new Dispatcher(opts);
    for (const n of ['a', 'b', 'c']) await d.submit(batch(n), 1, undefined, 100, { outcomes: new Uint8Array(1), seq: 0 });
    await d.drain();
    expect(l.made()).toBe(0);
    expect(pool.tasks.map((t) => names(t.batch))).toEqual([['a'], ['b'], ['c']]);
  });
});
