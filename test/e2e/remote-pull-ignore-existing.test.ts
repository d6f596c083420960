// A pull (and --read-batch) where the destination holds a non-directory (a file, a FIFO) at the name of
// a source directory. Under --ignore-existing rsync's generator leaves it, fails each entry below that
// directory (a file's stat, a symlink's or FIFO's creation: Not a directory; a subdirectory's mkdir,
// whose contents it then skips) and asks the sender for none of their data. arsync's pull fetched the
// files below such a directory (--stats' "Literal data" and the bytes received counted them) before its
// local half failed each as rsync does; a batch read so reported "(No batched update for ...)" for each,
// and a batch written so held their data. Under --existing rsync replaces the non-directory with the
// directory and creates nothing inside it. Differential against rsync 3.5 as the client with the same
// options through the fake remote shell, on every engine: the exit code, stdout (-i/-v lines and
// --stats, the byte figures within a frame header or two of rsync's), stderr's lines, the tree. One
// allowance, as for a local copy (docs/options.md "Left missing"): under -t rsync sets the source
// directory's time on the non-directory standing at its name; arsync leaves that entry alone.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show, type CliResult } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { normaliseOutput } from '../helpers/normalise.js';
import { destPairs, itemLines, rsyncClient, stagingDirs, type RsyncResult } from '../helpers/remote-pull.js';

let root: string;
let src: string;
let rsh: string;
/** -H's source: a group all below `c/` (c/f2, c/f3), one reaching out of it (c/f1, k/h1). */
let hsrc: string;
/** -X's source: `src`'s tree with a user xattr on `c/`, entries below it, and a file elsewhere. */
let xsrc: string;

const stamp = (paths: string[], t: string): void => void execFileSync('touch', ['-h', '-d', `@${t}`, ...paths]);

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rpullignex-'));
  src = path.join(root, 'src');
  for (const d of ['c/d', 'e', 'k']) fs.mkdirSync(path.join(src, d), { recursive: true });
  fs.writeFileSync(path.join(src, 'a'), 'one\n');
  fs.writeFileSync(path.join(src, 'c', 'f1'), 'hello\n');
  // Large enough that fetching it shows in the byte figures.
  fs.writeFileSync(path.join(src, 'c', 'f2'), Buffer.alloc(20_000, 'q'));
  fs.writeFileSync(path.join(src, 'c', 'd', 'g'), 'x\n');
  fs.symlinkSync('target', path.join(src, 'c', 'l'));
  execFileSync('mkfifo', [path.join(src, 'c', 'fifo')]);
  fs.writeFileSync(path.join(src, 'e', 'h'), 'e\n');
  fs.writeFileSync(path.join(src, 'k', 'm'), 'm\n');
  const all = ['a', 'c/f1', 'c/f2', 'c/d/g', 'c/l', 'c/fifo', 'c/d', 'c', 'e/h', 'e', 'k/m', 'k', '.'];
  stamp(all.map((r) => path.join(src, r)), '1700000000');
  hsrc = path.join(root, 'hsrc');
  for (const d of ['c', 'k']) fs.mkdirSync(path.join(hsrc, d), { recursive: true });
  fs.writeFileSync(path.join(hsrc, 'c', 'f1'), 'hello\n');
  fs.linkSync(path.join(hsrc, 'c', 'f1'), path.join(hsrc, 'k', 'h1'));
  fs.writeFileSync(path.join(hsrc, 'c', 'f2'), Buffer.alloc(20_000, 'q'));
  fs.linkSync(path.join(hsrc, 'c', 'f2'), path.join(hsrc, 'c', 'f3'));
  fs.writeFileSync(path.join(hsrc, 'k', 'm'), 'm\n');
  stamp(['c/f1', 'c/f2', 'k/m', 'c', 'k', '.'].map((r) => path.join(hsrc, r)), '1700000000');
  xsrc = path.join(root, 'xsrc');
  execFileSync('cp', ['-a', `${src}/.`, xsrc]);
  for (const r of ['c', 'c/d', 'c/f1', 'k/m', 'a']) execFileSync('setfattr', ['-h', '-n', 'user.x', '-v', '1', path.join(xsrc, r)]);
  stamp(['c/d', 'c', 'k', '.'].map((r) => path.join(xsrc, r)), '1700000000');
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The destination both clients start from: a file where `c/` goes, a FIFO where `e/` goes, `k/` a directory. */
function seed(dst: string): void {
  fs.mkdirSync(path.join(dst, 'k'), { recursive: true });
  fs.writeFileSync(path.join(dst, 'z'), 'z\n');
  fs.writeFileSync(path.join(dst, 'c'), 'a file\n');
  execFileSync('mkfifo', [path.join(dst, 'e')]);
  stamp(['z', 'c', 'e', 'k', '.'].map((r) => path.join(dst, r)), '1600000000');
}

