// --progress/-P, --info=progress1 and --info=progress2 in a push (`arsync [options] src/ host:dst/`),
// through a remote shell that runs rsync 3.5's server locally. Differential: rsync as the client with
// the same options, remote shell and server prints the same lines (names before their data, each
// file's in-place lines and its "(xfr#N, to-chk=M/T)" end, progress2's run line after each file and
// phase, the file-list count under --info=flist2), once rates and times (the clock's) are set aside;
// both leave the same tree and exit alike.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees } from '../helpers/compare.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { makeProgressTree as makeTree } from '../helpers/progress-tree.js';

let root: string;
let rsh: string;
let n = 0;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rpush-progress-'));
  makeTree(path.join(root, 'src'), 1);
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Rates and times are the clock's; the summary's byte counts are framing's; the destinations differ by name. */
const shape = (out: string, dst: string): string =>
  out
    .replace(/ +[\d.]+[kMG]B\/s +\d+:\d\d:\d\d/g, ' RATE TIME')
    .replace(/^sent [\d,.]+ bytes {2}received [\d,.]+ bytes {2}[\d,.]+ bytes\/sec$/m, 'sent … received …')
    .replace(/^total size is ([\d,.]+) {2}speedup is [\d,.]+/m, 'total size is $1  speedup is …')
    .split(dst)
    .join('DST');

async function both(opts: string[], engine: string, prepare?: (dst: string) => void) {
  n++;
  const theirsDir = path.join(root, `theirs-${n}`);
  const oursDir = path.join(root, `ours-${n}`);
  if (prepare) for (const d of [theirsDir, oursDir]) prepare(d);
  const src = path.join(root, 'src');
  const t = spawnSync('rsync', ['--no-i-r', ...opts, '-e', rsh, `${src}/`, `host:${theirsDir}/`], { encoding: 'latin1' });
  const ours = await runCli([`--engine=${engine}`, ...opts, '-e', rsh, `${src}/`, `host:${oursDir}/`]);
  return { theirs: { code: t.status, out: shape(t.stdout, theirsDir), err: t.stderr }, ours, oursOut: shape(ours.stdout, oursDir), theirsDir, oursDir };
}

