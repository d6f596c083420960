// --progress and --info=progress2 in a pull (`arsync [options] host:src/ dst/`), through a remote shell
// that runs rsync 3.5's sender locally. Where the progress lines are all the run prints per entry
// (--info=progress1, --info=progress2 without -v or -i), the fetch draws them as the data arrives, as
// rsync's receiving client does: the first line of each file at its first data (0 bytes), the file's end
// with "(xfr#N, to-chk=M/T)", progress2's line at each phase's end; with names (--progress, -P, -v, -i)
// the local half prints those same lines in the files' places after the fetch. Differential against rsync as the
// client (--no-i-r, as arsync's pull asks for no incremental recursion), once rates and times are set
// aside; and live: a line is on stdout while the sender's data is held back by the remote shell.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show, startCli } from '../helpers/cli.js';
import { compareTrees } from '../helpers/compare.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { makeProgressTree as makeTree } from '../helpers/progress-tree.js';

let root: string;
let rsh: string;
let n = 0;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rpull-progress-'));
  makeTree(path.join(root, 'src'), 1);
  // The same with a hard-link group across directories ("h1" first in the list, "sub/h2" last).
  const linked = path.join(root, 'linked');
  makeTree(linked, 1);
  fs.writeFileSync(path.join(linked, 'h1'), Buffer.alloc(5000, 3));
  fs.linkSync(path.join(linked, 'h1'), path.join(linked, 'sub', 'h2'));
  for (const rel of ['h1', 'sub', '']) fs.lutimesSync(path.join(linked, rel), 1_500_000_001, 1_500_000_001);
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/**
 * The destinations differ by name; rates and times are the clock's; the summary's byte counts are framing's (a pull's differ from rsync's
 * client by its per-entry item records: docs/options.md "Left missing").
 */
const shape = (out: string, dst?: string): string =>
  (dst ? out.split(dst).join('DST') : out)
    .replace(/^Total bytes (sent|received): [\d,]+$/gm, 'Total bytes $1: …')
    .replace(/ +[\d.]+[kMG]B\/s +\d+:\d\d:\d\d/g, ' RATE TIME')
    .replace(/^sent [\d,.]+ bytes {2}received [\d,.]+ bytes {2}[\d,.]+ bytes\/sec$/m, 'sent … received …')
    .replace(/^total size is ([\d,.]+) {2}speedup is [\d,.]+/m, 'total size is $1  speedup is …');

/**
 * A remote shell whose sender's stream passes `bytes` bytes (the list and part of the data), then waits
 * for the flag file (FLAG.held says it waits); the process holding it back outlives the shell, holding
 * its output open.
 */
function heldRsh(bytes: number): { rsh: string; flag: string } {
  n++;
  const flag = path.join(root, `go-${n}`);
  const hold = path.join(root, `hold-${n}.py`);
  fs.writeFileSync(
    hold,
    [
      'import os, sys, time',
      `left = ${bytes}`,
      'while True:',
      '    b = os.read(0, 65536 if left <= 0 else min(65536, left))',
      '    if not b: break',
      '    v = memoryview(b)',
      '    while v: v = v[os.write(1, v):]',
      '    left -= len(b)',
      '    if left <= 0 and not os.path.exists(sys.argv[1]): open(sys.argv[1] + ".held", "w").close()',
      '    while left <= 0 and not os.path.exists(sys.argv[1]): time.sleep(0.02)',
    ].join('\n'),
  );
  const rshPath = path.join(root, `rsh-held-${n}`);
  fs.writeFileSync(rshPath, `#!/bin/sh\nshift\nsh -c "$*" | python3 '${hold}' '${flag}'\n`, { mode: 0o755 });
  return { rsh: rshPath, flag };
}

