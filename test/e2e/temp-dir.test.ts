// -T/--temp-dir: temp files are made in DIR (relative: to the destination directory) and renamed into
// place; on another filesystem they are copied into a temp beside the target first (rsync's EXDEV
// answer). The directory is held once opened: a symlink planted for it (or owned by another user on
// its path) cannot move where the temps go. Against rsync on the same tree where rsync runs the same
// command, on every engine.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { isRoot, removeTemps, tempBase, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli } from '../helpers/cli.js';
import { differential, put, updateSetup } from '../helpers/differential.js';

afterAll(() => removeTemps());

const PINNED = 1_000_000_000;
const NOBODY = 65534;

/**
 * updateSetup plus an empty dst/scratch (not in src), its mtime pinned (a temp made there moves it).
 * rsync 3.5 refuses a temp path with ".." in it (mkstemp: EINVAL for each file; arsync takes it), so
 * the relative case names a directory below the destination.
 */
function scratchSetup(root: string): void {
  updateSetup(root);
  fs.mkdirSync(path.join(root, 'dst/scratch'));
  fs.utimesSync(path.join(root, 'dst/scratch'), PINNED, PINNED);
}

const pinned = (dir: string): boolean => fs.statSync(dir).mtimeMs === PINNED * 1000;

/** A writable directory on another filesystem than the test trees, or undefined. */
function otherFs(): string | undefined {
  const dev = fs.statSync(tempBase()).dev;
  for (const d of ['/var/tmp', '/tmp', '/dev/shm']) {
    try {
      if (fs.statSync(d).dev !== dev) return fs.mkdtempSync(path.join(d, 'arsync-tempdir-'));
    } catch {
      /* next */
    }
  }
  return undefined;
}

describeEngines((e) => {
  const engine = e.name;

  it('-T relative to the destination: the same result and output as rsync, the temps made in DIR and gone', async () => {
    await differential({
      engine,
      setup: scratchSetup,
      args: ['-a', '-T', 'scratch', 'src/', 'dst/'],
      volatile: ['dst/scratch'],
      after: ({ A, B }) => {
        for (const root of [A, B]) {
          expect(fs.readdirSync(path.join(root, 'dst/scratch')), root).toEqual([]);
          expect(pinned(path.join(root, 'dst/scratch')), `${root}: no temp file was made in scratch/`).toBe(false);
        }
      },
    });
  });

  it('--temp-dir=ABS on another filesystem: copied into place as rsync does (same result, modes, times)', async () => {
    const other = otherFs();
    if (!other) return;
    try {
      await differential({
        engine,
        setup: (root) => {
          updateSetup(root);
          put(path.join(root, 'src'), 'ro.bin', Buffer.alloc(300_000, 7), 0o440);
        },
        args: ['-a', `--temp-dir=${other}`, 'src/', 'dst/'],
        after: () => expect(fs.readdirSync(other)).toEqual([]),
      });
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('--inplace ignores -T (rsync writes in place); a missing or non-directory -T is exit 1 as in rsync', async () => {
    await differential({ engine, setup: scratchSetup, args: ['-a', '--inplace', '-T', 'scratch', 'src/', 'dst/'] });
    await differential({ engine, setup: updateSetup, args: ['-a', '-T', '../nope', 'src/', 'dst/'] });
    await differential({ engine, setup: updateSetup, args: ['-a', '-T', '../outside.txt', 'src/', 'dst/'] });
  });

  it('-T through the operator\'s own symlink is followed; through another user\'s: exit 11, nothing written', async () => {
    const d = tempDir('arsync-tempdir-');
    put(d, 'src/f', 'data\n');
    fs.mkdirSync(path.join(d, 'dst'));
    fs.mkdirSync(path.join(d, 'outside'));
    fs.utimesSync(path.join(d, 'outside'), PINNED, PINNED);
    fs.symlinkSync(path.join(d, 'outside'), path.join(d, 'dst/own'));
    const own = await runCli([`--engine=${engine}`, '-a', '--exclude=own', '-T', 'own', 'src/', 'dst/'], { cwd: d });
    expect(own.code, own.stderr).toBe(0);
    expect(fs.readFileSync(path.join(d, 'dst/f'), 'utf8')).toBe('data\n');
    expect(pinned(path.join(d, 'outside')), 'the temp went through the own symlink').toBe(false);
    if (!isRoot) return;
    fs.rmSync(path.join(d, 'dst/f'));
    fs.utimesSync(path.join(d, 'outside'), PINNED, PINNED);
    fs.symlinkSync(path.join(d, 'outside'), path.join(d, 'dst/theirs'));
    fs.lchownSync(path.join(d, 'dst/theirs'), NOBODY, NOBODY);
    const theirs = await runCli([`--engine=${engine}`, '-a', '--exclude=own', '--exclude=theirs', '-T', 'theirs', 'src/', 'dst/'], { cwd: d });
    expect(theirs.code).toBe(11);
    expect(theirs.stderr).toMatch(/refusing to follow a symlink owned by an untrusted user/);
    expect(fs.existsSync(path.join(d, 'dst/f'))).toBe(false);
    expect(pinned(path.join(d, 'outside'))).toBe(true);
    const insecure = await runCli([`--engine=${engine}`, '-a', '--insecure-links', '--exclude=own', '--exclude=theirs', '-T', 'theirs', 'src/', 'dst/'], { cwd: d });
    expect(insecure.code, insecure.stderr).toBe(0);
    expect(pinned(path.join(d, 'outside'))).toBe(false);
  });
});
