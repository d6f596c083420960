import { describe, expect, it } from 'vitest';
import { BatchWriter } from '../../../src/engine/batch.js';
import { readBatch } from '../../../src/engine/batch.js';
import { OpKind } from '../../../src/model/ops.js';
import { S_IFREG, type Stat } from '../../../src/model/stat.js';
import type { EngineContext, EngineOptions, OpFailure } from '../../../src/engine/types.js';
import { Dispatcher } from '../../../src/pool/dispatcher.js';
import { ERRNO } from '../../../src/util/errors.js';

const st: Stat = { mode: S_IFREG | 0o644, uid: 0, gid: 0, size: 1, mtimeSec: 1, mtimeNsec: 0, ino: 1, dev: 1, nlink: 1, rdev: 0, blocks: 0 };

function batch(...names: string[]): { bytes: Uint8Array; count: number } {
  const w = new BatchWriter();
  for (const n of names) w.add(OpKind.File, Buffer.from(`/s/${n}`), Buffer.from(n), st, 0, 3);
  return { count: names.length, bytes: w.finish() };
}

function context(answer: (names: string[]) => OpFailure[] = () => []) {
  const runs: string[][] = [];
  let closed = 0;
  const ctx = {
    name: 'sync',
    run(b: Uint8Array): OpFailure[] {
      const names = [...readBatch(b)].map((o) => Buffer.from(o.dst).toString());
      runs.push(names);
      return answer(names);
    },
    close() {
      closed++;
    },
  } as unknown as EngineContext;
  return { ctx, runs, closed: () => closed };
}

const opts = (inline: EngineContext, failures: OpFailure[], extra: Partial<ConstructorParameters<typeof Dispatcher>[0]> = {}) => ({
  engineOptions: { engine: 'sync' } as EngineOptions,
  workers: 1, // no pool starts with one worker: what is sent runs inline
  inline,
  onFailures: (fs: OpFailure[]) => failures.push(...fs),
  ...extra,
});

describe('Dispatcher', () => {
  it('holds the first batch back: a job of one batch runs inline at drain', async () => {
    const { ctx, runs } = context();
    const d = new Dispatcher(opts(ctx, []));
    const a = batch('a');
    await d.submit(a.bytes, a.count);
    expect(runs).toEqual([]);
    await d.drain();
    expect(runs).toEqual([['a']]);
  });

  it('a second batch sends the held one first, in order', async () => {
    const { ctx, runs } = context();
    const d = new Dispatcher(opts(ctx, []));
    for (const names of [['a', 'b'], ['c']]) {
      const x = batch(...names);
      await d.submit(x.bytes, x.count);
    }
    expect(runs).toEqual([['a', 'b'], ['c']]);
  });

  it('ops out of descriptors are retried at drain on the serial context; what fails again is reported', async () => {
    const failures: OpFailure[] = [];
    const first = context((names) =>
      names.length > 1
        ? [
            { index: 0, errno: ERRNO.EMFILE, syscall: 'open', path: Buffer.from('/s/a'), onDest: false },
            { index: 1, errno: ERRNO.EACCES, syscall: 'open', path: Buffer.from('/s/b'), onDest: false },
            { index: 2, errno: ERRNO.ENFILE, syscall: 'open', path: Buffer.from('/s/c'), onDest: false },
          ]
        : [],
    );
    const serial = context(() => [{ index: 1, errno: ERRNO.EMFILE, syscall: 'open', path: Buffer.from('/s/c'), onDest: false }]);
    const d = new Dispatcher(opts(first.ctx, failures, { workers: 0, serial: () => serial.ctx }));
    const x = batch('a', 'b', 'c');
    await d.submit(x.bytes, x.count);
    expect(failures.map((f) => f.errno)).toEqual([ERRNO.EACCES]);
    await d.drain();
    expect(serial.runs).toEqual([['a', 'c']]);
    expect(serial.closed()).toBe(1);
    expect(failures.map((f) => f.errno)).toEqual([ERRNO.EACCES, ERRNO.EMFILE]);
  });

  it('outcomes come back with the token of the batch that asked', async () => {
    const { ctx } = context();
    const got: unknown[] = [];
    const d = new Dispatcher(opts(ctx, [], { workers: 0, onOutcomes: (token, outcomes) => got.push([token, outcomes.length]) }));
    const x = batch('a', 'b');
    await d.submit(x.bytes, x.count, 'T');
    const y = batch('c');
    await d.submit(y.bytes, y.count);
    expect(got).toEqual([['T', 2]]);
  });
});
