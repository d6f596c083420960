// In-process micro benchmarks (tinybench) for the pieces the design rests on, each against the
// alternative it was chosen over, run against the real modules in src/:
//   a. progress counters: SharedArrayBuffer + Atomics.add in a worker vs one postMessage per update;
//   b. planner decisions per second: decide(), quickCheck(), the hard-link table, over synthetic Stats;
//   c. batch encoding (BatchWriter) and decoding (readBatch) ops/s;
//   d. native ops through the addon (skipped, with the reason, when it is not built): uring vs sync
//      (and the node engine) per op type, context set-up cost by buffer count, and a fixed buffer
//      reused per chunk against a buffer allocated per chunk.
//
//   npm run bench:micro                 everything (about a minute)
//   npm run bench:micro -- counters planner batch native    a subset
//
// Figures are per item (one counter update, one decision, one op), derived from the median time of an
// iteration that processes many items, so timer overhead does not dominate.

import { Bench, type Task } from 'tinybench';
import { Worker } from 'node:worker_threads';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from '../src/cli/options.js';
import type { Config, EngineName } from '../src/model/config.js';
import { decide } from '../src/plan/decide.js';
import { toStat } from '../src/engine/node-walk.js';
import { quickCheck, type CheckOptions } from '../src/plan/quickcheck.js';
import { BatchWriter, readBatch } from '../src/engine/batch.js';
import { loadAddon } from '../src/engine/native.js';
import { openContext } from '../src/engine/index.js';
import { COUNTER_SLOTS, Counter, OpKind, Preserve } from '../src/model/ops.js';
import { S_IFDIR, S_IFLNK, S_IFREG, type Stat } from '../src/model/stat.js';
import type { EngineContext } from '../src/engine/types.js';
import { Rng } from './lib/prng.js';

const TIME_MS = Number(process.env['MICRO_TIME_MS'] ?? 400);
const only = new Set(process.argv.slice(2));
const want = (g: string): boolean => only.size === 0 || only.has(g);

interface Row {
  name: string;
  /** Items processed per iteration. */
  items: number;
  unit: string;
}

/** Run a bench and print per-item figures; returns items/s per task name. */
async function report(title: string, bench: Bench, rows: Row[]): Promise<Map<string, number>> {
  await bench.run();
  console.log(`\n## ${title}`);
  const rates = new Map<string, number>();
  const lines: string[][] = [['case', 'iterations', 'median / iteration', 'per item', 'items/s', '±']];
  for (const t of bench.tasks as Task[]) {
    const row = rows.find((r) => r.name === t.name);
    const res = t.result;
    if (res.state !== 'completed' || !row) {
      lines.push([t.name, '—', res.state === 'errored' ? `error: ${res.error.message}` : res.state, '', '', '']);
      continue;
    }
    const ms = res.latency.p50;
    const rate = (row.items / ms) * 1000;
    rates.set(t.name, rate);
    lines.push([
      t.name,
      String(res.latency.samplesCount ?? res.runtime),
      fmtMs(ms),
      fmtMs(ms / row.items),
      `${fmtNum(rate)} ${row.unit}/s`,
      `${res.latency.rme.toFixed(1)}%`,
    ]);
  }
  const w = lines[0]!.map((_, c) => Math.max(...lines.map((l) => (l[c] ?? '').length)));
  for (const l of lines) console.log(l.map((s, c) => (c === 0 ? s.padEnd(w[c]!) : s.padStart(w[c]!))).join('  '));
  return rates;
}

function fmtMs(ms: number): string {
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  if (ms >= 0.001) return `${(ms * 1000).toFixed(2)} µs`;
  return `${(ms * 1e6).toFixed(1)} ns`;
}
function fmtNum(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(1);
}
function ratioLine(rates: Map<string, number>, a: string, b: string): void {
  const ra = rates.get(a);
  const rb = rates.get(b);
  if (ra && rb) console.log(`${a} ÷ ${b}: ${(ra / rb).toFixed(2)}× the items/s`);
}

