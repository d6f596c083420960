// A destination that exists and is not a directory: rsync's receiver refuses once the first file list has
// arrived, with one of two messages chosen by how many entries that list holds (a lone directory brings
// its own entries, through the filter rules). What came before is printed first: the sender's header
// under -v and its errors about operands it could not read. The "ERROR:" line carries no program name.
// rsync 3.5, given the same operands on a clone, is the oracle: stdout, stderr (paths and its source
// location made alike), exit code, and nothing written.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import type { EngineName } from '../helpers/cli.js';
import { expectSameOutput, pairContext, runPair, sameArgs, snapshotDiff, startingState, statSnapshot } from '../helpers/differential.js';
import { removeTemps } from '../helpers/tree.js';

// The starting states (tempDir) are this file's to remove: left behind, every run adds to /dev/shm.
afterAll(() => removeTemps());

const hasRsync = spawnSync('rsync', ['--version']).status === 0;

function setup(root: string): void {
  for (const d of ['src/sub/deep', 'src/empty']) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.writeFileSync(path.join(root, 'src/a'), 'a');
  fs.writeFileSync(path.join(root, 'src/sub/b'), 'b');
  fs.writeFileSync(path.join(root, 'src/sub/deep/c'), 'c');
  fs.writeFileSync(path.join(root, 'file'), 'not a directory');
}

const CASES: string[][] = [
  ['-a', 'src/', 'file'], // ".", a, sub, empty: more than one
  ['-a', 'src', 'file'], // "src" and its entries
  ['-a', 'src/empty', 'file'], // one directory alone
  ['-r', '--exclude=deep', 'src/sub/', 'file'], // ".", b
  ['-r', '--exclude=deep', '--exclude=b', 'src/sub/', 'file'], // "." alone after the filters
  ['-d', 'src/sub/deep/', 'file'], // -d with a slash: ".", c
  ['-dv', 'src/empty/', 'file'], // the whole list's header first
  ['-av', 'src/', 'missing', 'file'], // the incremental header, then the sender's link_stat error
  ['-av', '--no-i-r', 'missing', 'src/', 'file'], // the header's line ended on stderr by the error
  ['-a', 'src/a', 'src/empty', 'file'], // two operands
];

// An empty first list (the sole operand excluded, or only directories skipped without -r): rsync's receiver
// finds nothing to refuse and nothing to make, whether the destination is a file or missing: exit 0.
const EMPTY: string[][] = [
  ['-rv', '--exclude=sub', 'src/sub', 'file'],
  ['-v', '--exclude=a', 'src/a', 'file'], // not copied onto the file
  ['-v', '--exclude=a', 'src/a', 'new'], // nor to a new name
  ['-rv', '--exclude=sub', 'src/sub', 'new'], // no directory made
  ['src/empty', 'file'], // skipped without -r: said so
  ['-v', '--exclude=a', 'src/a', 'src/empty', 'file'],
];

/** Each case as rsync on a clone: the same output, exit `code`, and arsync wrote nothing. */
async function nothingWritten(prefix: string, cases: string[][], code: number, engine: EngineName): Promise<void> {
  const state = startingState(prefix, setup);
  for (const [i, args] of cases.entries()) {
    const run = sameArgs(args, engine);
    let before = new Map<string, string>();
    const r = await runPair(state, i, { ...run, arsync: (B) => ((before = statSnapshot(B)), run.arsync(B)) });
    expectSameOutput(r);
    expect(r.arsync.code, pairContext(r)).toBe(code);
    expect(snapshotDiff(before, statSnapshot(r.B)), pairContext(r)).toEqual([]);
  }
}

describeEngines(({ name: engine }) => {
  it.skipIf(!hasRsync)('a destination that is not a directory: rsync\'s message, lines before it, exit 3, nothing written', async () => {
    await nothingWritten(`arsync-destnotdir-${engine}-`, CASES, 3, engine);
  });

  it.skipIf(!hasRsync)('an empty first list onto a file or a new name: rsync\'s lines, exit 0, nothing written', async () => {
    await nothingWritten(`arsync-emptylist-${engine}-`, EMPTY, 0, engine);
  });
});
