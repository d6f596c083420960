// Pulls that find little or nothing to do (`arsync -a host:src/ dst/` into a destination already
// synced): a destination entirely current starts no local run (cli/pull-current.ts), so these are the
// cases such a shortcut gets wrong — one attribute different somewhere (a mode, an mtime, an owner under
// --numeric-ids, a directory's time, a symlink's target, -H links broken apart), --delete with and
// without something to delete, -n, -i, -v and --stats. Differential against rsync 3.5 as the client
// through the same fake remote shell and the same server: the same tree, exit code, -i lines and
// --stats counts.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { bytes, put, stampTree, touchNs } from '../helpers/differential.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { rsyncClient } from '../helpers/remote-pull.js';
import { sameForEveryEngine } from '../helpers/shared-case.js';

let root: string;
let src: string;
let base: string;
let rsh: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rpullnoop-'));
  src = path.join(root, 'src');
  put(src, 'a.txt', 'alpha\n');
  put(src, 'b.bin', bytes(20_000, 2));
  put(src, 'empty', '');
  put(src, 'exec.sh', '#!/bin/sh\n', 0o755);
  put(src, 'd/x', 'x');
  put(src, 'd/sub/y', 'yy');
  put(src, 'e/z', 'zzz');
  fs.mkdirSync(path.join(src, 'void'));
  fs.symlinkSync('a.txt', path.join(src, 'link'));
  fs.symlinkSync('../a.txt', path.join(src, 'd', 'up'));
  put(src, 'h1', 'linked');
  fs.linkSync(path.join(src, 'h1'), path.join(src, 'd', 'h2'));
  stampTree(src);
  // The synced destination every case starts from: made by rsync itself.
  base = path.join(root, 'base');
  const r = spawnSync('rsync', ['-aH', '--numeric-ids', `${src}/`, `${base}/`], { encoding: 'latin1' });
  if (r.status !== 0) throw new Error(r.stderr);
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A copy of the synced destination (times, modes, owners and hard links kept). */
function synced(to: string): void {
  const r = spawnSync('cp', ['-a', base, to]);
  if (r.status !== 0) throw new Error(String(r.stderr));
}

/**
 * Runs `change` on `d` and gives every directory its time back: the change alone differs (adding or
 * removing a name would otherwise change its directory's time, which a run notices on its own).
 */
function only(d: string, change: (d: string) => void): void {
  const times: [string, string][] = [];
  const walk = (dir: string): void => {
    const ns = fs.lstatSync(dir, { bigint: true }).mtimeNs;
    times.push([dir, `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`]);
    for (const n of fs.readdirSync(dir, { withFileTypes: true })) if (n.isDirectory()) walk(path.join(dir, n.name));
  };
  walk(d);
  change(d);
  touchNs(times.filter(([dir]) => fs.existsSync(dir)).reverse());
}

const itemLines = (out: string): string[] => out.split('\n').filter((l) => /^[<>ch.*][fdLDS]/.test(l) || l.startsWith('*deleting') || l.startsWith('deleting')).sort();
const countLines = (out: string): string[] => out.split('\n').filter((l) => /^(Number of|Total file size|Total transferred file size)/.test(l));
/** -v's names (every line that is neither a summary nor the list's announcement). */
const nameLines = (out: string): string[] =>
  out.split('\n').filter((l) => l && !/^(sent |total size|receiving |Number of|Total |Literal|Matched|File list)/.test(l)).sort();

