// -H with --ignore-existing, -u or --append when the destination already has some members of a group: rsync's
// generator drops a member it skips from its group, so the group's next member the destination has
// leads in its place, or else the last one left is sent and the others linked to it; a skipped member
// is never the file the missing ones are linked to. Differential against rsync 3.5 as the client of a
// pull through the fake remote shell, and as a local copy: the same tree (bytes, times, which names
// share an inode), the same -i lines and exit code.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { put } from '../helpers/differential.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { itemLines, rsyncClient } from '../helpers/remote-pull.js';
import { sameForEveryEngine } from '../helpers/shared-case.js';

let root: string;
let src: string;
let rsh: string;
const T_SRC = 1_600_000_000;
const T_NEWER = 1_900_000_000;
const T_OLDER = 1_000_000_000;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-hlskip-'));
  src = path.join(root, 'src');
  put(src, 'a', 'the group\n');
  fs.linkSync(path.join(src, 'a'), path.join(src, 'b'));
  fs.linkSync(path.join(src, 'a'), path.join(src, 'c'));
  put(src, 'other', 'alone\n');
  for (const n of ['a', 'other', '']) fs.utimesSync(path.join(src, n), T_SRC, T_SRC);
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Destination members of other bytes than the source's, each of its own inode, at the time given. */
type Existing = [name: string, mtime: number][];
const cases: [string, string[], Existing][] = [
  ['--ignore-existing, the first member there', ['--ignore-existing'], [['a', T_SRC]]],
  ['--ignore-existing, the middle member there', ['--ignore-existing'], [['b', T_SRC]]],
  ['--ignore-existing, the first and last there', ['--ignore-existing'], [['a', T_SRC], ['c', T_SRC]]],
  ['-u, the first member newer', ['-u'], [['a', T_NEWER]]],
  ['-u, the middle member newer', ['-u'], [['b', T_NEWER]]],
  ['-u, the first newer and the middle older (the middle leads)', ['-u'], [['a', T_NEWER], ['b', T_OLDER]]],
  // --append leaves a changed member alone when the destination's file is not shorter (each planted one
  // is longer than the source's): rsync's generator drops it from its group as it does the others.
  ['--append, the first member there', ['--append'], [['a', T_OLDER]]],
  ['--append, the middle member there', ['--append'], [['b', T_OLDER]]],
  ['--append-verify, the first and last there', ['--append-verify'], [['a', T_OLDER], ['c', T_OLDER]]],
];

function prepare(d: string, existing: Existing): void {
  fs.mkdirSync(d, { recursive: true });
  for (const [n, t] of existing) {
    put(d, n, `dest's own ${n}\n`);
    fs.utimesSync(path.join(d, n), t, t);
  }
  fs.utimesSync(d, T_SRC, T_SRC);
}

/** Which names of the group share an inode with which: each name with the sorted names of its inode. */
function linkShape(d: string): string[] {
  const names = ['a', 'b', 'c'].filter((n) => fs.existsSync(path.join(d, n)));
  const ino = (n: string): bigint => fs.statSync(path.join(d, n), { bigint: true }).ino;
  return names.map((n) => `${n}:${names.filter((o) => ino(o) === ino(n)).join(',')}`);
}

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const tolerance = fidelity(e.name).nsTimes ? 0 : 1000;
  let n = 0;

  for (const where of ['pull', 'local'] as const) {
    it.each(cases)(`as rsync (${where}): %s`, async (_what, opts, existing) => {
      n++;
      const from = where === 'pull' ? ['-e', rsh, `host:${src}/`] : [`${src}/`];
      const args = ['-aHi', ...opts, ...from];
      const mine = path.join(root, `mine-${e.name}-${n}`);
      const { theirs, r } = sameForEveryEngine([where, opts, existing], () => {
        const dir = path.join(root, `theirs-${e.name}-${n}`);
        prepare(dir, existing);
        return { theirs: dir, r: rsyncClient([...args, `${dir}/`]) };
      });
      expect(r.code, r.err).toBe(0);
      prepare(mine, existing);
      const ours = await runCli([eng, ...args, `${mine}/`]);
      expect(ours.code, show(ours)).toBe(r.code);
      expect(itemLines(ours.stdout), show(ours)).toEqual(itemLines(r.out));
      expect(formatDiffs(compareTrees(theirs, mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false }))).toEqual([]);
      expect(linkShape(mine)).toEqual(linkShape(theirs));
      // The skipped members keep their own bytes; the others carry the source's.
      for (const [name] of existing) {
        if (opts.includes('--ignore-existing') || opts.some((o) => o.startsWith('--append')) || existing.find(([m, t]) => m === name && t === T_NEWER)) {
          expect(fs.readFileSync(path.join(mine, name), 'utf8')).toBe(`dest's own ${name}\n`);
        }
      }
      const missing = ['a', 'b', 'c'].filter((m) => !existing.some(([x]) => x === m));
      for (const m of missing) expect(fs.readFileSync(path.join(mine, m), 'utf8')).toBe('the group\n');
    });
  }
});

// A hard-linked symlink group (rsync links devices, FIFOs, sockets and symlinks at their own places): all
// linked as the source has them, and a skipped first member leaves the second to lead, the third linked
// to it. (A pull staged each symlink on its own before, so none was linked.)
describeEngines((e) => {
  const cases: [string, string[], boolean][] = [
    ['pull', [], false],
    ['pull', ['--ignore-existing'], true],
    ['local', [], false],
    ['local', ['--ignore-existing'], true],
  ];
  it.each(cases)('as rsync (%s): a symlink group %j, the first member there: %s', async (where, opts, planted) => {
    const base = path.join(root, `sl-${e.name}-${where}-${opts.length}-${planted}`);
    const s = path.join(base, 'src');
    fs.rmSync(base, { recursive: true, force: true });
    fs.mkdirSync(s, { recursive: true });
    fs.symlinkSync('target', path.join(s, 'l1'));
    fs.linkSync(path.join(s, 'l1'), path.join(s, 'l2'));
    fs.linkSync(path.join(s, 'l1'), path.join(s, 'l3'));
    const dests = ['theirs', 'mine'].map((w) => {
      const d = path.join(base, w);
      fs.mkdirSync(d);
      if (planted) fs.symlinkSync('elsewhere', path.join(d, 'l1'));
      fs.utimesSync(d, T_SRC, T_SRC);
      return d;
    });
    // The same directory time on both sides: no "./" line for either tool, whatever the clock's tick.
    fs.utimesSync(s, T_SRC, T_SRC);
    const args = ['-aHi', ...opts, ...(where === 'pull' ? ['-e', rsh, `host:${s}/`] : [`${s}/`])];
    const r = rsyncClient([...args, `${dests[0]}/`]);
    expect(r.code, r.err).toBe(0);
    const ours = await runCli([`--engine=${e.name}`, ...args, `${dests[1]}/`]);
    expect(ours.code, show(ours)).toBe(0);
    expect(itemLines(ours.stdout), show(ours)).toEqual(itemLines(r.out));
    const shape = (d: string): string[] => ['l1', 'l2', 'l3'].map((x) => `${x}->${fs.readlinkSync(path.join(d, x))}:${fs.lstatSync(path.join(d, x)).nlink}`);
    expect(shape(dests[1]!)).toEqual(shape(dests[0]!));
    expect(shape(dests[1]!)).toEqual(planted ? ['l1->elsewhere:1', 'l2->target:2', 'l3->target:2'] : ['l1->target:3', 'l2->target:3', 'l3->target:3']);
  });
});
