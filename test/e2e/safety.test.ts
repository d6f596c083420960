// DESIGN §3 safety rules seen from outside: a destination file is replaced (temp file + rename), never
// written in place, and a symlink planted in the destination never redirects a write outside it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeSmallTree, makeTree, removeTemps, sh, tempDir } from '../helpers/tree.js';
import { compareTrees, findTempFiles, formatDiffs } from '../helpers/compare.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';

let base: string;

beforeAll(() => {
  base = tempDir('arsync-safety-');
});
afterAll(() => removeTemps());

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const dir = (name: string): string => {
    const d = path.join(base, `${name}-${e.name}`);
    fs.mkdirSync(d);
    return d;
  };

  it('an update replaces the destination file (new inode); a hard link to the old one keeps the old data', async () => {
    const d = dir('inplace');
    const src = path.join(d, 'src');
    const dst = path.join(d, 'dst');
    makeSmallTree(src);
    fs.writeFileSync(path.join(src, 'target'), 'old contents\n');
    let r = await runCli(['-a', eng, `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(0);

    const dstFile = path.join(dst, 'target');
    const keep = path.join(d, 'keep'); // outside dst: sees whatever is written into the old inode
    fs.linkSync(dstFile, keep);
    const oldIno = fs.statSync(dstFile).ino;
    fs.writeFileSync(path.join(src, 'target'), 'new and longer contents\n');
    sh(`touch -d @1700000000.5 '${path.join(src, 'target')}'`);

    r = await runCli(['-a', eng, `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(0);
    expect(fs.readFileSync(dstFile, 'utf8')).toBe('new and longer contents\n');
    expect(fs.statSync(dstFile).ino, 'destination file was written in place').not.toBe(oldIno);
    expect(fs.readFileSync(keep, 'utf8')).toBe('old contents\n');
    expect(findTempFiles(dst, src)).toEqual([]);
    expectExactCopy(src, dst, e.name, { withXattrs: false });
  });

  it('a directory symlink planted in dst (dst/sub -> outside) never redirects writes outside', async () => {
    const d = dir('planted-dir');
    const src = path.join(d, 'src');
    const dst = path.join(d, 'dst');
    const outside = path.join(d, 'outside');
    makeSmallTree(src);
    fs.mkdirSync(path.join(src, 'sub'));
    fs.writeFileSync(path.join(src, 'sub', 'victim'), 'from src');
    fs.writeFileSync(path.join(src, 'sub', 'new-file'), 'from src');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'victim'), 'outside, must stay');
    fs.chmodSync(path.join(outside, 'victim'), 0o600);
    const snap = path.join(d, 'outside-snap');
    sh(`cp -a '${outside}' '${snap}'`);
    fs.mkdirSync(dst);
    fs.symlinkSync(outside, path.join(dst, 'sub'));

    const r = await runCli(['-a', eng, `${src}/`, `${dst}/`]);
    expect(formatDiffs(compareTrees(snap, outside)), 'outside dir changed').toEqual([]);
    expect(fs.existsSync(path.join(outside, 'new-file'))).toBe(false);
    // rsync replaces the symlink with the source's directory (no --keep-dirlinks) and succeeds.
    expect(r.code, show(r)).toBe(0);
    expect(fs.lstatSync(path.join(dst, 'sub')).isDirectory()).toBe(true);
    expectExactCopy(src, dst, e.name, { withXattrs: false });
  });

  it('a file symlink planted in dst (dst/f -> outside file) is replaced, the outside file untouched', async () => {
    const d = dir('planted-file');
    const src = path.join(d, 'src');
    const dst = path.join(d, 'dst');
    makeSmallTree(src);
    fs.writeFileSync(path.join(src, 'f'), 'from src');
    fs.chmodSync(path.join(src, 'f'), 0o4755);
    const outsideFile = path.join(d, 'outside-file');
    fs.writeFileSync(outsideFile, 'outside, must stay');
    fs.chmodSync(outsideFile, 0o600);
    const before = fs.statSync(outsideFile, { bigint: true });
    fs.mkdirSync(dst);
    fs.symlinkSync(outsideFile, path.join(dst, 'f'));

    const r = await runCli(['-a', eng, `${src}/`, `${dst}/`]);
    const after = fs.statSync(outsideFile, { bigint: true });
    expect(fs.readFileSync(outsideFile, 'utf8')).toBe('outside, must stay');
    expect([after.mode, after.uid, after.gid, after.mtimeNs]).toEqual([before.mode, before.uid, before.gid, before.mtimeNs]);
    expect(r.code, show(r)).toBe(0);
    expect(fs.lstatSync(path.join(dst, 'f')).isFile()).toBe(true);
    expectExactCopy(src, dst, e.name, { withXattrs: false });
  });

  it('a symlink planted deeper on a re-sync (dst/a/b -> outside) is not followed either', async () => {
    const d = dir('planted-deep');
    const src = path.join(d, 'src');
    const dst = path.join(d, 'dst');
    const outside = path.join(d, 'outside');
    makeTree(src, { seed: 8, catalogue: false, files: 30, xattrs: false, acls: false, hardlinks: false });
    fs.mkdirSync(path.join(src, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(src, 'a', 'b', 'x'), 'v1');
    let r = await runCli(['-a', eng, `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(0);

    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'x'), 'outside');
    fs.rmSync(path.join(dst, 'a', 'b'), { recursive: true });
    fs.symlinkSync(outside, path.join(dst, 'a', 'b'));
    fs.writeFileSync(path.join(src, 'a', 'b', 'x'), 'version 2');
    fs.writeFileSync(path.join(src, 'a', 'b', 'y'), 'new');

    r = await runCli(['-a', eng, `${src}/`, `${dst}/`]);
    expect(fs.readdirSync(outside)).toEqual(['x']);
    expect(fs.readFileSync(path.join(outside, 'x'), 'utf8')).toBe('outside');
    expect(r.code, show(r)).toBe(0);
    expectExactCopy(src, dst, e.name, { withXattrs: false });
  });
});
