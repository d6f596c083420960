// --reflink=auto|always|never (GNU cp 9's meanings) on filesystems that clone (loop-mounted XFS with
// reflink=1 and btrfs images) and on one that does not (tmpfs): where the engine clones, the copy's
// physical extents are the source's (FIEMAP through filefrag -v); auto copies where cloning is impossible
// (tmpfs, across filesystems), always then fails each file (exit 23) and leaves nothing behind, never
// copies (not even through copy_file_range, which clones on XFS and btrfs). The node engine cannot clone
// (node:fs has no FICLONE on a descriptor): auto copies there and always is refused. The bytes are checked
// against rsync's copy of the same tree (rsync has no --reflink).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, removeTemps, sh, tempDir } from '../helpers/tree.js';
import { findTempFiles } from '../helpers/compare.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';
import { bytes, differential, put } from '../helpers/differential.js';

const MiB = 1024 * 1024;
/** Large enough that a copy and a clone cannot be mistaken for each other in the extent map. */
const BIG = 64 * MiB;
const KINDS = ['xfs', 'btrfs'] as const;
type Kind = (typeof KINDS)[number];

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Why loop-mounted images cannot be made here, or null. */
function mountSkip(): string | null {
  if (!isRoot) return 'needs root to loop-mount filesystem images';
  if (!fs.existsSync('/dev/loop-control')) return 'no loop devices (/dev/loop-control)';
  for (const t of ['mkfs.xfs', 'mkfs.btrfs', 'filefrag']) {
    if (!has(t)) return `${t} not installed (apt-get install xfsprogs btrfs-progs e2fsprogs)`;
  }
  return null;
}
const SKIP = mountSkip();

const mounts: Partial<Record<Kind, string>> = {};
let images: string;

beforeAll(() => {
  if (SKIP) return;
  // On the disk, not in memory: two 512 MiB images would take RAM from everyone on a shared machine.
  images = fs.mkdtempSync('/var/tmp/arsync-reflink-');
  for (const kind of KINDS) {
    const img = path.join(images, `${kind}.img`);
    const dir = path.join(images, kind);
    fs.mkdirSync(dir);
    sh(`truncate -s 512M '${img}'`);
    sh(kind === 'xfs' ? `mkfs.xfs -q -m reflink=1 '${img}'` : `mkfs.btrfs -q '${img}'`);
    sh(`mount -o loop '${img}' '${dir}'`);
    mounts[kind] = dir;
    const src = path.join(dir, 'src');
    put(src, 'big/one.bin', bytes(BIG, 1));
    put(src, 'big/two.bin', bytes(BIG, 2));
    put(src, 'small.txt', 'small\n');
    put(src, 'empty', '');
    fs.chmodSync(path.join(src, 'big/one.bin'), 0o640);
    sh(`sync -f '${src}/small.txt'`);
  }
}, 120_000);

afterAll(() => {
  for (const dir of Object.values(mounts)) spawnSync('umount', ['-l', dir]);
  if (images) fs.rmSync(images, { recursive: true, force: true });
  removeTemps();
});

/** The physical extents of a file (filefrag -v: "physical_offset" start..end per extent), in order. */
function physical(file: string): string[] {
  const out = sh(`filefrag -v '${file}'`);
  const ext: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*\d+:\s+\d+\.\.\s*\d+:\s+(\d+)\.\.\s*(\d+):/.exec(line);
    if (m) ext.push(`${m[1]}..${m[2]}`);
  }
  return ext;
}

/** Whether dst's data sits on exactly src's physical blocks (a clone), per file of `rels`. */
function sharesExtents(src: string, dst: string, rels: string[]): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const rel of rels) {
    const s = physical(path.join(src, rel));
    const d = physical(path.join(dst, rel));
    out[rel] = s.length > 0 && JSON.stringify(s) === JSON.stringify(d);
  }
  return out;
}

