// Sources that read short or end early, for real, through faultfs (a FUSE filesystem, test/fixtures/
// faultfs.c): only a zero-byte read is end of file, so short reads are continued and the copy is whole;
// a source that ends before the size fstat gave at the open (it shrank while being copied, or its
// filesystem promised more than it has) is reported and never renamed into place as if complete
// (DESIGN.md §3 rule 9). rsync reports the latter as "read errors mapping ..." and exits 23; its redo
// copies such a file once more after the pass (run/redo.ts): a file cut short is then placed as it is by
// then, one whose filesystem still promises more fails again ("ERROR: ... failed verification").

import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { compareTrees, findTempFiles, formatDiffs } from '../helpers/compare.js';
import { fidelity, runCli, show } from '../helpers/cli.js';
import type { EngineName } from '../../src/model/config.js';
import { describeEngines } from '../helpers/e2e.js';
import { fuseSkipReason, mountFaultFs, type FaultMount, type FaultOptions } from '../helpers/fusefs.js';

const MiB = 1 << 20;
const OLD = new Date('2001-02-03T04:05:06Z');
/** The backing tree's mtimes. */
const THEN = new Date('2010-06-07T08:09:10Z');
const mounts: FaultMount[] = [];

afterEach(() => {
  for (const m of mounts.splice(0)) m.unmount();
});
afterAll(() => removeTemps());

/** A backing tree: small, medium, a 9 MiB file (past the uring engine's copy_file_range and --direct
 * thresholds), a sparse file and a nested one. */
function backingTree(root: string): void {
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(root, 'small'), randomBytes(3000));
  fs.writeFileSync(path.join(root, 'mid'), randomBytes(300_000));
  fs.writeFileSync(path.join(root, 'big'), randomBytes(9 * MiB + 1234));
  fs.writeFileSync(path.join(root, 'sub', 'nested'), randomBytes(200_001));
  const fd = fs.openSync(path.join(root, 'holes'), 'w');
  fs.writeSync(fd, randomBytes(70_000), 0, 70_000, 0);
  fs.writeSync(fd, randomBytes(5000), 0, 5000, 3 * MiB);
  fs.ftruncateSync(fd, 6 * MiB);
  fs.closeSync(fd);
  for (const f of ['small', 'mid', 'big', 'holes', 'sub/nested']) fs.utimesSync(path.join(root, f), THEN, THEN);
}

/** A fresh backing tree mounted through faultfs; returns the mount's path. */
function mounted(base: string, o: FaultOptions, fill: (root: string) => void = backingTree): { backing: string; mnt: string } {
  const backing = path.join(base, 'backing');
  fs.mkdirSync(backing, { recursive: true });
  fill(backing);
  const m = mountFaultFs(backing, path.join(base, 'mnt'), o);
  mounts.push(m);
  return { backing, mnt: m.path };
}

/** The destination already holds an old version of `name` (old bytes, old mtime). */
function oldCopy(dst: string, name: string): Buffer {
  const bytes = Buffer.from(`old contents of ${name}\n`);
  fs.mkdirSync(dst, { recursive: true });
  fs.writeFileSync(path.join(dst, name), bytes);
  fs.utimesSync(path.join(dst, name), OLD, OLD);
  return bytes;
}

const mtimeMs = (p: string): number => fs.statSync(p).mtimeMs;

function expectCopyOf(mnt: string, dst: string, engine: EngineName): void {
  // Sparseness is left out: faultfs has no SEEK_DATA, so a copy without -S cannot see the holes.
  const diffs = compareTrees(mnt, dst, { xattrs: false, acls: false, mtimeToleranceNs: fidelity(engine).mtimeToleranceNs }).filter(
    (d) => !d.what.startsWith('sparseness'),
  );
  expect(formatDiffs(diffs), 'compareTrees differences').toEqual([]);
  expect(findTempFiles(dst), 'temp files left behind').toEqual([]);
}

const skip = fuseSkipReason();

