// Where a pull stages: the destination's filesystem when $TMPDIR or /dev/shm is on it, else $TMPDIR; and
// its removal, through the addon (native/rmtree.c) or the TypeScript walk on the node engine.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeStaging, removeStaging, stagingParent } from '../../../src/cli/staging-dir.js';
import { loadAddon } from '../../../src/engine/native.js';
import { openContext } from '../../../src/engine/index.js';
import { COUNTER_SLOTS, Preserve } from '../../../src/model/ops.js';
import type { Stat } from '../../../src/model/stat.js';

const shm = fs.existsSync('/dev/shm') && fs.statSync('/dev/shm').dev !== fs.statSync(os.tmpdir()).dev;

describe('stagingParent', () => {
  it('stages in $TMPDIR for a destination on its filesystem (existing or still to be made)', () => {
    expect(stagingParent(Buffer.from(path.join(os.tmpdir(), 'no', 'such', 'dest')))).toBe(os.tmpdir());
  });

  it.skipIf(!shm)('stages in /dev/shm for a destination there, $TMPDIR being elsewhere', () => {
    const dest = fs.mkdtempSync('/dev/shm/arsync-stage-test-');
    try {
      expect(stagingParent(Buffer.from(`${dest}/new/`))).toBe('/dev/shm');
    } finally {
      fs.rmSync(dest, { recursive: true, force: true });
    }
  });

  it.skipIf(!shm)('stages in $TMPDIR for a destination on neither filesystem', () => {
    expect(stagingParent(Buffer.from('/proc/self'))).toBe(os.tmpdir());
  });
});

