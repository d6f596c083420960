// A directory wider than one chunk of the paired listing (the walk reads a directory through a cursor,
// a bounded number of entries at a time, so a million entries are never held at once). Every case is
// compared with rsync (test/helpers/differential.ts): the copy, a re-sync with nothing to do, and
// deletions in every mode must come out exactly as rsync's, whatever falls on a chunk boundary.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { clone, differential, put, stampTree } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** Five entries a chunk: the trees below span a dozen chunks. */
const env = { ARSYNC_TEST_PAIR_CHUNK: '5' };

/** One directory of files, symlinks, subdirectories, a FIFO and a name that is not UTF-8. */
function wideSource(src: string): void {
  for (let i = 0; i < 40; i++) put(src, `f${String(i).padStart(2, '0')}`, `file ${i}\n`.repeat(i + 1));
  for (let i = 0; i < 6; i++) fs.symlinkSync(`f${String(i * 3).padStart(2, '0')}`, path.join(src, `l${i}`));
  for (let i = 0; i < 5; i++) for (let j = 0; j < 3; j++) put(src, `d${i}/g${j}`, `${i}/${j}\n`);
  const r = spawnSync('mkfifo', [path.join(src, 'fifo')]);
  if (r.status !== 0) throw new Error(`mkfifo: ${r.stderr.toString()}`);
  stampTree(src);
  // After stampTree, which takes names as UTF-8.
  const odd = Buffer.concat([Buffer.from(src + '/'), Buffer.from([0x66, 0xff, 0x31])]);
  fs.writeFileSync(odd, 'not utf-8\n');
  fs.utimesSync(odd, 1_600_000_000, 1_600_000_000);
}

/** The destination as an earlier run left it, then changed: entries missing, changed, and extraneous
 *  ones before, between and after the source's names (files, symlinks, a directory with contents). */
function wideChanged(root: string): void {
  const src = path.join(root, 'src');
  const dst = path.join(root, 'dst');
  wideSource(src);
  clone(src, dst);
  for (const n of ['f03', 'f17', 'l2', 'd3/g1']) fs.rmSync(path.join(dst, n));
  put(dst, 'f08', 'changed content\n');
  fs.chmodSync(path.join(dst, 'f21'), 0o600);
  for (const n of ['0first', 'f05x', 'f12.bak', 'f30~', 'zzz']) put(dst, n, `extra ${n}\n`);
  fs.symlinkSync('nowhere', path.join(dst, 'l1x'));
  for (let j = 0; j < 7; j++) put(dst, `d2x/h${j}`, `extra ${j}\n`);
  put(dst, 'd4/extra', 'extra inside a kept directory\n');
}

describeEngines((e) => {
  const engine = e.name;

  it('a wide directory is copied exactly', async () => {
    await differential({ engine, env, setup: (root) => wideSource(path.join(root, 'src')), args: ['-a', 'src/', 'dst/'] });
  });

  it('a wide directory already copied is re-synced with nothing to do', async () => {
    const r = await differential({
      engine,
      env,
      setup: (root) => {
        wideSource(path.join(root, 'src'));
        clone(path.join(root, 'src'), path.join(root, 'dst'));
      },
      args: ['-a', '--delete', 'src/', 'dst/'],
    });
    expect(r.arsync.stdout).toBe('');
  });

  it('--delete in a wide directory deletes exactly what rsync deletes', async () => {
    await differential({ engine, env, setup: wideChanged, args: ['-a', '--delete', 'src/', 'dst/'] });
  });

  it('--delete-before and --delete-after in a wide directory', async () => {
    await differential({ engine, env, setup: wideChanged, args: ['-a', '--delete-before', 'src/', 'dst/'] });
    await differential({ engine, env, setup: wideChanged, args: ['-a', '--delete-after', 'src/', 'dst/'] });
  });

  it('--delete-excluded with filters in a wide directory', async () => {
    await differential({
      engine,
      env,
      setup: wideChanged,
      args: ['-a', '--delete-excluded', '--exclude=f1*', '--exclude=d1/', '--exclude=*.bak', 'src/', 'dst/'],
    });
  });

  it('-n onto a missing destination lists a wide directory', async () => {
    await differential({ engine, env, setup: (root) => wideSource(path.join(root, 'src')), args: ['-an', 'src/', 'dst/'] });
  });

  it('9,000 entries (three chunks at the default size): --delete after changes', async () => {
    const name = (i: number): string => `n${String(i).padStart(5, '0')}`;
    await differential({
      engine,
      setup: (root) => {
        const src = path.join(root, 'src');
        const dst = path.join(root, 'dst');
        fs.mkdirSync(src);
        for (let i = 0; i < 9_000; i++) fs.writeFileSync(path.join(src, name(i)), i % 7 ? '' : `${i}\n`);
        clone(src, dst);
        for (let i = 0; i < 9_000; i += 997) fs.rmSync(path.join(dst, name(i)));
        for (let i = 0; i < 9_000; i += 499) fs.writeFileSync(path.join(dst, `${name(i)}x`), 'extra\n');
        fs.writeFileSync(path.join(dst, name(4096)), 'changed\n');
      },
      args: ['-a', '--delete', 'src/', 'dst/'],
    });
  });
});