describe.skipIf(skip !== null)(`faultfs sources${skip ? ` (skipped: ${skip})` : ''}`, () => {
  describeEngines((e) => {
    const extra = e.name === 'uring' ? [[], ['--direct']] : [[]];

    for (const flags of extra) {
      // 1000 bytes: short reads that are not whole blocks (O_DIRECT must give way to buffered reads);
      // 64 KiB: short reads that are (O_DIRECT continues).
      for (const chunk of [1000, 65536]) {
        it(`short reads of ${chunk} bytes are continued, the copy is whole ${flags.join(' ')}`, async () => {
          const base = tempDir('arsync-short-');
          const { mnt } = mounted(base, { chunk });
          const dst = path.join(base, 'dst');
          const r = await runCli(['-a', `--engine=${e.name}`, ...flags, `${mnt}/`, `${dst}/`]);
          expect(r.code, show(r)).toBe(0);
          expect(r.stderr).toBe('');
          expectCopyOf(mnt, dst, e.name);
          expect(fs.statSync(path.join(dst, 'big')).size).toBe(9 * MiB + 1234);
        });
      }

      it(`a source whose size promises more than its data is reported, exit 23, the old copy kept (the redo fails too) ${flags.join(' ')}`, async () => {
        const base = tempDir('arsync-short-');
        const { mnt } = mounted(base, { extra: 5000 });
        const dst = path.join(base, 'dst');
        const oldMid = oldCopy(dst, 'mid');
        const oldBig = oldCopy(dst, 'big');
        const r = await runCli(['-a', `--engine=${e.name}`, ...flags, `${mnt}/`, `${dst}/`]);
        expect(r.code, show(r)).toBe(23);
        for (const f of ['small', 'mid', 'big', 'holes', 'sub/nested']) {
          // Once in the pass, once in the redo, and rsync's receiver's last word on it.
          expect(r.stderr.split(`[sender] read errors mapping "${mnt}/${f}": No data available (61)`), show(r)).toHaveLength(3);
          expect(r.stderr, show(r)).toContain(`\nERROR: ${f} failed verification -- update discarded.\n`);
        }
        expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
        // Old versions stay as they were; new files do not appear short.
        expect(fs.readFileSync(path.join(dst, 'mid'))).toEqual(oldMid);
        expect(fs.readFileSync(path.join(dst, 'big'))).toEqual(oldBig);
        expect(mtimeMs(path.join(dst, 'mid'))).toBe(OLD.getTime());
        for (const f of ['small', 'holes', 'sub/nested']) expect(fs.existsSync(path.join(dst, f)), f).toBe(false);
        expect(findTempFiles(dst)).toEqual([]);
      });

      it(`a source truncated while it is read is reported, exit 23, and copied again as it is by then ${flags.join(' ')}`, async () => {
        const base = tempDir('arsync-short-');
        // Every file larger than 100 000 bytes is cut to 100 000 by the read that goes past it.
        const { backing, mnt } = mounted(base, { shrink: 100_000 }, (root) => {
          backingTree(root);
          fs.writeFileSync(path.join(root, 'fits'), randomBytes(99_999));
        });
        const dst = path.join(base, 'dst');
        oldCopy(dst, 'mid');
        const r = await runCli(['-a', `--engine=${e.name}`, ...flags, `${mnt}/`, `${dst}/`]);
        expect(r.code, show(r)).toBe(23);
        for (const f of ['mid', 'big', 'sub/nested']) {
          expect(r.stderr.split(`[sender] read errors mapping "${mnt}/${f}": No data available (61)`), show(r)).toHaveLength(2);
          // The truncation was real.
          expect(fs.statSync(path.join(backing, f)).size, f).toBe(100_000);
          // The redo placed the 100 000 bytes left, under the file list's mtime.
          expect(fs.readFileSync(path.join(dst, f)), f).toEqual(fs.readFileSync(path.join(backing, f)));
          expect(mtimeMs(path.join(dst, f)), f).toBe(THEN.getTime());
        }
        expect(r.stderr).not.toContain('ERROR:');
        // What was not cut is copied whole.
        expect(fs.readFileSync(path.join(dst, 'fits'))).toEqual(fs.readFileSync(path.join(backing, 'fits')));
        expect(fs.readFileSync(path.join(dst, 'small'))).toEqual(fs.readFileSync(path.join(backing, 'small')));
        expect(findTempFiles(dst)).toEqual([]);
      });
    }

    for (const mode of ['--inplace', '--partial']) {
      it(`${mode}: a source that ends early is reported and never given the source's mtime`, async () => {
        const base = tempDir('arsync-short-');
        const { mnt } = mounted(base, { extra: 5000 });
        const dst = path.join(base, 'dst');
        oldCopy(dst, 'mid');
        const r = await runCli(['-a', `--engine=${e.name}`, mode, `${mnt}/mid`, `${dst}/mid`]);
        expect(r.code, show(r)).toBe(23);
        expect(r.stderr, show(r)).toContain(`[sender] read errors mapping "${mnt}/mid": No data available (61)`);
        // Whatever data was written, the file does not look complete: the next run copies it again.
        expect(mtimeMs(path.join(dst, 'mid'))).not.toBe(mtimeMs(path.join(mnt, 'mid')));
        expect(fs.statSync(path.join(dst, 'mid')).size).not.toBe(fs.statSync(path.join(mnt, 'mid')).size);
        expect(findTempFiles(dst)).toEqual([]);
      });
    }

    // Source and destination on one faultfs mount: the native engines' copy_file_range goes through the
    // kernel's splice fallback and meets the faults too. After a short read FUSE cuts the inode's
    // cached size, so copy_file_range (and io_uring's async reads) stop early although data remains.
    it('within one FUSE mount (copy_file_range): short reads are continued, the copy is whole', async () => {
      const base = tempDir('arsync-short-');
      const { mnt } = mounted(base, { chunk: 1000, rw: true, under: 'src' }, (root) => backingTree(path.join(root, 'src')));
      const r = await runCli(['-a', `--engine=${e.name}`, `${mnt}/src/`, `${mnt}/dst/`]);
      expect(r.code, show(r)).toBe(0);
      expect(r.stderr).toBe('');
      expectCopyOf(`${mnt}/src`, `${mnt}/dst`, e.name);
    });

    it('within one FUSE mount (copy_file_range): a source truncated while copied is reported, exit 23', async () => {
      const base = tempDir('arsync-short-');
      const { mnt } = mounted(base, { shrink: 100_000, rw: true, under: 'src' }, (root) => backingTree(path.join(root, 'src')));
      const dst = `${mnt}/dst`;
      oldCopy(dst, 'big');
      const r = await runCli(['-a', `--engine=${e.name}`, `${mnt}/src/`, `${dst}/`]);
      expect(r.code, show(r)).toBe(23);
      for (const f of ['mid', 'big', 'sub/nested']) {
        expect(r.stderr, show(r)).toContain(`[sender] read errors mapping "${mnt}/src/${f}": No data available (61)`);
        // The redo copied what was left.
        expect(fs.readFileSync(path.join(dst, f)), f).toEqual(fs.readFileSync(path.join(mnt, 'src', f)));
        expect(fs.statSync(path.join(dst, f)).size, f).toBe(100_000);
      }
      expect(findTempFiles(dst)).toEqual([]);
    });

    // Hole-aware copies (-S, or a source with holes) find data with SEEK_DATA: when the file is cut right
    // after a whole data extent was read, no read ever comes back empty, and the cut-off tail looks
    // like a trailing hole. Only the source's size tells.
    for (const flags of [[], ['-S']]) {
      it(`a sparse source truncated at the end of a data extent is reported, exit 23 ${flags.join(' ')}`, async () => {
        const base = tempDir('arsync-short-');
        // 2 MiB of data, then a 4 MiB hole; the read that reaches 2 MiB cuts the file there. The
        // uring engine looks for the next extent while reads are in flight, so only one extent.
        const { mnt } = mounted(base, { shrink: 2 * MiB }, (root) => {
          const fd = fs.openSync(path.join(root, 'holes'), 'w');
          fs.writeSync(fd, randomBytes(2 * MiB), 0, 2 * MiB, 0);
          fs.ftruncateSync(fd, 6 * MiB);
          fs.closeSync(fd);
        });
        const dst = path.join(base, 'dst');
        const r = await runCli(['-a', ...flags, `--engine=${e.name}`, `${mnt}/`, `${dst}/`]);
        expect(r.code, show(r)).toBe(23);
        expect(r.stderr, show(r)).toContain(`[sender] read errors mapping "${mnt}/holes": No data available (61)`);
        // The redo copied the 2 MiB left.
        expect(fs.readFileSync(path.join(dst, 'holes'))).toEqual(fs.readFileSync(path.join(mnt, 'holes')));
        expect(fs.statSync(path.join(dst, 'holes')).size).toBe(2 * MiB);
        expect(findTempFiles(dst)).toEqual([]);
      });
    }

    it('-c through short reads: identical content is recognised, nothing is copied again', async () => {
      const base = tempDir('arsync-short-');
      const { mnt } = mounted(base, { chunk: 1000 });
      const dst = path.join(base, 'dst');
      const first = await runCli(['-a', `--engine=${e.name}`, `${mnt}/`, `${dst}/`]);
      expect(first.code, show(first)).toBe(0);
      const files = ['small', 'mid', 'big', 'holes', 'sub/nested'];
      const inodes = files.map((f) => fs.statSync(path.join(dst, f)).ino);
      const r = await runCli(['-ac', '-i', `--engine=${e.name}`, `${mnt}/`, `${dst}/`]);
      expect(r.code, show(r)).toBe(0);
      expect(r.stdout, show(r)).not.toMatch(/^>f/m);
      expect(files.map((f) => fs.statSync(path.join(dst, f)).ino)).toEqual(inodes);
      expectCopyOf(mnt, dst, e.name);
    });

    it('a read error in the middle of a file is reported, exit 23, the old copy kept', async () => {
      const base = tempDir('arsync-short-');
      const { mnt } = mounted(base, { eio: 150_000 });
      const dst = path.join(base, 'dst');
      const oldMid = oldCopy(dst, 'mid');
      const r = await runCli(['-a', `--engine=${e.name}`, `${mnt}/`, `${dst}/`]);
      expect(r.code, show(r)).toBe(23);
      expect(r.stderr, show(r)).toContain(`[sender] read errors mapping "${mnt}/mid": Input/output error (5)`);
      expect(fs.readFileSync(path.join(dst, 'mid'))).toEqual(oldMid);
      expect(fs.readFileSync(path.join(dst, 'small'))).toEqual(fs.readFileSync(path.join(mnt, 'small')));
      expect(findTempFiles(dst)).toEqual([]);
    });
  });
});
