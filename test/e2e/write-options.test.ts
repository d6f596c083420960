// How destination files are written: --fsync (every written file fsync'd before it takes its name),
// --preallocate (blocks reserved first: a sparse source arrives fully allocated, as rsync leaves it),
// --no-sparse/--no-S, --no-inplace, --no-partial (the last of each pair wins), and --delete-delay
// (deletions after the transfer, in rsync's order). Each against rsync on the same tree where rsync can
// run the same command, on every engine.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { BIN } from '../helpers/cli.js';
import { bytes, deleteSetup, differential, put, stampTree, updateSetup } from '../helpers/differential.js';

afterAll(() => removeTemps());

const HOLE = 4 * 1024 * 1024;

/** root/src: a file with a 4 MiB hole between two small runs of data, and a plain file; no dst. */
function holeySetup(root: string): void {
  const src = path.join(root, 'src');
  put(src, 'plain.bin', bytes(70_000, 3));
  const fd = fs.openSync(path.join(src, 'holey'), 'w');
  fs.writeSync(fd, Buffer.from('head'));
  fs.writeSync(fd, Buffer.from('tail'), 0, 4, HOLE);
  fs.closeSync(fd);
  stampTree(src);
}

const allocated = (p: string): number => fs.statSync(p).blocks * 512;
const sparseHere = (root: string): boolean => allocated(path.join(root, 'src/holey')) < HOLE;

/** The syscalls named in `trace` that arsync (and its threads and children) made, one per line. */
function traced(engine: string, trace: string, args: string[], cwd: string): { code: number | null; calls: string[] } {
  const log = path.join(tempDir('arsync-strace-'), 'log');
  const r = spawnSync('strace', ['-f', '-qq', '-e', `trace=${trace}`, '-o', log, process.execPath, BIN, `--engine=${engine}`, ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`strace arsync: exit ${r.status}: ${r.stderr}`);
  return { code: r.status, calls: fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('(')) };
}

const hasStrace = spawnSync('strace', ['-V']).status === 0;

