// The native tree pre-pass (scanTree) leaves clean directories out of the walk. These cases put every
// kind of change deep below clean parents, where a pre-pass that missed a directory would miss it, and
// compare with rsync (see test/helpers/differential.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { clone, differential, put, stampTree } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** 3 levels × 4 directories × 5 files, cloned to dst, then changes at depth 3 in a few places. */
function deepSetup(root: string): void {
  const src = path.join(root, 'src');
  for (const a of ['a', 'b', 'c', 'd'])
    for (const b of ['e', 'f', 'g', 'h'])
      for (const c of ['i', 'j', 'k', 'l'])
        for (let n = 0; n < 5; n++) put(src, `${a}/${b}/${c}/file${n}.txt`, `${a}${b}${c}${n}\n`);
  fs.symlinkSync('file0.txt', path.join(src, 'a/e/i/link'));
  stampTree(src);
  clone(src, path.join(root, 'dst'));
  const dst = path.join(root, 'dst');
  // A changed file, a new file, a new directory, all below clean parents.
  fs.writeFileSync(path.join(src, 'b/f/j/file2.txt'), 'changed, longer\n');
  fs.utimesSync(path.join(src, 'b/f/j/file2.txt'), 1_700_000_000, 1_700_000_000);
  put(src, 'c/g/k/new.txt', 'new\n');
  put(src, 'd/h/l/newdir/inner.txt', 'inner\n');
  // Extraneous entries on the destination, deep down.
  put(dst, 'a/f/k/extra.txt', 'extra\n');
  fs.mkdirSync(path.join(dst, 'c/e/i/extradir'));
  // Attribute-only changes: a file's mode, a directory's mode, a symlink retargeted.
  fs.chmodSync(path.join(dst, 'd/e/j/file1.txt'), 0o600);
  fs.chmodSync(path.join(dst, 'b/g/l'), 0o700);
  fs.unlinkSync(path.join(dst, 'a/e/i/link'));
  fs.symlinkSync('file1.txt', path.join(dst, 'a/e/i/link'));
  // Parents whose mtimes moved because of the above are restored to the source's by both tools.
  for (const rel of ['b/f/j', 'c/g/k', 'd/h/l', 'a/f/k', 'c/e/i', 'a/e/i']) {
    const st = fs.statSync(path.join(root, 'src', rel));
    fs.utimesSync(path.join(dst, rel), st.atime, st.mtime);
  }
}

describeEngines((e) => {
  const engine = e.name;

  it('changes deep below clean directories are all found', async () => {
    await differential({ engine, setup: deepSetup, args: ['-a', 'src/', 'dst/'] });
  });

  it('--delete removes extraneous entries deep below clean directories', async () => {
    await differential({ engine, setup: deepSetup, args: ['-a', '--delete', 'src/', 'dst/'] });
  });

  it('a second run after the sync finds nothing to do', async () => {
    await differential({
      engine,
      setup: (root) => {
        deepSetup(root);
        clone(path.join(root, 'src'), path.join(root, 'synced'));
        fs.rmSync(path.join(root, 'dst'), { recursive: true });
        fs.renameSync(path.join(root, 'synced'), path.join(root, 'dst'));
      },
      args: ['-a', '--delete', 'src/', 'dst/'],
    });
  });
});
