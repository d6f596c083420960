// src/util/mkpath.ts: rsync's make_path for --mkpath, judged without writing (which levels it makes, or
// its failing mkdir's errno), then made one plain mkdir per directory.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { judgeMakePath, makeDirs } from '../../../src/util/mkpath.js';
import { ERRNO } from '../../../src/util/errors.js';
import { removeTemps, tempDir } from '../../helpers/tree.js';

afterAll(() => removeTemps());

const real = { dryRun: false, insecure: false };
const dry = { dryRun: true, insecure: false };
const names = (r: ReturnType<typeof judgeMakePath>): string[] | number => ('errno' in r ? r.errno : r.made.map((b) => b.toString()));

/** Runs `fn` with the working directory at `dir` (rsync's relative-path rules start there). */
function inDir<T>(dir: string, fn: () => T): T {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return fn();
  } finally {
    process.chdir(cwd);
  }
}

describe('judgeMakePath', () => {
  it('names each missing directory below the deepest one that exists, shallowest first, and writes nothing', () => {
    const root = tempDir('arsync-mkpath-');
    expect(names(judgeMakePath(Buffer.from(path.join(root, 'a/b/c')), false, real))).toEqual([`${root}/a`, `${root}/a/b`, `${root}/a/b/c`]);
    expect(names(judgeMakePath(Buffer.from(path.join(root, 'a/b/c')), true, real))).toEqual([`${root}/a`, `${root}/a/b`]);
    expect(fs.existsSync(path.join(root, 'a'))).toBe(false);
  });

  it('nothing for a path that exists, for a name without a directory part to drop, or for the root', () => {
    const root = tempDir('arsync-mkpath-');
    expect(names(judgeMakePath(Buffer.from(root), false, real))).toEqual([]);
    expect(names(judgeMakePath(Buffer.from('name'), true, real))).toEqual([]);
    expect(names(judgeMakePath(Buffer.from('/x'), true, real))).toEqual([]);
  });

  it('a relative path is judged from the working directory, and makeDirs makes what it names', () => {
    const root = tempDir('arsync-mkpath-');
    inDir(root, () => {
      const r = judgeMakePath(Buffer.from('x/y/'), true, real);
      expect(names(r)).toEqual(['x', 'x/y']);
      if (!('errno' in r)) makeDirs(r.made);
    });
    expect(fs.statSync(path.join(root, 'x/y')).isDirectory()).toBe(true);
  });

  it('a file in the way: EEXIST on it, ENOTDIR below it, ELOOP where it is in the middle of a relative path; a dry run says ENOTDIR', () => {
    const root = tempDir('arsync-mkpath-');
    fs.writeFileSync(path.join(root, 'f'), '');
    inDir(root, () => {
      expect(judgeMakePath(Buffer.from('f/'), true, real)).toEqual({ errno: ERRNO.EEXIST });
      expect(judgeMakePath(Buffer.from('f/a/'), true, real)).toEqual({ errno: ERRNO.ENOTDIR });
      expect(judgeMakePath(Buffer.from('f/a/b/'), true, real)).toEqual({ errno: ERRNO.ELOOP });
      expect(judgeMakePath(Buffer.from('f/'), true, dry)).toEqual({ errno: ERRNO.ENOTDIR });
      expect(judgeMakePath(Buffer.from('f/a/b/'), true, dry)).toEqual({ errno: ERRNO.ENOTDIR });
    });
  });

  it('a link that leads nowhere: nothing made through it (ENOENT when relative, ELOOP when absolute); a dry run counts it missing', () => {
    const root = tempDir('arsync-mkpath-');
    fs.symlinkSync('nowhere', path.join(root, 'rel'));
    fs.symlinkSync(path.join(root, 'gone/x'), path.join(root, 'abs'));
    inDir(root, () => {
      expect(names(judgeMakePath(Buffer.from('rel/x'), true, real))).toEqual([]);
      expect(judgeMakePath(Buffer.from('rel/x/'), true, real)).toEqual({ errno: ERRNO.ENOENT });
      expect(judgeMakePath(Buffer.from('abs/x/'), true, real)).toEqual({ errno: ERRNO.ELOOP });
      expect(names(judgeMakePath(Buffer.from('rel/x/'), true, dry))).toEqual(['rel', 'rel/x']);
    });
    // An absolute destination path is a plain mkdir's: through the link, ENOENT.
    expect(judgeMakePath(Buffer.from(path.join(root, 'abs/x/')), true, real)).toEqual({ errno: ERRNO.ENOENT });
    expect(fs.existsSync(path.join(root, 'gone'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'nowhere'))).toBe(false);
  });

  it('a relative link to a directory inside is followed, an absolute one refused (ELOOP) unless --insecure-links', () => {
    const root = tempDir('arsync-mkpath-');
    fs.mkdirSync(path.join(root, 'out'));
    fs.symlinkSync('out', path.join(root, 'rel'));
    fs.symlinkSync(path.join(root, 'out'), path.join(root, 'abs'));
    inDir(root, () => {
      expect(names(judgeMakePath(Buffer.from('rel/x/'), true, real))).toEqual(['rel/x']);
      expect(judgeMakePath(Buffer.from('abs/x/'), true, real)).toEqual({ errno: ERRNO.ELOOP });
      expect(names(judgeMakePath(Buffer.from('abs/x/'), true, { dryRun: false, insecure: true }))).toEqual(['abs/x']);
      expect(judgeMakePath(Buffer.from('a/../b/'), true, real)).toEqual({ errno: ERRNO.EINVAL });
    });
  });

  it('makeDirs throws the failing mkdir\'s error', () => {
    // A missing directory under /proc: stat says ENOENT all the way up to /proc, and mkdir refuses.
    const r = judgeMakePath(Buffer.from('/proc/arsync-no-such/a'), false, real);
    expect(names(r)).toEqual(['/proc/arsync-no-such', '/proc/arsync-no-such/a']);
    if (!('errno' in r)) expect(() => makeDirs(r.made)).toThrow(expect.objectContaining({ syscall: 'mkdir', path: '/proc/arsync-no-such' }));
  });
});
