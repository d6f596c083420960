// Holes under -S (and of sparse sources without it): a 256 MiB file holding 1 MiB of data copies to a file
// with the same bytes as rsync -S makes and no more allocated blocks than the source. The native engines
// find the data with SEEK_DATA/SEEK_HOLE, so the holes are never read (checked on the sync engine's
// system calls with strace: io_uring reads do not show there); the node engine has no lseek and reads
// them, skipping the zero blocks when writing.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { BIN, runCli, show } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { bytes, differential } from '../helpers/differential.js';

afterAll(() => removeTemps());

const MiB = 1024 * 1024;
/**
 * The sparse file's size: large against what the assertions allow (the copy may read 64 MiB, the data is
 * 1 MiB), no larger, since rsync -S, the oracle's checksums, cmp and the node engine read every hole.
 */
const SIZE = 256 * MiB;
/** Where the 1 MiB of data sits: four 256 KiB runs, the last one ending the file. */
const RUNS = [0, 75 * MiB, 175 * MiB + 4096, SIZE - 256 * 1024];

function sparseSource(src: string): void {
  fs.mkdirSync(src, { recursive: true });
  const p = path.join(src, 'big.img');
  const fd = fs.openSync(p, 'w');
  RUNS.forEach((at, i) => fs.writeSync(fd, bytes(256 * 1024, i + 1), 0, 256 * 1024, at));
  fs.ftruncateSync(fd, SIZE);
  fs.closeSync(fd);
  fs.utimesSync(p, 1_700_000_000, 1_700_000_000);
}

const blocks = (p: string): number => fs.statSync(p).blocks;
const hasStrace = spawnSync('sh', ['-c', 'command -v strace']).status === 0;

describeEngines((e) => {
  it('-S: a 256 MiB file with 1 MiB of data: rsync -S\'s bytes, no more blocks than the source', async () => {
    await differential({
      engine: e.name,
      setup: (root) => sparseSource(path.join(root, 'src')),
      args: ['-aS', 'src/', 'dst/'],
      after: ({ B }) => {
        const s = blocks(path.join(B, 'src/big.img'));
        expect(s * 512, 'test sanity: the source is sparse').toBeLessThan(2 * MiB);
        expect(blocks(path.join(B, 'dst/big.img')), 'allocated blocks of the copy').toBeLessThanOrEqual(s);
      },
    });
  });

  it('--no-sparse turns -S back off (the last one wins), as rsync\'s does: same trees, output and exit code', async () => {
    for (const flags of [['--no-sparse'], ['-S', '--no-sparse'], ['--no-sparse', '-S']]) {
      await differential({
        engine: e.name,
        setup: (root) => {
          const src = path.join(root, 'src');
          fs.mkdirSync(src, { recursive: true });
          fs.writeFileSync(path.join(src, 'zeros'), Buffer.concat([bytes(5000, 7), Buffer.alloc(1 * MiB), bytes(10, 8)]));
        },
        args: ['-a', ...flags, 'src/', 'dst/'],
      });
    }
    // -S then --no-sparse: -S is off, so --reflink=always is no longer refused with it.
    const root = tempDir('arsync-nosparse-');
    fs.mkdirSync(path.join(root, 'src'));
    const r = await runCli(['-r', '-S', '--no-sparse', '--reflink=always', `--engine=${e.name}`, `${root}/src/`, `${root}/dst/`]);
    expect(r.code, show(r)).toBe(e.name === 'node' ? 1 : 0);
  });

  it('without -S the holes of a sparse source stay holes too (same bytes)', async () => {
    const root = tempDir('arsync-holes-');
    const src = path.join(root, 'src');
    sparseSource(src);
    const r = await runCli(['-a', `--engine=${e.name}`, `${src}/`, `${root}/dst/`]);
    expect(r.code, show(r)).toBe(0);
    expect(blocks(path.join(root, 'dst/big.img'))).toBeLessThanOrEqual(blocks(path.join(src, 'big.img')));
    const cmp = spawnSync('cmp', [path.join(src, 'big.img'), path.join(root, 'dst/big.img')]);
    expect(cmp.status, String(cmp.stdout)).toBe(0);
  });

  it.skipIf(e.name !== 'sync' || !hasStrace)('sync engine: the holes are never read (SEEK_DATA/SEEK_HOLE), by its system calls', () => {
    const root = tempDir('arsync-holes-strace-');
    const src = path.join(root, 'src');
    sparseSource(src);
    const log = path.join(root, 'trace');
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=read,pread64,lseek,copy_file_range', '-o', log, process.execPath, BIN, '-aS', '--engine=sync', `${src}/`, `${root}/dst/`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const trace = fs.readFileSync(log, 'utf8');
    let read = 0;
    for (const m of trace.matchAll(/(?:read|pread64|copy_file_range)\(.*\)\s+=\s+(\d+)/g)) read += Number(m[1]);
    expect(trace, 'SEEK_DATA used').toMatch(/SEEK_DATA/);
    // The bundle and node's own files are a few MiB; reading the holes would be 256 MiB.
    expect(read, 'bytes read (all reads of the process)').toBeLessThan(64 * MiB);
    expect(blocks(path.join(root, 'dst/big.img'))).toBeLessThanOrEqual(blocks(path.join(src, 'big.img')));
  });
});
