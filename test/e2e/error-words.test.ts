// Per-file errors in rsync's words. A user without the rights (nobody) copies a tree into a destination
// they cannot write: rsync's three processes each report what they meet ("[generator] recv_generator:
// mkdir ... failed", "*** Skipping any contents from this failed directory ***", "[receiver] mkstemp ...
// failed", "[sender] send_files failed to open ...", "[sender] opendir ... failed", "[generator] failed
// to set permissions on ..."), each path absolute, each errno in glibc's words with its number. arsync
// printed Node's ("EACCES: permission denied, open '...'"), went on into a directory it could not make
// (an ENOENT per entry below it), and chmod-ed a directory whose mode was already right (EPERM where
// rsync, comparing first, never tries). rsync 3.5, run by the same user on a clone, is the oracle: the
// same exit code, the same set of stderr lines (the processes interleave differently, and mkstemp's six
// letters are random), the same tree.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { clone } from '../helpers/differential.js';
import { isRoot, tempDir } from '../helpers/tree.js';
import { NOBODY, rsyncAs } from '../helpers/as-user.js';

const hasRsync = spawnSync('rsync', ['--version']).status === 0;

/** The starting state, owned by root and readable by nobody where it says so. */
function setup(root: string): void {
  fs.chmodSync(root, 0o755);
  const src = path.join(root, 'src');
  for (const d of ['locked', 'sub/inner/deeper', 'sub/unreadable', 'ro']) fs.mkdirSync(path.join(src, d), { recursive: true });
  fs.writeFileSync(path.join(src, 'f'), 'file');
  fs.writeFileSync(path.join(src, 'noread'), 'secret');
  fs.writeFileSync(path.join(src, 'locked', 'x'), 'x');
  fs.writeFileSync(path.join(src, 'sub', 'inner', 'z'), 'z');
  fs.writeFileSync(path.join(src, 'ro', 'y'), 'y');
  fs.chmodSync(path.join(src, 'noread'), 0o000);
  fs.chmodSync(path.join(src, 'locked'), 0o000);
  fs.chmodSync(path.join(src, 'sub', 'unreadable'), 0o000);
  // The destination exists, root's and not writable by nobody, with the same mode and time as the
  // source: nothing about it needs setting. Its ro/ differs from the source's in mode only.
  const dst = path.join(root, 'dst');
  fs.mkdirSync(path.join(dst, 'ro'), { recursive: true });
  fs.chmodSync(path.join(dst, 'ro'), 0o555);
  const when = new Date('2023-04-05T06:07:08Z');
  for (const p of [path.join(src, 'ro', 'y'), path.join(src, 'ro'), path.join(dst, 'ro'), src, dst]) fs.utimesSync(p, when, when);
}

/** stderr as a sorted list: the program's name, the work root and mkstemp's letters made alike. */
function lines(stderr: string, root: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l !== '')
    .map((l) =>
      l
        .split(root)
        .join('ROOT')
        .replace(/^a?rsync([: ])/, 'PROG$1')
        .replace(/(\/\.[^/"]+\.)[A-Za-z0-9]{6}"/, '$1XXXXXX"')
        .replace(/ at \S+\(\d+\) \[\w+=[^\]]+\]$/, ''),
    )
    .sort();
}

