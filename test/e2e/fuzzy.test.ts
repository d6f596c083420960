// -y/--fuzzy: rsync's basis choice for a file the destination lacks (a same-size-and-mtime file, else the
// closest name; -yy also in the --*-dest directories), shown by --debug=FUZZY's lines exactly as rsync
// prints them (rsync's fuzzy and fuzzy-basis tests). A local copy sends whole files: the result is the
// source's.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { runCli } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { bytes, differential, put, stampTree } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** rsync's fuzzy-basis test: candidates at depth, one closest by name; and one exact size+mtime twin. */
function setup(root: string): void {
  const src = path.join(root, 'src');
  const data = bytes(30_000, 7);
  put(src, 'd1/d2/archive-v2.tar', data);
  put(src, 'd1/d2/zz.txt', 'new\n');
  put(src, 'rsync.c', bytes(5000, 3));
  put(src, 'keep.txt', 'kept\n');
  stampTree(src);
  const dst = path.join(root, 'dst');
  put(dst, 'd1/d2/archive-v1.tar', data.subarray(0, 28_000));
  put(dst, 'd1/d2/archive-old.tar', data.subarray(0, 20_000));
  put(dst, 'd1/d2/unrelated.dat', 'nothing alike\n');
  put(dst, 'd1/d2/empty.tar', '');
  // The same size and mtime as rsync.c: chosen before any name is scored.
  fs.copyFileSync(path.join(src, 'rsync.c'), path.join(dst, 'rsync2.c'));
  put(dst, 'keep.txt', 'old!\n');
  const t = fs.statSync(path.join(src, 'rsync.c')).mtime;
  fs.utimesSync(path.join(dst, 'rsync2.c'), t, t);
  put(root, 'chk/d1/d2/archive-v2.tar.old', 'x');
  put(root, 'chk/d1/d2/archive-v3.tar', data.subarray(0, 100));
}

const fuzzyLines = (out: string): string[] => out.split('\n').filter((l) => l.startsWith('fuzzy '));

describeEngines((e) => {
  const engine = e.name;

  it('--debug=FUZZY2: the scores and the basis rsync picks, in its order', async () => {
    const r = await differential({ engine, setup, args: ['-a', '-y', '--debug=FUZZY2', 'src/', 'dst/'] });
    expect(fuzzyLines(r.arsync.stdout)).toEqual(fuzzyLines(r.rsync.stdout));
    expect(r.arsync.stdout).toContain('fuzzy basis selected for d1/d2/archive-v2.tar: d1/d2/archive-v1.tar\n');
    expect(r.arsync.stdout).toContain('fuzzy size/modtime match for rsync2.c\nfuzzy basis selected for rsync.c: rsync2.c\n');
    expect(r.arsync.stdout).toContain('fuzzy distance for d1/d2/archive-old.tar = 3.00165\n');
    expect(fs.readFileSync(path.join(r.B, 'dst/d1/d2/archive-v2.tar'))).toEqual(fs.readFileSync(path.join(r.B, 'src/d1/d2/archive-v2.tar')));
  });

  it("-yy --compare-dest: the --*-dest directory's files are candidates too, named as rsync names them", async () => {
    // rsync names a basis directory after the destination's absolute path, so both run in one root
    // (the differential's two roots would differ there): rsync first, then arsync on a fresh copy.
    const root = tempDir(`arsync-fuzzy-${engine}-`);
    setup(root);
    const args = ['-a', '-yy', '--compare-dest=../chk', '--debug=FUZZY2', 'src/', 'dst/'];
    const rsync = spawnSync('rsync', args, { cwd: root, encoding: 'utf8' });
    fs.rmSync(root, { recursive: true });
    fs.mkdirSync(root);
    setup(root);
    const r = await runCli([...args, `--engine=${engine}`], { cwd: root });
    expect(r.code).toBe(0);
    expect(fuzzyLines(r.stdout)).toEqual(fuzzyLines(rsync.stdout));
    expect(r.stdout).toContain(`fuzzy distance for ${root}/dst/../chk/d1/d2/archive-v3.tar = 1.00001\n`);
    expect(r.stdout).toContain(`fuzzy basis selected for d1/d2/archive-v2.tar: ${root}/dst/../chk/d1/d2/archive-v3.tar\n`);
  });

  it('-y without --debug=FUZZY prints nothing more, and --no-y after -y turns it off', async () => {
    const plain = await differential({ engine, setup, args: ['-a', '-y', 'src/', 'dst/'] });
    expect(fuzzyLines(plain.arsync.stdout)).toEqual([]);
    const off = await differential({ engine, setup, args: ['-a', '-y', '--no-y', '--debug=FUZZY', 'src/', 'dst/'] });
    expect(fuzzyLines(off.arsync.stdout)).toEqual([]);
    const on = await differential({ engine, setup, args: ['-a', '--no-fuzzy', '-y', '--debug=FUZZY', 'src/', 'dst/'] });
    expect(fuzzyLines(on.arsync.stdout)).toHaveLength(2);
  });
});