type Change = (d: string) => void;
/** A file the source does not have, of a fixed time (the trees are compared afterwards). */
const extra = (d: string, rel: string): void => {
  put(d, rel, 'old');
  fs.utimesSync(path.join(d, rel), 1_500_000_000, 1_500_000_000);
};
const cases: [string, string[], Change][] = [
  ['nothing', ['-ai'], () => undefined],
  ['nothing, -v --stats', ['-av', '--stats'], () => undefined],
  ['nothing, -n -i', ['-ain'], () => undefined],
  // Without -l the symlinks come without their targets, and rsync's receiver still counts their lengths.
  ['nothing, -r (no -l)', ['-ri'], () => undefined],
  ['a file mode', ['-ai'], (d) => fs.chmodSync(path.join(d, 'd/x'), 0o600)],
  ['a file mode, -n', ['-ain'], (d) => fs.chmodSync(path.join(d, 'd/x'), 0o600)],
  ['a file mtime', ['-ai'], (d) => fs.utimesSync(path.join(d, 'e/z'), 1_600_000_000, 1_600_000_000)],
  ['a file mtime, --size-only', ['-ai', '--size-only'], (d) => fs.utimesSync(path.join(d, 'e/z'), 1_600_000_000, 1_600_000_000)],
  ['a directory time', ['-ai'], (d) => fs.utimesSync(path.join(d, 'd/sub'), 1_600_000_000, 1_600_000_000)],
  ['a directory time, -O', ['-aiO'], (d) => fs.utimesSync(path.join(d, 'd/sub'), 1_600_000_000, 1_600_000_000)],
  ['the root directory mode', ['-ai'], (d) => fs.chmodSync(d, 0o700)],
  ['a symlink target', ['-ai'], (d) => {
    fs.unlinkSync(path.join(d, 'link'));
    fs.symlinkSync('b.bin', path.join(d, 'link'));
  }],
  ['an owner, --numeric-ids', ['-ai', '--numeric-ids'], (d) => fs.lchownSync(path.join(d, 'a.txt'), 1234, 1234)],
  ['a group, --numeric-ids', ['-ai', '--numeric-ids'], (d) => fs.lchownSync(path.join(d, 'exec.sh'), 0, 4321)],
  ['-H links broken apart', ['-aiH'], (d) => {
    fs.unlinkSync(path.join(d, 'd/h2'));
    // The same bytes and times (to the nanosecond), only no longer the same inode.
    if (spawnSync('cp', ['-a', path.join(d, 'h1'), path.join(d, 'd/h2')]).status !== 0) throw new Error('cp');
  }],
  ['-H, nothing', ['-aiH'], () => undefined],
  ['a missing file', ['-ai'], (d) => fs.unlinkSync(path.join(d, 'd/sub/y'))],
  ['a missing empty directory', ['-ai'], (d) => fs.rmdirSync(path.join(d, 'void'))],
  ['--delete, nothing', ['-ai', '--delete'], () => undefined],
  ['--delete, an extra file', ['-ai', '--delete'], (d) => extra(d, 'd/sub/old')],
  ['--delete, an extra directory', ['-ai', '--delete'], (d) => fs.mkdirSync(path.join(d, 'void/gone'))],
  ['--delete -n, an extra file', ['-ain', '--delete'], (d) => extra(d, 'e/old')],
  ['an extra file without --delete', ['-ai'], (d) => extra(d, 'e/old')],
];

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const tolerance = fidelity(e.name).nsTimes ? 0 : 1000;
  let n = 0;
  let mine: string;
  let theirDir: string;
  beforeEach(() => {
    n++;
    mine = path.join(root, `mine-${e.name}-${n}`);
    theirDir = path.join(root, `theirs-${e.name}-${n}`);
  });

  it.each(cases)('as rsync: %s (%j)', async (_what, opts, change) => {
    // A directory's own time is the change in some cases: those are not put back.
    const keep = /directory time/.test(_what) ? (d: string, f: Change): void => f(d) : only;
    const args = [...opts, '--stats', '-e', rsh, `host:${src}/`];
    // rsync's side is the same under every engine: the first engine's tree and output serve all.
    const { theirs, r } = sameForEveryEngine('case', () => {
      synced(theirDir);
      keep(theirDir, change);
      return { theirs: theirDir, r: rsyncClient([...args, `${theirDir}/`]) };
    });
    synced(mine);
    keep(mine, change);
    const ours = await runCli([eng, ...args, `${mine}/`]);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(r.code).toBe(0);
    expect(itemLines(ours.stdout), show(ours)).toEqual(itemLines(r.out));
    expect(countLines(ours.stdout)).toEqual(countLines(r.out));
    if (!opts.some((o) => o.includes('i'))) expect(nameLines(ours.stdout)).toEqual(nameLines(r.out));
    expect(formatDiffs(compareTrees(theirs, mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false }))).toEqual([]);
    // The hard links as rsync left them.
    expect(fs.statSync(path.join(mine, 'd/h2')).ino === fs.statSync(path.join(mine, 'h1')).ino).toBe(fs.statSync(path.join(theirs, 'd/h2')).ino === fs.statSync(path.join(theirs, 'h1')).ino);
  });

  it.each([[[] as string[]], [['--delete']], [['--delete', '-n']]])('as rsync: the source directory itself into its parent (no trailing slash) %j', async (more) => {
    const prepare = (d: string): void => {
      fs.mkdirSync(d);
      synced(path.join(d, 'src'));
      only(d, (top) => {
        fs.chmodSync(path.join(top, 'src/e/z'), 0o640);
        extra(top, 'src/d/old');
        extra(top, 'beside');
      });
    };
    const args = ['-ai', '--stats', ...more, '-e', rsh, `host:${src}`];
    // rsync's two runs are the same under every engine: the first engine's tree and outputs serve all.
    const { theirs, r, theirsAgain } = sameForEveryEngine('into parent', () => {
      prepare(theirDir);
      const first = rsyncClient([...args, `${theirDir}/`]);
      return { theirs: theirDir, r: first, theirsAgain: rsyncClient([...args, `${theirDir}/`]) };
    });
    prepare(mine);
    const ours = await runCli([eng, ...args, `${mine}/`]);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(itemLines(ours.stdout), show(ours)).toEqual(itemLines(r.out));
    expect(itemLines(ours.stdout).length).toBeGreaterThan(0);
    expect(countLines(ours.stdout)).toEqual(countLines(r.out));
    expect(formatDiffs(compareTrees(theirs, mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false, rootMeta: false }))).toEqual([]);
    // Then nothing is left to do: the same again, with nothing to say.
    const again = await runCli([eng, ...args, `${mine}/`]);
    expect(again.code).toBe(0);
    expect(itemLines(again.stdout)).toEqual(itemLines(theirsAgain.out));
    expect(countLines(again.stdout)).toEqual(countLines(theirsAgain.out));
  });

  it('a symlink planted for a directory in the destination is not followed, and not taken for the directory', async () => {
    synced(mine);
    synced(theirDir);
    const outside = path.join(root, `outside-${e.name}-${n}`);
    fs.cpSync(path.join(base, 'd'), outside, { recursive: true, verbatimSymlinks: true });
    for (const d of [mine, theirDir]) {
      fs.rmSync(path.join(d, 'd'), { recursive: true });
      fs.symlinkSync(outside, path.join(d, 'd'));
    }
    const before = fs.readdirSync(outside).sort();
    const args = ['-ai', '--delete', '-e', rsh, `host:${src}/`];
    const r = rsyncClient([...args, `${theirDir}/`]);
    const ours = await runCli([eng, ...args, `${mine}/`]);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
    expect(fs.lstatSync(path.join(mine, 'd')).isDirectory()).toBe(true);
    expect(fs.readdirSync(outside).sort()).toEqual(before);
  });
});
