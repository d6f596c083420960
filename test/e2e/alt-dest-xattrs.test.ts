// -X with --link-dest/--copy-dest/--compare-dest: a twin whose data and metadata match but whose xattrs
// differ is not an exact match (rsync's unchanged_attrs counts them): it is copied with the source's
// xattrs ("cf........x"), never hard-linked. rsync's xattrs and xattrs-hlink tests hit this under
// --fake-super.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { clone, differential, put, stampTree } from '../helpers/differential.js';

afterAll(() => removeTemps());

const setx = (p: string, name: string, value: string): void => {
  const r = spawnSync('setfattr', ['-n', name, '-v', value, p]);
  if (r.status !== 0) throw new Error(`setfattr ${p}: ${r.stderr.toString()}`);
};
const getx = (p: string, name: string): string => spawnSync('getfattr', ['--only-values', '-n', name, p]).stdout.toString();

/** src/f and src/g with xattrs; chk/ the same files, f's xattr changed since (same data, mtime, mode). */
function setup(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'f', 'same data\n');
  put(src, 'g', 'other data\n');
  put(src, 'sub/h', 'deep\n');
  for (const p of ['f', 'g', 'sub/h']) setx(path.join(src, p), 'user.k', 'old');
  stampTree(src);
  clone(src, path.join(root, 'chk'));
  setx(path.join(src, 'f'), 'user.k', 'new');
  setx(path.join(src, 'sub/h'), 'user.extra', 'added');
}

/** f and sub/h copied with the source's xattrs (one link each); g, the exact twin: linked, copied or left out. */
function expectResult(root: string, alt: string): void {
  const dst = path.join(root, 'dst');
  expect(getx(path.join(dst, 'f'), 'user.k')).toBe('new');
  expect(getx(path.join(dst, 'sub/h'), 'user.extra')).toBe('added');
  expect(fs.statSync(path.join(dst, 'f')).nlink).toBe(1);
  expect(fs.statSync(path.join(dst, 'sub/h')).nlink).toBe(1);
  if (alt === '--compare-dest') expect(fs.existsSync(path.join(dst, 'g'))).toBe(false);
  else expect(fs.statSync(path.join(dst, 'g')).ino === fs.statSync(path.join(root, 'chk/g')).ino).toBe(alt === '--link-dest');
}

describeEngines((e) => {
  const engine = e.name;

  for (const alt of ['--link-dest', '--copy-dest', '--compare-dest']) {
    it.skipIf(engine === 'node')(`-X ${alt}: a twin whose xattrs differ is copied with the source's, as rsync does`, async () => {
      // (--link-dest's links change chk/g's link count.)
      const r = await differential({ engine, setup, args: ['-aX', `${alt}=../chk`, 'src/', 'dst/'], unchanged: alt === '--link-dest' ? ['src'] : ['src', 'chk'] });
      expect(r.arsync.stdout).toContain('cf........x f\n');
      expect(r.arsync.stdout).toContain('cf........x sub/h\n');
      expectResult(r.B, alt);
    });
  }

  it.skipIf(engine === 'node')('-X --fake-super --link-dest (rsync\'s xattrs test): the changed xattr is copied, not linked', async () => {
    const r = await differential({ engine, setup, args: ['-aX', '--fake-super', '--link-dest=../chk', 'src/', 'dst/'] });
    expect(r.arsync.stdout).toContain('cf........x f\n');
    expectResult(r.B, '--link-dest');
  });
});
