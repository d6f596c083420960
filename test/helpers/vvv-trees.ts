// The trees and the per-process comparison the -vvv differential tests share (vvv.test.ts,
// vvv-relative.test.ts): rsync interleaves its three processes differently from run to run, so each
// process's own lines are compared in order.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { put, touchNs, type DiffResult } from './differential.js';
import { byProcess, normaliseTrace, type Proc } from './trace-order.js';

/** Each process's lines in arsync's output are rsync's, in rsync's order. */
export function sameProcessOrder(r: DiffResult): void {
  const want = byProcess(normaliseTrace(r.rsync.stdout));
  const got = byProcess(normaliseTrace(r.arsync.stdout));
  for (const p of ['sender', 'prefork', 'generator', 'receiver'] as Proc[]) expect.soft(got[p], `${p}'s lines`).toEqual(want[p]);
}

/** Files at the top, nested directories ("a-b" sorts before "a/"), an empty one, a symlink. */
export function tree(root: string): void {
  put(root, 'src/t', 'top\n', 0o644);
  put(root, 'src/a/x/y', 'one\n', 0o644);
  put(root, 'src/a-b/q', 'three\n', 0o600);
  put(root, 'src/b/z', 'two\n', 0o644);
  fs.mkdirSync(path.join(root, 'src/e'));
  fs.symlinkSync('t', path.join(root, 'src/l'));
  fs.lutimesSync(path.join(root, 'src/l'), 1_700_000_000, 1_700_000_000);
  const stamps: [string, string][] = [];
  for (const d of ['src/a/x', 'src/a', 'src/a-b', 'src/b', 'src/e', 'src']) stamps.push([path.join(root, d), '1700000000.5']);
  touchNs([[path.join(root, 'src/t'), '1700000000.5'], [path.join(root, 'src/a/x/y'), '1700000000.5'], [path.join(root, 'src/a-b/q'), '1700000000.5'], [path.join(root, 'src/b/z'), '1700000000.5'], ...stamps]);
}

/** The tree, already copied to dst (a no-op re-sync). */
export function synced(root: string): void {
  tree(root);
  fs.cpSync(path.join(root, 'src'), path.join(root, 'dst'), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  // The symlink's own time too (an entry whose attributes changed is named by rsync's generator, a line
  // trace-order.ts cannot tell from the sender's -v names).
  fs.lutimesSync(path.join(root, 'dst/l'), 1_700_000_000, 1_700_000_000);
  touchNs(['dst/a/x', 'dst/a', 'dst/a-b', 'dst/b', 'dst/e', 'dst'].map((d) => [path.join(root, d), '1700000000.5'] as [string, string]));
}
