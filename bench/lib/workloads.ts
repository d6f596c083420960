// The benchmark workloads and their source trees. Every tree is generated from a fixed seed (or unpacked
// from Debian's linux-source-6.1 tarball) into a cache outside the repository, once, and reused: a stamp
// file beside each tree records the generator version and the tree's size, and a tree without a matching
// stamp is removed and made again. Contents come from a seeded AES-CTR stream, so they are incompressible
// and the same on every machine; mtimes are fixed values, not "now".

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ByteStream, Rng } from './prng.js';

/** tmpfs and the disk (ext4 here); xfs and btrfs are loop-mounted images on the disk, for reflinks. */
export type FsKind = 'tmpfs' | 'disk' | 'xfs' | 'btrfs';
export const FS_KINDS: FsKind[] = ['tmpfs', 'disk', 'xfs', 'btrfs'];

/** The disk cache; also where the Linux tarball is unpacked once. */
export const CACHE = process.env['ARSYNC_BENCH_CACHE'] ?? '/var/tmp/arsync-bench';
/** Where tmpfs workloads live (RAM: remove with --clean). */
export const SHM = process.env['ARSYNC_BENCH_SHM'] ?? '/dev/shm/arsync-bench';
/** Where disk workloads copy to (and generate their sources), so runs side by side need not share it. */
export const DISK = process.env['ARSYNC_BENCH_DISK'] ?? path.join(CACHE, 'disk');
export const LINUX_TARBALL = '/usr/src/linux-source-6.1.tar.xz';
const LINUX_UNPACKED = path.join(CACHE, 'linux-source-6.1');

export interface Roots {
  fs: FsKind;
  /** Source trees live here. */
  src: string;
  /** Destinations live here; everything under it is removed after each workload. */
  dst: string;
}

export function rootsFor(kind: FsKind): Roots {
  const base = kind === 'tmpfs' ? SHM : kind === 'disk' ? DISK : loopMount(kind);
  return { fs: kind, src: path.join(base, 'src'), dst: path.join(base, 'dst') };
}

/** The image sizes leave room for the large workload's 2 GiB source and one full (not cloned) copy. */
const IMAGE_SIZE = '8G';

/**
 * A filesystem that clones (XFS with reflink=1, btrfs) as an image file in the disk cache, loop-mounted
 * at CACHE/mnt-<kind> (made once, needs root and xfsprogs/btrfs-progs); it stays mounted so its trees
 * can be reused: `--clean` unmounts it.
 */
function loopMount(kind: 'xfs' | 'btrfs'): string {
  const dir = path.join(CACHE, `mnt-${kind}`);
  if (spawnSync('mountpoint', ['-q', dir]).status === 0) return dir;
  const img = path.join(CACHE, `${kind}.img`);
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(img)) {
    run('truncate', ['-s', IMAGE_SIZE, img]);
    run(kind === 'xfs' ? 'mkfs.xfs' : 'mkfs.btrfs', kind === 'xfs' ? ['-q', '-m', 'reflink=1', img] : ['-q', img]);
  }
  run('mount', ['-o', 'loop', img, dir]);
  return dir;
}

/** Unmounts the loop-mounted images (their files stay in the cache). */
export function unmountLoops(): string[] {
  const done: string[] = [];
  for (const kind of ['xfs', 'btrfs']) {
    const dir = path.join(CACHE, `mnt-${kind}`);
    if (spawnSync('mountpoint', ['-q', dir]).status === 0 && spawnSync('umount', [dir]).status === 0) done.push(dir);
  }
  return done;
}

export interface TreeStats {
  files: number;
  dirs: number;
  symlinks: number;
  other: number;
  bytes: number;
}

/**
 * How a workload runs:
 * - fresh: the destination is removed before every run;
 * - noop: the destination is a complete copy made once before the runs and never removed;
 * - incremental: before every run the destination is brought to the source's current state (untimed),
 *   then 1% of the source's files change; the timed run brings the destination up to date.
 * - delta: the same with one large file, of which 1% of the bytes change (in scattered 64 KiB pieces):
 *   what rsync's delta transfer is for.
 */
