// Issue 9's audit (scripts/option-audit.mjs): the options docs/options.md marks as working that no other
// e2e file ran against rsync. Mostly rsync's long --no- forms (negations.test.ts runs the short ones),
// each after the option it undoes (or before one that wins), on a tree where the difference shows: rsync
// and arsync on clones of one starting state, the exit code, stdout and stderr line for line, and the
// result trees, on every engine. Then the options arsync refuses (rsync's server and daemon modes):
// exit 1 before any I/O, with the reason.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli, type CliResult, type EngineName } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { expectSameOutput, pairContext, put, runPair, stampTree, startingState } from '../helpers/differential.js';
import { describeEngines } from '../helpers/e2e.js';
import { removeTemps } from '../helpers/tree.js';

afterAll(() => removeTemps());

const sh = (script: string): void => {
  const r = spawnSync('sh', ['-ec', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script}: ${r.stderr}`);
};

/**
 * src: files with other modes, owners, an xattr and an ACL than dst's older copies, a hard-link pair, a
 * symlink, a FIFO, a character device, a name with bytes above 127; dst: a previous copy with other modes and times,
 * one file whose content differs at the same size and mtime (only -c sees it), one extraneous file.
 */
function setup(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'a.txt', 'alpha\n', 0o640);
  put(src, 'same.txt', 'same size 1\n');
  put(src, 'sub/c.txt', 'charlie\n');
  put(src, 'sub/café.txt', 'a name with bytes above 127\n');
  fs.linkSync(path.join(src, 'a.txt'), path.join(src, 'hard.txt'));
  fs.symlinkSync('a.txt', path.join(src, 'link'));
  put(root, 'list', 'a.txt\nsub/c.txt\nsub/café.txt\n');
  sh(
    `cd '${src}' && mkfifo fifo && mknod dev c 1 3 && chown 1234:567 sub/c.txt && setfattr -n user.note -v hi a.txt && ` +
      `setfacl -m u:1234:r same.txt`,
  );
  stampTree(src);
  const dst = path.join(root, 'dst');
  put(dst, 'a.txt', 'alpha\n', 0o600);
  put(dst, 'same.txt', 'same size 2\n', 0o600);
  put(dst, 'gone.txt', 'extraneous\n');
  stampTree(dst, 1_600_000_000);
  // Same size and mtime as the source's: only a checksum tells them apart.
  sh(`touch -r '${src}/same.txt' '${dst}/same.txt'`);
}

/** Both tools in the C locale (its escapes of bytes above 127 are -8's point), each in its clone. */
function inC(args: string[], engine: EngineName): { rsync: (A: string) => CliResult; arsync: (B: string) => Promise<CliResult> } {
  const env = { LC_ALL: 'C' };
  return {
    rsync: (A) => {
      const r = spawnSync('rsync', args, { cwd: A, encoding: 'utf8', env: { ...process.env, ...env } });
      return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, argv: ['rsync', ...args] };
    },
    arsync: (B) => runCli([`--engine=${engine}`, ...args], { cwd: B, env }),
  };
}

/**
 * The lines, each undoing (or undone by) its option; -i shows what each run changed. Where the run skips
 * non-regular files, -v: rsync's -i lines come from its sender, after the generator's "skipping" messages of
 * the whole pass (arsync prints them in list order: a known difference, docs/options.md).
 */
const CASES: string[][] = [
  ['-aiO', '--no-omit-dir-times', '--no-perms', '--no-owner', '--no-group', 'src/', 'dst/'],
  ['-ai', '--no-times', 'src/', 'dst/'],
  ['-av', '--no-devices', '--no-links', 'src/', 'dst/'],
  ['-aHv', '--no-hard-links', '--no-specials', 'src/', 'dst/'],
  ['-rtv', '--specials', 'src/', 'dst/'],
  ['-aHAXi', '--no-H', '--no-A', '--no-xattrs', 'src/', 'dst/'],
  ['-aAi', '--no-acls', 'src/', 'dst/'],
  ['-aRxi', '--no-R', '--no-x', 'src/sub/c.txt', 'dst/'],
  ['-aRxi', '--no-relative', '--no-one-file-system', 'src/sub/c.txt', 'dst/'],
  ['-aci', '--no-checksum', '--delay-updates', '--no-delay-updates', '--bwlimit=10', '--no-bwlimit', '--timeout=30', '--no-timeout', '--numeric-ids', '--no-numeric-ids', 'src/', 'dst/'],
  ['-ai', '--delete', '--ignore-errors', '--no-ignore-errors', '--backup', '--no-backup', '--insecure-links', '--no-insecure-links', 'src/', 'dst/'],
  ['-aiv', '--no-itemize-changes', '-8', '--no-8-bit-output', 'src/', 'dst/'],
  ['-ai', '-8', '--no-8', '--files-from=list', '--from0', '--no-from0', 'src/', 'dst/'],
  ['-ai', '--mkpath', '--no-mkpath', 'src/', 'dst/new/deep/'],
  ['-ai', '--no-recursive', 'src/', 'dst/'],
  ['-ai', '--no-r', '-d', 'src/', 'dst/'],
  ['-r', '-hh', '--no-human-readable', '-h', '--no-h', '--list-only', 'src/'],
];

describeEngines(({ name: engine }) => {
  it('--no- forms (and --specials) as rsync: exit code, every line in order, the tree', { timeout: 600_000 }, async () => {
    const state = startingState(`arsync-negations-${engine}-`, setup);
    for (const [i, args] of CASES.entries()) {
      // -A/-X undone by a later --no- word are off, as in rsync: these lines run on the node engine too.
      const r = await runPair(state, i, inC(args, engine));
      expectSameOutput(r);
      for (const root of [r.A, r.B]) for (const d of ['.', 'dst']) if (fs.existsSync(path.join(root, d))) fs.utimesSync(path.join(root, d), 1_600_000_000, 1_600_000_000);
      // Without -t the files a run makes take the time of the run: their mtimes are left out there.
      const times = !args.includes('--no-times') && !args.includes('--specials');
      expect(formatDiffs(compareTrees(r.A, r.B, { mtimeToleranceNs: engine === 'node' ? 1000 : 0, times })), pairContext(r)).toEqual([]);
    }
  });

  it('rsync\'s server and daemon modes are refused before any I/O: exit 1, the reason, nothing written', async () => {
    const state = startingState(`arsync-refused-${engine}-`, setup);
    const refused: [string, RegExp][] = [
      ['--server', /--server: rsync's mode for the remote end of a transfer; arsync cannot be one/],
      ['--sender', /--sender: rsync's mode for the remote end of a transfer; arsync cannot be one/],
      ['--daemon', /--daemon: arsync is not an rsync daemon/],
      ['--config=rsyncd.conf', /--config: arsync is not an rsync daemon/],
      ['--dparam=x=y', /--dparam: arsync is not an rsync daemon/],
      ['--detach', /--detach: arsync is not an rsync daemon/],
      ['--no-detach', /--no-detach: arsync is not an rsync daemon/],
    ];
    for (const [word, message] of refused) {
      const r = await runCli([`--engine=${engine}`, '-a', word, 'src/', 'new/'], { cwd: state.O });
      expect(r.code, `${word}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/syntax or usage error \(code 1\)/);
      expect(fs.existsSync(path.join(state.O, 'new')), word).toBe(false);
    }
  });
});
