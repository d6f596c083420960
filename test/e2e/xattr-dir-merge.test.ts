// X-rules (`-x NAME`, `+x`, `-xs`, `-xr`) read from per-directory merge files (`-F`, `--filter=': .f'`,
// `--filter=':n .f'`) in a local copy, a push and a pull, against rsync 3.5 with the same options and trees:
// exit codes, -i lines and the trees with their xattrs must match. What rsync does (exclude.c
// push_local_filters/check_filter, xattrs.c rsync_xal_get/receive_xattr/rsync_xal_set): its sender reads a
// directory's merge file before it lists the directory's entries, so the file's x-rules (and those a
// subdirectory inherits, unless the dir-merge rule has `n`) leave names out of the lists of the
// directory's entries (files and subdirectories alike), never of the directory itself; its receiver
// process reads no per-directory file, so it removes from an existing destination entry every name the
// lists lack that the command line's rules leave to it; its generator reads the destination's merge files
// only while it deletes during the transfer (--delete, --delete-during, --delete-delay), and then compares
// without the names they exclude (an entry found the same is left alone, one that differs otherwise
// loses them all the same). The node engine refuses -X (exit 1).

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { itemLines, rsyncClient } from '../helpers/remote-pull.js';

let root: string;
let rsh: string;
let n = 0;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-xmerge-'));
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const setx = (p: string, name: string, value: string): void => void execFileSync('setfattr', ['-n', name, '-v', value, p]);
const rmx = (p: string, name: string): void => void execFileSync('setfattr', ['-x', name, p]);
const T0 = 1_500_000_000;

/**
 * A source whose merge files hold x-rules at three levels (`.rsync-filter` for -F and `: .rsync-filter`,
 * `.xf` for `:n .xf`), and, with `existing`, a destination made from it whose entries then got names and
 * values of their own (and lost a merge file, so the generator's view differs from the sender's).
 */
function makeTrees(existing: boolean): { src: string; dest: string } {
  const src = path.join(root, `src-${++n}`);
  const dest = path.join(root, `dest-${n}`);
  const w = (rel: string, data: string): void => fs.writeFileSync(path.join(src, rel), data);
  for (const d of ['sub/deep', 'other']) fs.mkdirSync(path.join(src, d), { recursive: true });
  w('.rsync-filter', '-x user.secret\n-xs user.sonly\n-xr user.ronly\n');
  w('sub/.rsync-filter', '-x user.nin\n');
  w('other/.rsync-filter', '+x user.secret\n');
  w('.xf', '-x user.secret\n');
  w('sub/.xf', '-x user.nin\n');
  const all = { 'user.secret': 'S', 'user.keep': 'K', 'user.nin': 'N', 'user.sonly': 'SO', 'user.ronly': 'RO' };
  for (const f of ['f', 'big', 'sub/g', 'sub/deep/h', 'other/j']) {
    w(f, `${f}\n`);
    for (const [k, v] of Object.entries(all)) setx(path.join(src, f), k, v);
  }
  for (const d of ['', 'sub', 'sub/deep', 'other']) {
    setx(path.join(src, d), 'user.secret', `D${d}`);
    setx(path.join(src, d), 'user.nin', `N${d}`);
  }
  for (const rel of ['f', 'big', 'sub/g', 'sub/deep/h', 'other/j', '.rsync-filter', 'sub/.rsync-filter', 'other/.rsync-filter', '.xf', 'sub/.xf', 'sub/deep', 'sub', 'other', '']) {
    fs.utimesSync(path.join(src, rel), T0, T0);
  }
  if (!existing) return { src, dest };
  execFileSync('cp', ['-a', src, dest]);
  const p = (rel: string): string => path.join(dest, rel);
  setx(p('f'), 'user.secret', 'OLD');
  setx(p('f'), 'user.only', 'O');
  setx(p('f'), 'user.ronly', 'OLDR');
  fs.writeFileSync(p('big'), 'other data\n');
  setx(p('big'), 'user.secret', 'OLDB');
  setx(p('sub'), 'user.secret', 'OLDd');
  setx(p('sub/g'), 'user.secret', 'OLDg');
  setx(p('sub/g'), 'user.nin', 'OLDn');
  rmx(p('sub/deep/h'), 'user.keep');
  setx(p('sub/deep/h'), 'user.nin', 'OLDh');
  setx(p('other/j'), 'user.secret', 'OLDj');
  setx(p('other'), 'user.only', 'Oo');
  fs.rmSync(p('sub/.rsync-filter'));
  for (const rel of ['f', 'sub/g', 'sub/deep/h', 'other/j', 'sub', 'other', 'sub/deep', '']) fs.utimesSync(p(rel), T0, T0);
  return { src, dest };
}

/** The option sets after -aXi (a push and a pull take those marked `remote`: the same rules, other ends). */
const CASES: string[][] = [
  ['-F'],
  ['-F', '--delete'],
  ['-F', '--delete-after'],
  ['-F', '--delete-delay'],
  ['--filter=:n .xf'],
  ['--filter=: .xf', '--delete'],
  ['-F', '-f', '-x user.keep'],
  ['-F', '--delete', '--delete-excluded'],
  ['-F', '-n'],
  ['-F', '--delete', '-n'],
];

/** What a push and a pull run: each kind of rule and scope once, with and without --delete. */
const REMOTE = new Set([0, 1, 4, 5, 6, 7, 9]);

type Way = 'local' | 'push' | 'pull';

