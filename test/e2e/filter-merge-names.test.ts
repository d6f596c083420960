// Differential tests against rsync for per-directory merge names too long for their directories (rsync
// suite: filter-merge-content-echo): a `:` rule whose name fits rsync's MAXPATHLEN alone but not once
// joined to the directory it is set up in is "merge-file name overflows", and each directory it would be
// read in is "cannot add local filter rules in long-named directory"; both are I/O errors (exit 23, no
// deletions), and a name that came out of a file is never echoed.

import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { differential, put, type DiffResult } from '../helpers/differential.js';

afterAll(() => removeTemps());

const MAXPATHLEN = 4096;
const SECRET = 'DEFERRED-SECRET-';

/**
 * src/.rsync-filter names `sub/SECRET-QQQ...`, its padding `slack` bytes short of MAXPATHLEN counted from
 * the source directory's absolute path (rsync's and arsync's work roots have paths of the same length), or
 * MAXPATHLEN long when `slack` is negative. dst has a file the source lacks, for --delete.
 */
const longNameSetup =
  (slack: number) =>
  (root: string): void => {
    const pad = slack < 0 ? MAXPATHLEN : MAXPATHLEN - path.join(root, 'src').length - slack;
    put(root, 'src/sub/f', 'x\n');
    put(root, 'src/top', 'top\n');
    put(root, 'dst/stale', 'old\n');
    put(root, 'src/.rsync-filter', `: sub/${SECRET}${'Q'.repeat(pad)}\n`);
  };

/** stderr's lines, without the run's last "error:" line (rsync names its source file and line there). */
const errLines = (s: string): string[] => s.split('\n').filter((l) => l !== '' && !/ error: /.test(l));

/** The same error lines, each tool's work root named ROOT. */
function sameErrors(r: DiffResult): void {
  const at = (s: string, root: string): string[] => errLines(s.split(root).join('ROOT'));
  expect(at(r.arsync.stderr, r.B)).toEqual(at(r.rsync.stderr, r.A));
}

describeEngines((e) => {
  const engine = e.name;

  it('a merge name that overflows its directory: rsync\'s two messages, exit 23, no echo, nothing deleted', async () => {
    const r = await differential({ engine, setup: longNameSetup(12), args: ['-aF', '--delete', 'src/', 'dst/'], after: sameErrors });
    expect(r.arsync.code).toBe(23);
    expect(errLines(r.arsync.stderr)).toEqual([
      'merge-file name overflows: <rule from a file read earlier>',
      'cannot add local filter rules in long-named directory: <rule from a file read earlier>',
      'cannot add local filter rules in long-named directory: <rule from a file read earlier>',
    ]);
    expect(r.arsync.stdout + r.arsync.stderr).not.toContain(SECRET);
    expect(r.arsync.stdout).toContain('IO error encountered -- skipping file deletion');
  });

  it('a merge name that just fits its directory: no error, exit 0', async () => {
    const r = await differential({ engine, setup: longNameSetup(28), args: ['-aF', 'src/', 'dst/'], after: sameErrors });
    expect(r.arsync.code).toBe(0);
  });

  it('a merge name too long to be a rule at all is discarded, named by its file (absolute, as rsync)', async () => {
    const r = await differential({ engine, setup: longNameSetup(-1), args: ['-aF', 'src/', 'dst/'], after: sameErrors });
    expect(r.arsync.code).toBe(0);
    expect(r.arsync.stdout + r.arsync.stderr).toMatch(/discarding over-long filter: <rule from \/.*\/src\/\.rsync-filter line 1>/);
  });
});
