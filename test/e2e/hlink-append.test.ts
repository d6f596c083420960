// -H with --append / --append-verify where the destination already has one member of a group with other
// data: rsync's generator leaves such a member alone when its file is not shorter than the source's (the
// quick check failed: another time, -I, or -c's checksum) and drops it from its group (generator.c,
// handle_skipped_hlink), so the next member the destination has leads, else the last one left is sent and
// the others linked to it. A member the quick check finds current (--size-only, or the same time) leads as
// usual, and a shorter one is appended to. Differential against rsync 3.5 (test/helpers/differential.ts) as
// a local copy, a pull and a push through the fake remote shell, and a --read-batch of a batch rsync wrote.

import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { differential, put, touchNs } from '../helpers/differential.js';

afterAll(() => removeTemps());

const GROUP = 'the group of three\n';
const SRC_TIME = '1600000000.250000000';

/** src: a, b, c one inode and `other` alone; dst/, src/ and the group's names at fixed times. */
function source(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'a', GROUP, 0o644);
  execFileSync('ln', [path.join(src, 'a'), path.join(src, 'b')]);
  execFileSync('ln', [path.join(src, 'a'), path.join(src, 'c')]);
  put(src, 'other', 'alone\n', 0o644);
  touchNs([[path.join(src, 'a'), SRC_TIME], [path.join(src, 'other'), SRC_TIME], [src, SRC_TIME]]);
}

/** The destination: `name` with `data` at `time`, dst itself at the source's time (no ./ line for either). */
function dest(root: string, files: [name: string, data: string, time: string][]): void {
  const dst = path.join(root, 'dst');
  for (const [name, data, time] of files) {
    put(dst, name, data, 0o644);
    touchNs([[path.join(dst, name), time]]);
  }
  put(dst, 'other', 'alone\n', 0o644);
  touchNs([[path.join(dst, 'other'), SRC_TIME], [dst, SRC_TIME]]);
}

// One function per starting state (differential keys rsync's shared side on the setup's text).
/** a as long as the source's, other data, the source's time: current by time, not under -I or -c. */
const sameSizeSameTime = (root: string): void => {
  source(root);
  dest(root, [['a', 'THE GROUP OF THREE\n', '1600000000.250000000']]);
};
/** b as long, other data, another time: skipped by --append wherever its time is looked at. */
const sameSizeOlderMiddle = (root: string): void => {
  source(root);
  dest(root, [['b', 'THE GROUP OF THREE\n', '1500000000.0']]);
};
/** a longer (skipped) and b as long and current: b leads with nothing to send, c linked to it. */
const longerThenCurrent = (root: string): void => {
  source(root);
  dest(root, [['a', 'a longer file than the group\n', '1500000000.0'], ['b', 'the group of three\n', '1600000000.250000000']]);
};
/** a shorter, the source's first bytes: it leads and gets the rest. */
const shorterPrefix = (root: string): void => {
  source(root);
  dest(root, [['a', 'the group', '1500000000.0']]);
};
/** a longer (skipped) and b shorter, the source's first bytes: b leads and gets the rest, c linked to it. */
const longerThenShorter = (root: string): void => {
  source(root);
  dest(root, [['a', 'a longer file than the group\n', '1500000000.0'], ['b', 'the group', '1500000000.0']]);
};
/** a and c longer: both skipped, b (the one left) sent. */
const firstAndLastLonger = (root: string): void => {
  source(root);
  dest(root, [['a', 'a longer file than the group\n', '1500000000.0'], ['c', 'c longer file than the group\n', '1500000000.0']]);
};

