// -X/-A on a re-sync: an entry whose only difference is an xattr or an ACL gets rsync's 'x'/'a' line and
// is fixed in place. The node engine has no xattr API and refuses -X/-A (tested in usage.test.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { clone, differential, put, stampTree } from '../helpers/differential.js';

afterAll(() => removeTemps());

const run = (cmd: string, args: string[]): void => {
  const r = spawnSync(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.toString()}`);
};

function xattrSetup(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'f', 'file\n');
  put(src, 'g', 'other\n');
  fs.mkdirSync(path.join(src, 'd'));
  for (const p of ['f', 'g', 'd']) run('setfattr', ['-n', 'user.k', '-v', '1', path.join(src, p)]);
  stampTree(src);
  clone(src, path.join(root, 'dst'));
  const dst = path.join(root, 'dst');
  run('setfattr', ['-n', 'user.k', '-v', '2', path.join(dst, 'f')]);
  run('setfattr', ['-x', 'user.k', path.join(dst, 'd')]);
  run('setfattr', ['-n', 'user.extra', '-v', 'x', path.join(dst, 'g')]);
  run('setfacl', ['-m', 'u:1234:r', path.join(dst, 'g')]);
}

/** rsync's xattrs test: an existing destination directory with an xattr the source lacks and one that differs. */
function dirXattrSetup(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'foo/file3', 'new\n');
  put(src, 'foo/bar/file5', 'five\n');
  run('setfattr', ['-n', 'user.dir1', '-v', 'need to test directory xattrs too', path.join(src, 'foo')]);
  run('setfattr', ['-n', 'user.dir4', '-v', 'another dir test', path.join(src, 'foo/bar')]);
  stampTree(src);
  const dst = path.join(root, 'dst');
  put(dst, 'foo/file3', 'old\n');
  fs.mkdirSync(path.join(dst, 'foo/bar'));
  run('setfattr', ['-n', 'user.dir0', '-v', 'old extra value', path.join(dst, 'foo')]);
  run('setfattr', ['-n', 'user.dir1', '-v', 'old dir value', path.join(dst, 'foo')]);
  run('setfattr', ['-n', 'user.gone', '-v', 'x', path.join(dst, 'foo/bar')]);
}

describeEngines((e) => {
  const engine = e.name;

  it.skipIf(engine === 'node')('xattr- and ACL-only differences are itemized and fixed (-aXA)', async () => {
    await differential({ engine, setup: xattrSetup, args: ['-aXA', 'src/', 'dst/'] });
  });

  it.skipIf(engine === 'node')("-X: an existing directory loses the xattrs the source lacks, as rsync's xattrs test expects", async () => {
    await differential({ engine, setup: dirXattrSetup, args: ['-avX', 'src/', 'dst/'] });
  });

  it.skipIf(engine === 'node')('-X without -A leaves ACLs alone', async () => {
    await differential({ engine, setup: xattrSetup, args: ['-aX', 'src/', 'dst/'] });
  });
});
