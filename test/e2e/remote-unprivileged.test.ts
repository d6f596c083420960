// Pushing and pulling as a user who is not root (cron backups mostly run so), against rsync 3.5 as the
// client on the same far side, both as nobody: a source with a directory and a file that user may not
// read, a read-only directory, a set-uid file and files of other owners. The same exit code, stderr line
// for line (rsync's own words for each failure: a push printed "Permission denied, opendir (13)"), the
// same -i/-v lines and the same tree (owners, modes, contents).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { NOBODY, rsyncAs } from '../helpers/as-user.js';

let root: string;
let src: string;
let rsh: string;
let outs: string;
const root0 = process.getuid?.() === 0;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-runpriv-'));
  fs.chmodSync(root, 0o755);
  src = path.join(root, 'src');
  const w = (rel: string, mode: number, owner = NOBODY.uid): void => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), rel);
    fs.chmodSync(path.join(src, rel), mode);
    fs.chownSync(path.join(src, rel), owner, 0);
  };
  w('a', 0o644);
  w('d/b', 0o644);
  w('ro/x', 0o644);
  w('suid', 0o4755);
  w('theirs', 0o644, 0);
  w('secret', 0o600, 0);
  w('noread/y', 0o644, 0);
  fs.symlinkSync('a', path.join(src, 'ln'));
  fs.chmodSync(path.join(src, 'ro'), 0o555);
  fs.chmodSync(path.join(src, 'noread'), 0o700);
  const when = new Date('2021-05-06T07:08:09Z');
  for (const rel of ['a', 'd/b', 'ro/x', 'suid', 'theirs', 'secret', 'd', 'ro', 'noread', '.']) fs.utimesSync(path.join(src, rel), when, when);
  // A link changed within the current second keeps its new time on rsync's receiver: one in the past.
  fs.lutimesSync(path.join(src, 'ln'), when, when);
  rsh = fakeRsh(root);
  outs = path.join(root, 'out');
  fs.mkdirSync(outs);
  fs.chmodSync(outs, 0o1777);
});

afterAll(() => {
  // Read-only directories the runs made (nobody's), which root removes all the same.
  fs.rmSync(root, { recursive: true, force: true });
});

/** rsync's error lines as arsync prints them: its name, and no "at main.c(N) [role=V]" source position. */
const errLines = (s: string): string[] =>
  s
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^arsync( error)?:/, 'rsync$1:').replace(/ at [a-z]+\.c\(\d+\)( \[[a-z]+=[^\]]+\])?$/, ''));

/** The -i/-v lines as a set (rsync's pull prints them from two processes), without the byte summary. */
const outLines = (s: string): string[] =>
  s
    .split('\n')
    .filter((l) => l && !/^(sent |total size is )/.test(l))
    .sort();