describeEngines(({ name: engine }) => {
  it.skipIf(!isRoot || !hasRsync)('a copy by a user without the rights: rsync\'s lines, exit code and tree', async () => {
    const base = tempDir(`arsync-errwords-${engine}-`);
    fs.chmodSync(base, 0o755);
    const O = path.join(base, 'O');
    fs.mkdirSync(O);
    setup(O);
    const A = path.join(base, 'A');
    const B = path.join(base, 'B');
    clone(O, A);
    clone(O, B);
    for (const r of [A, B]) fs.chmodSync(r, 0o755);

    const argv = ['-a', '--stats', '--modify-window=-1', `${A}/src/`, `${A}/dst/`];
    const theirs = rsyncAs(NOBODY, argv);
    const ours = await runCli(['-a', '--stats', `--engine=${engine}`, `${B}/src/`, `${B}/dst/`], { user: NOBODY });

    expect(ours.code, show(ours)).toBe(theirs.code);
    // What rsync's sender lists below the directory it could not make still counts (and so does that
    // directory among the created ones, as rsync counts it).
    const counts = (out: string) => out.split('\n').filter((l) => /^(Number of (created )?files|Total file size):/.test(l));
    expect(counts(ours.stdout)).toEqual(counts(theirs.stdout));
    expect(counts(ours.stdout)).toHaveLength(3);
    expect(ours.code).toBe(23);
    const mine = lines(ours.stderr, B);
    expect(mine, show(ours)).toEqual(lines(theirs.stderr, A));
    // What the case is about, spelled out (the oracle could drift with rsync's version).
    expect(mine).toContain('PROG: [generator] recv_generator: mkdir "ROOT/dst/sub" failed: Permission denied (13)');
    expect(mine).toContain('*** Skipping any contents from this failed directory ***');
    expect(mine).toContain('PROG: [sender] opendir "ROOT/src/locked" failed: Permission denied (13)');
    expect(mine).toContain('PROG: [sender] opendir "ROOT/src/sub/unreadable" failed: Permission denied (13)');
    expect(mine).toContain('PROG: [receiver] mkstemp "ROOT/dst/.f.XXXXXX" failed: Permission denied (13)');
    expect(mine).toContain('PROG: [sender] send_files failed to open "ROOT/src/noread": Permission denied (13)');
    expect(mine.filter((l) => l.includes('failed to set permissions on "ROOT/dst/ro"'))).toHaveLength(1);
    expect(mine.some((l) => l.includes('"ROOT/dst/."'))).toBe(false);

    expect(formatDiffs(compareTrees(A, B, { mtimeToleranceNs: engine === 'node' ? 1000 : 0 }))).toEqual([]);
  });
});

describeEngines(({ name: engine }) => {
  // A destination its user may not make (as nobody, in a directory root owns): named as written less its
  // trailing slashes, as rsync names it; arsync kept them on this path ("/tmp/x/dst/" failed).
  it.skipIf(!hasRsync || process.getuid?.() !== 0)('a destination its user may not make: named without its trailing slashes, as rsync', async () => {
    const base = tempDir(`arsync-errdest-nobody-${engine}-`);
    fs.chmodSync(base, 0o755);
    fs.mkdirSync(path.join(base, 'src'), { mode: 0o755 });
    fs.writeFileSync(path.join(base, 'src', 'a'), 'a');
    const args = ['-a', `${base}/src/`, `${base}/dst//`];
    const theirs = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'rsync', ...args], { encoding: 'utf8' });
    const ours = await runCli([...args, `--engine=${engine}`], { user: { uid: 65534, gid: 65534 } });
    expect(theirs.status).toBe(11);
    expect(ours.code, show(ours)).toBe(11);
    expect(lines(ours.stderr, base)).toEqual(lines(theirs.stderr, base));
    expect(lines(ours.stderr, base)).toContain('PROG: [Receiver] mkdir "ROOT/dst" failed: Permission denied (13)');
  });

  it.skipIf(!hasRsync)("a destination that cannot be made or looked at: rsync's receiver's line and exit code", async () => {
    const base = tempDir(`arsync-errdest-${engine}-`);
    fs.mkdirSync(path.join(base, 'src'));
    fs.writeFileSync(path.join(base, 'src', 'a'), 'a');
    for (const [args, line, code] of [
      [['-a', 'src/', 'nope/x/'], `PROG: [Receiver] mkdir "${base}/nope/x" failed: No such file or directory (2)`, 11],
      [['-a', 'src/a', 'nope/b'], `PROG: [Receiver] change_dir#3 "${base}/nope" failed: No such file or directory (2)`, 3],
      [['-a', 'src/', 'src/a/x/'], `PROG: [Receiver] ERROR: cannot stat destination "${base}/src/a/x/": Not a directory (20)`, 3],
    ] as const) {
      const theirs = spawnSync('rsync', args, { cwd: base, encoding: 'utf8' });
      const ours = await runCli([...args, `--engine=${engine}`], { cwd: base });
      expect(ours.code, show(ours)).toBe(theirs.status);
      expect(ours.code).toBe(code);
      expect(lines(ours.stderr, base), show(ours)).toEqual(lines(theirs.stderr, base));
      expect(lines(ours.stderr, base)).toContain(line.split(base).join('ROOT'));
    }
  });
});