const cases: [string, (root: string) => void, string[]][] = [
  ['the first member as long, other data, same time, -I', sameSizeSameTime, ['-aH', '--append', '-I']],
  ['the first member as long, other data, same time, -c', sameSizeSameTime, ['-aH', '--append', '-c']],
  ['the first member as long, other data, same time, --append-verify -c', sameSizeSameTime, ['-aH', '--append-verify', '-c']],
  ['the first member as long, other data, same time (current)', sameSizeSameTime, ['-aH', '--append']],
  ['the first member as long, other data, same time, --size-only (current)', sameSizeSameTime, ['-aH', '--append', '--size-only']],
  ['the middle member as long, other data, older', sameSizeOlderMiddle, ['-aH', '--append']],
  ['the middle member as long, other data, older, --inplace', sameSizeOlderMiddle, ['-aH', '--append', '--inplace']],
  ['the first longer, the middle current', longerThenCurrent, ['-aH', '--append']],
  ['the first longer, the middle current, --append-verify -c', longerThenCurrent, ['-aH', '--append-verify', '-c']],
  ['the first shorter with the source\'s start', shorterPrefix, ['-aH', '--append']],
  ['the first longer, the middle shorter with the source\'s start', longerThenShorter, ['-aH', '--append']],
  ['the first longer, the middle shorter with the source\'s start, -c', longerThenShorter, ['-aH', '--append', '-c']],
  ['the first and last longer', firstAndLastLonger, ['-aH', '--append-verify']],
];

/**
 * A --read-batch's cases: rsync writes the batch from src into an empty directory (so it holds the group's
 * data under its last member), and each tool reads it into dst. (Not the states where the reader wants
 * the data under a member the batch lacks: rsync 3.5 hangs after "No batched update", docs/options.md.)
 */
const batched = (state: (root: string) => void, writer: string[]) => (root: string): void => {
  state(root);
  execFileSync('rsync', ['-aH', ...writer, '--write-batch=batch', 'src/', 'w/'], { cwd: root, stdio: 'ignore' });
};
const batchCases: [string, (root: string) => void, string[]][] = [
  ['the first member as long, other data, same time (current)', batched(sameSizeSameTime, ['--append']), ['-aH', '--append']],
  ['the first member as long, other data, same time, -I', batched(sameSizeSameTime, ['--append']), ['-aH', '--append', '-I']],
  ['the first member as long, other data, same time, -c', batched(sameSizeSameTime, ['--append', '-c']), ['-aH', '--append', '-c']],
  ['the first member as long, other data, same time, --append-verify -c', batched(sameSizeSameTime, ['--append-verify', '-c']), ['-aH', '--append-verify', '-c']],
  ['the middle member as long, other data, older', batched(sameSizeOlderMiddle, ['--append']), ['-aH', '--append']],
  ['the first longer, the middle current', batched(longerThenCurrent, ['--append']), ['-aH', '--append']],
  ['the first longer, the middle current, -c', batched(longerThenCurrent, ['--append', '-c']), ['-aH', '--append', '-c']],
];

// A push sends what the far side's generator asks for: a few of the cases, its leader's choices.
const pushCases = cases.filter(([what]) => /-I$|, -c$|middle member as long, other data, older$|the first longer, the middle current$/.test(what));

describeEngines((e) => {
  const rsh = fakeRsh(tempDir('arsync-hlappend-rsh-'));

  it.each(cases)('local, as rsync: %s', async (_what, setup, opts) => {
    await differential({ engine: e.name, setup, args: [...opts, 'src/', 'dst/'] });
  });

  it.each(cases)('pull, as rsync: %s', async (_what, setup, opts) => {
    await differential({ engine: e.name, setup, args: [...opts, '-e', rsh, 'localhost:src/', 'dst/'] });
  });

  it.each(batchCases)('--read-batch, as rsync: %s', async (_what, setup, opts) => {
    // Without -i: rsync's reader prints the writer's recorded lines, arsync the local run's (docs/options.md,
    // --read-batch); the trees, hard links included, and the exit code are compared.
    await differential({ engine: e.name, setup, args: ['--read-batch=batch', ...opts, 'dst/'], noItemize: true });
  });

  // A push: the far side's rsync decides (arsync's sender answers what it asks for); held to rsync's client.
  it.each(pushCases)('push, as rsync: %s', async (_what, setup, opts) => {
    await differential({ engine: e.name, setup, args: [...opts, '-e', rsh, 'src/', 'localhost:dst/'] });
  });
});