describe('removeStaging', () => {
  for (const engine of ['auto', 'node'] as const) {
    it(`removes the whole tree and nothing a symlink in it points to (engine ${engine})`, () => {
      const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-outside-'));
      try {
        fs.writeFileSync(path.join(outside, 'keep'), 'keep');
        const holder = makeStaging(Buffer.from(os.tmpdir()), 'arsync-rm-test-', engine);
        const tree = path.join(holder, 'tree');
        for (const d of ['a/b/c', 'a/d', 'e']) fs.mkdirSync(path.join(tree, d), { recursive: true });
        for (const f of ['a/b/c/f', 'a/x', 'e/y', 'top']) fs.writeFileSync(path.join(tree, f), f);
        // A name that is not UTF-8, a hard link, a symlink to a directory outside and one to a file there.
        fs.writeFileSync(Buffer.from(`${tree}/a/\xff\x01name`, 'latin1'), 'odd');
        fs.linkSync(path.join(tree, 'top'), path.join(tree, 'a/d/top-link'));
        fs.symlinkSync(outside, path.join(tree, 'a/out-dir'));
        fs.symlinkSync(path.join(outside, 'keep'), path.join(tree, 'e/out-file'));
        removeStaging(holder);
        expect(fs.existsSync(holder)).toBe(false);
        expect(fs.readdirSync(outside)).toEqual(['keep']);
        expect(fs.readFileSync(path.join(outside, 'keep'), 'utf8')).toBe('keep');
      } finally {
        fs.rmSync(outside, { recursive: true, force: true });
      }
    });
  }

  it.skipIf(!loadAddon().ok)('the addon stops at a symlink given as the root and reports it', () => {
    const addon = loadAddon();
    if (!addon.ok || !addon.addon.removeTree) throw new Error('addon without removeTree');
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-outside-'));
    const link = `${outside}-link`;
    try {
      fs.writeFileSync(path.join(outside, 'keep'), 'keep');
      fs.symlinkSync(outside, link);
      expect([-os.constants.errno.ENOTDIR, -os.constants.errno.ELOOP]).toContain(addon.addon.removeTree(Buffer.from(link)));
      expect(addon.addon.removeTree(Buffer.from(path.join(outside, 'missing')))).toBe(-os.constants.errno.ENOENT);
      expect(fs.readdirSync(outside)).toEqual(['keep']);
      // A tree of its own, with a symlink to the outside in it: 0, all of it gone, the outside kept.
      const tree = `${outside}-tree`;
      fs.mkdirSync(path.join(tree, 'a', 'b'), { recursive: true });
      fs.writeFileSync(path.join(tree, 'a', 'b', 'f'), 'f');
      fs.symlinkSync(outside, path.join(tree, 'a', 'out'));
      expect(addon.addon.removeTree(Buffer.from(tree))).toBe(0);
      expect(fs.existsSync(tree)).toBe(false);
      expect(fs.readdirSync(outside)).toEqual(['keep']);
    } finally {
      fs.rmSync(`${outside}-tree`, { recursive: true, force: true });
      fs.rmSync(link, { force: true });
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe('moveTree', () => {
  it.skipIf(!loadAddon().ok)('moves a tree only to a name nothing holds, or in place of an empty directory: never over anything else', () => {
    const addon = loadAddon();
    if (!addon.ok || !addon.addon.moveTree) throw new Error('addon without moveTree');
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-move-'));
    try {
      const tree = path.join(base, 'tree');
      fs.mkdirSync(path.join(tree, 'a'), { recursive: true });
      fs.writeFileSync(path.join(tree, 'a', 'f'), 'f');
      const EEXIST = -os.constants.errno.EEXIST;
      // An empty directory (which rename(2) would replace) and a dangling symlink (which it would replace
      // too) stay as they are, and so does the tree.
      fs.mkdirSync(path.join(base, 'empty'));
      expect(addon.addon.moveTree(Buffer.from(tree), Buffer.from(path.join(base, 'empty')))).toBe(EEXIST);
      fs.symlinkSync(path.join(base, 'nowhere'), path.join(base, 'planted'));
      expect(addon.addon.moveTree(Buffer.from(tree), Buffer.from(path.join(base, 'planted')))).toBe(EEXIST);
      expect(fs.readdirSync(path.join(base, 'empty'))).toEqual([]);
      expect(fs.readlinkSync(path.join(base, 'planted'))).toBe(path.join(base, 'nowhere'));
      expect(fs.existsSync(path.join(base, 'nowhere'))).toBe(false);
      expect(addon.addon.moveTree(Buffer.from(tree), Buffer.from(path.join(base, 'no', 'parent')))).toBe(-os.constants.errno.ENOENT);
      // Swapped with a directory that holds something, or with a symlink: exchanged back, both as they were.
      fs.mkdirSync(path.join(base, 'full'));
      fs.writeFileSync(path.join(base, 'full', 'keep'), 'keep');
      expect(addon.addon.moveTree(Buffer.from(tree), Buffer.from(path.join(base, 'full')), true)).toBe(-os.constants.errno.ENOTEMPTY);
      expect(addon.addon.moveTree(Buffer.from(tree), Buffer.from(path.join(base, 'planted')), true)).toBe(-os.constants.errno.ENOTDIR);
      expect(fs.readdirSync(path.join(base, 'full'))).toEqual(['keep']);
      expect(fs.readlinkSync(path.join(base, 'planted'))).toBe(path.join(base, 'nowhere'));
      expect(fs.readFileSync(path.join(tree, 'a', 'f'), 'utf8')).toBe('f');
      // Swapped with an empty directory: the tree there, the old directory gone.
      expect(addon.addon.moveTree(Buffer.from(tree), Buffer.from(path.join(base, 'empty')), true)).toBe(0);
      expect(fs.readFileSync(path.join(base, 'empty', 'a', 'f'), 'utf8')).toBe('f');
      expect(fs.existsSync(tree)).toBe(false);
      // A free name: the whole tree there, nothing left behind.
      expect(addon.addon.moveTree(Buffer.from(path.join(base, 'empty')), Buffer.from(path.join(base, 'placed')))).toBe(0);
      expect(fs.readFileSync(path.join(base, 'placed', 'a', 'f'), 'utf8')).toBe('f');
      expect(fs.existsSync(path.join(base, 'empty'))).toBe(false);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('writeNew', () => {
  it.skipIf(!loadAddon().ok)('creates a file holding the parts in order, never over a name that exists or through a symlink', () => {
    const addon = loadAddon();
    if (!addon.ok || !addon.addon.writeNew) throw new Error('addon without writeNew');
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-writenew-'));
    try {
      const at = (n: string): Buffer => Buffer.from(path.join(base, n));
      const big = Buffer.alloc(3 << 20, 0x61);
      expect(addon.addon.writeNew(at('f'), [Buffer.from('one '), Buffer.alloc(0), Buffer.from('two '), big])).toBe(0);
      const got = fs.readFileSync(at('f'));
      expect(got.subarray(0, 8).toString()).toBe('one two ');
      expect(got.length).toBe(8 + big.length);
      expect(got.subarray(8).equals(big)).toBe(true);
      expect(fs.statSync(at('f')).mode & 0o777).toBe(0o600 & ~process.umask());
      // An empty file; then the names it must not take: an existing file (kept as it is) and a symlink
      // (its target never made).
      expect(addon.addon.writeNew(at('empty'), [])).toBe(0);
      expect(fs.statSync(at('empty')).size).toBe(0);
      const EEXIST = -os.constants.errno.EEXIST;
      expect(addon.addon.writeNew(at('f'), [Buffer.from('over')])).toBe(EEXIST);
      expect(fs.readFileSync(at('f')).length).toBe(8 + big.length);
      fs.symlinkSync(path.join(base, 'target'), path.join(base, 'link'));
      expect(addon.addon.writeNew(at('link'), [Buffer.from('through')])).toBe(EEXIST);
      expect(fs.existsSync(path.join(base, 'target'))).toBe(false);
      expect(addon.addon.writeNew(at('no/dir'), [Buffer.from('x')])).toBe(-os.constants.errno.ENOENT);
      expect(() => addon.addon.writeNew!(at('many'), new Array<Buffer>(1025).fill(Buffer.from('x')))).toThrow(TypeError);
      expect(fs.existsSync(path.join(base, 'many'))).toBe(false);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('writeNewSettled', () => {
  const engines = ['uring', 'sync'] as const;
  for (const engine of engines) {
    it.skipIf(!loadAddon().ok)(`${engine}: writes beneath the context's root and sets the Attrs op's metadata before the close; never an existing name, never through a symlink`, () => {
      const base = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-writesettled-'));
      const ctx = openContext({
        engine,
        destRoot: Buffer.from(base),
        flags: Preserve.Perms | Preserve.Times | Preserve.Owner | Preserve.Group,
        umask: process.umask(),
        queueDepth: 8,
        bufferSize: 1 << 16,
        bufferCount: 2,
        direct: false,
        counters: new BigInt64Array(new SharedArrayBuffer(COUNTER_SLOTS * 8)),
      });
      try {
        if (!ctx.writeNewSettled) throw new Error('engine context without writeNewSettled');
        const uid = process.getuid!();
        const gid = process.getgid!();
        const st = (mode: number): Stat => ({ mode, uid, gid, size: 0, mtimeSec: 1_600_000_000, mtimeNsec: 123_456_789, ino: 0, dev: 0, nlink: 1, rdev: 0, blocks: 0 });
        fs.mkdirSync(path.join(base, 'd'));
        // A mode the umask would have cut and a read-only one: set as given, as the Attrs op sets them.
        expect(ctx.writeNewSettled(Buffer.from('d/f'), [Buffer.from('one '), Buffer.from('two')], st(0o100757))).toBe(0);
        expect(ctx.writeNewSettled(Buffer.from('ro'), [], st(0o100444))).toBe(0);
        const f = fs.statSync(path.join(base, 'd/f'), { bigint: true });
        expect(fs.readFileSync(path.join(base, 'd/f'), 'utf8')).toBe('one two');
        expect(Number(f.mode & 0o7777n)).toBe(0o757);
        expect(f.mtimeNs).toBe(1_600_000_000_123_456_789n);
        expect(fs.statSync(path.join(base, 'ro')).mode & 0o7777).toBe(0o444);
        // Not over an existing name (kept as it was), not through a symlink in the path or at the name.
        const EEXIST = -os.constants.errno.EEXIST;
        expect(ctx.writeNewSettled(Buffer.from('d/f'), [Buffer.from('over')], st(0o100600))).toBe(EEXIST);
        expect(fs.readFileSync(path.join(base, 'd/f'), 'utf8')).toBe('one two');
        const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-writesettled-out-'));
        fs.symlinkSync(outside, path.join(base, 'l'));
        expect(ctx.writeNewSettled(Buffer.from('l/x'), [Buffer.from('x')], st(0o100600))).toBeLessThan(0);
        expect(fs.readdirSync(outside)).toEqual([]);
        fs.rmSync(outside, { recursive: true });
        fs.symlinkSync(path.join(base, 'target'), path.join(base, 'link'));
        expect(ctx.writeNewSettled(Buffer.from('link'), [Buffer.from('x')], st(0o100600))).toBe(EEXIST);
        expect(fs.existsSync(path.join(base, 'target'))).toBe(false);
      } finally {
        ctx.close();
        fs.rmSync(base, { recursive: true, force: true });
      }
    });
  }
});
