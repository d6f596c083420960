// Xattr filter rules (`-f '-x NAME'`, `+x`, `-xr`, `-xs`, `-x!`) in a local copy: rsync 3.5 with the same
// options and trees must leave the same destination (xattrs of every namespace included), print the same
// -i lines and exit alike. The engines apply the rules (native/xfilter.c): a source name goes when
// neither side's view excludes it; a destination name the receiver's view excludes is never compared or
// removed, and once there are rules they replace the namespace rule there. The cases are shared with
// the push and the pull (test/helpers/xattr-filter-case.ts); the node engine refuses -X.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs, readXattrs } from '../helpers/compare.js';
import { itemLines } from '../helpers/remote-pull.js';
import { CASES, isRoot, makeTrees } from '../helpers/xattr-filter-case.js';

let root: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-xfilt-local-'));
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describeEngines((e) => {
  it.skipIf(e.name === 'node')('a local copy applies xattr filter rules as rsync does', async () => {
    for (const c of CASES) {
      if ((c.rootOnly && !isRoot) || c.remoteOnly) continue;
      const { src, dest, n } = makeTrees(root, { acl: c.acl === true });
      const theirs = path.join(root, `theirs-${n}`);
      const ours = path.join(root, `ours-${n}`);
      for (const d of [theirs, ours]) execFileSync('cp', ['-a', dest, d]);
      const args = ['-aXi', ...c.args, `${src}/`];
      const what = `local ${c.args.join(' ')}`;
      const t = spawnSync('rsync', [...args, `${theirs}/`], { encoding: 'latin1' });
      const o = await runCli([`--engine=${e.name}`, ...args, `${ours}/`]);
      expect.soft(o.code, `${what}: ${show(o)}`).toBe(t.status);
      expect.soft(t.status, `${what}: ${t.stderr}`).toBe(0);
      expect.soft(itemLines(o.stdout), `${what}: ${o.stderr}`).toEqual(itemLines(t.stdout));
      expect.soft(formatDiffs(compareTrees(theirs, ours, { xattrs: true, acls: c.acl === true, rootMeta: false })), what).toEqual([]);
      c.check?.(readXattrs(ours, ['a', 'b', 'd/c', 'new'].map((r) => Buffer.from(r))), 'local');
    }
  });

  // The byte figures count the lists as rsync's sender sends them: without the excluded names (a long
  // value among them would be asked for too).
  it.skipIf(e.name === 'node')('--stats counts the lists the rules leave, as rsync', async () => {
    // Into an empty destination (arsync works out the figures of a run that changes existing xattrs
    // only approximately: README), files whose excluded value is long (asked for if it were listed).
    const src = path.join(root, `stats-src-${e.name}`);
    fs.mkdirSync(src);
    for (const f of ['f1', 'f2', 'f3']) {
      fs.writeFileSync(path.join(src, f), f);
      execFileSync('setfattr', ['-n', 'user.skip', '-v', f.repeat(20), path.join(src, f)]);
      execFileSync('setfattr', ['-n', `user.k${f}`, '-v', 'v', path.join(src, f)]);
    }
    const theirs = path.join(root, `stats-theirs-${e.name}`);
    const ours = path.join(root, `stats-ours-${e.name}`);
    const args = ['-aX', '--stats', '-f', '-x user.skip', `${src}/`];
    const figures = (out: string): string[] => out.split('\n').filter((l) => /^(Total bytes (sent|received)|File list size):/.test(l));
    const t = spawnSync('rsync', [...args, `${theirs}/`], { encoding: 'latin1' });
    const o = await runCli([`--engine=${e.name}`, ...args, `${ours}/`]);
    expect(o.code, show(o)).toBe(0);
    expect(figures(t.stdout)).toHaveLength(3);
    expect(figures(o.stdout)).toEqual(figures(t.stdout));
  });
});
