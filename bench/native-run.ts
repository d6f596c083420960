// Times the native engines' run() alone (walk and batch encoding excluded) on many small files and on
// one large file: engines alternated, a fresh destination each time, medians, the best run and the CPU
// time of all threads (io_uring's io-wq workers included). The figures in docs/native-notes.md.
// Batches are built with the planner's BatchWriter and run through openContext, as a pool worker does.
//
// Usage: npx tsx bench/native-run.ts [--files=20000] [--mib=1024] [--reps=3] [--dir=/dev/shm] [--cold]
//                                    [--depth=64] [--bufsize=KiB] [--bufcount=32] [--engine=sync,uring]
// --cold drops the page cache before each run (root only), for the real-disk cold-cache case.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { BatchWriter } from '../src/engine/batch.js';
import { openContext } from '../src/engine/index.js';
import { loadAddon, nativeLstat, nativeScanDir } from '../src/engine/native.js';
import { COUNTER_SLOTS, OpKind, Preserve } from '../src/model/ops.js';
import { S_IFDIR, S_IFMT, S_IFREG, type Stat } from '../src/model/stat.js';
import type { EngineName } from '../src/model/config.js';

const arg = (k: string, d: string): string => process.argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
const nfiles = Number(arg('files', '20000'));
const mib = Number(arg('mib', '1024'));
const reps = Number(arg('reps', '3'));
const depth = Number(arg('depth', '64'));
const bufferSize = Number(arg('bufsize', '1024')) * 1024;
const bufferCount = Number(arg('bufcount', '32'));
const dirArg = arg('dir', '/dev/shm');
const cold = process.argv.includes('--cold');
const engines = arg('engine', 'sync,uring').split(',') as EngineName[];
const FLAGS = Preserve.Perms | Preserve.Owner | Preserve.Group | Preserve.Times | Preserve.Devices | Preserve.Specials;

const loaded = loadAddon();
if (!loaded.ok) throw new Error(`no native addon: ${loaded.reason}`);
const addon = loaded.addon;

function lstat(p: Buffer): Stat {
  const st = nativeLstat(addon, p);
  if ('errno' in st) throw new Error(`lstat ${p}: ${st.errno}`);
  return st;
}

/** The ops that copy a tree (directories first, their metadata last and deepest first), in batches of 1000. */
function planTree(root: string): Uint8Array[] {
  const ops: [OpKind, Buffer, Buffer, Stat][] = [[OpKind.Mkdir, Buffer.from(root), Buffer.alloc(0), lstat(Buffer.from(root))]];
  const dirMeta: [OpKind, Buffer, Buffer, Stat][] = [[OpKind.DirMeta, Buffer.from(root), Buffer.alloc(0), lstat(Buffer.from(root))]];
  const walk = (abs: Buffer, rel: Buffer): void => {
    const l = nativeScanDir(addon, abs);
    if ('errno' in l) throw new Error(`scanDir ${abs}: ${l.errno}`);
    l.names.forEach((name, i) => {
      const st = l.stats[i]!;
      const a = Buffer.concat([abs, Buffer.from('/'), name]);
      const r = rel.length ? Buffer.concat([rel, Buffer.from('/'), name]) : Buffer.from(name);
      if ((st.mode & S_IFMT) === S_IFDIR) {
        ops.push([OpKind.Mkdir, a, r, st]);
        walk(a, r);
        dirMeta.unshift([OpKind.DirMeta, a, r, st]);
      } else if ((st.mode & S_IFMT) === S_IFREG) ops.push([OpKind.File, a, r, st]);
    });
  };
  walk(Buffer.from(root), Buffer.alloc(0));
  const all = [...ops, ...dirMeta];
  const batches: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += 1000) {
    const w = new BatchWriter();
    for (const [kind, s, d, st] of all.slice(i, i + 1000)) w.add(kind, s, d, st);
    batches.push(w.finish());
  }
  return batches;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const base = fs.mkdtempSync(join(dirArg, 'arsync-nbench-'));
try {
  const small = join(base, 'small');
  let total = 0;
  for (let d = 0; d < nfiles / 200; d++) {
    fs.mkdirSync(join(small, `d${d}`), { recursive: true });
    for (let i = 0; i < 200; i++) {
      const n = 1 + (((d * 200 + i) * 7919) % 8192);
      total += n;
      fs.writeFileSync(join(small, `d${d}`, `f${i}`), Buffer.alloc(n, i));
    }
  }
  const big = join(base, 'big');
  fs.mkdirSync(big);
  const fd = fs.openSync(join(big, 'one'), 'w');
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 255;
  for (let i = 0; i < mib; i++) fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  const workloads: [string, string, number][] = [
    [`${nfiles} files 1B-8KiB (${(total / 2 ** 20).toFixed(0)} MiB)`, small, total],
    [`one ${mib} MiB file`, big, mib * 2 ** 20],
  ];
  for (const [label, src, bytes] of workloads) {
    const batches = planTree(src);
    const times = new Map<EngineName, number[]>(engines.map((e) => [e, []]));
    const cpu = new Map<EngineName, number[]>(engines.map((e) => [e, []]));
    for (let r = 0; r < reps; r++) {
      for (const engine of engines) {
        const dst = join(base, `dst-${engine}`);
        fs.rmSync(dst, { recursive: true, force: true });
        fs.mkdirSync(dst);
        if (cold) {
          execFileSync('sync');
          fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
        }
        const counters = new BigInt64Array(new SharedArrayBuffer(8 * COUNTER_SLOTS));
        const ctx = openContext({ engine, destRoot: Buffer.from(dst), flags: FLAGS, umask: 0o022, queueDepth: depth, bufferSize, bufferCount, direct: false, counters });
        const t0 = process.hrtime.bigint();
        const c0 = process.cpuUsage(); // all threads, io_uring's io-wq workers included
        for (const b of batches) if (ctx.run(b).length) throw new Error(`${engine}: failures`);
        times.get(engine)!.push(Number(process.hrtime.bigint() - t0) / 1e6);
        const c1 = process.cpuUsage(c0);
        cpu.get(engine)!.push((c1.user + c1.system) / 1000);
        ctx.close();
      }
    }
    console.log(label);
    for (const engine of engines) {
      const t = times.get(engine)!;
      // The machine is shared: the fastest run and the CPU time say more than the median wall time.
      const best = Math.min(...t);
      console.log(
        `  ${engine.padEnd(6)} wall median ${median(t).toFixed(0).padStart(5)} ms, best ${best.toFixed(0).padStart(5)} ms ` +
          `(${(bytes / 2 ** 20 / (best / 1000)).toFixed(0)} MiB/s), cpu median ${median(cpu.get(engine)!).toFixed(0).padStart(5)} ms`,
      );
    }
  }
} finally {
  fs.rmSync(base, { recursive: true, force: true });
}
