// A source file the user cannot read, copied by a user (not root): rsync's sender prints a file's -v/-i
// line only once it has sent it, so the file it fails to open ("send_files failed to open", exit 23) has no
// line, while the dry run (which opens nothing) lists it. rsync 3.5 run as the same user on a clone is the
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

// The starting states (tempDir) are this file's to remove: left behind, every run adds to /dev/shm.
afterAll(() => removeTemps());

const hasRsync = spawnSync('rsync', ['--version']).status === 0;
const NOBODY = { uid: 65534, gid: 65534 };

/** Files nobody may not read: its own 0000 one (owner bits), root's 0600 one (other bits), a changed one. */
function setup(root: string): void {
  put(root, 'src/a', 'a\n');
  put(root, 'src/mine', 'mine\n', 0o000);
  put(root, 'src/sub/b', 'b\n');
  put(root, 'src/sub/roots', 'roots\n', 0o600);
  put(root, 'src/sub/changed', 'new data\n', 0o000);
  put(root, 'dst/sub/changed', 'old\n');
  spawnSync('sh', ['-c', `find '${root}' -exec touch -h -d @1700000000 {} + && chown -R ${NOBODY.uid}:${NOBODY.gid} '${root}' && chown 0:0 '${root}/src/sub/roots'`]);
  fs.utimesSync(path.join(root, 'src/sub/changed'), 1_700_000_100, 1_700_000_100);
}

const CASES = [
  ['-rtv', 'src/', 'dst/'],
  ['-rti', 'src/', 'dst/'],
  ['-rtvi', '--out-format=%n %b', 'src/', 'dst/'],
  ['-rtvn', 'src/', 'dst/'],
];

describeEngines(({ name: engine }) => {
  it.skipIf(!hasRsync || process.getuid?.() !== 0)('an unreadable source file has no -v/-i line (a dry run lists it), as rsync', async () => {
    const state = startingState(`arsync-unopenable-${engine}-`, setup);
    fs.chmodSync(state.base, 0o755);
    for (const [i, args] of CASES.entries()) {
      const r = await runPair(state, i, {
        rsync: (A) => {
          const x = spawnSync('setpriv', [`--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', '--', 'rsync', ...args], { cwd: A, encoding: 'utf8' });
          return { code: x.status, signal: x.signal, stdout: x.stdout, stderr: x.stderr, argv: ['rsync', ...args] };
        },
        arsync: (B) => runCli([`--engine=${engine}`, ...args], { cwd: B, user: NOBODY }),
      });
      expectSameOutput(r);
      expect(r.arsync.code, pairContext(r)).toBe(args.includes('-rtvn') ? 0 : 23);
      for (const root of [r.A, r.B]) for (const d of ['.', 'dst']) fs.utimesSync(path.join(root, d), 1_600_000_000, 1_600_000_000);
      expect(formatDiffs(compareTrees(r.A, r.B, { mtimeToleranceNs: engine === 'node' ? 1000 : 0 })), pairContext(r)).toEqual([]);
    }
  });
});