const newBench = (): Bench => new Bench({ time: TIME_MS, warmupTime: 100, iterations: 10 });

// ---------------------------------------------------------------- a. counters

const COUNTER_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const counters = workerData.counters;
const slot = workerData.slot;
parentPort.on('message', ({ mode, n }) => {
  if (mode === 'atomics') {
    for (let i = 0; i < n; i++) Atomics.add(counters, slot, 4096n);
    parentPort.postMessage('done');
  } else {
    for (let i = 0; i < n; i++) parentPort.postMessage(4096);
  }
});`;

async function benchCounters(): Promise<void> {
  const N = 10_000;
  const counters = new BigInt64Array(new SharedArrayBuffer(COUNTER_SLOTS * 8));
  const worker = new Worker(COUNTER_WORKER, { eval: true, workerData: { counters, slot: Counter.Bytes } });
  let sink: ((v: unknown) => void) | undefined;
  worker.on('message', (v) => sink?.(v));

  const viaAtomics = (): Promise<void> =>
    new Promise((resolve) => {
      sink = () => {
        // The main thread reads the total as the progress bar does.
        if (Atomics.load(counters, Counter.Bytes) <= 0n) throw new Error('counter not updated');
        resolve();
      };
      worker.postMessage({ mode: 'atomics', n: N });
    });
  const viaMessages = (): Promise<void> =>
    new Promise((resolve) => {
      let got = 0;
      let sum = 0;
      sink = (v) => {
        sum += v as number;
        if (++got === N) {
          if (sum !== N * 4096) throw new Error('lost updates');
          resolve();
        }
      };
      worker.postMessage({ mode: 'messages', n: N });
    });

  const bench = newBench();
  // async: true, so tinybench does not call the function once just to find out whether it is async.
  bench.add('Atomics.add in worker, Atomics.load in main', viaAtomics, { async: true });
  bench.add('postMessage per update', viaMessages, { async: true });
  const rates = await report(`a. progress counters: ${N} updates from a worker, seen by the main thread`, bench, [
    { name: 'Atomics.add in worker, Atomics.load in main', items: N, unit: 'updates' },
    { name: 'postMessage per update', items: N, unit: 'updates' },
  ]);
  ratioLine(rates, 'Atomics.add in worker, Atomics.load in main', 'postMessage per update');
  await worker.terminate();
}

// ---------------------------------------------------------------- b. planner

function archiveConfig(): Config {
  const p = parseArgs(['node', 'arsync', '-a', 'src/', 'dst/']);
  if (p.kind !== 'run') throw new Error('parseArgs(-a src/ dst/) did not give a run');
  return p.config;
}

/** Stats shaped like a source tree: mostly files, some dirs and symlinks, a few hard links. */
function syntheticStats(n: number, seed: number): Stat[] {
  const rng = new Rng(seed);
  const out: Stat[] = [];
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    const mode = r < 0.9 ? S_IFREG | 0o644 : r < 0.97 ? S_IFDIR | 0o755 : S_IFLNK | 0o777;
    out.push({
      mode,
      uid: 1000,
      gid: 1000,
      size: rng.int(0, 64 * 1024),
      mtimeSec: 1_700_000_000 + rng.int(0, 1e7),
      mtimeNsec: rng.int(0, 999_999_999),
      ino: 1000 + i,
      dev: 2049,
      nlink: rng.next() < 0.01 ? 2 : 1,
      rdev: 0,
      blocks: 8,
    });
  }
  return out;
}

async function benchPlanner(): Promise<void> {
  const N = 10_000;
  const config = archiveConfig();
  const stats = syntheticStats(N, 42);
  // Destination stats for the quick check: 99% identical, 1% with another mtime (the incremental case).
  const dsts = stats.map((s, i) => (i % 100 === 0 ? { ...s, mtimeSec: s.mtimeSec + 5 } : { ...s }));
  const checkOpts: CheckOptions = {
    checksum: false,
    ignoreTimes: false,
    sizeOnly: false,
    update: false,
    ignoreExisting: false,
    existing: false,
    modifyWindow: 0,
    timeResolutionNs: 1,
    times: true,
    perms: true,
    owner: true,
    group: true,
    isRoot: true,
  };
  let sink = 0;

  const bench = newBench();
  bench.add('decide()', () => {
    for (let i = 0; i < N; i++) if ('op' in decide(stats[i]!, config)) sink++;
  });
  bench.add('quickCheck() vs an existing dst', () => {
    for (let i = 0; i < N; i++) if (quickCheck(stats[i]!, dsts[i], checkOpts).action === 'transfer') sink++;
  });
  await report(`b. planner: ${N} synthetic entries per iteration`, bench, [
    { name: 'decide()', items: N, unit: 'decisions' },
    { name: 'quickCheck() vs an existing dst', items: N, unit: 'checks' },
  ]);
  if (sink < 0) console.log(sink);
}

// ---------------------------------------------------------------- c. batch encoding

async function benchBatch(): Promise<void> {
  const N = 1000;
  const stats = syntheticStats(N, 7);
  // Path lengths like the Linux tree's (about 45 bytes on average).
  const srcs = stats.map((_, i) => Buffer.from(`/dev/shm/src/linux/drivers/net/ethernet/vendor${i % 50}/file${i}.c`));
  const dsts = stats.map((_, i) => Buffer.from(`drivers/net/ethernet/vendor${i % 50}/file${i}.c`));
  const w = new BatchWriter();
  for (let i = 0; i < N; i++) w.add(OpKind.File, srcs[i]!, dsts[i]!, stats[i]!);
  const encoded = w.finish();
  let sink = 0;

  const bench = newBench();
  bench.add('BatchWriter.add() + finish()', () => {
    for (let i = 0; i < N; i++) w.add(OpKind.File, srcs[i]!, dsts[i]!, stats[i]!);
    sink += w.finish().length;
  });
  bench.add('readBatch() (node engine side)', () => {
    for (const op of readBatch(encoded)) sink += op.dst.length;
  });
  bench.add('structuredClone of the same ops as objects', () => {
    // What a batch would cost to send to a worker as plain objects instead of one flat buffer.
    const objs = stats.map((s, i) => ({ kind: OpKind.File, src: srcs[i]!, dst: dsts[i]!, stat: s }));
    sink += (structuredClone(objs) as unknown[]).length;
  });
  bench.add('structuredClone of the encoded batch', () => {
    sink += structuredClone(encoded).length;
  });
  const rates = await report(`c. batches: ${N} File ops per iteration (${encoded.length} bytes encoded)`, bench, [
    { name: 'BatchWriter.add() + finish()', items: N, unit: 'ops' },
    { name: 'readBatch() (node engine side)', items: N, unit: 'ops' },
    { name: 'structuredClone of the same ops as objects', items: N, unit: 'ops' },
    { name: 'structuredClone of the encoded batch', items: N, unit: 'ops' },
  ]);
  ratioLine(rates, 'structuredClone of the encoded batch', 'structuredClone of the same ops as objects');
  if (sink < 0) console.log(sink);
}

// ---------------------------------------------------------------- d. native ops

const statOf = (p: string): Stat => toStat(fs.lstatSync(p, { bigint: true }));

function ctxFor(engine: EngineName, destRoot: string, bufferCount = 16, bufferSize = 256 * 1024): EngineContext {
  return openContext({
    engine,
    destRoot: Buffer.from(destRoot),
    flags: Preserve.Perms | Preserve.Times | Preserve.Owner | Preserve.Group,
    umask: 0o022,
    queueDepth: 64,
    bufferSize,
    bufferCount,
    direct: false,
    counters: new BigInt64Array(new SharedArrayBuffer(COUNTER_SLOTS * 8)),
  });
}

function runOrThrow(ctx: EngineContext, batch: Uint8Array): void {
  const failures = ctx.run(batch);
  if (failures.length) {
    const f = failures[0]!;
    throw new Error(`${failures.length} ops failed, first: ${f.syscall} errno ${f.errno} ${f.path.toString()}`);
  }
}

async function benchNative(): Promise<void> {
  const addon = loadAddon();
  if (!addon.ok) {
    console.log(`\n## d. native ops: skipped (${addon.reason}; build it with node scripts/build-native.mjs)`);
    return;
  }
  const N = 200;
  const base = fs.mkdtempSync('/dev/shm/arsync-micro-');
  // A second filesystem, so the read/write path (not copy_file_range) carries the large copy.
  const otherFs = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-micro-'));
  try {
    const src = path.join(base, 'src');
    fs.mkdirSync(src);
    const rng = new Rng(99);
    for (let i = 0; i < N; i++) {
      fs.writeFileSync(path.join(src, `f${i}`), Buffer.alloc(rng.int(1, 8192), i));
      fs.symlinkSync(`target/${i}`, path.join(src, `l${i}`));
    }
    const fileBatch = new BatchWriter();
    const linkBatch = new BatchWriter();
    for (let i = 0; i < N; i++) {
      fileBatch.add(OpKind.File, Buffer.from(path.join(src, `f${i}`)), Buffer.from(`f${i}`), statOf(path.join(src, `f${i}`)));
      linkBatch.add(OpKind.Symlink, Buffer.from(path.join(src, `l${i}`)), Buffer.from(`l${i}`), statOf(path.join(src, `l${i}`)));
    }
    const files = fileBatch.finish();
    const links = linkBatch.finish();
    const dirStat = statOf(src);
    const engines: EngineName[] = ['uring', 'sync', 'node'];

    // Per op type, each engine against the others.
    const bench = newBench();
    const rows: Row[] = [];
    const contexts: EngineContext[] = [];
    for (const engine of engines) {
      const dst = path.join(base, `dst-${engine}`);
      fs.mkdirSync(dst);
      let ctx: EngineContext;
      try {
        ctx = ctxFor(engine, dst);
      } catch (err) {
        console.log(`engine ${engine}: ${(err as Error).message}`);
        continue;
      }
      contexts.push(ctx);
      let round = 0;
      let mkdirs: Uint8Array = new Uint8Array();
      bench.add(`${engine}: copy ${N} small files (replacing)`, () => runOrThrow(ctx, files));
      bench.add(`${engine}: symlink ${N}`, () => runOrThrow(ctx, links));
      bench.add(`${engine}: mkdir ${N}`, () => runOrThrow(ctx, mkdirs), {
        beforeEach: () => {
          // New names each iteration: Mkdir of an existing directory does nothing.
          const w = new BatchWriter();
          const parent = `m${round++}`;
          w.add(OpKind.Mkdir, Buffer.from(src), Buffer.from(parent), dirStat);
          for (let i = 0; i < N - 1; i++) w.add(OpKind.Mkdir, Buffer.from(src), Buffer.from(`${parent}/d${i}`), dirStat);
          mkdirs = w.finish();
        },
      });
      rows.push(
        { name: `${engine}: copy ${N} small files (replacing)`, items: N, unit: 'files' },
        { name: `${engine}: symlink ${N}`, items: N, unit: 'links' },
        { name: `${engine}: mkdir ${N}`, items: N, unit: 'dirs' },
      );
    }
    const rates = await report(`d1. engines per op type: ${N} ops per batch, tmpfs → tmpfs`, bench, rows);
    for (const op of [`copy ${N} small files (replacing)`, `symlink ${N}`, `mkdir ${N}`]) {
      ratioLine(rates, `uring: ${op}`, `sync: ${op}`);
    }
    for (const c of contexts) c.close();

    // Ring + registered buffers are set up once per worker: what that costs by buffer count.
    const setup = newBench();
    const setupRows: Row[] = [];
    for (const [engine, count] of [
      ['uring', 1],
      ['uring', 16],
      ['uring', 64],
      ['sync', 16],
    ] as const) {
      const name = `${engine}: createContext + close, ${count} × 256 KiB buffers`;
      setup.add(name, () => ctxFor(engine, base, count).close());
      setupRows.push({ name, items: 1, unit: 'contexts' });
    }
    await report('d2. context set-up (ring, registered buffers) per worker', setup, setupRows);

    // A 64 MiB file from tmpfs to another filesystem goes through the buffers (copy_file_range gives EXDEV).
    const big = path.join(src, 'big');
    const fd = fs.openSync(big, 'w');
    for (let i = 0; i < 64; i++) fs.writeSync(fd, Buffer.alloc(1 << 20, i + 1));
    fs.closeSync(fd);
    const bigBatch = new BatchWriter();
    bigBatch.add(OpKind.File, Buffer.from(big), Buffer.from('big'), statOf(big));
    const bigOp = bigBatch.finish();
    const chunk = 256 * 1024;
    // Longer than the other cases: each iteration writes 64 MiB into the page cache and varies with writeback.
    const copy = new Bench({ time: 1500, warmupTime: 200, iterations: 20 });
    const copyRows: Row[] = [];
    const bigContexts: EngineContext[] = [];
    for (const [engine, count, size] of [
      ['uring', 16, 256 * 1024],
      ['uring', 4, 1024 * 1024],
      ['uring', 64, 64 * 1024],
      ['sync', 16, 256 * 1024],
    ] as const) {
      const dst = path.join(otherFs, `${engine}-${count}`);
      fs.mkdirSync(dst);
      const ctx = ctxFor(engine, dst, count, size);
      bigContexts.push(ctx);
      const name = `${engine}: 64 MiB, ${count} × ${size / 1024} KiB registered`;
      copy.add(name, () => runOrThrow(ctx, bigOp));
      copyRows.push({ name, items: 64, unit: 'MiB' });
    }
    // The same principle in plain Node: one buffer reused for every chunk, or a new one per chunk.
    const jsCopy = (alloc: boolean): void => {
      const buf = Buffer.allocUnsafeSlow(chunk);
      const i = fs.openSync(big, 'r');
      const o = fs.openSync(path.join(otherFs, 'js-copy'), 'w');
      for (;;) {
        const b = alloc ? Buffer.allocUnsafeSlow(chunk) : buf;
        const n = fs.readSync(i, b, 0, chunk, null);
        if (n === 0) break;
        fs.writeSync(o, b, 0, n);
      }
      fs.closeSync(i);
      fs.closeSync(o);
    };
    copy.add('node: 64 MiB, one 256 KiB buffer reused', () => jsCopy(false));
    copy.add('node: 64 MiB, new 256 KiB buffer per chunk', () => jsCopy(true));
    copyRows.push(
      { name: 'node: 64 MiB, one 256 KiB buffer reused', items: 64, unit: 'MiB' },
      { name: 'node: 64 MiB, new 256 KiB buffer per chunk', items: 64, unit: 'MiB' },
    );
    const crates = await report(`d3. large file through the buffers: tmpfs → ${os.tmpdir()} (another fs)`, copy, copyRows);
    ratioLine(crates, 'uring: 64 MiB, 16 × 256 KiB registered', 'sync: 64 MiB, 16 × 256 KiB registered');
    ratioLine(crates, 'node: 64 MiB, one 256 KiB buffer reused', 'node: 64 MiB, new 256 KiB buffer per chunk');
    console.log(
      'note: the addon has no per-chunk-allocation mode, so the pool-vs-allocation A/B is measured in plain Node;\n' +
        `      the destination is on ${os.tmpdir()} (page cache of the disk, not synced).`,
    );
    for (const c of bigContexts) c.close();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
    fs.rmSync(otherFs, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  console.log(
    `arsync micro benchmarks ${new Date().toISOString()}: ${os.availableParallelism()} CPUs, Node ${process.version}, ` +
      `Linux ${os.release()}; ${TIME_MS} ms per case (MICRO_TIME_MS)`,
  );
  console.log(`load average: ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);
  if (want('counters')) await benchCounters();
  if (want('planner')) await benchPlanner();
  if (want('batch')) await benchBatch();
  if (want('native')) await benchNative();
  console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
