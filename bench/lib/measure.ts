// Running one measured process, and the untimed chores around it (sync, dropping the page cache,
// checking the result). Wall time is taken in this process around spawnSync (so it includes the
// ~1 ms fork+exec of /usr/bin/time, the same for every tool); peak RSS and CPU time come from GNU time
// (`/usr/bin/time -f '%M %U %S'`), which reads the child's rusage from wait4(). For a shell pipeline
// (tar | tar) that is the largest single process of the pipeline, not the sum.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface RunResult {
  /** Wall seconds. */
  wall: number;
  /** Peak resident set size in KiB (ru_maxrss). */
  rssKiB: number;
  user: number;
  sys: number;
  /** Exit status (128+signal when killed). */
  rc: number;
  /** Lines `rsync -an --itemize-changes --delete` printed after the run (0 = complete copy), if checked. */
  diffs?: number;
  /** The tail of stderr when rc != 0. */
  stderr?: string;
}

const TIME = '/usr/bin/time';

export function checkTimeBinary(): void {
  if (!fs.existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed for peak RSS: apt-get install time`);
}

export function timed(argv: string[]): RunResult {
  const out = path.join(os.tmpdir(), `arsync-bench-time-${process.pid}.txt`);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(TIME, ['-f', '%M %U %S', '-o', out, '--', ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 << 20,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const rc = r.status ?? 128 + (os.constants.signals[r.signal as NodeJS.Signals] ?? 0);
  // GNU time writes "Command exited with non-zero status N" before the figures when rc != 0.
  const lines = fs.existsSync(out) ? fs.readFileSync(out, 'utf8').trim().split('\n') : [];
  fs.rmSync(out, { force: true });
  const [rss, user, sys] = (lines.at(-1) ?? '').split(' ').map(Number);
  const res: RunResult = { wall, rssKiB: rss ?? NaN, user: user ?? NaN, sys: sys ?? NaN, rc };
  if (rc !== 0) res.stderr = r.stderr.toString().trim().split('\n').slice(-5).join('\n');
  return res;
}

export function syncFs(): void {
  spawnSync('sync', [], { stdio: 'ignore' });
}

export function dropCaches(): void {
  syncFs();
  fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
}

/** How many items rsync would still change: 0 means dst is a complete `-a` copy of src (size+mtime check). */
export function verify(src: string, dst: string, checksum: boolean): number {
  const args = ['-an', '--delete', '--itemize-changes', ...(checksum ? ['--checksum'] : []), `${src}/`, `${dst}/`];
  const r = spawnSync('rsync', args, { maxBuffer: 1 << 30 });
  if (r.status !== 0) return -1;
  return r.stdout.toString().split('\n').filter((l) => l.length > 0).length;
}

function sh(cmd: string): string {
  const r = spawnSync('sh', ['-c', cmd]);
  return r.status === 0 ? r.stdout.toString().trim() : '';
}

export interface Machine {
  date: string;
  host: string;
  nproc: number;
  cpu: string;
  memTotalGiB: number;
  kernel: string;
  node: string;
  rsync: string;
  cp: string;
  tar: string;
  fsTypes: Record<string, string>;
  loadavgAtStart: string;
  arsync: { commit: string; dirty: boolean; distBuilt: string; addon: string };
}

export function machine(repo: string, dirs: Record<string, string>): Machine {
  const cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const fsTypes: Record<string, string> = {};
  for (const [k, d] of Object.entries(dirs)) {
    fsTypes[k] = (sh(`findmnt -no FSTYPE,SOURCE -T '${d}'`).split('\n')[0] ?? '').replace(/\s+/g, ' ');
  }
  const addonPath = path.join(repo, 'build', 'Release', 'arsync.node');
  const dist = path.join(repo, 'dist', 'bin.js');
  return {
    date: new Date().toISOString(),
    host: os.hostname(),
    nproc: os.availableParallelism(),
    cpu,
    memTotalGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    node: process.version,
    rsync: sh('rsync --version | head -1'),
    cp: sh('cp --version | head -1'),
    tar: sh('tar --version | head -1'),
    fsTypes,
    loadavgAtStart: fs.readFileSync('/proc/loadavg', 'utf8').trim(),
    arsync: {
      commit: sh(`git -C '${repo}' rev-parse --short HEAD`),
      dirty: sh(`git -C '${repo}' status --porcelain -- src native`).length > 0,
      distBuilt: fs.existsSync(dist) ? fs.statSync(dist).mtime.toISOString() : 'missing',
      addon: fs.existsSync(addonPath) ? `built ${fs.statSync(addonPath).mtime.toISOString()}` : 'not built',
    },
  };
}
