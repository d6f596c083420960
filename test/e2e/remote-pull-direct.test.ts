// A pull's received files are linked into place under their temp names (Preserve.AdoptSource,
// native/adopt.c) instead of copied a second time: every option that shapes how a file is written
// (--delay-updates, --partial-dir, -T, --backup-dir, --link-dest, -S, --fsync) still gives rsync's
// tree, a symlink or hard link planted in the destination is replaced, never written through, no
// pulled file keeps a second link to the staging tree, and a staging tree on another filesystem (no
// link possible) falls back to the copy.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { destPairs, itemLines, rsyncClient, stagingDirs } from '../helpers/remote-pull.js';

let root: string;
let src: string;
let rsh: string;
let outside: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rpulldirect-'));
  src = path.join(root, 'src');
  const w = (rel: string, data: string | Buffer): void => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), data);
  };
  w('a', 'new a');
  w('b', 'bee');
  w('d/x', 'x in d, new');
  w('d/y', Buffer.alloc(300_000, 9));
  // Mostly zeros: -S leaves holes.
  const zeros = Buffer.alloc(1 << 20);
  zeros.write('head');
  zeros.write('tail', zeros.length - 4);
  w('zeros', zeros);
  fs.chmodSync(path.join(src, 'b'), 0o640);
  fs.chmodSync(path.join(src, 'd', 'x'), 0o751);
  const when = new Date('2021-05-06T07:08:09.123Z');
  for (const rel of ['a', 'b', 'd/x', 'd/y', 'zeros', 'd', '.']) fs.utimesSync(path.join(src, rel), when, when);
  rsh = fakeRsh(root);
  outside = path.join(root, 'outside');
  fs.mkdirSync(outside);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** An old destination: `a` and `d/x` differ, `b` is a symlink to a file outside, `d/y` a hard link to one (both trees' to the same). */
function seedDest(dst: string, tag: string): { target: string; linked: string } {
  fs.mkdirSync(path.join(dst, 'd'), { recursive: true });
  fs.writeFileSync(path.join(dst, 'a'), 'old a');
  fs.writeFileSync(path.join(dst, 'd', 'x'), 'old x');
  const target = path.join(outside, `target-${tag}`);
  fs.writeFileSync(target, 'outside, must stay');
  // Relative, so that both trees hold the same link (and the same backup of it).
  fs.symlinkSync(path.relative(dst, target), path.join(dst, 'b'));
  const linked = path.join(outside, `linked-${tag}`);
  fs.writeFileSync(linked, 'outside too, must stay');
  fs.linkSync(linked, path.join(dst, 'd', 'y'));
  const old = new Date('2020-01-01T00:00:00Z');
  for (const rel of ['a', 'd/x', 'd']) fs.utimesSync(path.join(dst, rel), old, old);
  return { target, linked };
}

/** Every regular file beneath `dir` with more than one link (none: the staging tree's link is gone). */
function multiLinked(dir: string): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(d.parentPath, d.name);
    if (d.isFile() && fs.lstatSync(p).nlink > 1) out.push(path.relative(dir, p));
  }
  return out;
}

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const tolerance = fidelity(e.name).nsTimes ? 0 : 1000;
  const pair = destPairs(() => root, e.name);
  const staging = stagingDirs(() => root, e.name, pair);

  /** Both clients pull into a seeded destination with `opts` (a `{}` in an option stands for the destination's own name). */
  const pullBoth = async (opts: (dst: string) => string[]): Promise<void> => {
    const t = seedDest(pair.theirs, `${e.name}-${pair.n}`);
    const m = seedDest(pair.mine, `${e.name}-${pair.n}`);
    const r = rsyncClient([...opts(pair.theirs), '-e', rsh, `host:${src}/`, `${pair.theirs}/`]);
    const ours = await runCli([eng, ...opts(pair.mine), '-e', rsh, `host:${src}/`, `${pair.mine}/`], { env: { TMPDIR: staging.dir } });
    expect(r.code, r.out + r.err).toBe(0);
    expect(ours.code, show(ours)).toBe(0);
    expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
    const diffs = compareTrees(pair.theirs, pair.mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false, times: !opts(pair.mine).some((o) => o.startsWith('--backup')) });
    expect(formatDiffs(diffs)).toEqual([]);
    // Nothing was written through the planted links, and each pulled file is a file of its own.
    for (const [dst, o] of [[pair.theirs, t], [pair.mine, m]] as const) {
      expect(fs.readFileSync(o.target, 'utf8')).toBe('outside, must stay');
      expect(fs.readFileSync(o.linked, 'utf8')).toBe('outside too, must stay');
      expect(fs.lstatSync(path.join(dst, 'b')).isFile()).toBe(true);
      expect(fs.readFileSync(path.join(dst, 'a'), 'utf8')).toBe('new a');
    }
    expect(fs.lstatSync(path.join(pair.mine, 'd', 'x')).mode & 0o7777).toBe(0o751);
    expect(fs.lstatSync(path.join(pair.mine, 'b')).mode & 0o7777).toBe(0o640);
    expect(fs.readdirSync(staging.dir)).toEqual([]);
  };

  const CASES: [string, (dst: string) => string[]][] = [
    ['-ai', () => ['-ai']],
    ['-ai --delay-updates', () => ['-ai', '--delay-updates']],
    ['-ai --partial-dir=.pd', () => ['-ai', '--partial-dir=.pd']],
    ['-ai -T (a directory beside the destination)', (dst) => {
      fs.mkdirSync(`${dst}-t`, { recursive: true });
      return ['-ai', '-T', `${dst}-t`];
    }],
    ['-ai --backup-dir', () => ['-ai', '--backup-dir=bk']],
    ['-ai -S', () => ['-ai', '-S']],
    ['-ai --fsync', () => ['-ai', '--fsync']],
  ];
  for (const [label, opts] of CASES) {
    it(`pulls like rsync onto planted links: ${label}`, async () => {
      await pullBoth(opts);
      expect(multiLinked(pair.mine).filter((p) => !p.startsWith('bk'))).toEqual(multiLinked(pair.theirs).filter((p) => !p.startsWith('bk')));
    });
  }

  it('pulls like rsync with --link-dest: unchanged files linked to the old tree, changed ones fetched', async () => {
    const prev = path.join(root, `prev-${e.name}-${pair.n}`);
    fs.cpSync(src, prev, { recursive: true, preserveTimestamps: true });
    fs.writeFileSync(path.join(prev, 'a'), 'stale a');
    fs.utimesSync(path.join(prev, 'a'), new Date(0), new Date(0));
    const r = rsyncClient(['-ai', `--link-dest=${prev}`, '-e', rsh, `host:${src}/`, `${pair.theirs}/`]);
    const ours = await runCli([eng, '-ai', `--link-dest=${prev}`, '-e', rsh, `host:${src}/`, `${pair.mine}/`], { env: { TMPDIR: staging.dir } });
    expect(r.code, r.out + r.err).toBe(0);
    expect(ours.code, show(ours)).toBe(0);
    expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
    expect(formatDiffs(compareTrees(pair.theirs, pair.mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false, hardlinks: false }))).toEqual([]);
    // b is linked to the old tree's b (3 links: prev, theirs, mine); a came over the wire (one link).
    expect(fs.lstatSync(path.join(pair.mine, 'b')).ino).toBe(fs.lstatSync(path.join(prev, 'b')).ino);
    expect(fs.lstatSync(path.join(pair.mine, 'a')).nlink).toBe(1);
    expect(fs.readdirSync(staging.dir)).toEqual([]);
  });

  it('pulls like rsync when the staging tree is on another filesystem (the data is copied, not linked)', async () => {
    // /dev/shm and the test's directory are different filesystems here, or the case says nothing.
    const other = fs.statSync(root).dev === fs.statSync('/dev/shm').dev ? '/tmp' : '/dev/shm';
    expect(fs.statSync(other).dev).not.toBe(fs.statSync(root).dev);
    const far = fs.mkdtempSync(path.join(other, 'arsync-rpulldirect-tmp-'));
    try {
      const r = rsyncClient(['-ai', '-e', rsh, `host:${src}/`, `${pair.theirs}/`]);
      const ours = await runCli([eng, '-ai', '-e', rsh, `host:${src}/`, `${pair.mine}/`], { env: { TMPDIR: far } });
      expect(r.code, r.out + r.err).toBe(0);
      expect(ours.code, show(ours)).toBe(0);
      expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
      expect(formatDiffs(compareTrees(pair.theirs, pair.mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false }))).toEqual([]);
      expect(multiLinked(pair.mine)).toEqual([]);
      expect(fs.readdirSync(far)).toEqual([]);
    } finally {
      fs.rmSync(far, { recursive: true, force: true });
    }
  });
});
