// -XX: rsync's own user.rsync.% records (%stat, %aacl, %dacl, any other %name) are copied, compared (-i's
// 'x') and removed when stale like any other extended attribute; one -X leaves them out and removes them
// from the destination, even where the source holds them. Differential against rsync 3.5 on the native
// engines; the node engine refuses -X at all. The trees are compared by compareTrees (every xattr name) and
// by the explicit checks below (rsync's own dry run with one -X would itemize the records it does not copy).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { clone, differential, put, stampTree, type DiffResult } from '../helpers/differential.js';

afterAll(() => removeTemps());

const setx = (p: string, name: string, value: string): void => {
  const r = spawnSync('setfattr', ['-n', name, '-v', value, p]);
  if (r.status !== 0) throw new Error(`setfattr ${name} ${p}: ${r.stderr.toString()}`);
};

/** Every xattr of one path, "name=value" sorted (getfattr's text form). */
function xattrsOf(p: string): string[] {
  const r = spawnSync('getfattr', ['-h', '-d', '-m', '-', '--absolute-names', p], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`getfattr ${p}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .sort();
}

const RECORDS: [string, string, string][] = [
  ['f', 'user.rsync.%stat', '100644 0,0 0:0'],
  ['d', 'user.rsync.%aacl', 'acl'],
  ['d', 'user.rsync.%dacl', 'dacl'],
  ['d/g', 'user.rsync.%foo', 'foo'],
];

/** A source whose entries hold rsync's records beside ordinary user.* attributes. */
function source(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'f', 'file\n');
  put(src, 'd/g', 'g\n');
  put(src, 'plain', 'no records\n');
  setx(path.join(src, 'f'), 'user.a', '1');
  setx(path.join(src, 'd'), 'user.b', '2');
  setx(path.join(src, 'plain'), 'user.c', '3');
  for (const [rel, name, value] of RECORDS) setx(path.join(src, rel), name, value);
  stampTree(src);
}

/** The destination as a copy of the source whose records and attributes differ in every way. */
function resync(root: string): void {
  source(root);
  const dst = path.join(root, 'dst');
  clone(path.join(root, 'src'), dst);
  setx(path.join(dst, 'f'), 'user.rsync.%stat', '100600 0,0 0:0'); // changed
  spawnSync('setfattr', ['-x', 'user.rsync.%dacl', path.join(dst, 'd')]); // missing
  setx(path.join(dst, 'plain'), 'user.rsync.%stale', 'x'); // extra
}

const srcOf = (r: DiffResult, rel: string): string => path.join(r.O, 'src', rel);
const dstOf = (r: DiffResult, rel: string): string => path.join(r.B, 'dst', rel);

describeEngines((e) => {
  const engine = e.name;

  it.skipIf(engine === 'node')('-aXX copies the records with the other attributes', async () => {
    const r = await differential({ engine, setup: source, args: ['-aXX', 'src/', 'dst/'] });
    expect(r.arsync.code, show(r.arsync)).toBe(0);
    for (const rel of ['f', 'd', 'd/g', 'plain']) expect(xattrsOf(dstOf(r, rel)), rel).toEqual(xattrsOf(srcOf(r, rel)));
    expect(xattrsOf(dstOf(r, 'f'))).toContain('user.rsync.%stat="100644 0,0 0:0"');
  });

  it.skipIf(engine === 'node')("-aXX re-sync: changed, missing and extra records are itemized 'x' and fixed", async () => {
    const r = await differential({ engine, setup: resync, args: ['-aXX', 'src/', 'dst/'] });
    expect(r.arsync.stdout.split('\n').filter((l) => l.includes('x ')).sort(), show(r.arsync)).toEqual(['.d........x d/', '.f........x f', '.f........x plain']);
    for (const rel of ['f', 'd', 'd/g', 'plain']) expect(xattrsOf(dstOf(r, rel)), rel).toEqual(xattrsOf(srcOf(r, rel)));
  });

  it.skipIf(engine === 'node')('-aXX re-sync of an identical tree prints nothing and changes nothing', async () => {
    const same = (root: string): void => {
      source(root);
      clone(path.join(root, 'src'), path.join(root, 'dst'));
    };
    const r = await differential({ engine, setup: same, args: ['-aXX', 'src/', 'dst/'], unchanged: ['src', 'dst'] });
    expect(r.arsync.stdout, show(r.arsync)).toBe('');
  });

  it.skipIf(engine === 'node')('-aX leaves the records out of a fresh copy', async () => {
    const r = await differential({ engine, setup: source, args: ['-aX', 'src/', 'dst/'] });
    expect(xattrsOf(dstOf(r, 'f'))).toEqual(['user.a="1"']);
    expect(xattrsOf(dstOf(r, 'd/g'))).toEqual([]);
  });

  it.skipIf(engine === 'node')('-aX removes the records from a destination, also those the source holds', async () => {
    const withRecords = (root: string): void => {
      source(root);
      clone(path.join(root, 'src'), path.join(root, 'dst'));
    };
    const r = await differential({ engine, setup: withRecords, args: ['-aX', 'src/', 'dst/'] });
    expect(r.arsync.stdout.split('\n').filter((l) => l !== '').sort(), show(r.arsync)).toEqual(['.d........x d/', '.f........x d/g', '.f........x f']);
    expect(xattrsOf(dstOf(r, 'd'))).toEqual(['user.b="2"']);
  });

  it('-aXX --fake-super: exit 1 as rsync, nothing written', async () => {
    const r = await differential({ engine, setup: source, args: ['-aXX', '--fake-super', 'src/', 'dst/'] });
    expect(r.arsync.code).toBe(1);
    expect(r.arsync.stderr).toMatch(/--fake-super conflicts with -XX/);
    expect(fs.existsSync(path.join(r.B, 'dst'))).toBe(false);
  });

  it.runIf(engine === 'node')('-aXX on the node engine: exit 1 (no xattr API), nothing written', async () => {
    const root = tempDir('arsync-xx-node-');
    source(root);
    const r = await runCli(['-aXX', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toMatch(/-X\/--xattrs needs the native addon/);
    expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
  });
});