/** The summary's "sent" and "received" figures. */
function figures(out: string): [number, number] {
  const m = /^sent ([\d,]+) bytes {2}received ([\d,]+) bytes/m.exec(out);
  expect(m, out).not.toBeNull();
  return [Number(m![1]!.replace(/,/g, '')), Number(m![2]!.replace(/,/g, ''))];
}

/** stdout's lines other than the -i lines, the byte figures left out, as a set (rsync prints from two processes). */
const otherLines = (out: string): string[] =>
  normaliseOutput(out, 'rsync').split('\n').filter((l) => l && !itemLines(l).length).sort();

/**
 * stderr's lines as a set, the destination named alike, rsync's source location dropped; rsync's
 * default_perms_for_dir warnings (its ACL look-up of a directory the destination lacks, without -p) left
 * out: arsync has none.
 */
const errLines = (err: string, dst: string): string[] =>
  err
    .split('\n')
    .filter((l) => l && !l.startsWith('default_perms_for_dir:'))
    .map((l) => l.split(dst).join('DST').replace(/^arsync([: ])/, 'rsync$1').replace(/ at \S+\(\d+\) \[\w+=[^\]]+\]$/, ''))
    .sort();

/**
 * rsync's and arsync's runs compared: exit code, stdout, stderr. `transfers`: of the -i lines only the
 * files received, and no count of created files (rsync's batch reader prints the other entries' lines,
 * and counts the directories made, as the batch records them, and a batch arsync's pull writes records
 * only the files it asks for: docs/options.md --write-batch).
 */
function sameRun(r: RsyncResult, ours: CliResult, dirs: { theirs: string; mine: string }, what: string, transfers = false): void {
  expect(ours.code, show(ours)).toBe(r.code);
  const items = (out: string): string[] => itemLines(out).filter((l) => !transfers || l.startsWith('>'));
  const others = (out: string): string[] => otherLines(out).filter((l) => !transfers || !l.startsWith('Number of created files:'));
  expect(items(ours.stdout), what).toEqual(items(r.out));
  expect(others(ours.stdout), what).toEqual(others(r.out));
  expect(errLines(ours.stderr, dirs.mine), what).toEqual(errLines(r.err, dirs.theirs));
}

/**
 * The trees compared; under -t the non-directories at `c/`'s and `e/`'s names keep their own times
 * (above), and so does -K's `x/` that `c` leads to, which each client leaves with the time of its last
 * write into it.
 */