async function differential(engine: string, way: Way): Promise<void> {
  for (const args of CASES.filter((_, i) => way === 'local' || REMOTE.has(i))) {
    for (const existing of [false, true]) {
      const { src, dest } = makeTrees(existing);
      const theirs = path.join(root, `theirs-${n}`);
      const ours = path.join(root, `ours-${n}`);
      if (existing) for (const d of [theirs, ours]) execFileSync('cp', ['-a', dest, d]);
      const ends = (dst: string): string[] => (way === 'push' ? [`${src}/`, `host:${dst}/`] : way === 'pull' ? [`host:${src}/`, `${dst}/`] : [`${src}/`, `${dst}/`]);
      const all = ['-aXi', ...args, ...(way === 'local' ? [] : ['-e', rsh])];
      const what = `${way} ${existing ? 'existing' : 'fresh'} ${args.join(' ')}`;
      // A push and a pull run as arsync's do (no incremental recursion); a local copy as rsync's does.
      const t = way === 'local' ? spawnSync('rsync', [...all, ...ends(theirs)], { encoding: 'latin1' }) : undefined;
      const tr = t ? { code: t.status ?? -1, out: t.stdout, err: t.stderr } : rsyncClient([...all, ...ends(theirs)]);
      const o = await runCli([`--engine=${engine}`, ...all, ...ends(ours)]);
      expect.soft(tr.code, `${what}: ${tr.err}`).toBe(0);
      expect.soft(o.code, `${what}: ${show(o)}`).toBe(tr.code);
      expect.soft(itemLines(o.stdout), `${what}: ${o.stderr}`).toEqual(itemLines(tr.out));
      if (fs.existsSync(theirs) || fs.existsSync(ours)) {
        expect.soft(formatDiffs(compareTrees(theirs, ours, { xattrs: true, acls: false, rootMeta: existing })), what).toEqual([]);
      }
    }
  }
}

describeEngines((e) => {
  for (const way of ['local', 'push', 'pull'] as const) {
    it.skipIf(e.name === 'node')(`${way}: x-rules from per-directory merge files reach the entries rsync's do`, async () => {
      await differential(e.name, way);
    });
  }

  it.skipIf(e.name !== 'node')('the node engine refuses -X with a dir-merge rule as without one', async () => {
    const { src } = makeTrees(false);
    const o = await runCli([`--engine=${e.name}`, '-aX', '-F', `${src}/`, path.join(root, `node-${n}`)]);
    expect(o.code, show(o)).toBe(1);
  });

  // The byte figures count the lists as rsync's sender sends them: without the names a directory's merge
  // file leaves out (a long value among them would be asked for and sent too: 300 bytes each way and more).
  // rsync's own figures move by a few bytes from run to run here (how its processes' messages meet in
  // its buffers), so they are compared within 8 bytes; "Number of files" exactly.
  it.skipIf(e.name === 'node')('--stats counts the lists the merge files leave, as rsync', async () => {
    const { src } = makeTrees(false);
    setx(path.join(src, 'sub/g'), 'user.secret', 'L'.repeat(300));
    setx(path.join(src, 'f'), 'user.secret', 'M'.repeat(300));
    // A name the top directory's file excludes is not in the lists either (nor its data in the stream).
    fs.appendFileSync(path.join(src, '.rsync-filter'), '- *.skip\n');
    for (const f of ['x.skip', 'sub/y.skip']) fs.writeFileSync(path.join(src, f), 'S'.repeat(5000));
    const figures = (out: string): Map<string, number> =>
      new Map(
        out
          .split('\n')
          .map((l) => /^(Total bytes sent|Total bytes received|Number of files): ([\d,]+)/.exec(l))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m) => [m[1]!, Number(m[2]!.replace(/,/g, ''))]),
      );
    // (Into an empty destination, with incremental recursion: without it arsync's figures are a few
    // bytes off rsync's whatever the filters, README.)
    for (const operand of [`${src}/`, src]) {
      const args = ['-aX', '--stats', '-F', operand];
      const t = figures(spawnSync('rsync', [...args, path.join(root, `stats-theirs-${++n}`)], { encoding: 'latin1' }).stdout);
      const o = await runCli([`--engine=${e.name}`, ...args, path.join(root, `stats-ours-${n}`)]);
      expect(o.code, show(o)).toBe(0);
      const ours = figures(o.stdout);
      expect(t.size, operand).toBe(3);
      expect(ours.get('Number of files'), operand).toBe(t.get('Number of files'));
      for (const k of ['Total bytes sent', 'Total bytes received']) expect(Math.abs(ours.get(k)! - t.get(k)!), `${operand} ${k}: ${ours.get(k)} against ${t.get(k)}`).toBeLessThanOrEqual(8);
    }
  });

  // --write-batch records the lists the sender sends: rsync's --read-batch of arsync's batch leaves what
  // rsync's own copy leaves.
  it.skipIf(e.name === 'node')('--write-batch records the lists the merge files leave', async () => {
    const { src } = makeTrees(false);
    const batch = path.join(root, `batch-${n}`);
    const ours = path.join(root, `wb-${n}`);
    const o = await runCli([`--engine=${e.name}`, '-aX', '-F', `--write-batch=${batch}`, `${src}/`, `${ours}/`]);
    expect(o.code, show(o)).toBe(0);
    const want = path.join(root, `want-${n}`);
    expect(spawnSync('rsync', ['-aX', '-F', `${src}/`, `${want}/`]).status).toBe(0);
    const replay = path.join(root, `replay-${n}`);
    const r = spawnSync('rsync', ['-aX', `--read-batch=${batch}`, `${replay}/`], { encoding: 'latin1' });
    expect(r.status, r.stderr).toBe(0);
    expect(formatDiffs(compareTrees(want, replay, { xattrs: true, acls: false }))).toEqual([]);
    expect(formatDiffs(compareTrees(want, ours, { xattrs: true, acls: false }))).toEqual([]);
  });
});
