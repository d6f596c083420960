// Entries whose creation fails, copied by a user (not root) into a directory of root's: rsync 3.5's
// generator itemizes a directory before its mkdir (so a directory it cannot make keeps its "cd+++" line)
// and a symlink, FIFO or device only once atomic_create made it (so one whose symlink/mknod fails has no
// line); a regular file's line is its sender's, printed before the receiver fails to make its temp file.
// The same for -i, -v, --out-format and --log-file's entry lines. rsync run as the same user on a clone
// is the oracle: stdout line for line, stderr's lines (whose order between rsync's processes is theirs),
// the exit code, and the trees. The line is decided by the creation's outcome in every output: -vvv's
// trace, --progress, --json=events (an entry event only for what was made), a pull, and an op that ran
// out of descriptors (EMFILE) and was made when it ran again.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { pairContext, put, runPair, startingState } from '../helpers/differential.js';
import { describeEngines } from '../helpers/e2e.js';
import { normaliseOutput, sameRoot, sortedErrLines as errLines } from '../helpers/normalise.js';
import { removeTemps } from '../helpers/tree.js';
import { NOBODY, rsyncAs } from '../helpers/as-user.js';

// The starting states (tempDir) are this file's to remove: left behind, every run adds to /dev/shm.
afterAll(() => removeTemps());

const hasRsync = spawnSync('rsync', ['--version']).status === 0;

/** nobody's source (two directories, a file, a symlink, a FIFO), and root's dst (0755) it cannot write in. */
function setup(root: string): void {
  put(root, 'src/d/f', '1\n');
  fs.mkdirSync(path.join(root, 'src/e'));
  put(root, 'src/g', '2\n');
  fs.symlinkSync('g', path.join(root, 'src/l'));
  fs.mkdirSync(path.join(root, 'dst'), { mode: 0o755 });
  const script =
    `mkfifo '${root}/src/fifo' && find '${root}' -exec touch -h -d @1700000000 {} + && ` +
    `chmod -R a+rX '${root}/src' && chown -hR ${NOBODY.uid}:${NOBODY.gid} '${root}/src'`;
  expect(spawnSync('sh', ['-c', script]).status).toBe(0);
}

/** The log file of a run (LOG in its arguments), in a directory nobody may write in. */
const LOG = 'LOG';

const CASES = [
  ['-rlpti', '-D', 'src/', 'dst/'],
  ['-rlptv', '-D', 'src/', 'dst/'],
  ['-rlpt', '--out-format=%n', '-D', 'src/', 'dst/'],
  ['-rlpt', '-D', `--log-file=${LOG}`, '--log-file-format=%i %n%L', 'src/', 'dst/'],
  ['-rlpti', '-D', `--log-file=${LOG}`, 'src/', 'dst/'],
];

/** A log file's entry lines (its timestamp and pid dropped): arsync also logs the errors, which rsync's local client does not. */
const logEntries = (file: string): string[] =>
  fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => l.replace(/^\S+ \S+ \[\d+\] /, ''))
        .filter((l) => /^[<>ch.*][fdLDS]/.test(l))
    : [];

/**
 * nobody's source: a symlink and a FIFO whose creation fails in root's dst (0755), an empty directory
 * whose mkdir fails, and a directory w whose symlink and FIFO are made (dst/w is nobody's).
 */
function setupMade(root: string): void {
  fs.mkdirSync(path.join(root, 'src/e'), { recursive: true });
  fs.mkdirSync(path.join(root, 'src/w'));
  fs.symlinkSync('g', path.join(root, 'src/l'));
  fs.symlinkSync('x', path.join(root, 'src/w/l2'));
  fs.mkdirSync(path.join(root, 'dst/w'), { recursive: true, mode: 0o755 });
  fs.chmodSync(path.join(root, 'dst'), 0o755);
  const script =
    `mkfifo '${root}/src/fifo' '${root}/src/w/fifo2' && find '${root}' -exec touch -h -d @1700000000 {} + && ` +
    `chmod -R a+rX '${root}/src' && chown -hR ${NOBODY.uid}:${NOBODY.gid} '${root}/src' '${root}/dst/w' && touch -d @1600000000 '${root}/dst/w'`;
  expect(spawnSync('sh', ['-c', script]).status).toBe(0);
}