function sameTree(theirs: string, mine: string, tolerance: number, times: boolean, allowed?: RegExp): void {
  const diffs = formatDiffs(compareTrees(theirs, mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false, times }));
  expect(diffs.filter((d) => !/^[cex]: mtime /.test(d) && !allowed?.test(d))).toEqual([]);
}

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const tolerance = fidelity(e.name).nsTimes ? 0 : 1000;
  const pair = destPairs(() => root, e.name);
  const staging = stagingDirs(() => root, e.name, pair);

  for (const opts of [
    ['-ri', '--ignore-existing'],
    ['-ai', '--ignore-existing'],
    ['-av', '--ignore-existing'],
    ['-ai', '--existing'],
    ['-ai', '--existing', '--ignore-existing'],
  ]) {
    it(`${opts.join(' ')}: nothing asked for below a non-directory at a directory's name; rsync's lines, figures and tree`, async () => {
      seed(pair.theirs);
      seed(pair.mine);
      const r = rsyncClient([...opts, '--stats', '-e', rsh, `host:${src}/`, `${pair.theirs}/`]);
      const ours = await runCli([eng, ...opts, '--stats', '-e', rsh, `host:${src}/`, `${pair.mine}/`], { env: { TMPDIR: staging.dir } });
      sameRun(r, ours, pair, opts.join(' '));
      // What came over the wire: nothing of c/'s and e/'s files.
      const literal = (out: string): string | undefined => /^Literal data: (.*)$/m.exec(out)?.[1];
      expect(literal(ours.stdout)).toBe(literal(r.out));
      const [ws, wr] = figures(r.out);
      const [as, ar] = figures(ours.stdout);
      expect(Math.abs(as - ws), `sent ${as} against rsync's ${ws}`).toBeLessThanOrEqual(16);
      expect(Math.abs(ar - wr), `received ${ar} against rsync's ${wr}`).toBeLessThanOrEqual(32);
      sameTree(pair.theirs, pair.mine, tolerance, opts[0] !== '-ri');
      // The staging tree is gone.
      expect(fs.readdirSync(staging.dir)).toEqual([]);
    });
  }

  // -H: rsync's generator fails each member below `c/` (Not a directory) and so never asks for a group's
  // data under one of them; a group with a member elsewhere comes under that member (k/h1), one with
  // none does not come at all. (The client without incremental recursion, as every test here: with it
  // rsync 3.5 waits forever for the group all below `c/`.) Which members rsync's generator names on
  // stderr is its -H deferral's (the last one's stat, the others' link to a member fetched), arsync's
  // local run fails each one's stat: those lines are compared by name only (docs/options.md).
  it('-aiH --ignore-existing: no hard-linked file below a non-directory at a directory\'s name is fetched', async () => {
    seed(pair.theirs);
    seed(pair.mine);
    const opts = ['-aiH', '--ignore-existing', '--stats', '-e', rsh, `host:${hsrc}/`];
    const r = rsyncClient([...opts, `${pair.theirs}/`]);
    const ours = await runCli([eng, ...opts, `${pair.mine}/`], { env: { TMPDIR: staging.dir } });
    expect(ours.code, show(ours)).toBe(r.code);
    expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
    expect(otherLines(ours.stdout)).toEqual(otherLines(r.out));
    const literal = (out: string): string | undefined => /^Literal data: (.*)$/m.exec(out)?.[1];
    expect(literal(ours.stdout), show(ours)).toBe(literal(r.out));
    const [, wr] = figures(r.out);
    const [, ar] = figures(ours.stdout);
    expect(Math.abs(ar - wr), `received ${ar} against rsync's ${wr}`).toBeLessThanOrEqual(32);
    const members = (err: string, dst: string): string[] => errLines(err, dst).filter((l) => !/"DST\/c\/f[123]"/.test(l));
    expect(members(ours.stderr, pair.mine)).toEqual(members(r.err, pair.theirs));
    sameTree(pair.theirs, pair.mine, tolerance, true);
    expect(fs.readdirSync(staging.dir)).toEqual([]);
  });

  // -K: a symlink in the destination at `c/`'s name counts as the directory it leads to (rsync's
  // generator stats through it), so the files below go there; one leading to a file blocks `c/` as a
  // file does, and nothing below it is asked for. (A dangling one rsync's generator reads as no entry
  // at all below it, where arsync fails each entry as below a file: docs/options.md.)
  //
  // A link to a directory out of the destination: rsync's generator fails each entry below ("Too many
  // levels of symbolic links") and asks for none; arsync's local run refuses each write below (Invalid
  // cross-device link, DESIGN §3 rule 2), so its pull asks for none either. The lines differ there
  // (docs/options.md): the exit, the figures and the tree match. (One that climbs out and back in, which
  // rsync refuses too, the node engine goes through: arsync fetches what is below it.)
  for (const [kind, target, lines] of [
    ['a directory', (): string => 'x', true],
    ['a file', (): string => 'z', true],
    ['a directory out of the destination', (dst: string): string => `../${path.basename(dst)}-out`, false],
  ] as const) {
    it(`-aiK --ignore-existing, a symlink to ${kind} at c/'s name: rsync's ${lines ? 'lines, ' : ''}figures and tree`, async () => {
      for (const dst of [pair.theirs, pair.mine]) {
        fs.mkdirSync(path.join(dst, 'x'), { recursive: true });
        fs.mkdirSync(`${dst}-out`);
        fs.mkdirSync(path.join(dst, 'k'));
        fs.mkdirSync(path.join(dst, 'e'));
        fs.writeFileSync(path.join(dst, 'z'), 'z\n');
        fs.symlinkSync(target(dst), path.join(dst, 'c'));
        stamp(['x', 'k', 'e', 'z', 'c', '.'].map((r) => path.join(dst, r)), '1600000000');
      }
      const opts = ['-aiK', '--ignore-existing', '--stats', '-e', rsh, `host:${src}/`];
      const r = rsyncClient([...opts, `${pair.theirs}/`]);
      const ours = await runCli([eng, ...opts, `${pair.mine}/`], { env: { TMPDIR: staging.dir } });
      if (lines) sameRun(r, ours, pair, kind);
      else expect(ours.code, show(ours)).toBe(r.code);
      for (const dst of [pair.theirs, pair.mine]) expect(fs.readdirSync(`${dst}-out`), kind).toEqual([]);
      const literal = (out: string): string | undefined => /^Literal data: (.*)$/m.exec(out)?.[1];
      expect(literal(ours.stdout), show(ours)).toBe(literal(r.out));
      const [, wr] = figures(r.out);
      const [, ar] = figures(ours.stdout);
      expect(Math.abs(ar - wr), `received ${ar} against rsync's ${wr}`).toBeLessThanOrEqual(32);
      // (A link naming its own destination names each tool's.)
      sameTree(pair.theirs, pair.mine, tolerance, true, lines ? undefined : /^c: symlink target /);
      expect(fs.readdirSync(staging.dir)).toEqual([]);
    });
  }

  // --read-batch of a batch rsync's client wrote pulling into an empty destination (it holds every
  // file's data): rsync's reader skips the records of the files it fails ("Skipping batched update").
  it('--read-batch --ignore-existing of a batch holding their data: skipped as rsync skips them', async () => {
    const batch = path.join(root, `full-${e.name}`);
    const w = rsyncClient(['-a', `--write-batch=${batch}`, '-e', rsh, `host:${src}/`, `${pair.theirs}-fresh/`]);
    expect(w.code, w.err).toBe(0);
    seed(pair.theirs);
    seed(pair.mine);
    const r = rsyncClient(['-a', '--ignore-existing', `--read-batch=${batch}`, `${pair.theirs}/`]);
    const ours = await runCli([eng, '-a', '--ignore-existing', `--read-batch=${batch}`, `${pair.mine}/`], { env: { TMPDIR: staging.dir } });
    expect(ours.code, show(ours)).toBe(r.code);
    // (Without -i or -v: rsync's reader prints the batch's own item lines for what it does not
    // transfer, recorded against the destination the batch was written for.)
    expect(ours.stdout.split('\n').sort(), show(ours)).toEqual(r.out.split('\n').sort());
    expect(errLines(ours.stderr, pair.mine)).toEqual(errLines(r.err, pair.theirs));
    sameTree(pair.theirs, pair.mine, tolerance, true);
  });

  // A batch written by a pull onto such a destination: rsync's holds no data for them, and arsync's
  // must not either. Each read by rsync onto the same destination: the same run.
  it('--write-batch in a pull with --ignore-existing: no data for them, read as rsync reads its own', async () => {
    const theirBatch = path.join(root, `theirs-${e.name}-${pair.n}.batch`);
    const myBatch = path.join(root, `mine-${e.name}-${pair.n}.batch`);
    seed(pair.theirs);
    seed(pair.mine);
    const r = rsyncClient(['-ai', '--ignore-existing', '--stats', `--write-batch=${theirBatch}`, '-e', rsh, `host:${src}/`, `${pair.theirs}/`]);
    const ours = await runCli([eng, '-ai', '--ignore-existing', '--stats', `--write-batch=${myBatch}`, '-e', rsh, `host:${src}/`, `${pair.mine}/`], { env: { TMPDIR: staging.dir } });
    sameRun(r, ours, pair, 'write-batch');
    // Each batch read by both tools onto a fresh copy of the old destination.
    for (const [who, batch] of [['theirs', theirBatch], ['mine', myBatch]] as const) {
      const readTheirs = `${pair.theirs}-read-${who}`;
      const readMine = `${pair.mine}-read-${who}`;
      seed(readTheirs);
      seed(readMine);
      const rr = rsyncClient(['-ai', '--ignore-existing', '--stats', `--read-batch=${batch}`, `${readTheirs}/`]);
      const rm = await runCli([eng, '-ai', '--ignore-existing', '--stats', `--read-batch=${batch}`, `${readMine}/`], { env: { TMPDIR: staging.dir } });
      sameRun(rr, rm, { theirs: readTheirs, mine: readMine }, `read-batch of ${who}`, who === 'mine');
      expect(/^Literal data: (.*)$/m.exec(rm.stdout)?.[1], `read-batch of ${who}`).toBe(/^Literal data: (.*)$/m.exec(rr.out)?.[1]);
      sameTree(readTheirs, readMine, tolerance, true);
    }
    // rsync reading arsync's batch does what it does with its own.
    const back = `${pair.theirs}-back`;
    const again = `${pair.theirs}-again`;
    seed(back);
    seed(again);
    const rb = rsyncClient(['-ai', '--ignore-existing', '--stats', `--read-batch=${myBatch}`, `${back}/`]);
    const rr = rsyncClient(['-ai', '--ignore-existing', '--stats', `--read-batch=${theirBatch}`, `${again}/`]);
    const asCli = (x: RsyncResult): CliResult => ({ code: x.code, signal: null, stdout: x.out, stderr: x.err, argv: ['rsync'] });
    sameRun(rr, asCli(rb), { theirs: again, mine: back }, 'rsync reading either batch', true);
  });

  // -X: rsync's generator names to its sender (and so to a batch) an entry whose xattrs differ only
  // when it itemizes it: none of c/'s (left as it stands), nothing below it, not k/m that --existing
  // leaves out. A batch naming them makes rsync's reader set the sender's xattrs and the directory's
  // mode on the file at c/'s name and fail the stat of those below and of k/m.
  it.skipIf(!fidelity(e.name).xattrs)('--write-batch in a -X pull with --ignore-existing/--existing: names no entry rsync\'s generator passes by', async () => {
    for (const opts of [
      ['-aiX', '--ignore-existing'],
      ['-aiX', '--existing', '--ignore-existing'],
    ]) {
      const what = opts.join(' ');
      const tag = opts.length;
      const theirBatch = path.join(root, `theirs-x${tag}-${e.name}-${pair.n}.batch`);
      const myBatch = path.join(root, `mine-x${tag}-${e.name}-${pair.n}.batch`);
      const [theirs, mine] = [`${pair.theirs}-x${tag}`, `${pair.mine}-x${tag}`];
      seed(theirs);
      seed(mine);
      const r = rsyncClient([...opts, '--stats', `--write-batch=${theirBatch}`, '-e', rsh, `host:${xsrc}/`, `${theirs}/`]);
      const ours = await runCli([eng, ...opts, '--stats', `--write-batch=${myBatch}`, '-e', rsh, `host:${xsrc}/`, `${mine}/`], { env: { TMPDIR: staging.dir } });
      sameRun(r, ours, { theirs, mine }, what);
      // rsync reading arsync's batch does what it does with its own: the same exit, errors and tree.
      const [back, again] = [`${theirs}-back`, `${theirs}-again`];
      seed(back);
      seed(again);
      const rb = rsyncClient([...opts, '--stats', `--read-batch=${myBatch}`, `${back}/`]);
      const rr = rsyncClient([...opts, '--stats', `--read-batch=${theirBatch}`, `${again}/`]);
      expect(rb.code, `${what}: ${rb.err}`).toBe(rr.code);
      expect(errLines(rb.err, back), what).toEqual(errLines(rr.err, again));
      expect(formatDiffs(compareTrees(again, back, { mtimeToleranceNs: tolerance, xattrs: true, acls: false, times: true })), what).toEqual([]);
    }
  });
});
