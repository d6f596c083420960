// A source file the user cannot read, copied by a user (not root): rsync's sender prints a file's -v/-i
// line only once it has sent it, so the file it fails to open ("send_files failed to open", exit 23) has no
// line, while the dry run (which opens nothing) lists it; with --chmod, --groupmap and --fake-super too. rsync 3.5 run as the same user on a clone is the
// oracle: stdout and stderr line for line, the exit code, and the trees.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { expectSameOutput, pairContext, put, runPair, startingState } from '../helpers/differential.js';
import { describeEngines } from '../helpers/e2e.js';
import { removeTemps } from '../helpers/tree.js';
import { NOBODY, rsyncAs } from '../helpers/as-user.js';

// The starting states (tempDir) are this file's to remove: left behind, every run adds to /dev/shm.
afterAll(() => removeTemps());

const hasRsync = spawnSync('rsync', ['--version']).status === 0;

/**
 * Files nobody may not read: its own 0000 one (owner bits), root's 0600 one (other bits), a changed one.
 * `a` is readable but its --fake-super record says mode 0 (what the run sees is not what the kernel checks).
 */
function setup(root: string): void {
  put(root, 'src/a', 'a\n');
  put(root, 'src/mine', 'mine\n', 0o000);
  put(root, 'src/sub/b', 'b\n');
  put(root, 'src/sub/roots', 'roots\n', 0o600);
  put(root, 'src/sub/changed', 'new data\n', 0o000);
  put(root, 'dst/sub/changed', 'old\n');
  put(root, 'dst/gone', 'extraneous\n');
  const script =
    `setfattr -n user.rsync.%stat -v '100000 0,0 ${NOBODY.uid}:${NOBODY.gid}' '${root}/src/a' && ` +
    `find '${root}' -exec touch -h -d @1700000000 {} + && chown -R ${NOBODY.uid}:${NOBODY.gid} '${root}' && chown 0:0 '${root}/src/sub/roots'`;
  expect(spawnSync('sh', ['-c', script]).status).toBe(0);
  fs.utimesSync(path.join(root, 'src/sub/changed'), 1_700_000_100, 1_700_000_100);
}

// The rule judges the file's own mode and ids, not the ones --chmod, --groupmap or a --fake-super
// record make the run see (rsync's sender opens the file whatever its list says). --fake-super also
// brings rsync's "failed to read xattr" errors for the files nobody cannot read (the kernel checks a
// user.* read as a read of the file); the node engine refuses --fake-super as it refuses -X. (With -rt
// and no -o/-g rsync 3.5's fake receiver stores records with ids it never set: -a here.)
const CASES = [
  ['-rtv', 'src/', 'dst/'],
  ['-rti', 'src/', 'dst/'],
  ['-rtvi', '--out-format=%n %b', 'src/', 'dst/'],
  ['-rtvn', 'src/', 'dst/'],
  ['-rtv', '--chmod=u-r', 'src/', 'dst/'],
  ['-rti', '--chmod=a+r', '--delete', 'src/', 'dst/'],
  ['-rtgi', '--groupmap=0:65534', 'src/', 'dst/'],
  ['-avi', '--fake-super', 'src/', 'dst/'],
  ['-av', '--fake-super', '--delete', 'src/', 'dst/'],
  // File operands: rsync's sender reads each one's record twice (as it takes the operand, and as it lists
  // it), so each unreadable one is reported twice, in the operands' order.
  ['-av', '--fake-super', 'src/sub/changed', 'src/mine', 'dst/'],
];

describeEngines(({ name: engine }) => {
  it.skipIf(!hasRsync || process.getuid?.() !== 0)('an unreadable source file has no -v/-i line (a dry run lists it), as rsync', async () => {
    const state = startingState(`arsync-unopenable-${engine}-`, setup);
    fs.chmodSync(state.base, 0o755);
    for (const [i, args] of CASES.entries()) {
      if (engine === 'node' && args.includes('--fake-super')) continue;
      const r = await runPair(state, i, {
        rsync: (A) => rsyncAs(NOBODY, args, A),
        arsync: (B) => runCli([`--engine=${engine}`, ...args], { cwd: B, user: NOBODY }),
      });
      expectSameOutput(r);
      expect(r.arsync.code, pairContext(r)).toBe(args.includes('-rtvn') ? 0 : 23);
      for (const root of [r.A, r.B]) for (const d of ['.', 'dst']) fs.utimesSync(path.join(root, d), 1_600_000_000, 1_600_000_000);
      expect(formatDiffs(compareTrees(r.A, r.B, { mtimeToleranceNs: engine === 'node' ? 1000 : 0 })), pairContext(r)).toEqual([]);
    }
  });
});
