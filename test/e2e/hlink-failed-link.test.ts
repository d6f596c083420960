// -H where the destination refuses part of a group (a directory made immutable, so root cannot create in
// it either). rsync 3.5 itemizes a member only once its link was made (hlink.c maybe_hard_link), so a
// member whose link fails has no "hf" line and its error names the member ("link DEST/member => leader
// failed"); and when the group's leader (its last member, new) cannot be made, its generator sends the
// member before it in the leader's place (handle_skipped_hlink), whose line is a sent file's, and links
// the others to that one (with incremental recursion: without it, it never hears of the failure and
// makes none of them). rsync on a clone is the oracle: stdout line for line, stderr's lines (whose
// order between rsync's processes is theirs), the exit code, and the trees.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { pairContext, put, runPair, sameArgs, startingState } from '../helpers/differential.js';
import type { EngineName } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { normaliseOutput, sameRoot, sortedErrLines as errLines } from '../helpers/normalise.js';
import { removeTemps } from '../helpers/tree.js';

afterAll(() => removeTemps());

const hasRsync = spawnSync('rsync', ['--version']).status === 0;
const hasChattr = spawnSync('chattr', ['--help']).error === undefined;

/** a/f, b/g and c/h one inode (c/h, the last, leads a new group), a/z on its own; dst has the directories. */
function setup(root: string): void {
  put(root, 'src/a/f', 'linked\n');
  for (const m of ['b/g', 'c/h']) {
    fs.mkdirSync(path.join(root, 'src', path.dirname(m)));
    fs.linkSync(path.join(root, 'src/a/f'), path.join(root, 'src', m));
  }
  put(root, 'src/a/z', 'alone\n');
  for (const d of ['a', 'b', 'c']) fs.mkdirSync(path.join(root, 'dst', d), { recursive: true });
  expect(spawnSync('sh', ['-c', `find '${root}' -exec touch -h -d @1700000000 {} +`]).status).toBe(0);
}

/**
 * A symlink group (a/s, b/s, c/s) and a FIFO group (a/p, b/p, c/p), a/z on its own: rsync makes the
 * first of a non-regular group and links the others to it as its generator meets them.
 */
function setupSpecial(root: string): void {
  for (const d of ['a', 'b', 'c']) {
    fs.mkdirSync(path.join(root, 'src', d), { recursive: true });
    fs.mkdirSync(path.join(root, 'dst', d), { recursive: true });
  }
  fs.symlinkSync('target', path.join(root, 'src/a/s'));
  expect(spawnSync('mkfifo', [path.join(root, 'src/a/p')]).status).toBe(0);
  for (const m of ['b', 'c']) for (const f of ['s', 'p']) fs.linkSync(path.join(root, 'src/a', f), path.join(root, 'src', m, f));
  put(root, 'src/a/z', 'alone\n');
  expect(spawnSync('sh', ['-c', `find '${root}' -exec touch -h -d @1700000000 {} +`]).status).toBe(0);
}

/** Each case: the destination directories made immutable, and the command line. */
type Case = [string[], string[]];

/** a/f's link to c/h fails: no line for it; b/g's works. */
const MEMBER_FAILS: Case[] = [
  [['a'], ['-aHi']],
  [['a'], ['-aHv']],
];

/**
 * c/h cannot be made: b/g is sent in its place, a/f linked to b/g; neither c/h nor b/g: a/f is sent, alone.
 * Without incremental recursion rsync's generator never hears of the failure: a/f and b/g are not made.
 */
const LEADER_FAILS: Case[] = [
  [['c'], ['-aHi']],
  [['c'], ['-aHv']],
  [['b', 'c'], ['-aHi']],
  [['b', 'c'], ['-aHv']],
  [['c'], ['-aHi', '--no-i-r']],
  [['c'], ['-aHv', '--no-i-r']],
];

/** c/s's and c/p's links fail: no line for either, b's members linked and named. */
const SPECIAL_MEMBER_FAILS: Case[] = [
  [['c'], ['-aHi']],
  [['c'], ['-aHv']],
  [['c'], ['-aHi', '--no-i-r']],
  [['c'], ['-aH', '--out-format=%i %n%L']],
];

const chattr = (flag: string, root: string, dirs: string[]): void => {
  const r = spawnSync('chattr', [flag, ...dirs.map((d) => path.join(root, 'dst', d))]);
  expect(r.status, r.stderr.toString()).toBe(0);
};

/** Each case beside rsync: exit 23, stdout line for line, stderr's lines, the trees. */
async function sameAsRsync(engine: EngineName, cases: Case[], make = setup): Promise<void> {
  const state = startingState(`arsync-hlink-failed-${engine}-`, make);
  for (const [i, [locked, args]] of cases.entries()) {
    const run = sameArgs([...args, 'src/', 'dst/'], engine);
    const r = await runPair(state, i, {
      rsync: (A) => {
        chattr('+i', A, locked);
        try {
          return run.rsync(A);
        } finally {
          chattr('-i', A, locked);
        }
      },
      arsync: async (B) => {
        chattr('+i', B, locked);
        try {
          return await run.arsync(B);
        } finally {
          chattr('-i', B, locked);
        }
      },
    });
    const what = pairContext(r);
    expect(r.rsync.code, what).toBe(23);
    expect(r.arsync.code, what).toBe(r.rsync.code);
    expect(normaliseOutput(sameRoot(r.arsync.stdout, r.B), 'arsync'), what).toBe(normaliseOutput(sameRoot(r.rsync.stdout, r.A), 'rsync'));
    expect(errLines(r.arsync.stderr, r.B), what).toEqual(errLines(r.rsync.stderr, r.A));
    for (const root of [r.A, r.B]) for (const d of ['.', 'dst']) fs.utimesSync(path.join(root, d), 1_600_000_000, 1_600_000_000);
    expect(formatDiffs(compareTrees(r.A, r.B, { mtimeToleranceNs: engine === 'node' ? 1000 : 0 })), what).toEqual([]);
  }
}

const runs = hasRsync && hasChattr && process.getuid?.() === 0;

describeEngines(({ name: engine }) => {
  it.skipIf(!runs)("a member whose link fails has no line, and its error names it, as rsync's", async () => {
    await sameAsRsync(engine, MEMBER_FAILS);
  });

  it.skipIf(!runs)("a leader that cannot be made gives way to the member before it, sent as rsync sends it", async () => {
    await sameAsRsync(engine, LEADER_FAILS);
  });

  it.skipIf(!runs)("a symlink or FIFO member whose link fails has no line, as rsync's", async () => {
    await sameAsRsync(engine, SPECIAL_MEMBER_FAILS, setupSpecial);
  });
});