export type Mode = 'fresh' | 'noop' | 'incremental' | 'delta';

export interface Workload {
  name: string;
  what: string;
  mode: Mode;
  /** Runs per tool when --runs is not given. */
  defaultRuns: number;
  /** Peer tool ids that take part; undefined = every peer present. */
  peers?: string[];
  /** Also time a bare `node -e ''` start as a baseline row. */
  nodeBaseline?: boolean;
  /** Not in the default set: only with --only. */
  optIn?: boolean;
  /** Size sweep workloads: the number of files (a point of the cost curve). */
  sweep?: number;
  /**
   * Between machines through ssh to this machine's own sshd: `push` copies SRC/ to 127.0.0.1:DST/, `pull`
   * 127.0.0.1:SRC/ to DST/. Only arsync and rsync take part (the others do not speak rsync's protocol).
   */
  remote?: 'push' | 'pull';
  /** Printed under the table: peers left out and why. */
  note?: string;
  /** Make sure the source tree exists on this filesystem; returns its path and size. */
  source(r: Roots, log: (s: string) => void): { dir: string; stats: TreeStats };
}

// Bump when a generator changes, so stale trees are rebuilt.
const GEN_VERSION = 1;

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr?.toString().trim()}`);
  }
}

export function rmrf(p: string): void {
  // rm -rf beats fs.rmSync on a million entries.
  if (fs.existsSync(p)) run('rm', ['-rf', '--one-file-system', p]);
}

/** Count a tree with find(1): regular files, dirs, symlinks, other, and bytes of regular files. */
export function treeStats(dir: string): TreeStats {
  const r = spawnSync('find', [dir, '-mindepth', '1', '-printf', '%y %s\n'], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`find ${dir} failed: ${r.stderr.toString()}`);
  const s: TreeStats = { files: 0, dirs: 0, symlinks: 0, other: 0, bytes: 0 };
  for (const line of r.stdout.toString().split('\n')) {
    if (!line) continue;
    const sp = line.indexOf(' ');
    const t = line.slice(0, sp);
    if (t === 'f') {
      s.files++;
      s.bytes += Number(line.slice(sp + 1));
    } else if (t === 'd') s.dirs++;
    else if (t === 'l') s.symlinks++;
    else s.other++;
  }
  return s;
}

/** Make `dir` with `gen` unless a stamp with the same key says it is already there. */
function cached(dir: string, key: string, log: (s: string) => void, gen: (dir: string) => void): TreeStats {
  const stampPath = `${dir}.stamp.json`;
  try {
    const stamp = JSON.parse(fs.readFileSync(stampPath, 'utf8')) as { key: string; stats: TreeStats };
    if (stamp.key === key && fs.existsSync(dir)) return stamp.stats;
  } catch {
    // no stamp: (re)generate
  }
  log(`generating ${dir} ...`);
  const t0 = performance.now();
  rmrf(dir);
  fs.rmSync(stampPath, { force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  gen(dir);
  run('sync', []);
  const stats = treeStats(dir);
  fs.writeFileSync(stampPath, JSON.stringify({ key, stats }));
  log(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return stats;
}

// Fixed mtimes (2023-11-14T22:13:20Z onwards) so a tree is the same whenever it is made.
const BASE_MTIME = 1_700_000_000;

function genSmall(dir: string): void {
  const rng = new Rng(20_000);
  const bytes = new ByteStream('small');
  fs.mkdirSync(dir);
  let i = 0;
  for (let d = 0; d < 200; d++) {
    const sub = path.join(dir, `d${String(d).padStart(3, '0')}`);
    fs.mkdirSync(sub);
    for (let f = 0; f < 100; f++, i++) {
      const p = path.join(sub, `f${String(i).padStart(5, '0')}.dat`);
      fs.writeFileSync(p, bytes.take(rng.int(1, 8192)));
      fs.utimesSync(p, BASE_MTIME + i, BASE_MTIME + i);
    }
    fs.utimesSync(sub, BASE_MTIME, BASE_MTIME);
  }
  fs.utimesSync(dir, BASE_MTIME, BASE_MTIME);
}

function genLarge(dir: string): void {
  fs.mkdirSync(dir);
  const chunk = 8 << 20;
  for (const name of ['a.bin', 'b.bin']) {
    const bytes = new ByteStream(`large:${name}`);
    const p = path.join(dir, name);
    const fd = fs.openSync(p, 'w');
    for (let done = 0; done < 1 << 30; done += chunk) fs.writeSync(fd, bytes.take(chunk));
    fs.closeSync(fd);
    fs.utimesSync(p, BASE_MTIME, BASE_MTIME);
  }
  fs.utimesSync(dir, BASE_MTIME, BASE_MTIME);
}

/** One 1 GiB file (the same bytes as large's a.bin), for the delta workloads, which change it. */
function genOneGig(dir: string): void {
  fs.mkdirSync(dir);
  const chunk = 8 << 20;
  const bytes = new ByteStream('large:a.bin');
  const p = path.join(dir, 'big.bin');
  const fd = fs.openSync(p, 'w');
  for (let done = 0; done < 1 << 30; done += chunk) fs.writeSync(fd, bytes.take(chunk));
  fs.closeSync(fd);
  fs.utimesSync(p, BASE_MTIME, BASE_MTIME);
  fs.utimesSync(dir, BASE_MTIME, BASE_MTIME);
}

function genTiny(dir: string): void {
  const rng = new Rng(10);
  const bytes = new ByteStream('tiny');
  fs.mkdirSync(dir);
  for (let i = 0; i < 10; i++) {
    const p = path.join(dir, `t${i}.txt`);
    fs.writeFileSync(p, bytes.take(rng.int(100, 4096)));
    fs.utimesSync(p, BASE_MTIME + i, BASE_MTIME + i);
  }
  fs.utimesSync(dir, BASE_MTIME, BASE_MTIME);
}

function genMillion(dir: string): void {
  fs.mkdirSync(dir);
  for (let d = 0; d < 1000; d++) {
    const sub = path.join(dir, `d${String(d).padStart(3, '0')}`);
    fs.mkdirSync(sub);
    for (let f = 0; f < 1000; f++) fs.closeSync(fs.openSync(path.join(sub, `e${String(f).padStart(3, '0')}`), 'w'));
  }
}

/** `n` files of 1 B–8 KiB, 100 to a directory, for the size sweep (the cost curve). */
function genFiles(n: number): (dir: string) => void {
  return (dir) => {
    const rng = new Rng(n);
    const bytes = new ByteStream(`sweep:${n}`);
    fs.mkdirSync(dir);
    for (let i = 0; i < n; i++) {
      const sub = path.join(dir, `d${String(Math.floor(i / 100)).padStart(5, '0')}`);
      if (i % 100 === 0) fs.mkdirSync(sub);
      const p = path.join(sub, `f${String(i).padStart(7, '0')}.dat`);
      fs.writeFileSync(p, bytes.take(rng.int(1, 8192)));
      fs.utimesSync(p, BASE_MTIME + i, BASE_MTIME + i);
    }
    for (let d = 0; d * 100 < n; d++) {
      const sub = path.join(dir, `d${String(d).padStart(5, '0')}`);
      fs.utimesSync(sub, BASE_MTIME, BASE_MTIME);
    }
    fs.utimesSync(dir, BASE_MTIME, BASE_MTIME);
  };
}

/** The pristine unpacked Linux tree in the disk cache (unpacked once). */
function linuxUnpacked(log: (s: string) => void): { dir: string; stats: TreeStats } {
  if (!fs.existsSync(LINUX_TARBALL)) {
    throw new Error(`${LINUX_TARBALL} is missing: apt-get install linux-source-6.1`);
  }
  const st = fs.statSync(LINUX_TARBALL);
  const stats = cached(LINUX_UNPACKED, `linux:${st.size}:${st.mtimeMs}`, log, (dir) => {
    // The tarball's top directory is linux-source-6.1, the cache directory's name.
    run('tar', ['-xf', LINUX_TARBALL, '-C', path.dirname(dir)]);
  });
  return { dir: LINUX_UNPACKED, stats };
}

/** The Linux tree on the given filesystem (on disk, the unpacked cache itself). */
function linuxOn(r: Roots, log: (s: string) => void): { dir: string; stats: TreeStats } {
  const pristine = linuxUnpacked(log);
  if (r.fs === 'disk') return pristine;
  const dir = path.join(r.src, 'linux');
  const stats = cached(dir, `linux-copy:${GEN_VERSION}:${JSON.stringify(pristine.stats)}`, log, (d) =>
    run('cp', ['-a', `${pristine.dir}/.`, `${d}/`]),
  );
  return { dir, stats };
}

const gen =
  (name: string, g: (dir: string) => void) =>
  (r: Roots, log: (s: string) => void): { dir: string; stats: TreeStats } => {
    const dir = path.join(r.src, name);
    return { dir, stats: cached(dir, `${name}:${GEN_VERSION}`, log, g) };
  };

/** The mutable copy of the Linux tree the incremental workload changes; reset to pristine on each use. */
function linuxIncOn(r: Roots, log: (s: string) => void): { dir: string; stats: TreeStats } {
  const pristine = linuxOn(r, log);
  const dir = path.join(r.src, 'linux-inc');
  if (!fs.existsSync(dir)) {
    log(`copying ${pristine.dir} to ${dir} ...`);
    fs.mkdirSync(r.src, { recursive: true });
    run('cp', ['-a', `${pristine.dir}/.`, `${dir}/`]);
  } else {
    log(`resetting ${dir} to the pristine tree ...`);
    run('rsync', ['-a', '--delete', `${pristine.dir}/`, `${dir}/`]);
  }
  return { dir, stats: pristine.stats };
}

export const WORKLOADS: Workload[] = [
  {
    name: 'small',
    what: '20,000 files of 1 B–8 KiB in 200 directories',
    mode: 'fresh',
    defaultRuns: 5,
    source: gen('small', genSmall),
  },
  {
    name: 'large',
    what: 'two 1 GiB files',
    mode: 'fresh',
    defaultRuns: 5,
    source: gen('large', genLarge),
  },
  {
    name: 'linux',
    what: "Debian's linux-source-6.1 tree, fresh copy",
    mode: 'fresh',
    defaultRuns: 3,
    source: linuxOn,
  },
  {
    name: 'noop',
    what: 'linux-source-6.1 re-synced onto a complete copy',
    mode: 'noop',
    defaultRuns: 3,
    peers: ['rsync', 'rclone', 'rclone-cpus', 'fpsync'],
    note: 'cp -a, tar, fs.cp and cpy-cli have no no-op mode (they copy everything again); rclone and fpsync skip what is up to date.',
    source: linuxOn,
  },
  {
    name: 'incremental',
    what: 'linux-source-6.1 with 1% of its files changed before each run',
    mode: 'incremental',
    defaultRuns: 3,
    peers: ['rsync', 'rclone', 'rclone-cpus', 'fpsync'],
    note: 'cp -a, tar, fs.cp and cpy-cli cannot update a tree in place; rclone and fpsync (rsync per partition) can.',
    source: linuxIncOn,
  },
  {
    name: 'tiny',
    what: '10 files (start-up cost), against a bare `node -e ""`',
    mode: 'fresh',
    defaultRuns: 20,
    nodeBaseline: true,
    source: gen('tiny', genTiny),
  },
  {
    name: 'million',
    what: '1,000,000 empty files in 1,000 directories (peak RSS)',
    mode: 'fresh',
    defaultRuns: 1,
    peers: ['rsync', 'cp'],
    optIn: true,
    note: 'Peers limited to rsync -a and cp -a to keep the run short.',
    source: gen('million', genMillion),
  },
  ...sshWorkloads(),
];

/** The workloads between machines (opt-in, `--ssh`): each of push and pull, fresh, no-op and delta. */
function sshWorkloads(): Workload[] {
  const note = 'Through ssh to 127.0.0.1 (a throw-away sshd); only rsync speaks rsync\'s protocol, so it is the one peer.';
  return (['push', 'pull'] as const).flatMap((remote): Workload[] => (<Omit<Workload, 'remote'>[]>[
    { name: `ssh-${remote}-linux`, what: `linux-source-6.1, fresh copy, ${remote} over ssh`, mode: 'fresh', defaultRuns: 3, source: linuxOn },
    { name: `ssh-${remote}-noop`, what: `linux-source-6.1 re-synced onto a complete copy, ${remote} over ssh`, mode: 'noop', defaultRuns: 3, source: linuxOn },
    { name: `ssh-${remote}-delta`, what: `one 1 GiB file with 1% of it changed, ${remote} over ssh`, mode: 'delta', defaultRuns: 3, source: gen('onegig', genOneGig) },
  ]).map((w) => ({ ...w, remote, peers: ['rsync'], optIn: true, note })));
}

/** The size sweep's job sizes (files of 1 B–8 KiB); the million is behind --sweep-million. */
export const SWEEP_SIZES = [10, 100, 300, 1_000, 3_000, 20_000, 100_000];
export const SWEEP_MILLION = 1_000_000;

/** One point of the cost curve: `n` fresh files, every peer, and the bare node start as a baseline. */
export function sweepWorkload(n: number): Workload {
  return {
    name: `files-${n}`,
    what: `${n.toLocaleString('en-US')} files of 1 B–8 KiB (size sweep)`,
    mode: 'fresh',
    // Short runs are the noisiest: more of them.
    defaultRuns: n <= 1_000 ? 11 : n <= 20_000 ? 5 : n <= 100_000 ? 3 : 1,
    nodeBaseline: true,
    sweep: n,
    source: gen(`files-${n}`, genFiles(n)),
  };
}

/** Regular files with at least one byte, sorted, for the incremental workload to choose from. */
export function changeableFiles(dir: string): { rel: string; size: number }[] {
  const r = spawnSync('find', [dir, '-type', 'f', '-size', '+0', '-printf', '%s %P\n'], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`find ${dir} failed: ${r.stderr.toString()}`);
  const out: { rel: string; size: number }[] = [];
  for (const line of r.stdout.toString().split('\n')) {
    if (!line) continue;
    const sp = line.indexOf(' ');
    out.push({ size: Number(line.slice(0, sp)), rel: line.slice(sp + 1) });
  }
  out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return out;
}

/**
 * Change 1% of the files, chosen by `step`: overwrite their first (up to) 64 bytes with seeded bytes and
 * give them a new fixed mtime, so every tool that checks size and mtime sees them as changed.
 */
export function changeOnePercent(dir: string, files: { rel: string; size: number }[], step: number): number {
  const k = Math.max(1, Math.round(files.length / 100));
  const rng = new Rng(0x1c0 + step);
  const bytes = new ByteStream(`inc:${step}`);
  const mtime = 2_000_000_000 + step;
  for (const i of rng.sample(files.length, k)) {
    const f = files[i]!;
    const fd = fs.openSync(path.join(dir, f.rel), 'r+');
    const n = Math.min(64, f.size);
    fs.writeSync(fd, bytes.take(n), 0, n, 0);
    fs.futimesSync(fd, mtime, mtime);
    fs.closeSync(fd);
  }
  return k;
}

/** Piece size of the delta workloads' changes. */
const DELTA_PIECE = 64 * 1024;

/**
 * Change 1% of one large file's bytes, chosen by `step`: seeded 64 KiB pieces at seeded offsets, and a
 * new fixed mtime. Returns the bytes changed.
 */
export function changeOnePercentOfFile(file: string, step: number): number {
  const size = fs.statSync(file).size;
  const pieces = Math.max(1, Math.round(size / 100 / DELTA_PIECE));
  const rng = new Rng(0xde17a + step);
  const bytes = new ByteStream(`delta:${step}`);
  const fd = fs.openSync(file, 'r+');
  try {
    for (const i of rng.sample(Math.floor(size / DELTA_PIECE), pieces)) fs.writeSync(fd, bytes.take(DELTA_PIECE), 0, DELTA_PIECE, i * DELTA_PIECE);
    const mtime = 2_000_000_000 + step;
    fs.futimesSync(fd, mtime, mtime);
  } finally {
    fs.closeSync(fd);
  }
  return pieces * DELTA_PIECE;
}
