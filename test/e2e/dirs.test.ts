// Directory and operand semantics against rsync itself, on every engine: -d/--dirs and --old-dirs (with
// --delete), a directory without -r or -d, -m/--prune-empty-dirs, -k/--copy-dirlinks, -L on a top-level
// link, --no-implied-dirs, --ignore-missing-args/--delete-missing-args, --force and a full directory in
// the way without it, --remove-sent-files. Each case gives rsync and arsync the same starting tree and
// compares exit codes, -i lines and the resulting trees (test/helpers/differential.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { clone, deleteSetup, differential, freshSetup, put, sameAsRsync, stampTree, startingState, updateSetup } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** src: files at the top and a tree several levels deep; dst: an older copy with extraneous entries. */
function deepSetup(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'f0', 'top\n');
  put(src, 'd1/f1', 'one\n');
  put(src, 'd1/d2/f2', 'two\n');
  put(src, 'd1/d2/d3/f3', 'three\n');
  fs.mkdirSync(path.join(src, 'empty/e1/e2'), { recursive: true });
  put(src, 'logs/sub/a.log', 'a\n');
  put(src, 'mixed/sub/keep.txt', 'k\n');
  put(src, 'mixed/sub/drop.log', 'd\n');
  put(root, 'dst/extra.txt', 'extra\n');
  put(root, 'dst/d1/old.txt', 'old\n');
  fs.mkdirSync(path.join(root, 'dst/empty-there/x'), { recursive: true });
  stampTree(src);
  stampTree(path.join(root, 'dst'), 1_690_000_000);
}

