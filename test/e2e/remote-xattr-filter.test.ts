// Xattr filter rules (rules with the `x` modifier: `-f '-x NAME'`, `+x`, `-xr`, `-xs`, `-x!`) in a push
// and a pull, through a remote shell that runs the server here, against the installed rsync 3.5 and, where
// they are built, 3.2.7 and 3.1.3. Differential: rsync as the client with the same options, server and
// trees must leave the same destination (xattrs of every namespace included), print the same -i lines
// and exit alike. What the cases hold: the sender lists only what its view of the rules lets through; a
// receiver-side rule is the server's in a push (sent only with --delete or -m) and the client's in a
// pull; the receiver never compares or removes a destination name its view excludes, but a file it
// transfers is a new inode without them; --delete-excluded makes the rules the sender's alone; once any
// x-rule is given it replaces the namespace rule (a receiver that is not root keeps trusted.* as
// user.rsync.trusted.*, and removes a stale trusted.* name). The node engine has no xattrs (refused with
// -X before anything starts: remote-xattrs.test.ts).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs, readXattrs } from '../helpers/compare.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { itemLines, rsyncClient } from '../helpers/remote-pull.js';

let root: string;
let rsh: string;
let n = 0;
const isRoot = process.getuid?.() === 0;

const setx = (p: string, name: string, value: string): void => void execFileSync('setfattr', ['-n', name, '-v', value, p]);
const hex = (s: string): string => `0x${Buffer.from(s).toString('hex')}`;
const T0 = 1_500_000_000;

/**
 * A source and a destination that already has most of it: `a` with the same data (only its xattrs
 * change), `b` with other data (transferred: a new inode), `d/c` the same, `new` missing. The
 * destination's entries carry a user.skip of their own and names the source lacks; as root the source
 * has a trusted.* name and the destination a stale one.
 */
function makeTrees(): { src: string; dest: string } {
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
  return { src, dest };
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-xfilt-'));
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const PEERS: [string, () => string[]][] = [
  ['3.5', () => []],
  ['3.2.7', () => [`--rsync-path=${peerRsync('3.2.7')}`]],
  ['3.1.3', () => [`--rsync-path=${peerRsync('3.1.3')}`]],
];

/** Each case's options after -aXi; `check` looks at arsync's destination where the rule is plain to see. */
const CASES: { args: string[]; rootOnly?: boolean; check?: (x: Map<string, Map<string, string>>, way: 'push' | 'pull') => void }[] = [
  {
    // Without --delete a push sends no rules: the server's receiver removes what the lists lack.
    args: ['-f', '-x user.skip'],
    check: (x, way) => {
      expect.soft(x.get('a')?.get('user.skip')).toBe(way === 'pull' ? hex('OLD') : undefined);
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
  { args: ['--fake-super', '--delete', '-f', '-x user.skip'], rootOnly: true },
  { args: ['--no-super', '-M--no-super', '-f', '-x user.skip'], rootOnly: true },
  { args: ['-M--fake-super', '-f', '-x trusted.t'], rootOnly: true },
];

describeEngines((e) => {
  for (const [version, pathOpt] of PEERS) {
    const skip = e.name === 'node' || (version !== '3.5' && !peersAvailable);
    for (const way of ['push', 'pull'] as const) {
      it.skipIf(skip)(`${way}: xattr filter rules do as rsync's client does with an rsync ${version} server`, async () => {
        for (const c of CASES) {
          if (c.rootOnly && !isRoot) continue;
          const { src, dest } = makeTrees();
          const theirs = path.join(root, `theirs-${n}`);
          const ours = path.join(root, `ours-${n}`);
          for (const d of [theirs, ours]) execFileSync('cp', ['-a', dest, d]);
          const ends = (dst: string): string[] => (way === 'push' ? [`${src}/`, `host:${dst}/`] : [`host:${src}/`, `${dst}/`]);
          const args = ['-aXi', ...c.args, ...pathOpt(), '-e', rsh];
          const what = `${way} ${version} ${c.args.join(' ')}`;
          const t = rsyncClient([...args, ...ends(theirs)]);
          const o = await runCli([`--engine=${e.name}`, ...args, ...ends(ours)]);
          expect.soft(o.code, `${what}: ${show(o)}`).toBe(t.code);
          expect.soft(t.code, `${what}: ${t.err}`).toBe(0);
          expect.soft(itemLines(o.stdout), `${what}: ${o.stderr}`).toEqual(itemLines(t.out));
          expect.soft(formatDiffs(compareTrees(theirs, ours, { xattrs: true, acls: false, rootMeta: false })), what).toEqual([]);
          c.check?.(readXattrs(ours, ['a', 'b', 'd/c', 'new'].map((r) => Buffer.from(r))), way);
        }
      });
    }
  }
});
