// A symlink followed to a directory (-L) is a directory in rsync's file list: its line and its contents
// come among the directories, in their order, after every file of its parent, and filters apply inside
// it. rsync 3.5 on a clone is the oracle: stdout and stderr line for line (not sorted), the exit code,
// and the trees.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { pairContext, sameAsRsync, startingState } from '../helpers/differential.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { removeTemps, sh } from '../helpers/tree.js';

// The starting states (tempDir) are this file's to remove: left behind, every run adds to /dev/shm.
afterAll(() => removeTemps());

const hasRsync = spawnSync('rsync', ['--version']).status === 0;

/** Links to directories before, between and after real ones, one inside a subdirectory, one to a file, one dangling. */
function setup(root: string): void {
  for (const d of ['src/a', 'src/real/deep', 'src/z', 'dst']) fs.mkdirSync(path.join(root, d), { recursive: true });
  for (const f of ['a/f', 'real/r', 'real/deep/d', 'z/zz', 'm']) fs.writeFileSync(path.join(root, 'src', f), f);
  fs.symlinkSync('real', path.join(root, 'src/link'));
  fs.symlinkSync('../real', path.join(root, 'src/a/up'));
  fs.symlinkSync('real/r', path.join(root, 'src/rl'));
  fs.symlinkSync('../../nowhere', path.join(root, 'src/a/dangling'));
  sh(`find '${root}' -exec touch -h -d @1700000000 {} +`);
}

const CASES: string[][] = [
  ['-rLtv', 'src/', 'dst/'],
  ['-rLti', 'src/', 'dst/'],
  ['-rLtv', '--exclude=d', 'src/', 'dst/'],
  ['-rLti', '--no-i-r', 'src/', 'dst/'],
];

describeEngines(({ name: engine }) => {
  it.skipIf(!hasRsync)('-L: a link to a directory comes among the directories, in rsync\'s order, filtered inside', async () => {
    await sameAsRsync(startingState(`arsync-follow-order-${engine}-`, setup), CASES, engine, (r) => {
      for (const root of [r.A, r.B]) for (const d of ['.', 'dst']) fs.utimesSync(path.join(root, d), 1_600_000_000, 1_600_000_000);
      expect(formatDiffs(compareTrees(r.A, r.B, { mtimeToleranceNs: 1000 })), pairContext(r)).toEqual([]);
    });
  });
});
