// --inplace and --append by a user who is not root, against rsync run as the same user, on every engine.
// rsync 3.5's receiver writes into a read-only file of its own (it adds owner write through a read-only
// descriptor, opens the file for writing and puts the mode back at once); arsync failed it ("mkstemp
// .a.XXXXXX failed: Permission denied", exit 23, the old bytes left). A file that is not the user's, or
// one already owner-writable, still fails, with rsync's words: `open "PATH" failed`, the errno rsync's
// retry without O_CREAT leaves (ENOENT for a new file in a read-only directory). A file its owner may not
// read either (mode 000) is reached too (rsync's receiver holds it by an O_PATH descriptor; arsync opened
// it for reading and failed with `open "PATH" failed`, exit 23, until session 55). Below, the other two
// ways such a file met arsync: its mode without -p when rewritten, and its attributes when up to date.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { expectSameOutput, pairContext, put, runPair, startingState, type PairRun, type StartingState } from '../helpers/differential.js';
import { NOBODY, rsyncAs } from '../helpers/as-user.js';

afterAll(() => removeTemps());

/** One option set run as nobody by rsync and by arsync on `engine`, each in its own copy of the state. */
const asNobody = (state: StartingState, i: number, args: string[], engine: string): Promise<PairRun<CliResult>> =>
  runPair(state, i, {
    rsync: (A) => rsyncAs(NOBODY, args, A),
    arsync: (B) => runCli([`--engine=${engine}`, ...args], { cwd: B, user: NOBODY }),
  });

/** Sources, and a destination of read-only files: the user's own (0444, 0400), root's, and a read-only directory. */
function setup(root: string): void {
  for (const n of ['own', 'own400', 'own000', 'short', 'roots', 'rootsw']) put(root, `src/${n}`, `${n}: the new contents\n`, 0o644);
  put(root, 'src/rodir/new', 'new\n', 0o644);
  put(root, 'dst/own', 'old\n', 0o444);
  put(root, 'dst/own400', 'old\n', 0o400);
  put(root, 'dst/own000', 'old\n', 0o000);
  put(root, 'dst/short', 'short', 0o444);
  put(root, 'dst/roots', 'old\n', 0o444);
  put(root, 'dst/rootsw', 'old\n', 0o644);
  fs.mkdirSync(path.join(root, 'dst/rodir'));
  spawnSync('sh', ['-c', `find '${root}' -exec touch -h -d @1700000000 {} + && chown -R ${NOBODY.uid}:${NOBODY.gid} '${root}'`]);
  // Not the user's: root's, read-only and owner-writable alike.
  fs.chownSync(path.join(root, 'dst/roots'), 0, 0);
  fs.chownSync(path.join(root, 'dst/rootsw'), 0, 0);
  fs.chmodSync(path.join(root, 'dst/rodir'), 0o555);
}

describeEngines((e) => {
  const engine = e.name;

  it.skipIf(process.getuid?.() !== 0)('not as root: --inplace and --append into read-only files, as rsync', async () => {
    const state = startingState(`arsync-inplace-ro-${engine}-`, setup);
    fs.chmodSync(state.base, 0o755);
    // Without -p rsync gives a file it could not open for reading the mode of a new one (README,
    // "Differences from rsync"): own000 goes only where -p sets the mode.
    const cases = [
      ['-ti', '--inplace', 'src/own', 'src/own400', 'dst/'],
      ['-rti', '--inplace', '--exclude=own000', 'src/', 'dst/'],
      ['-ti', '--append', 'src/short', 'dst/'],
      ['-rti', '--append', '--exclude=own000', 'src/', 'dst/'],
      ['-pti', '--inplace', '--stats', 'src/own000', 'src/own', 'src/own400', 'dst/'],
      ['-rpti', '--inplace', 'src/', 'dst/'],
    ];
    for (const [i, args] of cases.entries()) {
      const r = await asNobody(state, i, args, engine);
      expectSameOutput(r);
      const all = args[0]!.startsWith('-r');
      expect(r.arsync.code, pairContext(r)).toBe(all ? 23 : 0);
      // Root's read-only file: rsync's chmod reports its own EPERM under -p, else the open's EACCES stands
      // (syscall.c do_chmod; arsync said EACCES either way until session 55).
      const why = args.includes('-rpti') ? 'Operation not permitted \\(1\\)' : 'Permission denied \\(13\\)';
      if (all) expect(r.arsync.stderr, pairContext(r)).toMatch(new RegExp(`open ".*/dst/roots" failed: ${why}`));
      for (const root of [r.A, r.B]) fs.utimesSync(path.join(root, 'dst'), 1_600_000_000, 1_600_000_000);
      expect(formatDiffs(compareTrees(r.A, r.B, { mtimeToleranceNs: engine === 'node' ? 1000 : 0 })), pairContext(r)).toEqual([]);
      // --append keeps the bytes there and writes the rest: "short" + the source's from byte 5.
      const own = fs.readFileSync(path.join(r.B, args.includes('--append') ? 'dst/short' : 'dst/own'), 'utf8');
      expect(own).toBe(args.includes('--append') ? 'short: the new contents\n' : 'own: the new contents\n');
      if (args.includes('-pti') || args.includes('-rpti')) {
        expect(fs.readFileSync(path.join(r.B, 'dst/own000'), 'utf8'), pairContext(r)).toBe('own000: the new contents\n');
        expect(fs.statSync(path.join(r.B, 'dst/own000')).mode & 0o7777, pairContext(r)).toBe(0o644);
      }
    }
  });
});

