// Directories named without -r, -d or --files-from: rsync's sender leaves each out of its list as it
// meets it, operand by operand, with "skipping directory NAME" (the order of the command line, not of the
// sorted list), before its receiver makes the destination ("created directory ..."); under -R it sends none
// of the implied directories above such an operand, and a "./name" operand's implied "." is sent the same
// way, so it is skipped too ("skipping directory ."); one the filter rules exclude goes without a line.
// rsync 3.5 on a clone is the oracle: stdout and stderr line for line, the exit code, and the trees.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { pairContext, put, sameAsRsync, startingState } from '../helpers/differential.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { removeTemps } from '../helpers/tree.js';

// The starting states (tempDir) are this file's to remove: left behind, every run adds to /dev/shm.
afterAll(() => removeTemps());

const hasRsync = spawnSync('rsync', ['--version']).status === 0;

/** Two directories, two files (one in a directory), a link to a directory; no destination yet. */
function setup(root: string): void {
  put(root, 'src/x/f', 'f\n');
  fs.mkdirSync(path.join(root, 'src/x/sub'));
  put(root, 'src/b', 'b\n');
  put(root, 'src/d/c', 'c\n');
  fs.symlinkSync('x', path.join(root, 'src/lb'));
}

const CASES: string[][] = [
  // 1: the implied "." of "./name", skipped as the operand is.
  ['-R', '-v', './src/x', 'dst/'],
  ['-R', '-i', './src/x', 'dst/'],
  ['-R', '-i', './src/x', './src/b', 'dst/'],
  ['-R', '-i', '--no-implied-dirs', './src/d', './src/b', 'dst/'],
  ['-R', '-i', 'src/b', './src/missing', 'dst/'],
  // 2: no implied directory above a skipped one.
  ['-R', '-i', 'src/d', 'nd/'],
  ['-R', '-i', '--no-implied-dirs', 'src/d', 'nd/'],
  ['-R', '-i', 'src/b', 'nd/'],
  ['-R', '-i', '--no-implied-dirs', 'src/b', 'nd/'],
  ['-R', '-i', '-k', 'src/lb', 'src/d/c', 'nd/'],
  // 4: the skipped directories in the command line's order, before the destination is made.
  ['-i', 'src/x', 'src/b', 'src/d', 'dst/'],
  ['-v', 'src/x', 'src/b', 'src/d', 'dst/'],
  ['-v', 'src/x', 'src/d', 'dst/'],
  ['-i', 'src/x/', 'src/d', 'dst'],
  ['-R', '-v', 'src/x', './src/d', 'src/b', 'dst/'],
  ['-i', '--stats', 'src/x', 'src/b', 'dst/'],
  ['src/x', 'src/d', 'dst/'],
  // One the filter rules exclude is left out without a word (not "dir/", nor the implied ".").
  ['-i', '--exclude=x', 'src/x', 'src/b', 'dst/'],
  ['-i', '--exclude=x', 'src/x/', 'src/b', 'dst/'],
  ['-i', '-R', '--exclude=/src/d', './src/x', 'src/d', 'src/./x', 'src/b', 'dst/'],
];

describeEngines(({ name: engine }) => {
  it.skipIf(!hasRsync)('without -r or -d: each named directory skipped as rsync\'s sender meets it, and nothing above it', async () => {
    await sameAsRsync(startingState(`arsync-skipped-dirs-${engine}-`, setup), CASES, engine, (r) => {
      expect(formatDiffs(compareTrees(r.A, r.B, { times: false })), pairContext(r)).toEqual([]);
    });
  });
});
