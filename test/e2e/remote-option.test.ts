// -M/--remote-option values that are settings of rsync's local receiver (cli/receiver-options.ts),
// against rsync itself on every engine: the same tree, exit code and output lines (-i or -v on the main
// line, which the client prints); values rsync's receiver rejects end with exit 12 and write nothing; the
// ones arsync does not model are refused with exit 1 and write nothing.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { changedSetup, deleteSetup, differential, mtimeOf, put, syncedSetup, touchNs, updateSetup } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** A previous sync, then three extraneous files at dst's top (its mtime kept the source's). */
function extrasSetup(root: string): void {
  const src = syncedSetup(root);
  const dst = path.join(root, 'dst');
  for (const n of ['x1', 'x2', 'x3']) put(dst, n, `${n}\n`);
  touchNs([[dst, mtimeOf(src)]]);
}

describeEngines((e) => {
  const engine = e.name;
  // The last field: -v instead of -i, or (for --backup without --backup-dir, which implies
  // --omit-dir-times) the dirs whose mtimes are the run's.
  const cases: [string, string[], (root: string) => void, (true | string[])?][] = [
    ['-M--delete: the receiver deletes, the client itemizes the deletions', ['-a', '-M--delete'], deleteSetup],
    ['-M--del with -v on the main line: "deleting" lines', ['-av', '-M--del'], deleteSetup, true],
    ['-M--delete-after -v: no incremental list (the receiver asks for the whole one), deletions last', ['-av', '-M--delete-after'], deleteSetup, true],
    ['-M--delete-before', ['-a', '-M--delete-before'], deleteSetup],
    ['-M--delete-delay', ['-a', '-M--delete-delay'], deleteSetup],
    ['-M--delete-during after --delete-after on the main line: the receiver\'s value wins', ['-a', '--delete-after', '-M--delete-during'], deleteSetup],
    ['-M--delete-excluded: excluded names in dst go too', ['-a', '--exclude=*.tmp', '--exclude=extra-dir/', '-M--delete-excluded'], deleteSetup],
    ['-M--max-delete=1 with --delete: exit 25, one deletion', ['-a', '--delete', '-M--max-delete=1'], extrasSetup],
    ['-M--existing: no new files', ['-a', '-M--existing'], updateSetup],
    ['-M--ignore-non-existing', ['-a', '-M--ignore-non-existing'], updateSetup],
    ['-M--ignore-existing: only new files', ['-a', '-M--ignore-existing'], changedSetup],
    ['-M--size-only', ['-a', '-M--size-only'], updateSetup],
    ['-M-u: a file newer in dst is kept', ['-a', '-M-u'], updateSetup],
    ['-M--max-size=1k', ['-a', '-M--max-size=1k'], updateSetup],
    ['-M--min-size=12', ['-a', '-M--min-size=12'], updateSetup],
    ['-M-I: every file sent again', ['-a', '-M-I'], updateSetup],
    ['-M--ignore-times', ['-a', '-M--ignore-times'], updateSetup],
    ['-M-b -M--suffix=.old: backups with the receiver\'s suffix', ['-a', '-M-b', '-M--suffix=.old'], updateSetup, ['dst']],
    ['-M--suffix=.old with -b on the main line', ['-a', '-b', '-M--suffix=.old'], updateSetup, ['dst']],
    ['-M--backup with --backup-dir on the main line', ['-a', '--backup-dir=../bk', '-M--backup'], updateSetup],
    ['-M--backup-dir: the receiver keeps the client\'s "~" suffix', ['-a', '-M--backup-dir=../bk'], updateSetup],
    ['-M--backup-dir with --suffix on the main line', ['-a', '--suffix=.s', '-M--backup-dir=../bk'], updateSetup],
    ['-M--backup-dir over the line\'s --backup-dir (its "" suffix kept)', ['-a', '--backup-dir=../bk2', '-M--backup-dir=../bk'], updateSetup],
    ['-M-p: the receiver sets the modes', ['-rlt', '-M-p'], updateSetup],
    ['-M--no-perms after -a', ['-a', '-M--no-perms'], updateSetup],
    ['-M-O: directories keep the run\'s mtimes', ['-a', '-M-O'], updateSetup, ['dst']],
    ['-M--no-O after -O', ['-a', '-O', '-M--no-O'], updateSetup],
    ['-M--chmod: the receiver\'s modes', ['-a', '-M--chmod=Dg+s,Fo-r,a+X'], updateSetup],
    ['-M--chmod after --chmod on the main line: both apply, the receiver\'s last', ['-rlt', '--chmod=u=rwx,go=', '-M--chmod=g+r'], updateSetup],
    ['-M--modify-window=200: a 100 s older mtime is the same time', ['-a', '-M--modify-window=200'], changedSetup, ['dst']],
    ['-M--no-delay-updates after --delay-updates: files renamed at once, the incremental list back', ['-a', '--delay-updates', '-M--no-delay-updates'], updateSetup],
    ['-M--no-delay-updates after --delay-updates, -v', ['-av', '--delay-updates', '-M--no-delay-updates'], updateSetup, true],
  ];
  it('-M--inplace: the receiver rewrites the destination file in place (same inode), as rsync\'s does', async () => {
    const inodes: Record<string, number> = {};
    await differential({
      engine,
      setup: updateSetup,
      args: ['-a', '-M--inplace', 'src/', 'dst/'],
      beforeRun: ({ A, B }) => {
        for (const [k, r] of Object.entries({ A, B })) inodes[k] = fs.statSync(path.join(r, 'dst/a.txt')).ino;
      },
      after: ({ A, B }) => {
        expect(fs.statSync(path.join(A, 'dst/a.txt')).ino, 'rsync kept the inode').toBe(inodes['A']);
        expect(fs.statSync(path.join(B, 'dst/a.txt')).ino, 'arsync kept the inode').toBe(inodes['B']);
      },
    });
  });
  it('-M--temp-dir: a temp dir the receiver has, and one it lacks (exit 1, rsync\'s message)', async () => {
    await differential({
      engine,
      setup: (root) => {
        updateSetup(root);
        // Inside dst: rsync 3.5's receiver refuses a temp dir path that climbs out of it ("../").
        fs.mkdirSync(path.join(root, 'dst/.tmpd'));
      },
      args: ['-a', '-M--temp-dir=.tmpd', 'src/', 'dst/'],
      after: ({ A, B }) => {
        for (const r of [A, B]) expect(fs.readdirSync(path.join(r, 'dst/.tmpd')), 'temp dir left empty').toEqual([]);
      },
      volatile: ['dst/.tmpd'],
    });
    // The temp files came and went there: the dir's mtime is the run's, for rsync and arsync alike.
    const root = tempDir('arsync-mopt-temp-');
    put(path.join(root, 'src'), 'f', 'x\n');
    for (const d of ['rdst/.tmpd', 'dst/.tmpd']) {
      fs.mkdirSync(path.join(root, d), { recursive: true });
      fs.utimesSync(path.join(root, d), 1_500_000_000, 1_500_000_000);
    }
    expect(spawnSync('rsync', ['-r', '-M--temp-dir=.tmpd', 'src/', 'rdst/'], { cwd: root }).status).toBe(0);
    const r = await runCli(['-r', '-M--temp-dir=.tmpd', `--engine=${engine}`, 'src/', 'dst/'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    for (const d of ['rdst/.tmpd', 'dst/.tmpd']) expect(fs.statSync(path.join(root, d)).mtimeMs, d).toBeGreaterThan(1_500_000_000_000);
    await differential({
      engine,
      setup: updateSetup,
      args: ['-a', '-M--temp-dir=nonexistent', 'src/', 'dst/'],
      after: ({ rsync, arsync }) => {
        expect(rsync.code).toBe(1);
        for (const r of [rsync, arsync]) expect(r.stderr, show(r)).toMatch(/The temp-dir does not exist: nonexistent/);
      },
    });
  });
  it('-M--delete reads the environment as the line does (RSYNC_ICONV set)', async () => {
    const root = tempDir('arsync-mopt-env-');
    fs.mkdirSync(path.join(root, 'src'));
    put(path.join(root, 'dst'), 'extra', 'x\n');
    const r = await runCli(['-r', '-M--delete', `--engine=${engine}`, 'src/', 'dst/'], { cwd: root, env: { RSYNC_ICONV: 'utf8' } });
    expect(r.code, show(r)).toBe(0);
    expect(fs.readdirSync(path.join(root, 'dst'))).toEqual([]);
  });
  for (const [title, args, setup, last] of cases) {
    it(title, async () => {
      await differential({
        engine,
        setup,
        args: [...args, 'src/', 'dst/'],
        ...(last === true ? { noItemize: true } : {}),
        volatileDirsUnder: ['bk', ...(Array.isArray(last) ? last : [])],
      });
    });
  }
});

describe('-M values rsync\'s receiver rejects, and those arsync refuses: nothing written', () => {
  const hasRsync = spawnSync('rsync', ['--version']).status === 0;
  const cases: [string[], number, RegExp, number?][] = [
    // rsync's receiver dies (its exit 1), so the client ends with 12.
    [['-M--delete', 'src/f', 'dst/'], 12, /--delete does not work without --recursive \(-r\) or --dirs \(-d\)/],
    [['-r', '-M--max-delete=x', 'src/', 'dst/'], 12, /--max-delete/],
    [['-r', '-M--suffix=a/b', 'src/', 'dst/'], 12, /--suffix cannot contain slashes/],
    [['-r', '-M--chmod=zz', 'src/', 'dst/'], 12, /--chmod/],
    [['-r', '-M--max-size=zz', 'src/', 'dst/'], 12, /--max-size/],
    // The line's own error stays the line's (exit 1), with a -M receiver setting beside it.
    [['-M--delete', '-r', '--suffix=a/b', 'src/', 'dst/'], 1, /--suffix cannot contain slashes: a\/b/],
    // rsync runs these; arsync refuses rather than differ.
    [['-r', '-M-b', '--delete', 'src/', 'dst/'], 1, /--backup and --delete split across -M/, 0],
    [['-r', '-b', '-M--delete', 'src/', 'dst/'], 1, /--backup and --delete split across -M/, 0],
    [['-M--delete', 'src/'], 1, /-M\/--remote-option=--delete: not supported here/, 0],
    [['-r', '-M-vvv', 'src/', 'dst/'], 1, /-M\/--remote-option=-vvv: the receiver's own -vvv trace/, 0],
    [['-r', '-b', '-M--backup-dir=bk', 'src/', 'dst/'], 1, /-M\/--remote-option=--backup-dir=bk: changes more than/, 0],
  ];
  for (const [args, code, message, rsyncCode] of cases) {
    it.skipIf(!hasRsync)(`${args.join(' ')}: exit ${code}`, async () => {
      const root = tempDir('arsync-mopt-');
      put(path.join(root, 'src'), 'f', 'x\n');
      const rsync = spawnSync('rsync', args.map((a) => a.replace(/^dst\//, 'rdst/')), { cwd: root, encoding: 'utf8' });
      expect(rsync.status, `rsync ${args.join(' ')}: ${rsync.stderr}`).toBe(rsyncCode ?? code);
      const r = await runCli(args, { cwd: root });
      expect(r.code, show(r)).toBe(code);
      expect(r.stderr, show(r)).toMatch(message);
      expect(r.stderr, show(r)).toMatch(new RegExp(`\\(code ${code}\\)`));
      expect(fs.existsSync(path.join(root, 'dst')), 'dst created').toBe(false);
    });
  }
});
