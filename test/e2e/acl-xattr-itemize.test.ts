// -AX with x-rules: once any x-rule is given it replaces the namespace rule that leaves system.* out of
// rsync's xattr lists, so an ACL is also listed as its system.posix_acl_* xattr and compared by its bytes:
// a changed, added or removed access or default ACL is 'ax'. Except on a regular file whose data is
// current (and not under -n): rsync's receiver sets its attributes, the ACL among them, before it reads
// the xattrs it itemizes, so that file is 'a' alone. Without x-rules an ACL is 'a' only, and -X alone
// with x-rules copies and itemizes it as an xattr ('x'). Differential against rsync 3.5: a local copy,
// and a push and a pull through the fake remote shell against rsync's client (the same -i lines, ACLs,
// xattrs and exit code); -n and -c too (a dry-run pull stands a valid ACL in for an abbreviated ACL
// value). The node engine refuses -A and -X.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { differential } from '../helpers/differential.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { itemLines, rsyncClient } from '../helpers/remote-pull.js';
import { removeTemps } from '../helpers/tree.js';

let root: string;
let rsh: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-axitem-'));
  rsh = fakeRsh(root);
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  removeTemps();
});

const acl = (...args: string[]): void => void execFileSync('setfacl', args);
const setx = (p: string, v: string): void => void execFileSync('setfattr', ['-n', 'user.a', '-v', v, p]);
const T0 = 1_600_000_000;

/**
 * r/src and r/dst: files whose data is current (f*) or not (t*), directories (d*); each differs in one
 * way. acc: the access ACL changed; add: the source's alone; rm: the destination's alone; def: a
 * directory's default ACL changed (defadd, defrm: on one side only); x: a user xattr differs too;
 * time, perm: the mode or the time differs too.
 */
function trees(r: string): void {
  const files = ['facc', 'faddx', 'frm', 'fperm', 'tacc', 'tplain'];
  const dirs = ['dacc', 'dadd', 'drm', 'ddef', 'ddefadd', 'ddefrm', 'dtime', 'dperm'];
  for (const side of ['src', 'dst']) {
    for (const f of files) {
      fs.mkdirSync(path.join(r, side), { recursive: true });
      fs.writeFileSync(path.join(r, side, f), side === 'src' && f.startsWith('t') ? 'new data\n' : 'data\n', { mode: 0o644 });
    }
    for (const d of dirs) fs.mkdirSync(path.join(r, side, d), { mode: 0o755 });
  }
  const s = (n: string): string => path.join(r, 'src', n);
  const d = (n: string): string => path.join(r, 'dst', n);
  for (const n of ['facc', 'tacc', 'fperm']) {
    acl('-m', 'u:daemon:r', s(n));
    acl('-m', 'u:daemon:rw', d(n));
  }
  acl('-m', 'u:daemon:r', s('faddx'));
  setx(s('faddx'), '1');
  setx(d('faddx'), '2');
  acl('-m', 'u:daemon:r', d('frm'));
  fs.chmodSync(d('fperm'), 0o600);
  for (const n of ['dacc', 'dtime', 'dperm']) {
    acl('-m', 'u:daemon:rx', s(n));
    acl('-m', 'u:daemon:rwx', d(n));
  }
  acl('-m', 'u:daemon:rx', s('dadd'));
  acl('-m', 'u:daemon:rx', d('drm'));
  acl('-d', '-m', 'u:daemon:rx', s('ddef'));
  acl('-d', '-m', 'u:daemon:rwx', d('ddef'));
  acl('-d', '-m', 'u:daemon:rx', s('ddefadd'));
  acl('-d', '-m', 'u:daemon:rx', d('ddefrm'));
  fs.chmodSync(d('dperm'), 0o700);
  for (const side of ['src', 'dst']) {
    for (const n of [...files, ...dirs, '']) fs.utimesSync(path.join(r, side, n), T0, T0);
  }
  fs.utimesSync(d('dtime'), T0 + 100, T0 + 100);
}

const OPTIONS: string[][] = [
  ['-aAX', '-f', '-x user.zz'],
  ['-aAXn', '-f', '-x user.zz'],
  ['-aAXc', '-f', '-x user.zz'],
  ['-aX', '-f', '-x user.zz'],
  ['-aAX', '-f', '-x system.posix_acl_default'],
  ['-aAX'],
];

describeEngines((e) => {
  it.skipIf(e.name === 'node')('a local copy: ACL changes itemized as rsync does under -AX with and without x-rules', async () => {
    for (const o of OPTIONS) await differential({ engine: e.name, setup: trees, args: [...o, 'src/', 'dst/'] });
  });

  // -H: a member relinked to its leader is itemized against its own old file, xattrs included (rsync's
  // "hf.s......x" for a member whose old file lacked the source's xattr).
  it.skipIf(e.name === 'node')('a local copy under -HX: a relinked member\'s old xattrs are compared, as rsync', async () => {
    await differential({
      engine: e.name,
      setup: (r: string) => {
        const src = path.join(r, 'src');
        const dst = path.join(r, 'dst');
        fs.mkdirSync(src, { recursive: true });
        fs.mkdirSync(dst, { recursive: true });
        fs.writeFileSync(path.join(src, 'a'), 'a\n');
        fs.linkSync(path.join(src, 'a'), path.join(src, 'a2'));
        setx(path.join(src, 'a'), 'bar');
        fs.writeFileSync(path.join(dst, 'a'), 'a\n');
        fs.writeFileSync(path.join(dst, 'a2'), 'zz\n');
        for (const p of [src, dst, path.join(src, 'a'), path.join(dst, 'a'), path.join(dst, 'a2')]) fs.utimesSync(p, T0, T0);
      },
      args: ['-aiHX', 'src/', 'dst/'],
    });
  });

  for (const way of ['push', 'pull'] as const) {
    it.skipIf(e.name === 'node')(`a ${way}: the same -i lines, ACLs and xattrs as rsync's client`, async () => {
      for (const o of [...OPTIONS, ['-aXn', '-f', '-x user.zz']]) {
        const base = fs.mkdtempSync(path.join(root, `${way}-`));
        trees(base);
        const theirs = path.join(base, 'theirs');
        const ours = path.join(base, 'ours');
        for (const d of [theirs, ours]) execFileSync('cp', ['-a', path.join(base, 'dst'), d]);
        const src = path.join(base, 'src');
        const ends = (dst: string): string[] => (way === 'push' ? [`${src}/`, `host:${dst}/`] : [`host:${src}/`, `${dst}/`]);
        const args = ['-i', ...o, '-e', rsh];
        const what = `${way} ${o.join(' ')}`;
        const t = rsyncClient([...args, ...ends(theirs)]);
        const r = await runCli([`--engine=${e.name}`, ...args, ...ends(ours)]);
        expect.soft(r.code, `${what}: ${show(r)}`).toBe(t.code);
        expect.soft(t.code, `${what}: ${t.err}`).toBe(0);
        expect.soft(itemLines(r.stdout), `${what}: ${r.stderr}`).toEqual(itemLines(t.out));
        expect.soft(formatDiffs(compareTrees(theirs, ours, { xattrs: true, acls: true, rootMeta: false })), what).toEqual([]);
      }
    });
  }
});
