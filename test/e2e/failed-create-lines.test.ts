// Entries whose creation fails, copied by a user (not root) into a directory of root's: rsync 3.5's
// generator itemizes a directory before its mkdir (so a directory it cannot make keeps its "cd+++" line)
// and a symlink, FIFO or device only once atomic_create made it (so one whose symlink/mknod fails has no
// line); a regular file's line is its sender's, printed before the receiver fails to make its temp file.
// The same for -i, -v, --out-format and --log-file's entry lines. rsync run as the same user on a clone
// is the oracle: stdout line for line, stderr's lines (whose order between rsync's processes is theirs),
// the exit code, and the trees.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { pairContext, put, runPair, startingState } from '../helpers/differential.js';
import { describeEngines } from '../helpers/e2e.js';
import { normaliseOutput, sameRoot } from '../helpers/normalise.js';
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

/** stderr's lines, sorted, the temp name's random letters (rsync's mkstemp) left as arsync words them. */
const errLines = (text: string, root: string): string[] =>
  sameRoot(text, root)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^(\S+: \[receiver\] mkstemp ".*\.)[A-Za-z0-9]{6}(" failed)/, '$1XXXXXX$2'))
    .sort();

/** A log file's entry lines (its timestamp and pid dropped): arsync also logs the errors, which rsync's local client does not. */
const logEntries = (file: string): string[] =>
  fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => l.replace(/^\S+ \S+ \[\d+\] /, ''))
        .filter((l) => /^[<>ch.*][fdLDS]/.test(l))
    : [];

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
});