describeEngines((e) => {
  const engine = e.name;

  it('-d src/ dst/: the top level only, its directories made empty; --dirs src dst/ makes just src', async () => {
    await differential({ engine, setup: deepSetup, args: ['-dt', 'src/', 'dst/'] });
    await differential({ engine, setup: deepSetup, args: ['-t', '--dirs', 'src', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup: freshSetup, args: ['-lptd', 'src/', 'dst/'] });
    const r = await differential({ engine, setup: freshSetup, args: ['-dt', 'src/.', 'dst'] });
    expect(fs.readdirSync(path.join(r.B, 'dst', 'sub'))).toEqual([]);
  });

  it('-d --delete: deletions only in the directory whose contents are sent', async () => {
    const r = await differential({ engine, setup: deepSetup, args: ['-dt', '--delete', 'src/', 'dst/'] });
    expect(fs.existsSync(path.join(r.B, 'dst/extra.txt'))).toBe(false);
    expect(fs.readFileSync(path.join(r.B, 'dst/d1/old.txt'), 'utf8')).toBe('old\n');
    await differential({ engine, setup: deleteSetup, args: ['-dt', '--delete-after', 'src/', 'dst/'] });
    await differential({ engine, setup: deleteSetup, args: ['-dt', '--delete-before', 'src', 'dst/'], volatile: ['dst'] });
  });

  it('--old-dirs and --old-d: -r with a "- /*/*" rule; --no-dirs after -d skips the directory', async () => {
    await differential({ engine, setup: deepSetup, args: ['--old-dirs', '-t', 'src/', 'dst/'] });
    await differential({ engine, setup: deepSetup, args: ['--old-d', '-t', 'src', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup: deepSetup, args: ['-d', '--no-dirs', 'src', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup: deepSetup, args: ['-d', '--no-d', 'src/', 'dst/'], volatile: ['dst'] });
  });

  it('-d src newdir: a one-directory list onto a new name makes that name the directory, printed as src/', async () => {
    const r = await differential({ engine, setup: freshSetup, args: ['-dt', 'src', 'newdir'] });
    expect(fs.readdirSync(path.join(r.B, 'newdir'))).toEqual([]);
  });

  it('a directory without -r or -d: rsync\'s bare "skipping directory" line, and no destination made', async () => {
    const cases: [string[], string][] = [[['src', 'nd'], 'src'], [['src/', 'nd'], '.'], [['-t', 'src', 'nd/'], 'src'], [['-t', 'src', 'src/a.txt', 'nd2'], 'src']];
    for (const [args, name] of cases) {
      const r = await differential({ engine, setup: freshSetup, args, volatile: ['nd'] });
      expect(r.arsync.stdout, show(r.arsync)).toContain(`skipping directory ${name}\n`);
    }
    const r = await runCli(['src', 'nd', `--engine=${engine}`], { cwd: (() => { const d = tempDir('arsync-skip-'); freshSetup(d); return d; })() });
    expect(r.stdout).toBe('skipping directory src\n');
    expect(r.code).toBe(0);
  });

  it('-m/--prune-empty-dirs: empty chains and chains a filter empties are not made; --delete takes them away', async () => {
    await differential({ engine, setup: deepSetup, args: ['-a', '-m', 'src/', 'dst/'] });
    const r = await differential({ engine, setup: deepSetup, args: ['-a', '--prune-empty-dirs', '--exclude=*.log', '--delete', 'src/', 'dst/'] });
    expect(fs.existsSync(path.join(r.B, 'dst/logs'))).toBe(false);
    expect(fs.existsSync(path.join(r.B, 'dst/mixed/sub/keep.txt'))).toBe(true);
    expect(fs.existsSync(path.join(r.B, 'dst/empty-there'))).toBe(false);
    await differential({ engine, setup: deepSetup, args: ['-a', '-m', '--filter=protect empty/', '--delete', 'src/', 'dst/'] });
    await differential({ engine, setup: deepSetup, args: ['-rtm', 'src/empty', 'src/d1', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup: deepSetup, args: ['-a', '-m', '--no-m', 'src/', 'dst/'] });
    await differential({ engine, setup: deepSetup, args: ['-a', '-m', '--no-prune-empty-dirs', 'src/', 'dst/'] });
    // -m turns off incremental recursion (the whole list is pruned first): rsync's header says so.
    const v = await differential({ engine, setup: deepSetup, args: ['-av', '-m', 'src/', 'dst/'], noItemize: true });
    expect(v.arsync.stdout.split('\n')[0]).toBe('building file list ... done');
  });

  it('-d: the whole list is built first, and rsync\'s header says so', async () => {
    const v = await differential({ engine, setup: freshSetup, args: ['-dtv', 'src/', 'dst/'], noItemize: true });
    expect(v.arsync.stdout.split('\n')[0]).toBe('building file list ... done');
  });

  it('-k/--copy-dirlinks: a link to a directory is copied as the directory, at depth and as an operand; other links stay', async () => {
    const setup = (root: string): void => {
      deepSetup(root);
      const d3 = path.join(root, 'src/d1/d2/d3');
      fs.mkdirSync(path.join(d3, 'realdir'));
      put(d3, 'realdir/inside', 'inside\n');
      fs.symlinkSync('realdir', path.join(d3, 'dirlink'));
      fs.symlinkSync('f3', path.join(d3, 'sl'));
      fs.symlinkSync('src/d1', path.join(root, 'toplink'));
    };
    const r = await differential({ engine, setup, args: ['-rltk', 'src/', 'dst/'] });
    expect(fs.lstatSync(path.join(r.B, 'dst/d1/d2/d3/dirlink')).isDirectory()).toBe(true);
    expect(fs.lstatSync(path.join(r.B, 'dst/d1/d2/d3/sl')).isSymbolicLink()).toBe(true);
    await differential({ engine, setup, args: ['-rltk', 'toplink', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup, args: ['-ltk', 'toplink', 'dst/'], volatile: ['dst'] });
  });

  it('-L on a top-level symlink to a file copies the file (exit 0), to a directory and to a new name too', async () => {
    const setup = (root: string): void => {
      freshSetup(root);
      fs.symlinkSync('src/a.txt', path.join(root, 'flink'));
      fs.symlinkSync('src/sub', path.join(root, 'dlink'));
      fs.symlinkSync('nowhere', path.join(root, 'dangling'));
      fs.mkdirSync(path.join(root, 'dst'));
    };
    const r = await differential({ engine, setup, args: ['-tL', 'flink', 'dst/'], volatile: ['dst'] });
    expect(r.arsync.code).toBe(0);
    expect(fs.lstatSync(path.join(r.B, 'dst/flink')).isFile()).toBe(true);
    await differential({ engine, setup, args: ['-aL', 'flink', 'copy'] });
    await differential({ engine, setup, args: ['-rtL', 'dlink', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup, args: ['-tL', 'dlink', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup, args: ['-tL', 'dangling', 'flink', 'dst/'], volatile: ['dst'] });
  });

  it('--no-implied-dirs: missing path directories made with a new directory\'s mode, existing ones kept', async () => {
    const setup = (root: string): void => {
      put(root, 'src/a/b/c/file', 'data\n');
      fs.chmodSync(path.join(root, 'src/a/b'), 0o750);
      put(root, 'dst/a/keep', 'k\n');
      fs.chmodSync(path.join(root, 'dst/a'), 0o700);
      stampTree(path.join(root, 'src'));
    };
    // The directories made along the path get the time of the run in both tools.
    const r = await differential({ engine, setup, args: ['-aR', '--no-implied-dirs', 'src/./a/b/c/file', 'dst/'], volatile: ['dst/a', 'dst/a/b', 'dst/a/b/c'] });
    expect(fs.statSync(path.join(r.B, 'dst/a/b')).mode & 0o7777).toBe(0o777 & ~process.umask());
    expect(fs.statSync(path.join(r.B, 'dst/a')).mode & 0o7777).toBe(0o700);
    await differential({ engine, setup, args: ['-aR', '--no-implied-dirs', 'src/./a/b/c', 'dst/'], volatile: ['dst/a', 'dst/a/b'] });
    await differential({ engine, setup, args: ['-aR', '--no-i-d', '--i-d', 'src/./a/b/c/file', 'dst/'] });
    await differential({ engine, setup, args: ['-aR', '--implied-dirs', '--no-implied-dirs', '-n', 'src/./a/b/c/file', 'dst/'] });
  });

  it('--no-implied-dirs never writes through a destination symlink in the path (rsync does); -K follows one inside the destination', async () => {
    const base = tempDir(`arsync-noimplied-${engine}-`);
    put(base, 'src/path/file', 'NEW\n');
    fs.mkdirSync(path.join(base, 'dst/real'), { recursive: true });
    fs.symlinkSync('real', path.join(base, 'dst/path'));
    const r = await runCli(['-aR', '--no-implied-dirs', 'src/./path/file', 'dst/', `--engine=${engine}`], { cwd: base });
    expect(r.code, show(r)).toBe(23);
    expect(r.stderr).toMatch(/not transferred: .*dst\/path" is not a directory/);
    expect(fs.readdirSync(path.join(base, 'dst/real'))).toEqual([]);
    expect(fs.lstatSync(path.join(base, 'dst/path')).isSymbolicLink()).toBe(true);
    const k = await runCli(['-aRK', '--no-implied-dirs', 'src/./path/file', 'dst/', `--engine=${engine}`], { cwd: base });
    expect(k.code, show(k)).toBe(0);
    expect(fs.readFileSync(path.join(base, 'dst/real/file'), 'utf8')).toBe('NEW\n');
  });

  it('--ignore-missing-args and --delete-missing-args', async () => {
    const setup = (root: string): void => {
      updateSetup(root);
      put(root, 'dst/gone.txt', 'gone\n');
      put(root, 'dst/gonedir/x/y', 'y\n');
      fs.mkdirSync(path.join(root, 'dst/emptygone'));
    };
    await differential({ engine, setup, args: ['-a', '--ignore-missing-args', 'src/a.txt', 'src/nothere', 'src/gone.txt', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup, args: ['-a', '--ignore-missing-args', 'src/nothere', 'newdst'] });
    const r = await differential({ engine, setup, args: ['-a', '--delete-missing-args', 'src/a.txt', 'src/gone.txt', 'src/emptygone', 'dst/'], volatile: ['dst'] });
    expect(fs.existsSync(path.join(r.B, 'dst/gone.txt'))).toBe(false);
    await differential({ engine, setup, args: ['-a', '--delete-missing-args', 'src/gonedir', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup, args: ['-a', '--delete-missing-args', '--force', 'src/gonedir', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup, args: ['-a', '--delete-missing-args', '--ignore-missing-args', '--exclude=gone.txt', 'src/gone.txt', 'src/gonedir', '--delete', 'dst/'], volatile: ['dst'] });
    // An operand whose directory is missing (or "name/" for a missing name) is rsync's change_dir
    // error under either option: exit 23, the other operands copied, a missing one's twin still deleted.
    for (const opt of ['--ignore-missing-args', '--delete-missing-args']) {
      const m = await differential({ engine, setup, args: ['-a', opt, 'src/a.txt', 'src/nodir/x', 'src/gone.txt/', 'src/gone.txt', 'dst/'], volatile: ['dst'] });
      expect(m.arsync.stderr).toMatch(/change_dir ".*\/src\/nodir" failed: No such file or directory \(2\)/);
      expect(m.arsync.stderr).toMatch(/change_dir ".*\/src\/gone.txt" failed: No such file or directory \(2\)/);
    }
  });

  it('--list-only (and a lone source) with --delete-missing-args: rsync\'s "*missing" line in its place in the list', async () => {
    const cases = [
      ['--list-only', '--delete-missing-args', 'src/nothere'],
      ['--delete-missing-args', 'src/nothere'],
      ['--list-only', '--delete-missing-args', 'src/a.txt', 'src/nothere', 'src/zz', 'src/sub'],
      ['--list-only', '-r', '--delete-missing-args', 'src/nothere', 'src/a.txt', 'src/sub', 'src/zz'],
      ['--list-only', '-r', '--stats', '--delete-missing-args', 'src/', 'src/nothere'],
      ['--list-only', '-R', '--delete-missing-args', 'src/./nothere', 'src/./a.txt'],
    ];
    await sameAsRsync(startingState(`arsync-list-missing-${engine}-`, (root) => {
      put(root, 'src/a.txt', 'a\n');
      put(root, 'src/sub/b', 'b\n');
      stampTree(path.join(root, 'src'));
    }), cases, engine);
  });

  it('--delete-missing-args under -R: a missing name whose directory is missing is "file has vanished" (24); without incremental recursion rsync warns and deletes, with it the name is left out', async () => {
    // -R (and --files-from) send the directories above each name first: a missing one is the sender's
    // "file has vanished" (a dangling link its "symlink has no referent", 23). Without incremental
    // recursion the name is sent all the same and the generator warns that its directory is absent
    // from the list, then deletes the twin; with it the name is never sent and the twin is kept.
    const cases = [
      ['-ai', '--delete-missing-args', '--files-from=list', 'src', 'dst/'],
      ['-ai', '--delete-missing-args', '--files-from=list2', 'src', 'dst/'],
      ['-ai', '-r', '--delete', '--delete-missing-args', '--files-from=list', 'src', 'dst/'],
      ['-ai', '-r', '--delete-missing-args', '--files-from=list2', 'src', 'dst/'],
      ['-ai', '-R', '--delete-missing-args', 'src/nodir/top', 'src/sub/nodir/x', 'src/sub/nodir/y', 'dst/'],
      ['-ai', '-R', '--delete-missing-args', 'src/nodir/top', 'fresh/'],
      ['-pi', '-R', '--delete-missing-args', 'src/nodir/a/x', 'src/top', 'src/nodir/top', 'src/nodir', 'dst/'],
      ['-pi', '-R', '--delete-missing-args', 'src/nodir', 'src/nodir/b', 'src/nodir/c/d', 'src/./nodir/top', 'dst/'],
      ['-pi', '-R', '--delete-missing-args', 'src/sub/nodir/x', 'src/dang/y', 'dst/'],
      ['-ai', '-R', '--delete-missing-args', 'src/dang/y', 'dst/'],
      ['-pi', '-R', '--no-implied-dirs', '--delete-missing-args', 'src/nodir/top', 'dst/'],
      ['-n', '-pi', '-R', '--delete-missing-args', 'src/nodir/top', 'src/sub/nodir/x', 'dst/'],
      ['--list-only', '-R', '--delete-missing-args', 'src/nodir/x', 'src/top'],
      ['--list-only', '-r', '-R', '--delete-missing-args', 'src/nodir/x', 'src/top'],
    ];
    const names = (root: string): string[] => (fs.readdirSync(root, { recursive: true }) as string[]).sort();
    await sameAsRsync(startingState(`arsync-lost-parent-${engine}-`, (root) => {
      put(root, 'src/top', 'top\n');
      put(root, 'src/sub/f', 'f\n');
      fs.symlinkSync('nowhere', path.join(root, 'src/dang'));
      for (const f of ['dst/nodir/top', 'dst/src/nodir/top', 'dst/src/nodir/a/x', 'dst/src/sub/nodir/x', 'dst/src/dang/y']) put(root, f, 'old\n');
      put(root, 'list', 'nodir/top\n../src/top\n');
      put(root, 'list2', 'nodir/x/y\nnodir/z\ntop\n');
      stampTree(path.join(root, 'src'));
      stampTree(path.join(root, 'dst'), 1_690_000_000);
    }), cases, engine, (r, i) => expect(names(r.B), `case ${i}: ${cases[i]!.join(' ')}`).toEqual(names(r.A)));
  });

  it('--force: a full directory replaced by a file; without it rsync\'s two messages and exit 23', async () => {
    const setup = (root: string): void => {
      put(root, 'src/d1/d2/d3/f3', 'now a regular file\n');
      put(root, 'dst/d1/d2/d3/f3/occupant', 'blocker\n');
      put(root, 'dst/d1/d2/d3/f3/sub/more', 'more\n');
      stampTree(path.join(root, 'src'));
      stampTree(path.join(root, 'dst'), 1_690_000_000);
    };
    const r = await differential({ engine, setup, args: ['-a', 'src/', 'dst/'] });
    expect(r.arsync.code).toBe(23);
    expect(r.arsync.stdout).toContain('cannot delete non-empty directory: d1/d2/d3/f3\n');
    expect(r.arsync.stderr).toContain('could not make way for new regular file: d1/d2/d3/f3\n');
    const f = await differential({ engine, setup, args: ['-a', '--force', 'src/', 'dst/'] });
    expect(fs.readFileSync(path.join(f.B, 'dst/d1/d2/d3/f3'), 'utf8')).toBe('now a regular file\n');
    await differential({ engine, setup, args: ['-a', '--force', '--no-force', 'src/', 'dst/'] });
    await differential({ engine, setup, args: ['-a', '--delete', 'src/', 'dst/'] });
    await differential({ engine, setup, args: ['-an', '--force', 'src/', 'dst/'] });
  });

  // "could not make way" is rsync's generator's transfer error (exit 23), not an I/O error of the list:
  // --delete goes on in the directories after it (arsync said "IO error encountered -- skipping file
  // deletion" and kept z/extra). --backup keeps the occupant's backup there, so the directory stays full.
  it('--backup --delete after a full directory could not make way for a file: later deletions still made', async () => {
    const setup = (root: string): void => {
      put(root, 'src/d1/f3', 'now a regular file\n');
      put(root, 'dst/d1/f3/occupant', 'blocker\n');
      put(root, 'src/z/keep', 'keep\n');
      put(root, 'dst/z/keep', 'keep\n');
      put(root, 'dst/z/extra', 'extraneous\n');
      stampTree(path.join(root, 'src'));
      stampTree(path.join(root, 'dst'), 1_690_000_000);
    };
    for (const del of ['--delete', '--delete-after', '--delete-delay']) {
      // (d1/f3 keeps the occupant's backup, z loses extra: both directories' times are the run's.)
      const r = await differential({ engine, setup, args: ['-a', '--backup', del, 'src/', 'dst/'], volatile: ['dst/d1/f3', 'dst/z'] });
      expect(r.arsync.code).toBe(23);
      expect(r.arsync.stderr).toContain('could not make way for new regular file: d1/f3\n');
      expect(r.arsync.stdout).not.toContain('IO error encountered');
      expect(fs.existsSync(path.join(r.B, 'dst/z/extra'))).toBe(false);
    }
  });

  it('--remove-sent-files removes only what was sent; --remove-source-files also what was up to date', async () => {
    const setup = (root: string): void => {
      updateSetup(root);
      fs.symlinkSync('a.txt', path.join(root, 'src/newlink'));
    };
    const r = await differential({ engine, setup, args: ['-a', '--remove-sent-files', 'src/', 'dst/'], sourceChanges: true, volatileDirsUnder: ['src'] });
    expect(fs.existsSync(path.join(r.B, 'src/a.txt'))).toBe(false);
    // Only its mode changed: not sent, so not removed (--remove-source-files would remove it).
    expect(fs.existsSync(path.join(r.B, 'src/exec.sh'))).toBe(true);
    await differential({ engine, setup, args: ['-ac', '--remove-sent-files', 'src/', 'dst/'], sourceChanges: true, volatileDirsUnder: ['src'] });
    await differential({ engine, setup, args: ['-a', '--remove-sent-files', '--remove-source-files', 'src/', 'dst/'], sourceChanges: true, volatileDirsUnder: ['src'] });
    await differential({ engine, setup, args: ['-a', '--remove-source-files', '--remove-sent-files', 'src/', 'dst/'], sourceChanges: true, volatileDirsUnder: ['src'] });
  });

  it('-R, a file from a second source landing in a directory the first one sent: that directory keeps its source times (suite: relative)', async () => {
    const setup = (root: string): void => {
      put(root, 'src/down/deep/f', 'f\n');
      put(root, 'src/down/deep/dir/g', 'g\n');
      put(root, 'extra/down/deep/extra.value', 'x\n');
      stampTree(path.join(root, 'src'));
      stampTree(path.join(root, 'extra'), 1_650_000_000);
      fs.mkdirSync(path.join(root, 'dst'));
      clone(path.join(root, 'src/down'), path.join(root, 'dst/down'));
    };
    const r = await differential({ engine, setup, args: ['-aR', 'src/./down/deep', 'extra/./down/deep/extra.value', 'dst/'], unchanged: ['src', 'extra'] });
    // Within the node engine's microseconds.
    expect(Math.abs(fs.statSync(path.join(r.B, 'dst/down/deep')).mtimeMs - fs.statSync(path.join(r.B, 'src/down/deep')).mtimeMs)).toBeLessThan(0.002);
  });

  it('-H relinking an existing copy without -t reports its time as rsync does (suite: itemize)', async () => {
    const setup = (root: string): void => {
      put(root, 'src/foo/config1', 'one\n', 0o600);
      fs.linkSync(path.join(root, 'src/foo/config1'), path.join(root, 'src/foo/extra'));
      put(root, 'src/foo/config2', 'two\n', 0o601);
      stampTree(path.join(root, 'src'));
      put(root, 'dst/foo/config1', 'one\n', 0o600);
      put(root, 'dst/foo/extra', 'one\n', 0o600);
      put(root, 'dst/foo/config2', 'old two\n', 0o600);
      stampTree(path.join(root, 'dst'), 1_690_000_000);
    };
    const r = await differential({ engine, setup, args: ['-plrH', 'src/', 'dst/'], volatile: ['dst/foo', 'dst/foo/config1', 'dst/foo/config2'] });
    expect(r.arsync.stdout).toContain('hf..T...... foo/extra => foo/config1\n');
  });

  it('bad input: --delete without -r or -d is rsync\'s usage error and writes nothing', async () => {
    const base = tempDir(`arsync-dirs-usage-${engine}-`);
    freshSetup(base);
    const r = await runCli(['--delete', '--no-dirs', 'src/', 'dst/', `--engine=${engine}`], { cwd: base });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--delete does not work without --recursive (-r) or --dirs (-d).');
    expect(fs.existsSync(path.join(base, 'dst'))).toBe(false);
    const d = await runCli(['-d', '--delete', 'src/', 'dst/', `--engine=${engine}`], { cwd: base });
    expect(d.code, show(d)).toBe(0);
  });
});
