// EngineContext.runOff (native/offthread.c, the addon's runAsync) against run(): the same batch gives the
// same failures, outcomes, counters and destination tree whether it runs on the calling thread or on a
// libuv pool thread; the context refuses every other call until the promise settles; an abort set before
// it starts leaves nothing behind. Only sync contexts lend themselves: uring and node contexts have no runOff.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BatchWriter } from '../../src/engine/batch.js';
import { openContext } from '../../src/engine/index.js';
import { nodeLstat } from '../../src/engine/node-walk.js';
import { COUNTER_SLOTS, Counter, OpKind, Preserve } from '../../src/model/ops.js';
import type { Stat } from '../../src/model/stat.js';
import type { EngineOptions } from '../../src/engine/types.js';
import { contractEngines, holdSharedLock } from './engines.js';

const B = (s: string): Buffer => Buffer.from(s);
const FLAGS = Preserve.Perms | Preserve.Times | Preserve.Owner | Preserve.Group;
const MiB = 1 << 20;

let release: (() => void) | undefined;
beforeAll(async () => {
  release = await holdSharedLock();
});
afterAll(() => release?.());

function statOf(path: string): Stat {
  const st = nodeLstat(B(path));
  if ('errno' in st) throw new Error(`lstat ${path}: ${st.errno}`);
  return st;
}

const engines = contractEngines();

describe('runOff: only sync contexts lend themselves', () => {
  for (const e of engines) {
    it.skipIf(e.skip !== null)(`${e.title}: ${e.name === 'sync' ? 'has' : 'has no'} runOff`, () => {
      const dst = fs.mkdtempSync(join('/dev/shm', 'arsync-runoff-kind-'));
      try {
        const ctx = openContext(options(e.name as EngineOptions['engine'], dst));
        expect(typeof ctx.runOff).toBe(e.name === 'sync' ? 'function' : 'undefined');
        ctx.close();
      } finally {
        fs.rmSync(dst, { recursive: true, force: true });
      }
    });
  }
});

function options(engine: EngineOptions['engine'], dst: string): EngineOptions {
  return {
    engine,
    destRoot: B(dst),
    flags: FLAGS,
    umask: 0o022,
    queueDepth: 16,
    bufferSize: 64 * 1024,
    bufferCount: 4,
    direct: false,
    counters: new BigInt64Array(new SharedArrayBuffer(8 * COUNTER_SLOTS)),
  };
}

const sync = engines.find((e) => e.name === 'sync');
describe.skipIf(!sync || sync.skip !== null)('runOff against run (sync engine)', () => {
  let base: string;
  let src: string;
  beforeEach(() => {
    base = fs.mkdtempSync(join('/dev/shm', 'arsync-runoff-'));
    src = join(base, 'src');
    fs.mkdirSync(src);
    const big = Buffer.alloc(12 * MiB);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    fs.writeFileSync(join(src, 'big'), big);
    fs.writeFileSync(join(src, 'small'), 'small file');
    fs.chmodSync(join(src, 'big'), 0o640);
    fs.utimesSync(join(src, 'big'), 1_600_000_000, 1_600_000_000);
    fs.utimesSync(join(src, 'small'), 1_600_000_001, 1_600_000_001);
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  /** big, a source that is gone, small: two Done, one failure (ENOENT on the source). */
  const batch = (): Uint8Array => {
    const w = new BatchWriter();
    const gone = { ...statOf(join(src, 'small')), ino: 1 };
    w.add(OpKind.File, B(join(src, 'big')), B('big'), statOf(join(src, 'big')));
    w.add(OpKind.File, B(join(src, 'gone')), B('gone'), gone);
    w.add(OpKind.File, B(join(src, 'small')), B('small'), statOf(join(src, 'small')));
    return w.finish();
  };

  const tree = (dst: string) =>
    fs
      .readdirSync(dst)
      .sort()
      .map((n) => {
        const st = fs.lstatSync(join(dst, n));
        return { n, mode: st.mode, mtime: st.mtimeMs, data: fs.readFileSync(join(dst, n)).toString('base64') };
      });

  it('the same failures, outcomes, counters and tree as run()', async () => {
    const answers = [];
    for (const off of [false, true]) {
      const dst = join(base, off ? 'off' : 'on');
      fs.mkdirSync(dst);
      const o = options('sync', dst);
      const ctx = openContext(o);
      const outcomes = new Uint8Array(3);
      const failures = off ? await ctx.runOff!(batch(), outcomes) : ctx.run(batch(), outcomes);
      ctx.close();
      answers.push({
        failures: failures.map((f) => ({ ...f, path: Buffer.from(f.path).toString() })),
        outcomes: [...outcomes],
        bytes: o.counters[Counter.Bytes],
        files: o.counters[Counter.Files],
        errors: o.counters[Counter.Errors],
        tree: tree(dst),
      });
    }
    const [on, off] = answers;
    expect(on!.failures.map((f) => [f.index, f.syscall, f.path])).toEqual([[1, 'open', join(src, 'gone')]]);
    expect(on!.bytes).toBe(BigInt(12 * MiB + 'small file'.length));
    expect(off).toEqual(on);
  });

  it('every other call on the context throws until the promise settles, then works again', async () => {
    const dst = join(base, 'busy');
    fs.mkdirSync(dst);
    const ctx = openContext(options('sync', dst));
    const p = ctx.runOff!(batch());
    expect(() => ctx.run(new BatchWriter().finish())).toThrow(/running a batch off this thread/);
    expect(() => ctx.scanDest(B(''))).toThrow(/running a batch off this thread/);
    expect(() => ctx.close()).toThrow(/running a batch off this thread/);
    expect((await p).length).toBe(1);
    expect(ctx.run(new BatchWriter().finish())).toEqual([]);
    ctx.close();
    expect(fs.readdirSync(dst).sort()).toEqual(['big', 'small']);
  });

  it('an abort set before it starts: nothing written, no temp file, no failure', async () => {
    const dst = join(base, 'abort');
    fs.mkdirSync(dst);
    const o = options('sync', dst);
    Atomics.store(o.counters, Counter.Abort, 1n);
    const ctx = openContext(o);
    const failures = await ctx.runOff!(batch(), new Uint8Array(3));
    ctx.close();
    expect(failures).toEqual([]);
    expect(fs.readdirSync(dst)).toEqual([]);
  });

  it('a malformed batch is refused before anything runs', () => {
    const dst = join(base, 'bad');
    fs.mkdirSync(dst);
    const ctx = openContext(options('sync', dst));
    const b = batch();
    expect(() => ctx.runOff!(b.subarray(0, b.length - 3))).toThrow(/malformed/);
    ctx.close();
    expect(fs.readdirSync(dst)).toEqual([]);
  });
});
