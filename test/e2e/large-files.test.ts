// Files over the inline bound (a batch carrying more than 8 MiB of data): with the sync engine they are
// copied on contexts lent to native threads (pool/dispatcher.ts sendOff, native/offthread.c), with the others
// by the pool as before. Against rsync on every engine: -i's lines, the tree, a re-run that does nothing,
// changed large files replaced, and a large file the user cannot read (named, the rest copied, exit 23).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isRoot, removeTemps, sh, tempDir } from '../helpers/tree.js';
import { compareTrees, findTempFiles, formatDiffs } from '../helpers/compare.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';

const MiB = 1 << 20;
let base: string;
let src: string;

beforeAll(() => {
  base = tempDir('arsync-large-');
  src = path.join(base, 'src');
  fs.mkdirSync(path.join(src, 'd'), { recursive: true });
  fs.writeFileSync(path.join(src, 'big1'), randomBytes(12 * MiB));
  fs.writeFileSync(path.join(src, 'd', 'big2'), randomBytes(9 * MiB + 17));
  // A sparse one: data at both ends, a hole between.
  const sp = fs.openSync(path.join(src, 'sparse'), 'w');
  fs.writeSync(sp, randomBytes(64 * 1024), 0, 64 * 1024, 0);
  fs.writeSync(sp, randomBytes(4096), 0, 4096, 20 * MiB - 4096);
  fs.closeSync(sp);
  for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(src, 'd', `small${i}`), `small file ${i}\n`);
  fs.chmodSync(path.join(src, 'big1'), 0o640);
  fs.chmodSync(path.join(src, 'd', 'big2'), 0o600);
  for (const [n, t] of [['big1', 1_650_000_000], ['d/big2', 1_650_000_100], ['sparse', 1_650_000_200]] as const) {
    fs.utimesSync(path.join(src, n), t, t + 0.5);
  }
  // An old root: rsync leaves out the root's ".d..t" line when its time and the new destination's fall in
  // one second (arsync prints it then; not this file's subject).
  fs.utimesSync(src, 1_650_000_300, 1_650_000_300);
});
afterAll(() => removeTemps());

function rsync(args: string[], opts: { user?: boolean } = {}): { code: number | null; stdout: string; stderr: string } {
  const r = opts.user
    ? spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'rsync', ...args], { encoding: 'utf8' })
    : spawnSync('rsync', args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describeEngines((e) => {
  const eng = `--engine=${e.name}`;

  it("-ai into a fresh destination, then again: rsync's lines, the same tree, then nothing to do", async () => {
    const ours = path.join(base, `fresh-${e.name}`);
    const theirs = path.join(base, `fresh-rsync-${e.name}`);
    // Made first: rsync's "created directory" line names the destination, which differs between the two.
    for (const d of [ours, theirs]) fs.mkdirSync(d);
    const r = await runCli(['-ai', eng, `${src}/`, `${ours}/`]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr, show(r)).toBe('');
    const o = rsync(['-ai', `${src}/`, `${theirs}/`]);
    expect(o.code, o.stderr).toBe(0);
    expect(r.stdout).toBe(o.stdout);
    expectExactCopy(src, ours, e.name, { withXattrs: false, noHardlinks: true });
    expect(findTempFiles(ours, src)).toEqual([]);
    const again = await runCli(['-ai', eng, `${src}/`, `${ours}/`]);
    expect(again.code, show(again)).toBe(0);
    expect(again.stdout, show(again)).toBe('');
  });

  it('-ai onto a copy whose large files differ: each replaced, as rsync does', async () => {
    const mine = path.join(base, `changed-src-${e.name}`);
    fs.cpSync(src, mine, { recursive: true, preserveTimestamps: true });
    const outs: string[] = [];
    for (const [who, dst] of [['arsync', path.join(base, `changed-${e.name}`)], ['rsync', path.join(base, `changed-rsync-${e.name}`)]] as const) {
      sh(`cp -a '${mine}/.' '${dst}/'`);
      fs.writeFileSync(path.join(dst, 'big1'), randomBytes(12 * MiB));
      fs.utimesSync(path.join(dst, 'big1'), 1_600_000_000, 1_600_000_000);
      fs.truncateSync(path.join(dst, 'd', 'big2'), 3 * MiB);
      const r = who === 'arsync' ? await runCli(['-ai', eng, `${mine}/`, `${dst}/`]) : rsync(['-ai', `${mine}/`, `${dst}/`]);
      expect(r.code, `${who}: ${r.stderr}`).toBe(0);
      outs.push(r.stdout);
      if (who === 'arsync') expectExactCopy(mine, dst, e.name, { withXattrs: false, noHardlinks: true });
    }
    expect(outs[0]).toBe(outs[1]);
    expect(outs[0]).toContain('big1');
  });

  it.skipIf(!isRoot)('a large file the (non-root) user cannot read: named, the rest copied, exit 23, as rsync', async () => {
    const d = path.join(base, `err-${e.name}`);
    const tree = path.join(d, 'src');
    fs.rmSync(d, { recursive: true, force: true });
    fs.mkdirSync(d);
    fs.chmodSync(base, 0o755);
    fs.chmodSync(d, 0o755);
    fs.cpSync(src, tree, { recursive: true, preserveTimestamps: true });
    sh(`chmod -R a+rX '${tree}'`);
    fs.chmodSync(path.join(tree, 'big1'), 0o600);
    const dsts = [path.join(d, 'dst'), path.join(d, 'rsync-dst')];
    for (const x of dsts) {
      fs.mkdirSync(x);
      fs.chownSync(x, 65534, 65534);
    }
    const r = await runCli(['-a', eng, `${tree}/`, `${dsts[0]}/`], { user: { uid: 65534, gid: 65534 } });
    expect(r.code, show(r)).toBe(23);
    const o = rsync(['-a', `${tree}/`, `${dsts[1]}/`], { user: true });
    expect(o.code, o.stderr).toBe(23);
    // rsync's line about the file (its wording, the path), and no other error line.
    const line = (s: string): string[] => s.split('\n').filter((l) => l.includes('big1'));
    expect(line(r.stderr).map((l) => l.replace(/^arsync/, 'rsync'))).toEqual(line(o.stderr));
    const diffs = (x: string): string[] => formatDiffs(compareTrees(tree, x, { owners: false, xattrs: false, acls: false, hardlinks: false, mtimeToleranceNs: e.name === 'node' ? 1000 : 0 }));
    expect(diffs(dsts[0]!)).toEqual(['big1: missing in dst']);
    expect(findTempFiles(dsts[0]!, tree)).toEqual([]);
  });
});
