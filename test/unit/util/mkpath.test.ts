// src/util/mkpath.ts: rsync's make_path for --mkpath, one plain mkdir per missing directory.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makePath } from '../../../src/util/mkpath.js';
import { removeTemps, tempDir } from '../../helpers/tree.js';

afterAll(() => removeTemps());

describe('makePath', () => {
  it('makes each missing directory below the deepest one that exists and counts them', () => {
    const root = tempDir('arsync-mkpath-');
    expect(makePath(Buffer.from(path.join(root, 'a/b/c')))).toBe(3);
    expect(fs.statSync(path.join(root, 'a/b/c')).isDirectory()).toBe(true);
    expect(makePath(Buffer.from(path.join(root, 'a/b/c/d')))).toBe(1);
  });

  it('makes nothing for a path that exists, or for the root', () => {
    const root = tempDir('arsync-mkpath-');
    expect(makePath(Buffer.from(root))).toBe(0);
    expect(makePath(Buffer.from('/'))).toBe(0);
  });

  it('a relative path is made from the working directory', () => {
    const root = tempDir('arsync-mkpath-');
    const cwd = process.cwd();
    process.chdir(root);
    try {
      expect(makePath(Buffer.from('x/y'))).toBe(2);
    } finally {
      process.chdir(cwd);
    }
    expect(fs.statSync(path.join(root, 'x/y')).isDirectory()).toBe(true);
  });

  it('a file in the way stops the search (stat says ENOTDIR): nothing is made, the caller meets the error', () => {
    const root = tempDir('arsync-mkpath-');
    fs.writeFileSync(path.join(root, 'f'), '');
    expect(makePath(Buffer.from(path.join(root, 'f/a/b')))).toBe(0);
    expect(fs.statSync(path.join(root, 'f')).isFile()).toBe(true);
  });

  it('the failing mkdir throws its own error', () => {
    // A missing directory under /proc: stat says ENOENT all the way up to /proc, and mkdir refuses.
    expect(() => makePath(Buffer.from('/proc/arsync-no-such/a'))).toThrow(expect.objectContaining({ syscall: 'mkdir', path: '/proc/arsync-no-such' }));
  });
});