describeEngines((e) => {
  const engine = e.name;

  it('--fsync: the same result as rsync, and one fsync per file written, before its rename', async () => {
    const r = await differential({ engine, setup: updateSetup, args: ['-a', '--fsync', 'src/', 'dst/'] });
    if (!hasStrace) return;
    // Again on a fresh copy of the starting state, under strace: 6 files are written by this update.
    const root = tempDir('arsync-fsync-');
    updateSetup(root);
    const t = traced(engine, 'fsync,fdatasync,rename,renameat,renameat2', ['-a', '--fsync', 'src/', 'dst/'], root);
    expect(t.code).toBe(0);
    const written = r.arsync.stdout.split('\n').filter((l) => l.startsWith('>f')).length;
    expect(written).toBeGreaterThan(3);
    expect(t.calls.filter((l) => /\bfsync\(/.test(l)).length, t.calls.join('\n')).toBeGreaterThanOrEqual(written);
    // Without --fsync: none.
    const root2 = tempDir('arsync-fsync-');
    updateSetup(root2);
    expect(traced(engine, 'fsync,fdatasync', ['-a', 'src/', 'dst/'], root2).calls.filter((l) => /\bfsync\(/.test(l))).toEqual([]);
  });

  it('--fsync --inplace: the same result as rsync', async () => {
    await differential({ engine, setup: updateSetup, args: ['-a', '--fsync', '--inplace', 'src/', 'dst/'] });
  });

  it('--preallocate: a sparse source arrives fully allocated, as with rsync; the same bytes', async () => {
    await differential({
      engine,
      setup: holeySetup,
      args: ['-a', '--preallocate', 'src/', 'dst/'],
      after: ({ A, B }) => {
        if (!sparseHere(B)) return;
        expect(allocated(path.join(A, 'dst/holey')), 'rsync').toBeGreaterThanOrEqual(HOLE);
        expect(allocated(path.join(B, 'dst/holey')), 'arsync').toBeGreaterThanOrEqual(HOLE);
      },
    });
  });

  it('--preallocate -S: the file stays sparse, as with rsync', async () => {
    await differential({
      engine,
      setup: holeySetup,
      args: ['-a', '--preallocate', '-S', 'src/', 'dst/'],
      after: ({ A, B }) => {
        if (!sparseHere(B)) return;
        expect(allocated(path.join(A, 'dst/holey')), 'rsync').toBeLessThan(HOLE);
        expect(allocated(path.join(B, 'dst/holey')), 'arsync').toBeLessThan(HOLE);
      },
    });
  });

  it('--preallocate --inplace: a file that grows in place, the same result as rsync', async () => {
    await differential({ engine, setup: updateSetup, args: ['-a', '--preallocate', '--inplace', 'src/', 'dst/'] });
  });

  it('--inplace -S: a zero run written over old data becomes a hole, as with rsync (do_punch_hole)', async () => {
    const MB = 1_000_000;
    await differential({
      engine,
      setup: (root) => {
        const old = bytes(MB, 11);
        const now = Buffer.from(old);
        now.fill(0, 200_000, 800_000);
        put(path.join(root, 'dst'), 'f', old);
        put(path.join(root, 'src'), 'f', now);
        stampTree(path.join(root, 'src'));
        stampTree(path.join(root, 'dst'), 1_600_000_000);
      },
      args: ['-a', '--inplace', '-S', 'src/', 'dst/'],
      after: ({ A, B }) => {
        expect(allocated(path.join(A, 'dst/f')), 'rsync').toBeLessThan(MB);
        expect(allocated(path.join(B, 'dst/f')), 'arsync').toBeLessThan(MB);
      },
    });
  });

  it('-S --no-sparse and --no-S: a plain copy, the same as rsync (the hole written as data, under --preallocate)', async () => {
    for (const off of ['--no-sparse', '--no-S']) {
      await differential({
        engine,
        setup: holeySetup,
        args: ['-a', '-S', off, '--preallocate', 'src/', 'dst/'],
        after: ({ B }) => {
          if (sparseHere(B)) expect(allocated(path.join(B, 'dst/holey')), off).toBeGreaterThanOrEqual(HOLE);
        },
      });
    }
  });

  it('--inplace --no-inplace: files are replaced through temp files again (a hard link keeps the old data)', async () => {
    await differential({
      engine,
      setup: (root) => {
        updateSetup(root);
        fs.linkSync(path.join(root, 'dst/a.txt'), path.join(root, 'a-link'));
      },
      args: ['-a', '--inplace', '--no-inplace', 'src/', 'dst/'],
      after: ({ O, B }) => expect(fs.readFileSync(path.join(B, 'a-link'))).toEqual(fs.readFileSync(path.join(O, 'dst/a.txt'))),
    });
  });

  it('--partial --no-partial and --no-partial --partial: the same run as rsync', async () => {
    await differential({ engine, setup: updateSetup, args: ['-a', '--partial', '--no-partial', 'src/', 'dst/'] });
    await differential({ engine, setup: updateSetup, args: ['-a', '--no-partial', '--partial', 'src/', 'dst/'] });
  });

  it("--delete-delay: rsync's deletions, after the transfer, in rsync's order, with -v's incremental first line", async () => {
    const r = await differential({ engine, setup: deleteSetup, args: ['-av', '--delete-delay', 'src/', 'dst/'], noItemize: true });
    const order = (out: string) => out.split('\n').filter((l) => l !== '' && !/^(sent|total size|engine:) /.test(l));
    expect(order(r.arsync.stdout)).toEqual(order(r.rsync.stdout));
    expect(order(r.arsync.stdout)[0]).toBe('sending incremental file list');
    await differential({ engine, setup: deleteSetup, args: ['-a', '--del', '--delete-delay', 'src/', 'dst/'] });
  });

  it('--delete-delay deletes read-only files with long names (the suite case)', async () => {
    await differential({
      engine,
      setup: (root) => {
        put(path.join(root, 'src'), 'keep', 'k\n');
        for (let i = 0; i < 80; i++) put(path.join(root, 'dst'), `del${String(i).padStart(2, '0')}-${'n'.repeat(240)}`, 'old\n', 0o444);
      },
      args: ['-a', '--delete-delay', 'src/', 'dst/'],
      volatile: ['dst'],
    });
  });
});
