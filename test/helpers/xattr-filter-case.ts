// The trees and cases of the xattr filter rule tests (test/e2e/xattr-filter.test.ts for a local copy,
// remote-xattr-filter.test.ts for a push and a pull): a source and a destination that already has most
// of it with xattrs of its own, and the option sets after -aXi, each with what arsync's destination must
// show where the rule is plain to see.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';

export const isRoot = process.getuid?.() === 0;
let n = 0;

const setx = (p: string, name: string, value: string): void => void execFileSync('setfattr', ['-n', name, '-v', value, p]);
const hex = (s: string): string => `0x${Buffer.from(s).toString('hex')}`;
const T0 = 1_500_000_000;

/**
 * A source and a destination that already has most of it: `a` with the same data (only its xattrs
 * change), `b` with other data (transferred: a new inode), `d/c` the same, `new` missing. The
 * destination's entries carry a user.skip of their own and names the source lacks; as root the source
 * has a trusted.* name and the destination a stale one.
 */
export function makeTrees(root: string, o: { acl?: boolean } = {}): { src: string; dest: string; n: number } {
  const src = path.join(root, `src-${++n}`);
  const dest = path.join(root, `dest-${n}`);
  for (const at of [src, dest]) fs.mkdirSync(path.join(at, 'd'), { recursive: true });
  const put = (at: string, rel: string, data: string, xs: Record<string, string>): void => {
    const p = path.join(at, rel);
    fs.writeFileSync(p, data);
    for (const [k, v] of Object.entries(xs)) setx(p, k, v);
  };
  put(src, 'a', 'a', { 'user.skip': 'S', 'user.keep': 'K', 'user.tmp.x': 'T', ...(isRoot ? { 'trusted.t': 'TT' } : {}) });
  put(src, 'b', 'b', { 'user.skip': 'S', 'user.keep': 'K' });
  put(src, 'd/c', 'c', { 'user.skip': 'S'.repeat(40), 'user.keep': 'K' });
  put(src, 'new', 'new', { 'user.skip': 'S', 'user.keep': 'K' });
  setx(path.join(src, 'd'), 'user.skip', 'Sdir');
  // An access ACL is a system.* name: once x-rules are given, -X alone copies it as an xattr.
  if (o.acl) for (const rel of ['a', 'new']) execFileSync('setfacl', ['-m', 'u:nobody:r', path.join(src, rel)]);
  put(dest, 'a', 'a', { 'user.skip': 'OLD', 'user.only': 'O' });
  put(dest, 'b', 'changed', { 'user.skip': 'OLDB', 'user.keep': 'K' });
  put(dest, 'd/c', 'c', { 'user.skip': 'O'.repeat(40), 'user.keep': 'K', ...(isRoot ? { 'trusted.o': 'TO' } : {}) });
  setx(path.join(dest, 'd'), 'user.only', 'Odir');
  for (const [at, t] of [
    [src, T0],
    [dest, T0 + 100],
  ] as const) {
    for (const rel of ['a', 'd/c', 'new', 'd']) if (fs.existsSync(path.join(at, rel))) fs.utimesSync(path.join(at, rel), T0, T0);
    fs.utimesSync(path.join(at, 'b'), t, t);
    fs.utimesSync(at, t, t);
  }
  return { src, dest, n };
}

export type Way = 'push' | 'pull' | 'local';

/**
 * Each case's options after -aXi; `check` looks at arsync's destination where the rule is plain to see.
 * `rootOnly`: it needs trusted.* names (or a root receiver); `acl`: the source has access ACLs; `remoteOnly`: not for a local copy (-M, or a receiver that is not
 * root, which rsync's keeps other namespaces as user.rsync.NAME and arsync's local run does not).
 */
export const CASES: { args: string[]; rootOnly?: boolean; remoteOnly?: boolean; acl?: boolean; check?: (x: Map<string, Map<string, string>>, way: Way) => void }[] = [
  {
    // Without --delete a push sends no rules: the server's receiver removes what the lists lack (a pull's
    // and a local copy's receiver has them).
    args: ['-f', '-x user.skip'],
    check: (x, way) => {
      expect.soft(x.get('a')?.get('user.skip')).toBe(way === 'push' ? undefined : hex('OLD'));
      expect.soft(x.get('new')?.has('user.skip')).toBe(false);
      expect.soft(x.get('b')?.has('user.skip')).toBe(false);
    },
  },
  {
    args: ['--delete', '-f', '-x user.skip'],
    check: (x) => {
      expect.soft(x.get('a')?.get('user.skip')).toBe(hex('OLD'));
      expect.soft(x.get('d/c')?.get('user.skip')).toBe(hex('O'.repeat(40)));
      expect.soft(x.get('a')?.has('user.only')).toBe(false);
    },
  },
  { args: ['--delete', '--delete-excluded', '-f', '-x user.skip'], check: (x) => expect.soft(x.get('a')?.has('user.skip')).toBe(false) },
  { args: ['-f', '-xr user.skip'] },
  { args: ['--delete', '-f', '-xr user.skip'] },
  { args: ['-f', '-xs user.skip'] },
  { args: ['--delete', '-f', '-xs user.skip', '-f', '-xr user.only'] },
  { args: ['--delete', '-f', '+x user.keep', '-f', '-x *'], check: (x) => expect.soft(x.get('a')?.get('user.only')).toBe(hex('O')) },
  { args: ['-m', '-f', '-x! user.k*'] },
  { args: ['--delete', '-f', '-x user.tmp.*', '-f', '-x user.skip', '-n'] },
  { args: ['-X', '--delete', '-f', '-x user.skip'] },
  // Not root on the receiving side: trusted.* goes as user.rsync.trusted.* there, and a stale one goes.
  { args: ['--fake-super', '--delete', '-f', '-x user.skip'], rootOnly: true, remoteOnly: true },
  { args: ['--no-super', '-M--no-super', '-f', '-x user.skip'], rootOnly: true, remoteOnly: true },
  { args: ['-M--fake-super', '-f', '-x trusted.t'], rootOnly: true, remoteOnly: true },
  { args: ['--delete', '-f', '-x trusted.t'], rootOnly: true },
  { args: ['-f', '-x user.skip'], rootOnly: true, acl: true, check: (x) => expect.soft(x.get('new')?.has('system.posix_acl_access')).toBe(true) },
  { args: ['-A', '--delete', '-f', '-x user.skip'], rootOnly: true, acl: true },
];

