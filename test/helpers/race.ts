// Race tests: an attacker process (attacker.c, compiled on first use) that keeps swapping paths for
// prepared symlinks while arsync runs, and the checks made after each run (no secret bytes copied,
// a victim directory untouched, no unsafe symlink written).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { REPO } from './cli.js';
import { statSnapshot, snapshotDiff } from './differential.js';

const SOURCE = path.join(REPO, 'test', 'helpers', 'attacker.c');

/** Compile the attacker into `dir` (once per test file). */
export function buildAttacker(dir: string): string {
  const bin = path.join(dir, 'attacker');
  const r = spawnSync('cc', ['-O2', '-o', bin, SOURCE], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc ${SOURCE}: ${r.error?.message ?? r.stderr}`);
  return bin;
}

/** One swap: `real` (an entry arsync works on) and `link`, a symlink to `target` kept beside it. */
export interface Swap {
  real: string;
  link: string;
  target: string;
}

export interface Attacker {
  /** Kill the loop and put every pair back as it was (real entries at their first path). */
  stop(): Promise<void>;
}

/**
 * One run of `body` while an attacker swaps every pair. The links are prepared afresh and the attacker
 * restarted each time: arsync rightly replaces a symlink it finds where a directory belongs, which would
 * otherwise leave nothing to swap for the runs after it.
 */
export async function underAttack(bin: string, swaps: Swap[], body: () => Promise<void>): Promise<void> {
  for (const s of swaps) {
    const st = fs.lstatSync(s.link, { throwIfNoEntry: false });
    if (st?.isSymbolicLink() && fs.readlinkSync(s.link) === s.target) continue;
    fs.rmSync(s.link, { recursive: true, force: true });
    fs.symlinkSync(s.target, s.link);
  }
  const a = await startAttacker(
    bin,
    swaps.map((s) => [s.real, s.link]),
  );
  try {
    await body();
  } finally {
    await a.stop();
  }
}

/** Start swapping each [a, b] pair (renameat2 RENAME_EXCHANGE) in a tight loop; resolves once it runs. */
export async function startAttacker(bin: string, pairs: [string, string][]): Promise<Attacker> {
  const flat = pairs.flat();
  const real = pairs.map(([a]) => !fs.lstatSync(a).isSymbolicLink());
  const child: ChildProcess = spawn(bin, flat, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').once('data', () => resolve());
    child.on('close', (code) => reject(new Error(`attacker exited (${code}) before it started: ${err}`)));
  });
  return {
    async stop() {
      child.kill('SIGKILL');
      await exited;
      const back = pairs.filter(([a, b], i) => {
        const st = fs.lstatSync(a, { throwIfNoEntry: false });
        // arsync may remove the link it found there (--remove-source-files removes symlinks too).
        if (!st && fs.lstatSync(b, { throwIfNoEntry: false })) fs.renameSync(b, a);
        return st !== undefined && st.isSymbolicLink() === real[i];
      });
      if (back.length) {
        const r = spawnSync(bin, ['-1', ...back.flat()], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`attacker -1: ${r.stderr}`);
      }
    },
  };
}

/** Regular files under `dir` (not following symlinks) whose bytes contain `marker`. */
export function filesContaining(dir: string, marker: string): string[] {
  const found: string[] = [];
  const needle = Buffer.from(marker);
  const visit = (d: string): void => {
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(d, n);
      const st = fs.lstatSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) visit(p);
      else if (st.isFile() && fs.readFileSync(p).includes(needle)) found.push(path.relative(dir, p));
    }
  };
  visit(dir);
  return found;
}

/** Every symlink under `dir` (not following symlinks), with its path relative to `dir` and its target. */
export function symlinksIn(dir: string): { rel: string; target: string }[] {
  const out: { rel: string; target: string }[] = [];
  const visit = (d: string): void => {
    for (const n of fs.readdirSync(d)) {
      const p = path.join(d, n);
      const st = fs.lstatSync(p);
      if (st.isDirectory()) visit(p);
      else if (st.isSymbolicLink()) out.push({ rel: path.relative(dir, p), target: fs.readlinkSync(p) });
    }
  };
  visit(dir);
  return out;
}

/** rsync's unsafe symlink: absolute, or climbing above the tree root from where it lives. */
export function unsafeLink(rel: string, target: string): boolean {
  if (target.startsWith('/')) return true;
  let depth = rel.split('/').length - 1;
  for (const part of target.split('/')) {
    if (part === '..') depth--;
    else if (part !== '.' && part !== '') depth++;
    if (depth < 0) return true;
  }
  return false;
}

/** A snapshot of a directory to compare after each run (bytes, mode, owner, times, entries). */
export function victimSnapshot(dir: string): () => string[] {
  const before = statSnapshot(dir);
  return () => snapshotDiff(before, statSnapshot(dir));
}