describeEngines((e) => {
  it.each([
    [['-a', '--progress']],
    [['-a', '-P']],
    [['-ai', '--progress']],
    [['-av', '--progress']],
    [['-a', '--info=progress1']],
    [['-a', '--info=progress2']],
    [['-av', '--info=progress2']],
    [['-an', '--progress']],
    // -n: progress2's line at each phase's end, counting the files that would go.
    [['-an', '--info=progress2']],
    [['-anv', '--info=progress2']],
  ])('prints what rsync prints for a push: %j', async (opts) => {
    const r = await both(opts, e.name);
    expect(r.ours.code, show(r.ours)).toBe(r.theirs.code);
    expect(r.theirs.code, r.theirs.err).toBe(0);
    expect(r.oursOut).toBe(r.theirs.out);
    if (!opts.some((o) => o.startsWith('-an'))) expect(compareTrees(r.theirsDir, r.oursDir, { xattrs: false, acls: false })).toEqual([]);
  });

  it("--progress's own lines: the name, the first data's line, then the last one with xfr#/to-chk", async () => {
    const r = await both(['-a', '--progress'], e.name);
    expect(r.ours.code, show(r.ours)).toBe(0);
    expect(r.ours.stdout).toMatch(/^building file list \.\.\. \n 0 files\.\.\.\r6 files to consider\n/);
    // "a" is 100,000 bytes: its first line shows the first 32 KiB piece, its last one the whole file.
    expect(r.ours.stdout).toMatch(/\na\n\r {9}32,768 {2}32% +[\d.]+kB\/s +0:00:00 {2}\r {8}100,000 100% +[\d.]+[kMG]B\/s +0:00:00 \(xfr#1, to-chk=4\/6\)\n/);
    // An empty file has no data line, only its end.
    expect(r.ours.stdout).toMatch(/\nempty\n\r {14}0 100% +0\.00kB\/s +0:00:00 \(xfr#2, to-chk=3\/6\)\n/);
  });

  it('--progress over a delta (the receiver has old copies): the same lines as rsync, the same tree', async () => {
    const r = await both(['-a', '--progress', '--no-W'], e.name, (d) => makeTree(d, 2));
    expect(r.ours.code, show(r.ours)).toBe(0);
    expect(r.oursOut).toBe(r.theirs.out);
    expect(r.oursOut).toMatch(/\(xfr#2, to-chk=\d\/6\)/);
    expect(compareTrees(r.theirsDir, r.oursDir, { xattrs: false, acls: false })).toEqual([]);
  });

  it('--info=progress2 on a push with nothing to send: the run line at each phase, as rsync', async () => {
    const r = await both(['-a', '--info=progress2'], e.name, (d) => {
      fs.cpSync(path.join(root, 'src'), d, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      for (const rel of ['a', 'sub/b', 'empty', 'l', 'sub', '']) fs.lutimesSync(path.join(d, rel), 1_500_000_001, 1_500_000_001);
    });
    expect(r.ours.code, show(r.ours)).toBe(0);
    expect(r.oursOut).toBe(r.theirs.out);
    expect(r.ours.stdout).toMatch(/\(xfr#0, to-chk=0\/6\)\n$/);
  });

  it.each([[['-a', '--delete', '--progress']], [['-a', '--delete-after', '-P']], [['-a', '--delete', '--out-format=%n %l']]])(
    '%j: the receiver\'s deletions are printed as rsync prints them (a format from --progress or --out-format)',
    async (opts) => {
      const r = await both(opts, e.name, (d) => {
        makeTree(d, 1);
        fs.writeFileSync(path.join(d, 'gone'), 'g');
        fs.mkdirSync(path.join(d, 'gdir'));
        fs.writeFileSync(path.join(d, 'gdir', 'x'), '');
      });
      expect(r.ours.code, show(r.ours)).toBe(0);
      expect(r.oursOut).toBe(r.theirs.out);
      expect(r.ours.stdout).toContain('deleting gone\n');
      expect(compareTrees(r.theirsDir, r.oursDir, { xattrs: false, acls: false })).toEqual([]);
    },
  );

  it('--bwlimit: the file\'s lines follow the paced data (one a second between the first and the last), as rsync\'s', async () => {
    n++;
    const big = path.join(root, `big-${n}`);
    fs.mkdirSync(big);
    fs.writeFileSync(path.join(big, 'f'), Buffer.alloc(2 << 20, 5));
    const dst = path.join(root, `paced-${n}`);
    const r = await runCli([`--engine=${e.name}`, '-a', '--bwlimit=1000', '--progress', '-e', rsh, `${big}/`, `host:${dst}/`]);
    expect(r.code, show(r)).toBe(0);
    // Two seconds of data at 1000 KiB/s: rsync draws the first piece, a line a second while its paced
    // writes wait, then the end. Before, the data was all handed over at once and only the first and
    // last lines came.
    const line = /\nf\n([^\n]*)\n/.exec(r.stdout)?.[1] ?? '';
    expect(line.split('\r').filter(Boolean).length, line).toBeGreaterThanOrEqual(3);
    expect(line).toMatch(/^\r {9}32,768 {3}1% [^\n]*\r {6}2,097,152 100% [^\r]*\(xfr#1, to-chk=0\/2\)$/);
  });

  it('--partial-dir: the receiving server is told it and rebuilds against the waiting part (the first line after its first block)', async () => {
    const r = await both(['-a', '--partial-dir=.pd', '--no-W', '--progress'], e.name, (d) => {
      fs.mkdirSync(path.join(d, '.pd'), { recursive: true });
      fs.writeFileSync(path.join(d, '.pd', 'a'), fs.readFileSync(path.join(root, 'src', 'a')).subarray(0, 30_000));
    });
    expect(r.ours.code, show(r.ours)).toBe(0);
    expect(r.oursOut).toBe(r.theirs.out);
    // rsync's block size for 100,000 bytes is 700: the first line comes after the first matched block.
    expect(r.ours.stdout).toMatch(/\na\n\r {12}700 {3}0% /);
    expect(fs.existsSync(path.join(r.oursDir, '.pd'))).toBe(false);
    expect(compareTrees(r.theirsDir, r.oursDir, { xattrs: false, acls: false })).toEqual([]);
  });
});