async function both(opts: string[], engine: string, prepare?: (dst: string) => void, from = 'src') {
  n++;
  const theirsDir = path.join(root, `theirs-${n}`);
  const oursDir = path.join(root, `ours-${n}`);
  if (prepare) for (const d of [theirsDir, oursDir]) prepare(d);
  const src = path.join(root, from);
  const t = spawnSync('rsync', ['--no-i-r', ...opts, '-e', rsh, `host:${src}/`, `${theirsDir}/`], { encoding: 'latin1' });
  const ours = await runCli([`--engine=${engine}`, ...opts, '-e', rsh, `host:${src}/`, `${oursDir}/`]);
  return { theirs: { code: t.status, out: shape(t.stdout, theirsDir), err: t.stderr }, ours, oursOut: shape(ours.stdout, oursDir), theirsDir, oursDir };
}

describeEngines((e) => {
  it.each([
    [['-a', '--info=progress2']],
    [['-a', '--info=progress1']],
    [['-a', '--info=progress2', '--stats']],
    [['-a', '--info=progress2', '--delete']],
    // With names the local half prints the lines in the list's order, the files' as the fetch drew them.
    [['-a', '--progress']],
    [['-a', '-P']],
    [['-ai', '--progress']],
    [['-av', '--progress']],
    [['-av', '--info=progress2']],
    [['-ai', '--info=progress2', '--stats']],
    // %l of a directory: its size in the sender's list, as rsync's client prints it.
    [['-a', '--progress', '--out-format=%n %l']],
    // %o: a pull's lines are its receiver's ("recv").
    [['-a', '--out-format=%o %i %n']],
    // -n: rsync's receiver counts the files it would be sent and draws progress2's line at each phase's end.
    [['-an', '--info=progress2']],
    [['-anv', '--info=progress2']],
  ])('draws what rsync draws for a pull: %j', async (opts) => {
    const r = await both(opts, e.name);
    expect(r.ours.code, show(r.ours)).toBe(r.theirs.code);
    expect(r.theirs.code, r.theirs.err).toBe(0);
    expect(r.oursOut).toBe(r.theirs.out);
    if (!opts.some((o) => o.startsWith('-an'))) expect(compareTrees(r.theirsDir, r.oursDir, { xattrs: false, acls: false })).toEqual([]);
  });

  it.each([[['-aH', '--progress']], [['-aH', '--info=progress1']], [['-aH', '--info=progress2']], [['-aHi', '-P']]])(
    '%j over a hard-link group: the data comes for the member rsync transfers (the last, none being there), in its place',
    async (opts) => {
      const r = await both(opts, e.name, undefined, 'linked');
      expect(r.ours.code, show(r.ours)).toBe(0);
      expect(r.oursOut).toBe(r.theirs.out);
      expect(compareTrees(r.theirsDir, r.oursDir, { xattrs: false, acls: false })).toEqual([]);
    },
  );

  it.each([[['-a', '--delete', '--progress']], [['-a', '--delete', '-P']], [['-a', '--delete', '--info=name']]])(
    '%j: deletions are printed as rsync prints them (--progress and --info=name give it a format)',
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
    },
  );

  // rsync's generator on the receiving client draws its delete pass's file-list progress (without
  // incremental recursion, which --delete-before/-after turn off): " N files..." at each hundredth entry it
  // lists in the destination (counting on across directories under --progress, from 0 in each under
  // --info=flist2 alone), a newline before any other line, and 20 spaces over it when the pass ends.
  const extraneous = (d: string): void => {
    makeTree(d, 1);
    fs.writeFileSync(path.join(d, 'gone'), 'g');
    fs.writeFileSync(path.join(d, 'sub', 'gone2'), 'g');
    fs.mkdirSync(path.join(d, 'gdir', 'deep'), { recursive: true });
    for (let i = 0; i < 130; i++) fs.writeFileSync(path.join(d, 'gdir', 'deep', `w${i}`), '');
    fs.writeFileSync(path.join(d, 'gdir', 'x'), '');
  };
  it.each([
    [['-a', '--delete-before', '--progress'], extraneous],
    [['-a', '--delete-after', '--progress'], extraneous],
    [['-a', '--delete-before', '--info=flist2'], extraneous],
    [['-ai', '--delete-after', '--info=flist2'], extraneous],
    [['-av', '--delete-after', '--progress'], extraneous],
    [['-an', '--delete-before', '--progress'], extraneous],
    [['-a', '--delete-before', '-P'], (d: string) => makeTree(d, 1)],
    [['-a', '--delete-after', '--progress'], undefined],
    [['-an', '--delete-after', '--progress'], undefined],
    [['-a', '--delete-before', '--info=flist2'], (d: string) => fs.cpSync(path.join(root, 'src'), d, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true })],
    [['-a', '--delete-after', '--progress', '--exclude=gdir'], extraneous],
  ])('%j: the delete pass draws its file-list progress as rsync\'s client does', async (opts, prepare) => {
    const r = await both(opts, e.name, prepare);
    expect(r.ours.code, show(r.ours)).toBe(0);
    expect(r.theirs.code, r.theirs.err).toBe(0);
    expect(r.oursOut).toBe(r.theirs.out);
    // (A dry run into a destination that does not exist has no pass.)
    if (prepare || !opts.includes('-an')) expect(r.ours.stdout).toContain(`${' '.repeat(20)}\r`);
    // (What --exclude keeps was made at another time in each.)
    if (!opts.includes('-an') && !opts.some((o) => o.startsWith('--exclude'))) expect(compareTrees(r.theirsDir, r.oursDir, { xattrs: false, acls: false })).toEqual([]);
  });

  it.each([[['-a', '--progress']], [['-av', '--info=progress2']], [['-a', '--info=progress1']], [['-a', '--info=progress2']]])(
    '%j with --copy-dest: a file copied from its twin has no lines, as rsync\'s generator copies it itself',
    async (opts) => {
      n++;
      // The twin has the sender's "a", "empty" and "l"; its "sub/b" differs and is sent.
      const twin = path.join(root, `twin-${n}`);
      makeTree(twin, 1);
      fs.writeFileSync(path.join(twin, 'sub', 'b'), 'other\n');
      const r = await both([...opts, `--copy-dest=${twin}`], e.name);
      expect(r.ours.code, show(r.ours)).toBe(0);
      expect(r.oursOut).toBe(r.theirs.out);
      expect(r.ours.stdout).toContain('(xfr#1, to-chk=');
      expect(r.ours.stdout).not.toContain('xfr#2');
      expect(compareTrees(r.theirsDir, r.oursDir, { xattrs: false, acls: false })).toEqual([]);
    },
  );

  it('-P for one file pulled to a new name: the fetch\'s lines, as rsync', async () => {
    n++;
    const file = path.join(root, 'src', 'a');
    const out: Record<string, string> = {};
    for (const who of ['theirs', 'ours']) fs.mkdirSync(path.join(root, `one-${who}-${n}`));
    const t = spawnSync('rsync', ['-P', '-e', rsh, `host:${file}`, path.join(root, `one-theirs-${n}`, 'new')], { encoding: 'latin1' });
    const ours = await runCli([`--engine=${e.name}`, '-P', '-e', rsh, `host:${file}`, path.join(root, `one-ours-${n}`, 'new')]);
    expect(t.status, t.stderr).toBe(0);
    expect(ours.code, show(ours)).toBe(0);
    out.theirs = shape(t.stdout);
    out.ours = shape(ours.stdout);
    expect(out.ours).toBe(out.theirs);
    expect(ours.stdout).toMatch(/^a\n\r {14}0 {3}0% /);
  });

  it("progress1's own lines: each file's first line at 0 bytes, then its end with xfr#/to-chk", async () => {
    const r = await both(['-a', '--info=progress1'], e.name);
    expect(r.ours.code, show(r.ours)).toBe(0);
    // "a" is 100,000 bytes: rsync's receiver draws before taking its first data, and once more at its end.
    expect(r.ours.stdout).toMatch(/^\r {14}0 {3}0% +0\.00kB\/s +0:00:00 {2}\r {8}100,000 100% +[\d.]+[kMG]B\/s +0:00:00 \(xfr#1, to-chk=4\/6\)\n/);
    // An empty file has no data, only its end.
    expect(r.ours.stdout).toMatch(/\n\r {14}0 100% +0\.00kB\/s +0:00:00 \(xfr#2, to-chk=3\/6\)\n/);
  });

  it('progress2 over a delta (the destination has old copies) and over a no-op: as rsync', async () => {
    const delta = await both(['-a', '--info=progress2', '--no-W'], e.name, (d) => makeTree(d, 2));
    expect(delta.ours.code, show(delta.ours)).toBe(0);
    expect(delta.oursOut).toBe(delta.theirs.out);
    expect(compareTrees(delta.theirsDir, delta.oursDir, { xattrs: false, acls: false })).toEqual([]);
    const noop = await both(['-a', '--info=progress2'], e.name, (d) => fs.cpSync(path.join(root, 'src'), d, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true }));
    expect(noop.ours.code, show(noop.ours)).toBe(0);
    expect(noop.oursOut).toBe(noop.theirs.out);
    expect(noop.ours.stdout).toMatch(/\(xfr#0, to-chk=0\/6\)\n$/);
  });

  it('draws while the data arrives: a line is out while the sender is held back mid-file', async () => {
    n++;
    const big = path.join(root, `big-${n}`);
    fs.mkdirSync(big);
    fs.writeFileSync(path.join(big, 'f'), Buffer.alloc(1 << 20, 7));
    const { rsh: held, flag } = heldRsh(200_000);
    const dst = path.join(root, `held-dst-${n}`);
    const run = startCli([`--engine=${e.name}`, '-a', '--info=progress2', '-e', held, `host:${big}/`, `${dst}/`]);
    let out = '';
    run.child.stdout!.on('data', (d: Buffer) => (out += d.toString('latin1')));
    // Before this change the lines came only after the whole transfer, which the held stream forbids.
    const deadline = Date.now() + 30_000;
    while (!out.includes('%') && run.child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const seen = out;
    const runningThen = run.child.exitCode === null;
    fs.writeFileSync(flag, '');
    const r = await run.done;
    expect(r.code, show(r)).toBe(0);
    expect(runningThen).toBe(true);
    expect(seen).toMatch(/^\r {14}0 {3}0% +0\.00kB\/s +0:00:00 {2}/);
    expect(fs.readFileSync(path.join(dst, 'f')).equals(fs.readFileSync(path.join(big, 'f')))).toBe(true);
    expect(r.stdout).toMatch(/ 1,048,576 100% +[\d.]+[kMG]B\/s +\d+:\d\d:\d\d \(xfr#1, to-chk=0\/2\)\n$/);
  });

  it('-P cut short by a signal mid-file: the file that came is placed with its lines, and the run ends', async () => {
    n++;
    const src = path.join(root, `cut-src-${n}`);
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'a'), fs.readFileSync(path.join(root, 'src', 'a')));
    fs.writeFileSync(path.join(src, 'b'), Buffer.alloc(1 << 20, 9));
    // "a" (100,000 bytes) passes whole, "b" is held back in its data.
    const { rsh: held, flag } = heldRsh(300_000);
    const dst = path.join(root, `cut-dst-${n}`);
    const run = startCli([`--engine=${e.name}`, '-aP', '-e', held, `host:${src}/`, `${dst}/`]);
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(`${flag}.held`) && run.child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const exited = new Promise<number | null>((res) => run.child.on('exit', (code) => res(code)));
    run.child.kill('SIGINT');
    // Before, the run waited for the held output to close: it never ended while the flag was missing.
    // (Its own exit: the held process keeps the stderr it was given, as ssh's would be, until the flag.)
    const code = await Promise.race([exited, new Promise<string>((res) => setTimeout(() => res('still running'), 20_000))]);
    fs.writeFileSync(flag, '');
    const r = await run.done;
    expect(code, show(r)).toBe(20);
    expect(r.stderr).toContain('received SIGINT, SIGTERM, or SIGHUP (code 20)');
    expect(fs.readFileSync(path.join(dst, 'a')).equals(fs.readFileSync(path.join(src, 'a')))).toBe(true);
    expect(r.stdout).toMatch(/\na\n\r {14}0 {3}0% +0\.00kB\/s +0:00:00 {2}\r {8}100,000 100% +[\d.]+[kMG]B\/s +0:00:00 \(xfr#1, to-chk=1\/3\)\n/);
  });
});
