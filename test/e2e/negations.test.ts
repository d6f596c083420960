// The --no-X forms against rsync on the same tree, on every engine (src/cli/negations.ts): each undoes
// what its option set, in argv order, so the copy keeps exactly what rsync's copy keeps.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { isRoot, removeTemps, tempDir } from '../helpers/tree.js';
import { runCli } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { differential, freshSetup, shIn, updateSetup } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** freshSetup plus a FIFO and (as root) a character device, and entries owned by another user. */
function specialSetup(root: string): void {
  freshSetup(root);
  const src = path.join(root, 'src');
  shIn(src, 'mkfifo fifo');
  if (isRoot) {
    shIn(src, 'mknod null-dev c 1 3');
    fs.lchownSync(path.join(src, 'a.txt'), 1234, 5678);
    fs.lchownSync(path.join(src, 'sub'), 4321, 8765);
  }
}

describeEngines((e) => {
  const engine = e.name;

  it('-a --no-o --no-g: owners and groups are not kept', async () => {
    await differential({ engine, setup: specialSetup, args: ['-a', '--no-o', '--no-g', 'src/', 'dst/'] });
  });

  it('--no-o -a: -a after --no-o keeps owners again', async () => {
    await differential({ engine, setup: specialSetup, args: ['--no-o', '-a', 'src/', 'dst/'] });
  });

  it('-a --no-D: devices and FIFOs are skipped; --no-D -D: they are copied', async () => {
    await differential({ engine, setup: specialSetup, args: ['-a', '--no-D', 'src/', 'dst/'] });
    await differential({ engine, setup: specialSetup, args: ['-a', '--no-D', '-D', 'src/', 'dst/'] });
  });

  it('-a --no-p on an update: modes of changed files are not kept', async () => {
    await differential({ engine, setup: updateSetup, args: ['-a', '--no-p', 'src/', 'dst/'] });
  });

  it('-a --no-t: files get the time of the run, not the source mtime (-a -t would keep it)', async () => {
    const root = tempDir('arsync-neg-');
    freshSetup(root);
    const before = Date.now() / 1000 - 5;
    const r = await runCli(['-a', '--no-t', '--engine=' + engine, 'src/', 'dst/'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.lstatSync(path.join(root, 'src/a.txt')).mtimeMs / 1000).toBeLessThan(before);
    expect(fs.lstatSync(path.join(root, 'dst/a.txt')).mtimeMs / 1000).toBeGreaterThan(before);
  });

  it('-a --no-r --no-l: a directory operand is skipped, a symlink too, the file is copied', async () => {
    const root = tempDir('arsync-neg-');
    freshSetup(root);
    const r = await runCli(['-a', '--no-r', '--no-l', '--engine=' + engine, 'src/a.txt', 'src/lnk', 'src/sub', 'dst/'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(path.join(root, 'dst'))).toEqual(['a.txt']);
    expect(r.stdout).toMatch(/skipping non-regular file "?lnk"?/);
    expect(r.stdout).toMatch(/skipping directory "?sub"?/);
  });

  it('-aO --no-O: directory times are kept again', async () => {
    await differential({ engine, setup: freshSetup, args: ['-aO', '--no-O', 'src/', 'dst/'] });
  });

  it('-i --no-i and -c --no-c on an update: no itemized lines, the quick check decides', async () => {
    await differential({ engine, setup: updateSetup, args: ['-a', '-i', '-c', '--no-c', '--no-i', 'src/', 'dst/'], noItemize: true });
  });
});