const CASES: string[][] = [['-a'], ['-ai'], ['-av', '--delete']];

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const tolerance = fidelity(e.name).nsTimes ? 0 : 1000;
  let n = 0;

  for (const way of ['push', 'pull'] as const) {
    it.runIf(root0).each(CASES)(`a ${way} as nobody: %j`, async (...opts) => {
      const [theirs, mine] = ['theirs', 'mine'].map((w) => path.join(outs, `${way}-${w}-${e.name}-${++n}`));
      const operands = (dst: string): string[] => (way === 'push' ? [`${src}/`, `host:${dst}/`] : [`host:${src}/`, `${dst}/`]);
      const r = rsyncAs(NOBODY, ['--no-i-r', ...opts, '-e', rsh, ...operands(theirs!)], root);
      const ours = await runCli([eng, ...opts, '-e', rsh, ...operands(mine!)], { user: NOBODY, cwd: root });
      expect(r.code).toBe(23);
      expect(ours.code, show(ours)).toBe(r.code);
      // Each client names its own destination ("created directory DST").
      const as = (s: string, dst: string): string => s.split(dst).join('DST');
      expect(errLines(as(ours.stderr, mine!))).toEqual(errLines(as(r.stderr, theirs!)));
      expect(errLines(ours.stderr).join('\n')).toContain('opendir');
      expect(outLines(as(ours.stdout, mine!))).toEqual(outLines(as(r.stdout, theirs!)));
      const diffs = compareTrees(theirs!, mine!, { mtimeToleranceNs: tolerance, xattrs: false, acls: false });
      expect(formatDiffs(diffs)).toEqual([]);
      expect(fs.readFileSync(path.join(mine!, 'theirs'), 'latin1')).toBe('theirs');
    });
  }

  // A pulled file whose directory nobody may write (root's): rsync's receiver says its mkstemp failed,
  // prints no line for it (its line comes once the temp file is open), still counts it as transferred,
  // and goes on with the rest. arsync, which links the received file in at its temp name, said
  // "link ... failed" and left it out of the counts before session 54 (it still itemizes it).
  it.runIf(root0)('a pull as nobody into a directory it may not write: rsync\'s words and counts', async () => {
    const [theirs, mine] = ['theirs', 'mine'].map((w) => path.join(outs, `unwritable-${w}-${e.name}-${++n}`));
    for (const dst of [theirs!, mine!]) {
      fs.mkdirSync(path.join(dst, 'd'), { recursive: true });
      fs.writeFileSync(path.join(dst, 'extra'), 'extra');
      for (const rel of ['', 'extra']) fs.chownSync(path.join(dst, rel), NOBODY.uid, 0);
      const when = new Date('2021-05-06T07:08:09Z');
      fs.utimesSync(path.join(dst, 'd'), when, when);
    }
    const opts = ['-rti', '--delete', '--stats'];
    const r = rsyncAs(NOBODY, ['--no-i-r', ...opts, '-e', rsh, `host:${src}/`, `${theirs}/`], root);
    const ours = await runCli([eng, ...opts, '-e', rsh, `host:${src}/`, `${mine}/`], { user: NOBODY, cwd: root });
    expect(r.code).toBe(23);
    expect(ours.code, show(ours)).toBe(r.code);
    const as = (s: string, dst: string): string => s.split(dst).join('DST').replace(/(mkstemp ".*\.)[A-Za-z0-9]{6}(" failed)/g, '$1XXXXXX$2');
    expect(errLines(as(ours.stderr, mine!))).toEqual(errLines(as(r.stderr, theirs!)));
    expect(errLines(as(ours.stderr, mine!))).toContain('rsync: [receiver] mkstemp "DST/d/.b.XXXXXX" failed: Permission denied (13)');
    const lines = (out: string): string[] => outLines(out).filter((l) => !/^(File list (generation|transfer) time|Total bytes)/.test(l));
    // arsync still itemizes the file it could not place (README, "Differences"): the one line apart.
    expect(lines(as(ours.stdout, mine!)).filter((l) => l !== '>f+++++++++ d/b')).toEqual(lines(as(r.stdout, theirs!)));
    expect(r.stdout).not.toContain('d/b');
    // (The far sender could not read noread/: its I/O error holds --delete back, as rsync's does.)
    expect(ours.stdout).toContain('IO error encountered -- skipping file deletion');
    expect(fs.existsSync(path.join(mine!, 'd/b'))).toBe(false);
    expect(fs.existsSync(path.join(mine!, 'extra'))).toBe(true);
    expect(fs.readFileSync(path.join(mine!, 'a'), 'latin1')).toBe('a');
  });

  // Destination files of nobody's that nobody may not read (mode 000), one the same size and time as the
  // source's (only -c finds it different), one not: rsync's generator, unable to sum or open them,
  // fetches them as new and gives them the source's mode. arsync's -c check failed on them ("staging a
  // failed: EACCES", exit 23, the files left) until session 55. Left as README "Differences" says:
  // rsync's "failed to open ..., continuing" lines and its `>f+++++++++` for each.
  it.runIf(root0).each([[['-ac']], [['-a']]])('a pull as nobody onto files it may not read: %j', async (opts) => {
    const [theirs, mine] = ['theirs', 'mine'].map((w) => path.join(outs, `unreadable-${w}-${e.name}-${++n}`));
    for (const dst of [theirs!, mine!]) {
      fs.mkdirSync(path.join(dst, 'd'), { recursive: true });
      fs.writeFileSync(path.join(dst, 'a'), 'A'); // the source's 'a' has the same size
      fs.writeFileSync(path.join(dst, 'd/b'), 'an older d/b');
      const when = new Date('2021-05-06T07:08:09Z');
      for (const rel of ['a', 'd/b']) {
        fs.chmodSync(path.join(dst, rel), 0);
        fs.utimesSync(path.join(dst, rel), when, when);
      }
      for (const rel of ['', 'd', 'a', 'd/b']) fs.chownSync(path.join(dst, rel), NOBODY.uid, 0);
    }
    const r = rsyncAs(NOBODY, ['--no-i-r', ...opts, '-e', rsh, `host:${src}/`, `${theirs}/`], root);
    const ours = await runCli([eng, ...opts, '-e', rsh, `host:${src}/`, `${mine}/`], { user: NOBODY, cwd: root });
    expect(r.code).toBe(23); // the source's own unreadable entries
    expect(ours.code, show(ours)).toBe(r.code);
    expect(ours.stderr).not.toContain('staging');
    const diffs = compareTrees(theirs!, mine!, { mtimeToleranceNs: tolerance, xattrs: false, acls: false });
    expect(formatDiffs(diffs)).toEqual([]);
    expect(fs.readFileSync(path.join(mine!, 'd/b'), 'latin1')).toBe('d/b');
    expect(fs.statSync(path.join(mine!, 'd/b')).mode & 0o7777).toBe(0o644);
    // Same size and time: only -c fetches 'a' (both clients, as the compared trees say).
    expect(fs.readFileSync(path.join(mine!, 'a'), 'latin1')).toBe(opts.includes('-ac') ? 'a' : 'A');
  });

  // The file nobody may read is in the sender's list but never sent: rsync's client counts it in
  // --stats' "Number of files" and "Total file size" all the same (arsync's local half, which never saw
  // it, left it out before session 34), and a destination file standing in for it counts at the list's size.
  it.runIf(root0).each([[false], [true]])('a pull as nobody with --stats: the unsent file in the counts (destination has it: %j)', async (has) => {
    const [theirs, mine] = ['theirs', 'mine'].map((w) => path.join(outs, `stats-${w}-${e.name}-${++n}`));
    for (const dst of [theirs!, mine!]) {
      if (!has) continue;
      fs.mkdirSync(dst);
      fs.writeFileSync(path.join(dst, 'secret'), 'an older, longer secret');
      fs.chownSync(dst, NOBODY.uid, 0);
      fs.chownSync(path.join(dst, 'secret'), NOBODY.uid, 0);
    }
    const opts = ['-a', '--stats'];
    const r = rsyncAs(NOBODY, ['--no-i-r', ...opts, '-e', rsh, `host:${src}/`, `${theirs}/`], root);
    const ours = await runCli([eng, ...opts, '-e', rsh, `host:${src}/`, `${mine}/`], { user: NOBODY, cwd: root });
    expect(r.code).toBe(23);
    expect(ours.code, show(ours)).toBe(r.code);
    const counts = (out: string): string[] => out.split('\n').filter((l) => /^(Number of|Total (transferred )?file size)/.test(l));
    expect(counts(ours.stdout)).toEqual(counts(r.stdout));
    expect(counts(ours.stdout)).toContain('Number of files: 11 (reg: 6, dir: 4, link: 1)');
    expect(fs.existsSync(path.join(mine!, 'secret'))).toBe(has);
    if (has) expect(fs.readFileSync(path.join(mine!, 'secret'), 'latin1')).toBe('an older, longer secret');
  });
});
