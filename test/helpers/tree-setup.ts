// Building test trees exactly: clones that keep every attribute, files put with a mode, exact ns times.
// Free of vitest, so scripts and the fuzzers' case builders can use it too (test/helpers/differential.ts
// re-exports it for the e2e tests).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { walk } from './compare.js';
import { setTimes } from './set-times.js';

/** Clone a tree exactly (ns mtimes, owners, modes, hard links, xattrs, symlinks). */
export function clone(from: string, to: string): void {
  const r = spawnSync('cp', ['-a', '--', from, to]);
  if (r.status !== 0) throw new Error(`cp -a ${from} ${to}: ${r.stderr.toString()}`);
}

export function put(root: string, rel: string, content: string | Buffer, mode?: number): void {
  const p = path.join(root, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  if (mode !== undefined) fs.chmodSync(p, mode);
}

/** Set an exact mtime (and atime) "SEC.NSEC" on each path, without following symlinks. */
export function touchNs(stamps: [string, string][]): void {
  setTimes(stamps);
}

/** Give every entry under dir a distinct deterministic ns mtime (contents before their dirs). */
export function stampTree(dir: string, t0 = 1_700_000_000): void {
  const entries = [...walk(dir).values()].map((e) => e.rel.toString()).sort();
  const stamps: [string, string][] = [];
  // Deepest first, so setting a child's time does not disturb its parent's afterwards.
  const order = entries.sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? -1 : 1));
  order.forEach((rel, i) => {
    const ns = String((123_456_789 + i * 7_654_321) % 1_000_000_000).padStart(9, '0');
    stamps.push([rel ? path.join(dir, rel) : dir, `${t0 + i * 1000}.${ns}`]);
  });
  touchNs(stamps);
}