const BIGS = ['big/one.bin', 'big/two.bin'];
const all = (v: boolean): Record<string, boolean> => Object.fromEntries(BIGS.map((r) => [r, v]));

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const clones = e.name !== 'node';

  describe.skipIf(SKIP !== null)(`on loop-mounted XFS (reflink=1) and btrfs${SKIP ? ` (skipped: ${SKIP})` : ''}`, () => {
    for (const kind of KINDS) {
      const srcOf = (): string => path.join(mounts[kind]!, 'src');
      const fresh = (name: string): string => {
        const d = path.join(mounts[kind]!, `${name}-${e.name}`);
        fs.rmSync(d, { recursive: true, force: true });
        return d;
      };

      it(`${kind}: the default (auto) ${clones ? 'clones' : 'copies'} each file into its temp file; the copy is exact`, async () => {
        const src = srcOf();
        const dst = fresh('auto');
        const r = await runCli(['-a', eng, `${src}/`, `${dst}/`]);
        expect(r.code, show(r)).toBe(0);
        expect(r.stderr).toBe('');
        expectExactCopy(src, dst, e.name, { withXattrs: false });
        expect(sharesExtents(src, dst, BIGS), `${kind}: destination extents shared with the source`).toEqual(all(clones));
        fs.rmSync(dst, { recursive: true });
      });

      it(`${kind}: --reflink=always ${clones ? 'clones every file (empty ones too)' : 'is refused: the node engine cannot clone'}`, async () => {
        const src = srcOf();
        const dst = fresh('always');
        const r = await runCli(['-a', '--reflink=always', eng, `${src}/`, `${dst}/`]);
        if (!clones) {
          expect(r.code, show(r)).toBe(1);
          expect(r.stderr).toContain('--reflink=always needs the native addon');
          expect(fs.existsSync(dst), 'nothing written').toBe(false);
          return;
        }
        expect(r.code, show(r)).toBe(0);
        expectExactCopy(src, dst, e.name, { withXattrs: false });
        expect(sharesExtents(src, dst, BIGS)).toEqual(all(true));
        fs.rmSync(dst, { recursive: true });
      });

      it(`${kind}: --reflink=never copies the data (no shared extents), also where copy_file_range would clone`, async () => {
        const src = srcOf();
        const dst = fresh('never');
        const r = await runCli(['-a', '--reflink=never', eng, `${src}/`, `${dst}/`]);
        expect(r.code, show(r)).toBe(0);
        expectExactCopy(src, dst, e.name, { withXattrs: false });
        expect(sharesExtents(src, dst, BIGS)).toEqual(all(false));
        fs.rmSync(dst, { recursive: true });
      });

      it(`${kind}: --inplace with auto replaces a longer target's bytes through the clone, cut to the source's size`, async () => {
        const src = srcOf();
        const dst = fresh('inplace');
        fs.mkdirSync(path.join(dst, 'big'), { recursive: true });
        // Older and longer than the source, so the quick check sends it and the tail must go.
        fs.writeFileSync(path.join(dst, 'big/one.bin'), bytes(BIG + 3 * 4096, 9));
        fs.utimesSync(path.join(dst, 'big/one.bin'), 1_000_000_000, 1_000_000_000);
        const ino = fs.statSync(path.join(dst, 'big/one.bin')).ino;
        const r = await runCli(['-a', '--inplace', eng, `${src}/`, `${dst}/`]);
        expect(r.code, show(r)).toBe(0);
        expectExactCopy(src, dst, e.name, { withXattrs: false });
        expect(fs.statSync(path.join(dst, 'big/one.bin')).ino, 'written in place').toBe(ino);
        expect(sharesExtents(src, dst, ['big/one.bin']), 'cloned in place').toEqual({ 'big/one.bin': clones });
        fs.rmSync(dst, { recursive: true });
      });
    }

    it('across filesystems (XFS to btrfs): auto copies, always fails each file with EXDEV (exit 23) and leaves no file', async () => {
      const src = path.join(mounts.xfs!, 'src');
      const dst = path.join(mounts.btrfs!, `cross-${e.name}`);
      fs.rmSync(dst, { recursive: true, force: true });
      const auto = await runCli(['-a', eng, `${src}/`, `${dst}/`]);
      expect(auto.code, show(auto)).toBe(0);
      expectExactCopy(src, dst, e.name, { withXattrs: false });
      fs.rmSync(dst, { recursive: true });
      if (!clones) return;
      const always = await runCli(['-a', '--reflink=always', eng, `${src}/`, `${dst}/`]);
      expect(always.code, show(always)).toBe(23);
      const failed = always.stderr.split('\n').filter((l) => /^arsync: \[receiver\] clone "/.test(l));
      expect(failed.map((l) => /failed: (.*)$/.exec(l)?.[1]), always.stderr).toEqual(Array(4).fill('Invalid cross-device link (18)'));
      expect(fs.readdirSync(path.join(dst, 'big')), 'no file, no temp file').toEqual([]);
      fs.rmSync(dst, { recursive: true });
    });
  });

  describe('on tmpfs (no clones)', () => {
    it('auto (default) and never copy like rsync -a: same trees, output and exit code', async () => {
      for (const when of [[], ['--reflink=auto'], ['--reflink=never'], ['--reflink=auto', '-S']]) {
        await differential({
          engine: e.name,
          setup: (root) => {
            put(path.join(root, 'src'), 'a/data.bin', bytes(3 * MiB + 17, 5));
            put(path.join(root, 'src'), 'b.txt', 'text\n');
            put(path.join(root, 'src'), 'empty', '');
          },
          args: ['-a', ...when, 'src/', 'dst/'],
          rsyncArgs: ['-a', ...when.filter((w) => w === '-S'), 'src/', 'dst/'],
        });
      }
    });

    it(`--reflink=always: ${clones ? 'each file fails (ENOTSUP, clone) with exit 23, nothing and no temp file left' : 'refused with the reason, exit 1, nothing written'}`, async () => {
      const root = tempDir('arsync-reflink-');
      const src = path.join(root, 'src');
      put(src, 'd/one', 'one\n');
      put(src, 'two', bytes(100_000, 3));
      const dst = path.join(root, 'dst');
      const r = await runCli(['-a', '--reflink', eng, `${src}/`, `${dst}/`]);
      if (!clones) {
        expect(r.code, show(r)).toBe(1);
        expect(r.stderr).toContain('the node engine cannot clone files');
        expect(fs.existsSync(dst)).toBe(false);
        return;
      }
      expect(r.code, show(r)).toBe(23);
      const lines = r.stderr.trim().split('\n');
      expect(lines.filter((l) => l.endsWith('Operation not supported (95)')).sort()).toEqual([
        `arsync: [receiver] clone "${dst}/d/one" failed: Operation not supported (95)`,
        `arsync: [receiver] clone "${dst}/two" failed: Operation not supported (95)`,
      ]);
      expect(lines.at(-1)).toContain('(code 23)');
      // The directories are made; no file, and no temp file, is left.
      expect(fs.readdirSync(dst).sort()).toEqual(['d']);
      expect(fs.readdirSync(path.join(dst, 'd'))).toEqual([]);
      expect(findTempFiles(dst, src)).toEqual([]);
    });

    it('bad values are usage errors (exit 1) before anything is written', async () => {
      const root = tempDir('arsync-reflink-bad-');
      const src = path.join(root, 'src');
      put(src, 'f', 'x');
      const cases: [string[], string][] = [
        [['--reflink=sometimes'], '--reflink=sometimes: invalid value (valid: auto, always, never)'],
        [['--reflink=', '-a'], '--reflink=: invalid value'],
        [['-S', '--reflink'], '--reflink=always cannot be used with --sparse (-S)'],
        [['--reflink=always', '--sparse'], '--reflink=always cannot be used with --sparse (-S)'],
      ];
      for (const [flags, msg] of cases) {
        const dst = path.join(root, 'dst');
        const r = await runCli(['-r', ...flags, eng, `${src}/`, `${dst}/`]);
        expect(r.code, show(r)).toBe(1);
        expect(r.stderr, show(r)).toContain(msg);
        expect(fs.existsSync(dst), `${flags.join(' ')}: nothing written`).toBe(false);
      }
    });

    it('the bare --reflink takes no operand as its value, and the last --reflink wins', async () => {
      const root = tempDir('arsync-reflink-bare-');
      const src = path.join(root, 'src');
      put(src, 'f', 'x');
      // Bare, then never: never wins, the copy works on tmpfs; the operand after --reflink stays an operand.
      const r = await runCli(['-a', '--reflink', '--reflink=never', eng, `${src}/`, path.join(root, 'dst')]);
      expect(r.code, show(r)).toBe(0);
      expect(fs.readFileSync(path.join(root, 'dst/f'), 'utf8')).toBe('x');
      // An --exclude pattern spelled "--reflink" is a pattern, not the option.
      const x = await runCli(['-a', '--exclude', '--reflink', eng, `${src}/`, path.join(root, 'dst2')]);
      expect(x.code, show(x)).toBe(0);
    });
  });
});