/** Files of the user's that the user may not read (mode 000) in the destination, their sources 0644. */
function unreadable(root: string): void {
  put(root, 'src/same', 'hello\n', 0o644);
  put(root, 'src/grown', 'longer contents\n', 0o644);
  put(root, 'dst/same', 'world\n', 0o000);
  put(root, 'dst/grown', 'x\n', 0o000);
  spawnSync('sh', ['-c', `find '${root}' -exec touch -h -d @1700000000 {} + && chown -R ${NOBODY.uid}:${NOBODY.gid} '${root}'`]);
}

describeEngines((e) => {
  const engine = e.name;

  // rsync's receiver takes a kept file's mode from the basis it opened for reading, and gives one it could
  // not open the mode of a new file (receiver.c: dest_mode with exists = whether the basis opened). arsync
  // kept mode 000 on the rewritten file until session 55.
  it.skipIf(process.getuid?.() !== 0)('without -p, a rewritten file its owner could not read gets a new file\'s mode, as rsync', async () => {
    const state = startingState(`arsync-unreadable-mode-${engine}-`, unreadable);
    fs.chmodSync(state.base, 0o755);
    const cases = [
      ['-rci', 'src/', 'dst/'],
      ['-rci', '--inplace', 'src/', 'dst/'],
      ['-rti', '--stats', 'src/', 'dst/'],
    ];
    for (const [i, args] of cases.entries()) {
      const r = await asNobody(state, i, args, engine);
      expectSameOutput(r);
      expect(r.arsync.code, pairContext(r)).toBe(0);
      expect(fs.statSync(path.join(r.B, 'dst/grown')).mode & 0o7777, pairContext(r)).toBe(0o644);
      expect(fs.readFileSync(path.join(r.B, 'dst/grown'), 'utf8')).toBe('longer contents\n');
      for (const root of [r.A, r.B]) fs.utimesSync(path.join(root, 'dst'), 1_600_000_000, 1_600_000_000);
      expect(formatDiffs(compareTrees(r.A, r.B, { times: false })), pairContext(r)).toEqual([]);
    }
  });

  // An up-to-date file (same size and time) whose only change is its mode: rsync sets it by name. arsync
  // opened the file for reading to set it through the descriptor, and failed (`[generator] open ...
  // failed: Permission denied`, exit 23, mode 000 left) until session 55; it now holds it by O_PATH.
  it.skipIf(process.getuid?.() !== 0)('the attributes of a file its owner cannot read are set, as rsync', async () => {
    const state = startingState(`arsync-unreadable-attrs-${engine}-`, unreadable);
    fs.chmodSync(state.base, 0o755);
    const cases = [
      ['-ai', 'src/', 'dst/'],
      ['-ai', '--stats', 'src/', 'dst/'],
      ['-rtpi', 'src/same', 'dst/'],
      ['-rtEi', 'src/', 'dst/'],
    ];
    for (const [i, args] of cases.entries()) {
      const r = await asNobody(state, i, args, engine);
      expectSameOutput(r);
      expect(r.arsync.code, pairContext(r)).toBe(0);
      if (!args.includes('-rtEi')) expect(fs.statSync(path.join(r.B, 'dst/same')).mode & 0o7777, pairContext(r)).toBe(0o644);
      // Quick check: same size and time, so the old bytes stay, as in rsync's tree.
      expect(fs.readFileSync(path.join(r.B, 'dst/same'), 'utf8')).toBe('world\n');
      for (const root of [r.A, r.B]) fs.utimesSync(path.join(root, 'dst'), 1_600_000_000, 1_600_000_000);
      expect(formatDiffs(compareTrees(r.A, r.B)), pairContext(r)).toEqual([]);
    }
  });
});
