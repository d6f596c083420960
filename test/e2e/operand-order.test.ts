// The order of the lines when there are several operands, or a --files-from list: rsync sorts its file
// list, so -i and -v print in that order whatever the order given (files before subdirectories in each
// directory, names compared as bytes), and a directory's entries come right after it. A missing operand
// is named as rsync's clean_fname() shows it (no "/./"). rsync 3.5 on a clone is the oracle: stdout
// and stderr line for line, not sorted, and the exit code.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { sameAsRsync, startingState } from '../helpers/differential.js';
import { sh } from '../helpers/tree.js';

const hasRsync = spawnSync('rsync', ['--version']).status === 0;

function setup(root: string): void {
  for (const d of ['src/sub/deep', 'src/e/ee', 'dst']) fs.mkdirSync(path.join(root, d), { recursive: true });
  for (const f of ['a', 'Z', 'sub/b', 'sub/hard', 'sub/deep/c', 'e/x', 'e/ee/y']) fs.writeFileSync(path.join(root, 'src', f), f);
  fs.writeFileSync(path.join(root, 'list'), 'sub/b\ne/x\na\nnope\nZ\n');
  fs.writeFileSync(path.join(root, 'list0'), 'e/ee/y\0sub\0a\0');
  // One whole second for every entry: the destination's top directory then needs nothing on any engine.
  sh(`find '${root}' -exec touch -h -d @1700000000 {} +`);
}

const CASES: string[][] = [
  ['-ai', 'src/sub', 'src/e', 'src/a', 'dst/'],
  ['-ai', '--no-i-r', 'src/sub', 'src/Z', 'src/e', 'dst/'],
  ['-ai', 'src/e', 'src/sub/', 'dst/'],
  ['-aiR', 'src/./sub', 'src/./a', 'src/./e/x', 'dst/'],
  ['-ai', '--files-from=list', 'src/', 'dst/'],
  ['-air', '--files-from=list', 'src/', 'dst/'],
  ['-ai', '-0', '--files-from=list0', 'src/', 'dst/'],
  ['-ai', 'src/./nope', 'src/./sub/./gone', 'src/a', 'dst/'],
];

describeEngines(({ name: engine }) => {
  it.skipIf(!hasRsync)('several operands and --files-from: rsync\'s sorted order, line for line', async () => {
    await sameAsRsync(startingState(`arsync-operand-order-${engine}-`, setup), CASES, engine);
  });
});
