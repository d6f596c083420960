// The direct path of a plain copy (run/direct.ts, native/direct.c): new regular files go from the listing
// to the batches as encoded ops. Against rsync on every engine (the node engine never takes it, so its
// suite holds the planner's way to the same answers): the tree, --stats' counts, and a per-file error,
// with directories wider than a listing chunk, files left to the planner (16 MiB and more, -H groups,
// symlinks, FIFOs) among them, and a destination that already has some of the files.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isRoot, removeTemps, sh, tempDir } from '../helpers/tree.js';
import { compareTrees, findTempFiles, formatDiffs } from '../helpers/compare.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';
import { NOBODY, rsyncAs } from '../helpers/as-user.js';

let base: string;
let src: string;

/** Chunks of 7 entries: every directory below is several chunks wide. */
const env = { ARSYNC_TEST_PAIR_CHUNK: '7' };

beforeAll(() => {
  base = tempDir('arsync-direct-');
  src = path.join(base, 'src');
  for (const d of ['', 'a', 'a/deep', 'b']) {
    fs.mkdirSync(path.join(src, d), { recursive: true });
    for (let i = 0; i < 30; i++) {
      const f = path.join(src, d, `f${i}`);
      fs.writeFileSync(f, Buffer.alloc((i * 37) % 5000, 0x41 + i));
      fs.chmodSync(f, i % 3 ? 0o644 : 0o750);
      fs.utimesSync(f, 1_650_000_000 + i, 1_650_000_000.25 + i);
    }
  }
  // Left to the planner: a file of BATCH_BYTES (16 MiB, sparse here), a hard-link pair, a symlink, a FIFO.
  const big = fs.openSync(path.join(src, 'a', 'big'), 'w');
  fs.ftruncateSync(big, 16 << 20);
  fs.writeSync(big, 'end', (16 << 20) - 3);
  fs.closeSync(big);
  fs.linkSync(path.join(src, 'b', 'f1'), path.join(src, 'b', 'f1-link'));
  fs.symlinkSync('f2', path.join(src, 'b', 'sym'));
  spawnSync('mkfifo', [path.join(src, 'b', 'fifo')]);
});
afterAll(() => removeTemps());

/** rsync's --stats lines that count entries and bytes (times and speeds left out). */
const counts = (out: string): string[] =>
  out.split('\n').filter((l) => /^(Number of (files|created files|regular files transferred)|Total (file size|transferred file size)|Literal data):/.test(l));

/** A destination holding two of the source's files: a/f3 as it is, a/f4 changed. */
function partialDest(d: string): void {
  fs.mkdirSync(path.join(d, 'a'), { recursive: true });
  fs.copyFileSync(path.join(src, 'a', 'f3'), path.join(d, 'a', 'f3'));
  fs.writeFileSync(path.join(d, 'a', 'f4'), 'changed');
}

/**
 * A destination the source was copied to, then changed under it: a/f5 other bytes and size, a/f6 the
 * same size with other bytes and an older time, a/f7 other permission bits only, b/f8 other bytes as one
 * of two links (b/f8-other the second), a/deep/f9 made a directory and b/f10 a symlink, a/f11 gone (new
 * again), a/f12 other bytes and a newer time (-u keeps it), b/extra extraneous.
 */
function staleDest(d: string): void {
  fs.rmSync(d, { recursive: true, force: true });
  const made = spawnSync('rsync', ['-a', `${src}/`, `${d}/`]);
  if (made.status !== 0) throw new Error(`rsync: ${made.stderr}`);
  const at = (n: string): string => path.join(d, n);
  fs.writeFileSync(at('a/f5'), 'x');
  const f6 = fs.readFileSync(at('a/f6'));
  fs.writeFileSync(at('a/f6'), Buffer.alloc(f6.length, 0x7a));
  fs.utimesSync(at('a/f6'), 1_600_000_000, 1_600_000_000);
  fs.chmodSync(at('a/f7'), 0o600);
  fs.rmSync(at('b/f8'));
  fs.writeFileSync(at('b/f8'), 'linked twin');
  fs.linkSync(at('b/f8'), at('b/f8-other'));
  fs.rmSync(at('b/f9'));
  fs.mkdirSync(at('b/f9'));
  fs.rmSync(at('b/f10'));
  fs.symlinkSync('f1', at('b/f10'));
  fs.rmSync(at('a/f11'));
  fs.writeFileSync(at('a/f12'), 'newer here');
  fs.utimesSync(at('a/f12'), 2_000_000_000, 2_000_000_000);
  fs.writeFileSync(at('b/extra'), 'extraneous');
}

