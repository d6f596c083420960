// A destination that exists and is not a directory: rsync's receiver refuses once the first file list has
// arrived, with one of two messages chosen by how many entries that list holds (a lone directory brings
// its own entries, through the filter rules). What came before is printed first: the sender's header
// under -v and its errors about operands it could not read. The "ERROR:" line carries no program name.
// rsync 3.5, given the same operands on a clone, is the oracle: stdout, stderr (paths and its source
// location made alike), exit code, and nothing written.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { sameRoot } from '../helpers/normalise.js';
import { clone, snapshotDiff, statSnapshot } from '../helpers/differential.js';
import { tempDir } from '../helpers/tree.js';

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

describeEngines(({ name: engine }) => {
  it.skipIf(!hasRsync)('a destination that is not a directory: rsync\'s message, lines before it, exit 3, nothing written', async () => {
    const base = tempDir(`arsync-destnotdir-${engine}-`);
    const O = path.join(base, 'O');
    fs.mkdirSync(O);
    setup(O);
    for (const [i, args] of CASES.entries()) {
      const A = path.join(base, `A${i}`);
      const B = path.join(base, `B${i}`);
      clone(O, A);
      clone(O, B);
      const before = statSnapshot(B);
      const r = spawnSync('rsync', args, { cwd: A, encoding: 'utf8' });
      const s = await runCli([`--engine=${engine}`, ...args], { cwd: B });
      const what = `${args.join(' ')}\n${show(s)}`;
      expect(s.code, what).toBe(r.status);
      expect(s.code, what).toBe(3);
      expect(sameRoot(s.stdout, B), what).toBe(sameRoot(r.stdout, A));
      expect(sameRoot(s.stderr, B), what).toBe(sameRoot(r.stderr, A));
      expect(snapshotDiff(before, statSnapshot(B)), what).toEqual([]);
    }
  });
});