/** The remote shell of the pulls (RSH in their arguments): the command run here, as nobody (fake-rsh.ts). */
const RSH = 'RSH';

/**
 * How each case's stdout is compared: line for line; as sorted lines (-vvv: the order of its phase lines
 * is another matter, which line is there is this one's); --json=events' entries against rsync's -i lines
 * (an entry event says the entry was made: none for the directory whose mkdir failed, which -i names).
 */
const MADE_CASES: Array<{ args: string[]; rsync?: string[]; stdout: 'lines' | 'sorted' | 'json' }> = [
  { args: ['-rlpt', '-vvv', '-D', 'src/', 'dst/'], stdout: 'sorted' },
  { args: ['-rlpti', '--progress', '-D', 'src/', 'dst/'], stdout: 'lines' },
  { args: ['-rlptv', '--progress', '-D', 'src/', 'dst/'], stdout: 'lines' },
  { args: ['-rlpt', '--json=events', '-D', 'src/', 'dst/'], rsync: ['-rlpti', '-D', 'src/', 'dst/'], stdout: 'json' },
  { args: ['-rlpti', '-D', '-e', RSH, 'localhost:src/', 'dst/'], stdout: 'lines' },
  { args: ['-rlpt', '--out-format=%i %n%L', '-D', '-e', RSH, 'localhost:src/', 'dst/'], stdout: 'lines' },
  { args: ['-rlpti', '--progress', '-D', '-e', RSH, 'localhost:src/', 'dst/'], stdout: 'lines' },
  { args: ['-rlpt', '--json=events', '-D', '-e', RSH, 'localhost:src/', 'dst/'], rsync: ['-rlpti', '-D', '-e', RSH, 'localhost:src/', 'dst/'], stdout: 'json' },
];

/** A pull's first line: arsync's pull lists the whole list first ("receiving file list ..."), rsync's incrementally. */
const withoutHeader = (lines: string[]): string[] => lines.filter((l) => !/^receiving (incremental )?file list/.test(l));

/** --json=events' entry events as -i lines ("ITEMIZE PATH"). */
const entryEvents = (stdout: string): string[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event: string; itemize?: string; path?: string })
    .filter((e) => e.event === 'entry')
    .map((e) => `${e.itemize} ${e.path}`);

/**
 * Many files and symlinks among them: under `ulimit -n 32` some ops run out of descriptors and run again
 * (in most runs; the case runs three times).
 */
function setupMany(root: string): void {
  for (let d = 0; d < 40; d++) {
    const dir = path.join(root, 'src', `d${String(d).padStart(2, '0')}`);
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 100; i++) {
      const name = String(i).padStart(3, '0');
      fs.writeFileSync(path.join(dir, `f${name}`), 'x'.repeat(100));
      if (i % 3 === 0) fs.symlinkSync(`f${name}`, path.join(dir, `l${name}`));
    }
  }
  expect(spawnSync('sh', ['-c', `find '${root}' -exec touch -h -d @1700000000 {} +`]).status).toBe(0);
}

