// A source directory the user may not read (another's, 0700), in a run by a user who is not root, against
// rsync run as the same user.
// - -X and -A: rsync reads attributes by path, which needs no read permission for the names and the ACLs:
//   it reports the directory's opendir failure only. arsync opened the directory to read them, printed a
//   second error ('[sender] open "..." failed: Permission denied') and left the copy's time unset. The
//   node engine has no xattr calls (refused, as for any -X run).
// - -m: rsync's sender lists the directory and cannot open it, so nothing of it is in the list and the
//   receiver prunes it (the error reported, deletions held); arsync made it, empty.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { expectSameOutput, pairContext, put, runPair, startingState } from '../helpers/differential.js';
import { NOBODY, rsyncAs } from '../helpers/as-user.js';

afterAll(() => removeTemps());

function setup(root: string): void {
  put(root, 'src/open/f', 'f\n', 0o644);
  put(root, 'src/closed/g', 'g\n', 0o644);
  spawnSync('sh', ['-c', `find '${root}' -exec touch -h -d @1700000000 {} + && chown -R ${NOBODY.uid}:${NOBODY.gid} '${root}'`]);
  fs.chownSync(path.join(root, 'src/closed'), 0, 0);
  fs.chmodSync(path.join(root, 'src/closed'), 0o700);
}

describeEngines((e) => {
  const engine = e.name;

  it.skipIf(process.getuid?.() !== 0 || engine === 'node').each([['-aiX'], ['-aiA'], ['-aiXA']])('not as root, %s over a directory the user may not read, as rsync', async (opt) => {
    const state = startingState(`arsync-xattr-unread-${engine}-`, setup);
    fs.chmodSync(state.base, 0o755);
    const args = [opt, 'src/', 'dst/'];
    const r = await runPair(state, 0, {
      rsync: (A) => rsyncAs(NOBODY, args, A),
      arsync: (B) => runCli([`--engine=${engine}`, ...args], { cwd: B, user: NOBODY }),
    });
    expectSameOutput(r);
    expect(r.arsync.code, pairContext(r)).toBe(23);
    expect(r.arsync.stderr.match(/failed/g)?.length, pairContext(r)).toBe(1);
    // The work root and the destination the run made get the time of the run.
    for (const root of [r.A, r.B]) for (const d of ['.', 'dst']) fs.utimesSync(path.join(root, d), 1_600_000_000, 1_600_000_000);
    expect(formatDiffs(compareTrees(r.A, r.B, { mtimeToleranceNs: 0 })), pairContext(r)).toEqual([]);
  });

  it.skipIf(process.getuid?.() !== 0).each([['-aim'], ['-aim', '--delete'], ['-aim', '--delete-before']])('not as root, %s prunes a directory the user may not read, as rsync', async (...opts) => {
    const state = startingState(`arsync-prune-unread-${engine}-`, (root) => {
      setup(root);
      put(root, 'dst/extra', 'x\n', 0o644);
      spawnSync('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, path.join(root, 'dst')]);
    });
    fs.chmodSync(state.base, 0o755);
    const args = [...opts, 'src/', 'dst/'];
    const r = await runPair(state, 0, {
      rsync: (A) => rsyncAs(NOBODY, args, A),
      arsync: (B) => runCli([`--engine=${engine}`, ...args], { cwd: B, user: NOBODY }),
    });
    expectSameOutput(r);
    expect(r.arsync.code, pairContext(r)).toBe(23);
    expect(fs.existsSync(path.join(r.B, 'dst/closed')), pairContext(r)).toBe(false);
    expect(fs.existsSync(path.join(r.B, 'dst/extra')), pairContext(r)).toBe(true);
    for (const root of [r.A, r.B]) for (const d of ['.', 'dst']) fs.utimesSync(path.join(root, d), 1_600_000_000, 1_600_000_000);
    expect(formatDiffs(compareTrees(r.A, r.B, { mtimeToleranceNs: engine === 'node' ? 1000 : 0 })), pairContext(r)).toEqual([]);
  });
});
