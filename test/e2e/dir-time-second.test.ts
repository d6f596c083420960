// A destination directory whose mtime differs from its source's only within the same second: rsync's
// window of 0 compares whole seconds (same_time), so it itemizes no 't' and prints no -v line for it (the
// case of a destination made in the second the source root was last changed). arsync prints rsync's
// lines, against rsync 3.5 on clones, and still sets the time to the nanosecond, as it keeps every mtime
// it copies exact; rsync leaves the destination's nanoseconds (the one difference left, README).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { expectSameOutput, pairContext, put, runPair, sameArgs, startingState, touchNs } from '../helpers/differential.js';
import { describeEngines } from '../helpers/e2e.js';
import { removeTemps } from '../helpers/tree.js';

// The starting states (tempDir) are this file's to remove: left behind, every run adds to /dev/shm.
afterAll(() => removeTemps());

const hasRsync = spawnSync('rsync', ['--version']).status === 0;
const T = 1_700_000_000;

/**
 * src/ and src/same/ a quarter second into T, their destination twins half a second into it; src/later/
 * a second after its twin (a change rsync reports too); a file already copied, a new one, an extraneous one.
 */
function setup(root: string): void {
  put(root, 'src/same/a', 'a\n');
  put(root, 'src/later/b', 'b\n');
  put(root, 'src/new', 'new\n');
  put(root, 'dst/same/a', 'a\n');
  put(root, 'dst/later/b', 'b\n');
  put(root, 'dst/gone', 'gone\n');
  const files = ['src/same/a', 'src/later/b', 'src/new', 'dst/same/a', 'dst/later/b', 'dst/gone'];
  touchNs([
    ...files.map((f): [string, string] => [path.join(root, f), `${T}`]),
    [path.join(root, 'src/same'), `${T}.25`],
    [path.join(root, 'dst/same'), `${T}.5`],
    [path.join(root, 'src/later'), `${T + 1}.25`],
    [path.join(root, 'dst/later'), `${T}.25`],
    [path.join(root, 'src'), `${T}.25`],
    [path.join(root, 'dst'), `${T}.5`],
  ]);
}

const CASES = [
  ['-av', 'src/', 'dst/'],
  ['-ai', 'src/', 'dst/'],
  ['-avi', '--delete', 'src/', 'dst/'],
  ['-ain', 'src/', 'dst/'],
  ['-rtv', 'src/', 'dst/'],
  ['-ai', '--modify-window=-1', 'src/', 'dst/'],
];

const mtimeNs = (p: string): bigint => fs.lstatSync(p, { bigint: true }).mtimeNs;

describeEngines(({ name: engine }) => {
  it.skipIf(!hasRsync)('a directory time that differs within its second gets no line, as in rsync, and is still set exactly', async () => {
    const state = startingState(`arsync-dirsecond-${engine}-`, setup);
    for (const [i, args] of CASES.entries()) {
      const r = await runPair(state, i, sameArgs(args, engine));
      expectSameOutput(r);
      // The node engine sets times to the microsecond; rsync leaves dst and dst/same at T.5 (see above).
      expect(formatDiffs(compareTrees(r.A, r.B, { mtimeToleranceNs: 500_000_000 })), pairContext(r)).toEqual([]);
      const dryRun = args.includes('-ain');
      for (const d of ['', 'same', 'later']) {
        const want = dryRun ? mtimeNs(path.join(state.O, 'dst', d)) : mtimeNs(path.join(r.B, 'src', d));
        const got = mtimeNs(path.join(r.B, 'dst', d));
        const off = got > want ? got - want : want - got;
        expect(off <= (engine === 'node' ? 1000n : 0n), `${pairContext(r)}\ndst/${d}: ${got} against ${want}`).toBe(true);
      }
    }
  });
});