describeEngines(({ name: engine }) => {
  it.skipIf(!hasRsync || process.getuid?.() !== 0)('an entry whose creation fails has rsync\'s -i/-v/--out-format/--log-file line or none', async () => {
    const state = startingState(`arsync-failed-create-${engine}-`, setup);
    fs.chmodSync(state.base, 0o755);
    const logs = path.join(state.base, 'logs');
    fs.mkdirSync(logs, { mode: 0o777 });
    fs.chmodSync(logs, 0o777);
    for (const [i, args] of CASES.entries()) {
      const withLog = (tool: string): string[] => args.map((a) => a.replace(LOG, path.join(logs, `${tool}${i}.log`)));
      const r = await runPair(state, i, {
        rsync: (A) => rsyncAs(NOBODY, withLog('rsync'), A),
        arsync: (B) => runCli([`--engine=${engine}`, ...withLog('arsync')], { cwd: B, user: NOBODY }),
      });
      const what = pairContext(r);
      expect(r.rsync.code, what).toBe(23);
      expect(r.arsync.code, what).toBe(r.rsync.code);
      expect(normaliseOutput(sameRoot(r.arsync.stdout, r.B), 'arsync'), what).toBe(normaliseOutput(sameRoot(r.rsync.stdout, r.A), 'rsync'));
      expect(errLines(r.arsync.stderr, r.B), what).toEqual(errLines(r.rsync.stderr, r.A));
      expect(logEntries(path.join(logs, `arsync${i}.log`)), what).toEqual(logEntries(path.join(logs, `rsync${i}.log`)));
      for (const root of [r.A, r.B]) for (const d of ['.', 'dst']) fs.utimesSync(path.join(root, d), 1_600_000_000, 1_600_000_000);
      expect(formatDiffs(compareTrees(r.A, r.B, { mtimeToleranceNs: engine === 'node' ? 1000 : 0 })), what).toEqual([]);
    }
  });

  it.skipIf(!hasRsync || process.getuid?.() !== 0)('a symlink or FIFO whose creation fails has no line under -vvv, --progress, --json=events or in a pull', async () => {
    const state = startingState(`arsync-failed-made-${engine}-`, setupMade);
    fs.chmodSync(state.base, 0o755);
    const rsh = fakeRsh(state.base);
    for (const [i, c] of MADE_CASES.entries()) {
      const withRsh = (args: string[]): string[] => args.map((a) => (a === RSH ? rsh : a));
      const r = await runPair(state, i, {
        rsync: (A) => rsyncAs(NOBODY, withRsh(c.rsync ?? c.args), A),
        arsync: (B) => runCli([`--engine=${engine}`, ...withRsh(c.args)], { cwd: B, user: NOBODY }),
      });
      const what = pairContext(r);
      expect(r.rsync.code, what).toBe(23);
      expect(r.arsync.code, what).toBe(r.rsync.code);
      const ours = withoutHeader(normaliseOutput(sameRoot(r.arsync.stdout, r.B), 'arsync').split('\n'));
      const theirs = withoutHeader(normaliseOutput(sameRoot(r.rsync.stdout, r.A), 'rsync').split('\n'));
      if (c.stdout === 'lines') expect(ours, what).toEqual(theirs);
      else if (c.stdout === 'sorted') expect([...ours].sort(), what).toEqual([...theirs].sort());
      else expect(entryEvents(r.arsync.stdout), what).toEqual(theirs.filter((l) => l !== '' && l !== 'cd+++++++++ e/').map((l) => l.replace(/ -> .*$/, '')));
      if (c.stdout !== 'json') expect(errLines(r.arsync.stderr, r.B), what).toEqual(errLines(r.rsync.stderr, r.A));
      for (const root of [r.A, r.B]) for (const d of ['.', 'dst', 'dst/w']) fs.utimesSync(path.join(root, d), 1_600_000_000, 1_600_000_000);
      expect(formatDiffs(compareTrees(r.A, r.B, { mtimeToleranceNs: engine === 'node' ? 1000 : 0 })), what).toEqual([]);
    }
  });

  it.skipIf(!hasRsync)('a symlink whose op ran out of descriptors (ulimit -n 32) and was made when it ran again has its line', async () => {
    const state = startingState(`arsync-emfile-made-${engine}-`, setupMany);
    const args = ['-ai', 'src/', 'dst/'];
    for (let i = 0; i < 3; i++) {
      const r = await runPair(state, i, {
        rsync: (A) => {
          const x = spawnSync('rsync', args, { cwd: A, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
          return { code: x.status, signal: x.signal, stdout: x.stdout, stderr: x.stderr, argv: ['rsync', ...args] };
        },
        arsync: (B) => runCli([`--engine=${engine}`, '--queue-depth=256', ...args], { cwd: B, ulimitN: 32 }),
      });
      const what = pairContext(r);
      expect(r.rsync.code, what).toBe(0);
      expect(r.arsync.code, what).toBe(0);
      expect(r.arsync.stdout.split('\n'), what).toEqual(r.rsync.stdout.split('\n'));
      // (The clones' own roots were made at different moments.)
      for (const root of [r.A, r.B]) fs.utimesSync(root, 1_600_000_000, 1_600_000_000);
      expect(formatDiffs(compareTrees(r.A, r.B, { mtimeToleranceNs: engine === 'node' ? 1000 : 0 })), what).toEqual([]);
    }
  });
});
