// --list-only on a local source, and a lone local source (rsync's implicit listing), against rsync 3.5 on
// the same tree, on every engine: the same lines (sorted: rsync's own order among directories depends on
// its incremental recursion's timing), the same exit code, and nothing written where a destination is
// named. The -v/--stats figures rsync counts in protocol bytes are compared loosely.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { lineDiff, normaliseOutput } from '../helpers/differential.js';

let root: string;

beforeAll(() => {
  root = tempDir('arsync-listonly-');
  const w = (rel: string, data: string | Buffer = rel): void => {
    fs.mkdirSync(path.dirname(path.join(root, 'src', rel)), { recursive: true });
    fs.writeFileSync(path.join(root, 'src', rel), data);
  };
  for (const n of ['a', 'z', 'b c', 'd/x', 'd/sub/y', 'd/sub/skip.o', 'e/q', 'big']) w(n);
  w('big', Buffer.alloc(1_234_567));
  w('tab\tname');
  fs.symlinkSync('a', path.join(root, 'src', 'ln'));
  fs.symlinkSync('d', path.join(root, 'src', 'dirlink'));
  execFileSync('mkfifo', [path.join(root, 'src', 'fifo')]);
  fs.chmodSync(path.join(root, 'src', 'e'), 0o2750);
  fs.chmodSync(path.join(root, 'src', 'z'), 0o600);
  // Fixed times, so the listing does not depend on when the tree was made.
  for (const rel of ['a', 'z', 'd', 'd/sub', 'e', 'big', '.']) fs.utimesSync(path.join(root, 'src', rel), 1_700_000_000, 1_700_000_000);
});

afterAll(() => removeTemps());

/** Sum figures and rates that count rsync's protocol bytes or depend on the clock. */
const loose = (s: string): string =>
  normaliseOutput(s, 'rsync')
    .replace(/^(Total bytes (sent|received):) .*$/gm, '$1 …')
    .replace(/^(File list (generation|transfer) time:) .*$/gm, '$1 …');

const CASES: string[][] = [
  ['--list-only', '-r', 'src/'],
  ['--list-only', 'src/'],
  ['--list-only', 'src'],
  ['-r', 'src/'],
  ['src/'],
  ['-a', '--list-only', 'src/', 'dst/'],
  ['-rl', '--list-only', 'src/d', 'src/e', 'src/a', 'dst/'],
  ['-r', '--list-only', '--exclude=*.o', '--exclude=e/', 'src/'],
  ['-rL', '--list-only', 'src/'],
  ['-a', '--list-only', '-h', 'src/'],
  ['-a', '--list-only', '--no-h', 'src/'],
  ['-av', '--list-only', 'src/'],
  ['-avv', '--list-only', 'src/'],
  ['-r', '--stats', '--list-only', 'src/'],
  ['-r', '-q', '--list-only', 'src/'],
  ['--list-only', 'src/missing', 'src/a', 'dst/'],
  ['-R', '--list-only', 'src/d/sub'],
  ['-rR', '--list-only', 'src/d/sub/y', 'src/./e', 'src/a'],
  ['-rR', '--no-implied-dirs', '--list-only', 'src/d/sub/y'],
  // An operand that reaches its directory through a symlink, named with a trailing slash.
  ['--list-only', 'src/dirlink/'],
  ['-r', '--list-only', 'src/dirlink/'],
  // -k: a link to a directory is that directory, named or met in the walk (a link to a file stays one).
  ['--list-only', '-k', '-d', 'src/dirlink'],
  ['--list-only', '-L', '-d', 'src/dirlink'],
  ['--list-only', '-k', 'src/dirlink'],
  ['--list-only', '-k', '-r', 'src/dirlink'],
  ['--list-only', '-k', '-r', 'src/'],
  ['--list-only', '-k', '-R', 'src/dirlink', 'src/ln'],
];

describeEngines((e) => {
  it.each(CASES)('lists like rsync: %j', async (...args) => {
    fs.rmSync(path.join(root, 'dst'), { recursive: true, force: true });
    const theirs = spawnSync('rsync', args, { cwd: root, encoding: 'latin1' });
    const ours = await runCli([`--engine=${e.name}`, ...args], { cwd: root });
    expect(ours.code, show(ours)).toBe(theirs.status);
    const d = lineDiff(loose(theirs.stdout), loose(ours.stdout));
    expect(d, show(ours)).toEqual({ onlyRsync: [], onlyArsync: [] });
    expect(ours.stdout.length > 0, show(ours)).toBe(theirs.stdout.length > 0);
    expect(fs.existsSync(path.join(root, 'dst')), 'a listing wrote its destination').toBe(false);
    if (theirs.status !== 0) expect(ours.stderr).toMatch(/link_stat ".*missing" failed/);
  });

  it('--munge-links: the sender\'s side lists targets unmunged ("/rsyncd-munged/" dropped), the length the link\'s own', async () => {
    const src = path.join(root, `munged-${e.name}`);
    fs.mkdirSync(src);
    fs.symlinkSync('/rsyncd-munged/a', path.join(src, 'pre'));
    fs.symlinkSync('/rsyncd-munged/', path.join(src, 'bare'));
    fs.symlinkSync('a', path.join(src, 'plain'));
    for (const l of ['pre', 'bare', 'plain']) execFileSync('touch', ['-h', '-d', '@1700000000', path.join(src, l)]);
    fs.utimesSync(src, 1_700_000_000, 1_700_000_000);
    const args = ['-a', '--munge-links', '--list-only', `${path.basename(src)}/`];
    const theirs = spawnSync('rsync', args, { cwd: root, encoding: 'latin1' });
    const ours = await runCli([`--engine=${e.name}`, ...args], { cwd: root });
    expect(ours.code, show(ours)).toBe(theirs.status);
    expect(ours.stdout).toBe(theirs.stdout);
    expect(ours.stdout).toMatch(/ 16 \S+ \S+ pre -> a\n/);
  });
});
