// The order of the lines when there are several operands, or a --files-from list: rsync sorts its file
// list, so -i and -v print in that order whatever the order given (files before subdirectories in each
// directory, names compared as bytes), and a directory's entries come right after it. A missing operand
// is named as rsync's clean_fname() shows it (no "/./"). rsync 3.5 on a clone is the oracle: stdout
// and stderr line for line, not sorted, and the exit code.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { pairContext, runPair, sameArgs, sameAsRsync, startingState } from '../helpers/differential.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { removeTemps, sh } from '../helpers/tree.js';

// The starting states (tempDir) are this file's to remove: left behind, every run adds to /dev/shm.
afterAll(() => removeTemps());

const hasRsync = spawnSync('rsync', ['--version']).status === 0;

function setup(root: string): void {
  for (const d of ['src/sub/deep', 'src/e/ee', 'dst']) fs.mkdirSync(path.join(root, d), { recursive: true });
  for (const f of ['a', 'Z', 'sub/b', 'sub/hard', 'sub/deep/c', 'e/x', 'e/ee/y']) fs.writeFileSync(path.join(root, 'src', f), f);
  fs.writeFileSync(path.join(root, 'list'), 'sub/b\ne/x\na\nnope\nZ\n');
  fs.writeFileSync(path.join(root, 'list0'), 'e/ee/y\0sub\0a\0');
  // "srclink/": an operand that reaches its directory through a symlink.
  fs.symlinkSync('src', path.join(root, 'srclink'));
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
  // Several directories' contents in one destination directory: one listing, sorted (rsync merges
  // duplicate directories into one file list), with roots that land right inside it among its entries.
  ['-av', 'src/e/', 'src/sub/', 'dst/'],
  ['-ai', 'src/sub/', 'src/e/', 'dst/'],
  ['-av', 'src/sub/', 'src/e', 'src/e/', 'dst/'],
  ['-ai', 'src/e/', 'src/a', 'dst/'],
  ['-aiv', '--delete', 'src/sub/', 'src/e/', 'src/a', 'dst/'],
  ['-ai', '--exclude=a', 'src/e/', 'src/sub/', 'src/a', 'src/e/ee', 'dst/'],
  // The same operand again is one entry of the list (copied and printed once), a directory's contents
  // given twice one layer; -v's "total size" counts the repeated entries, as rsync's sender lists them.
  ['-aiv', 'src/sub/', 'src/a', 'src/a', 'dst/'],
  ['-aiv', 'src/e/', 'src/sub/', 'src/e/', 'dst/'],
  ['-aiv', '--delete', 'src/e/', 'src/Z', 'src/e/', 'src/Z', 'dst/'],
  ['-aiv', 'srclink/', 'srclink/', 'dst/'],
  ['-aiv', 'srclink/e/', 'src/e/', 'dst/'],
];

/** --stats' counts of the list (its byte lines are rsync's stream, stream-bytes.test.ts). */
const countLines = (out: string): string[] => out.split('\n').filter((l) => /^(Number of files|Number of created files|Total file size|total size is)/.test(l)).map((l) => l.replace(/ {2}speedup.*/, ''));

/**
 * Operands that repeat names: rsync's sender lists every one, and its directories of one name in one list
 * where a duplicate from the same source directory right after a listed one is not listed again.
 */
const REPEATS: string[][] = [
  ['src/', 'src/'],
  ['src/', 'src/', 'src/'],
  ['src', 'src'],
  ['src/', 'src/sub'],
  ['src/sub/', 'src/', 'src/sub/'],
  // Without incremental recursion each operand's whole tree is in the one list.
  ['--no-i-r', 'src/', 'src/'],
  ['--no-i-r', 'src', 'src/sub', 'src'],
  ['srclink/', 'srclink/'],
  ['srclink/', 'src/'],
  ['--no-i-r', 'srclink/', 'srclink/'],
];

describeEngines(({ name: engine }) => {
  it.skipIf(!hasRsync)('several operands and --files-from: rsync\'s sorted order, line for line', async () => {
    await sameAsRsync(startingState(`arsync-operand-order-${engine}-`, setup), CASES, engine, (r) => {
      // The same trees (times to the microsecond: the node engine's). dst's own time is the writes' when
      // no operand brings it ("." of "dir/"): made alike first.
      for (const root of [r.A, r.B]) fs.utimesSync(path.join(root, 'dst'), 1_600_000_000, 1_600_000_000);
      expect(formatDiffs(compareTrees(r.A, r.B, { mtimeToleranceNs: 1000 })), pairContext(r)).toEqual([]);
    });
  });

  // A "./" line puts "." itself in -R's list (rsync's implied_dot_dir): the destination gets the source
  // directory's attributes and its line. --no-relative takes each line's last component and no ".":
  // the destination's own time is left to the writes (arsync set it and printed ".d..t...... ./").
  it.skipIf(!hasRsync)('--files-from with "./" lines: "." only in -R\'s list, as rsync', async () => {
    const withDot = (root: string): void => {
      setup(root);
      fs.writeFileSync(path.join(root, 'listdot'), './e/x\nsub/b\n');
      fs.utimesSync(path.join(root, 'dst'), 1_600_000_000, 1_600_000_000);
    };
    const cases = [['-ai', '--no-relative', '--files-from=listdot', 'src/', 'dst/'], ['-ai', '--files-from=listdot', 'src/', 'dst/']];
    let seen = 0;
    await sameAsRsync(startingState(`arsync-operand-dot-${engine}-`, withDot), cases, engine, (r, i) => {
      const times = [r.A, r.B].map((root) => fs.statSync(path.join(root, 'dst')).mtimeMs / 1000);
      const src = fs.statSync(path.join(r.A, 'src')).mtimeMs / 1000;
      for (const t of times) {
        if (i === 0) expect(t, pairContext(r)).not.toBe(src);
        else expect(t, pairContext(r)).toBe(src);
      }
      seen++;
    });
    expect(seen).toBe(2);
  });

  it.skipIf(!hasRsync)('repeated operands: --stats\' Number of files and total size count the duplicates as rsync does', async () => {
    const state = startingState(`arsync-operand-repeats-${engine}-`, setup);
    let i = 0;
    for (const ops of REPEATS) {
      const r = await runPair(state, i++, sameArgs(['-a', '--stats', '-v', ...ops, 'new/'], engine));
      expect(r.arsync.code, pairContext(r)).toBe(r.rsync.code);
      expect(countLines(r.rsync.stdout).length, pairContext(r)).toBe(4);
      expect(countLines(r.arsync.stdout), pairContext(r)).toEqual(countLines(r.rsync.stdout));
    }
  });
});