function rsync(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('rsync', args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describeEngines((e) => {
  const eng = `--engine=${e.name}`;

  for (const flags of [['-a'], ['-aH']]) {
    it(`${flags.join(' ')} --stats into a fresh destination: rsync's tree and counts`, async () => {
      const ours = path.join(base, `fresh${flags.join('')}-${e.name}`);
      const theirs = path.join(base, `fresh${flags.join('')}-rsync-${e.name}`);
      const r = await runCli([...flags, '--stats', eng, `${src}/`, `${ours}/`], { env });
      expect(r.code, show(r)).toBe(0);
      expect(r.stderr, show(r)).toBe('');
      const o = rsync([...flags, '--stats', `${src}/`, `${theirs}/`]);
      expect(o.code, o.stderr).toBe(0);
      expect(counts(r.stdout)).toEqual(counts(o.stdout));
      expectExactCopy(src, ours, e.name, { withXattrs: false, ...(flags.includes('-aH') ? {} : { noHardlinks: true }) });
    });
  }

  // Runs that keep the direct path since session 28: filter rules (the sender's verdict on each encoded
  // name), --chmod (each op's mode rewritten), -i (its line from the op's name), a dry run (counted and
  // named, nothing queued); since session 29 --max-size/--min-size below --info=skip (the files outside
  // them listed, not sent). Against rsync's tree, --stats' counts and stdout, chunks of 7 entries.
  const keeps = [['-a', '--exclude=f1*', '--exclude=/a/deep/', '--exclude=b/f2?'], ['-a', '--chmod=Fgo-rwx,D750'], ['-ai'], ['-avn'], ['-ain', '--exclude=f2*']];
  keeps.push(['-av', '--max-size=2k', '--min-size=100'], ['-ain', '--min-size=1.5k', '--exclude=f1*']);
  for (const flags of keeps) {
    it(`${flags.join(' ')} --stats into a fresh destination: rsync's tree, counts and lines`, async () => {
      const tag = flags.join('').replace(/[^a-z0-9]/gi, '');
      const ours = path.join(base, `keep-${tag}-${e.name}`);
      const theirs = path.join(base, `keep-${tag}-rsync-${e.name}`);
      const r = await runCli([...flags, '--stats', eng, `${src}/`, `${ours}/`], { env });
      expect(r.code, show(r)).toBe(0);
      const o = rsync([...flags, '--stats', `${src}/`, `${theirs}/`]);
      expect(o.code, o.stderr).toBe(0);
      expect(counts(r.stdout)).toEqual(counts(o.stdout));
      const lines = (out: string): string[] => out.split('\n').filter((l) => l && !/^(created directory|sent |total size|Number of|Total |Literal|Matched|File list)/.test(l));
      expect(lines(r.stdout), show(r)).toEqual(lines(o.stdout));
      if (flags.some((f) => f.endsWith('n'))) {
        expect(fs.existsSync(ours)).toBe(false);
        return;
      }
      // (rsync leaves a directory's, a symlink's or a FIFO's fraction of a second behind when the source
      // was made within the same second: times within 2 s; the files' exact times are the -a case's.)
      const diffs = formatDiffs(compareTrees(theirs, ours, { owners: true, xattrs: false, acls: false, hardlinks: false, mtimeToleranceNs: 2e9 }));
      expect(diffs, show(r)).toEqual([]);
      expect(findTempFiles(ours, src)).toEqual([]);
    });
  }

  it('-a --delete onto a destination holding some of the files (some changed, some extraneous): as rsync', async () => {
    const ours = path.join(base, `part-${e.name}`);
    const theirs = path.join(base, `part-rsync-${e.name}`);
    for (const d of [ours, theirs]) {
      partialDest(d);
      fs.writeFileSync(path.join(d, 'a', 'extra'), 'gone after the run');
    }
    const r = await runCli(['-a', '--delete', '--stats', eng, `${src}/`, `${ours}/`], { env });
    expect(r.code, show(r)).toBe(0);
    const o = rsync(['-a', '--delete', '--stats', `${src}/`, `${theirs}/`]);
    expect(o.code, o.stderr).toBe(0);
    expect(counts(r.stdout)).toEqual(counts(o.stdout));
    expect(fs.existsSync(path.join(ours, 'a', 'extra'))).toBe(false);
    expectExactCopy(src, ours, e.name, { withXattrs: false, noHardlinks: true });
  });

  it('-ai --existing --stats onto a destination holding some of the files: only those, as rsync', async () => {
    const ours = path.join(base, `existing-${e.name}`);
    const theirs = path.join(base, `existing-rsync-${e.name}`);
    for (const d of [ours, theirs]) partialDest(d);
    const r = await runCli(['-ai', '--existing', '--stats', eng, `${src}/`, `${ours}/`], { env });
    expect(r.code, show(r)).toBe(0);
    const o = rsync(['-ai', '--existing', '--stats', `${src}/`, `${theirs}/`]);
    expect(o.code, o.stderr).toBe(0);
    expect(counts(r.stdout)).toEqual(counts(o.stdout));
    const lines = (out: string): string[] => out.split('\n').filter((l) => /^[.>c]/.test(l));
    expect(lines(r.stdout), show(r)).toEqual(lines(o.stdout));
    expect(fs.readdirSync(ours).sort()).toEqual(['a']);
    expect(fs.readdirSync(path.join(ours, 'a')).sort()).toEqual(['f3', 'f4']);
    expect(fs.readFileSync(path.join(ours, 'a', 'f4'))).toEqual(fs.readFileSync(path.join(src, 'a', 'f4')));
  });

  // A re-sync (since session 44): files replacing destination files whose data differs come as direct ops
  // too, from the tree scan's dirty listings or (chunks of 7 entries: every directory here is wider) the
  // pair cursor's; what the planner decides otherwise stays its own (a file whose attributes alone differ,
  // one of several links on the destination, an entry of another type, a newer one under -u, a backup).
  const resyncs = [['-a'], ['-av'], ['-a', '--delete'], ['-ai'], ['-au'], ['-a', '--backup'], ['-a', '--inplace'], ['-avn']];
  for (const flags of resyncs) {
    for (const chunked of [false, true]) {
      it(`${flags.join(' ')} --stats, a re-sync over changed, new and replaced entries${chunked ? ' (listing chunks of 7)' : ''}: as rsync`, async () => {
        const tag = `${flags.join('').replace(/[^a-z0-9]/gi, '')}${chunked ? '-c' : ''}`;
        const ours = path.join(base, `resync-${tag}-${e.name}`);
        const theirs = path.join(base, `resync-${tag}-rsync-${e.name}`);
        for (const d of [ours, theirs]) staleDest(d);
        const r = await runCli([...flags, '--stats', eng, `${src}/`, `${ours}/`], chunked ? { env } : {});
        expect(r.code, show(r)).toBe(0);
        const o = rsync([...flags, '--stats', `${src}/`, `${theirs}/`]);
        expect(o.code, o.stderr).toBe(0);
        expect(counts(r.stdout)).toEqual(counts(o.stdout));
        const lines = (out: string): string[] => out.split('\n').filter((l) => l && !/^(sent |total size|Number of|Total |Literal|Matched|File list)/.test(l));
        expect(lines(r.stdout).sort(), show(r)).toEqual(lines(o.stdout).sort());
        // (Times within 2 s: rsync leaves a directory's, a symlink's or a FIFO's made within the same second
        // behind, and the extraneous files were made apart; the sent files' times are checked exactly below.)
        const diffs = formatDiffs(compareTrees(theirs, ours, { owners: true, xattrs: false, acls: false, hardlinks: true, mtimeToleranceNs: 2e9 }));
        expect(diffs, show(r)).toEqual([]);
        expect(findTempFiles(ours, src)).toEqual([]);
        if (flags.includes('-avn') || flags.includes('-au')) return;
        // The changed files hold the source's bytes and time now; the one of two links was replaced, not
        // written through.
        const mtime = (p: string): bigint => fs.lstatSync(p, { bigint: true }).mtimeNs / (e.name === 'node' ? 1000n : 1n);
        for (const n of ['a/f5', 'a/f6', 'a/f11', 'b/f8', 'b/f9', 'b/f10']) {
          expect(fs.readFileSync(path.join(ours, n)), n).toEqual(fs.readFileSync(path.join(src, n)));
          expect(mtime(path.join(ours, n)), n).toBe(mtime(path.join(src, n)));
        }
        if (flags.includes('--delete')) expect(fs.existsSync(path.join(ours, 'b', 'f8-other'))).toBe(false);
        else if (!flags.includes('--inplace')) expect(fs.readFileSync(path.join(ours, 'b', 'f8-other')).toString()).toBe('linked twin');
      });
    }
  }

  it.skipIf(!isRoot)('files the (non-root) user cannot read: each named, the rest copied, exit 23, as rsync', async () => {
    const d = path.join(base, `err-${e.name}`);
    const tree = path.join(d, 'src');
    // A retry starts again from nothing.
    fs.rmSync(d, { recursive: true, force: true });
    fs.mkdirSync(d);
    // The (non-root) user reaches it: every directory down to it searchable.
    fs.chmodSync(base, 0o755);
    fs.chmodSync(d, 0o755);
    fs.cpSync(src, tree, { recursive: true, filter: (p) => !/(fifo|big)$/.test(p) });
    sh(`chmod -R a+rX '${tree}'`);
    const secret = ['a/f0', 'a/f9', 'b/f20'];
    for (const n of secret) fs.chmodSync(path.join(tree, n), 0o600);
    const dsts = [path.join(d, 'dst'), path.join(d, 'rsync-dst')];
    for (const x of dsts) {
      fs.mkdirSync(x);
      fs.chownSync(x, 65534, 65534);
    }
    const r = await runCli(['-a', eng, `${tree}/`, `${dsts[0]}/`], { env, user: NOBODY });
    expect(r.code, show(r)).toBe(23);
    for (const n of secret) expect(r.stderr, show(r)).toContain(n);
    const rs = rsyncAs(NOBODY, ['-a', `${tree}/`, `${dsts[1]}/`]);
    expect(rs.code, rs.stderr).toBe(23);
    const diffs = (x: string): string[] => formatDiffs(compareTrees(tree, x, { owners: false, xattrs: false, acls: false, hardlinks: false, mtimeToleranceNs: e.name === 'node' ? 1000 : 0 }));
    expect(diffs(dsts[0]!)).toEqual(secret.map((n) => `${n}: missing in dst`));
    // rsync leaves out the same files. (Its whole tree is not compared: in one loaded CI run rsync's copy
    // differed from the source in five more entries, not seen when the comparison allows 1 µs (the node
    // engine's case), so most likely times; it did not happen again in a run by hand.)
    expect(diffs(dsts[1]!).filter((l) => l.endsWith(': missing in dst'))).toEqual(secret.map((n) => `${n}: missing in dst`));
    expect(findTempFiles(dsts[0]!, tree)).toEqual([]);
  });
});
