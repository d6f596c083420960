// Preserve.AdoptSource (a pull's staged files linked into place: native/adopt.c and
// src/engine/node-adopt.ts) on every engine: under the same flags every engine links the source's inode
// in (it has a second link afterwards) or copies it (it keeps one), the target gets the op's mode and
// mtime either way, a symlink planted at the target is replaced and its referent left alone, and no
// temp name is left behind.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BatchWriter } from '../../src/engine/batch.js';
import { openContext } from '../../src/engine/index.js';
import { nodeLstat } from '../../src/engine/node-walk.js';
import { COUNTER_SLOTS, Counter, OpFlag, OpKind, Preserve } from '../../src/model/ops.js';
import type { Stat } from '../../src/model/stat.js';
import type { EngineName } from '../../src/model/config.js';
import type { EngineOptions, OpFailure } from '../../src/engine/types.js';
import { contractEngines, holdSharedLock } from './engines.js';

const B = (s: string): Buffer => Buffer.from(s);
const BASE = Preserve.Perms | Preserve.Times | Preserve.Owner | Preserve.Group;

let release: (() => void) | undefined;
beforeAll(async () => {
  release = await holdSharedLock();
});
afterAll(() => release?.());

function statOf(path: string): Stat {
  const st = nodeLstat(B(path));
  if ('errno' in st) throw new Error(`lstat ${path}: ${st.errno}`);
  return st;
}

/** Context flags and op flags under which every engine copies instead of linking. */
const COPIES: [string, number, number][] = [
  ['-S', Preserve.Sparse, 0],
  ['--preallocate', Preserve.Preallocate, 0],
  ['--inplace', Preserve.Inplace, 0],
  ['--remove-source-files', 0, OpFlag.RemoveSource],
  ['-c', 0, OpFlag.Compare],
];

for (const engine of contractEngines()) {
  describe.skipIf(engine.skip !== null)(`adopted sources: ${engine.title}`, () => {
    adoptContract(engine.name);
  });
}

function adoptContract(name: EngineName): void {
  let base: string;
  let src: string;
  let dst: string;
  beforeEach(() => {
    base = fs.mkdtempSync(join('/dev/shm', `arsync-adopt-${name}-`));
    src = join(base, 'src');
    dst = join(base, 'dst');
    fs.mkdirSync(src);
    fs.mkdirSync(dst);
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  const options = (flags: number, extra: Partial<EngineOptions> = {}): EngineOptions => ({
    engine: name,
    destRoot: B(dst),
    flags,
    umask: 0o022,
    queueDepth: 16,
    bufferSize: 64 * 1024,
    bufferCount: 4,
    direct: false,
    counters: new BigInt64Array(new SharedArrayBuffer(8 * COUNTER_SLOTS)),
    ...extra,
  });

  /** One File op from src/<name> to <name>, the source given mode 0640 and an old mtime in the op's stat. */
  const fileOp = (file: string, flags: number, opFlags = 0): { failures: OpFailure[]; bytes: bigint } => {
    const p = join(src, file);
    fs.writeFileSync(p, `data of ${file}`);
    fs.chmodSync(p, 0o600);
    const st = { ...statOf(p), mode: (statOf(p).mode & ~0o7777) | 0o640, mtimeSec: 1_000_000_000, mtimeNsec: 0 };
    const w = new BatchWriter();
    w.add(OpKind.File, B(p), B(file), st, opFlags);
    const o = options(flags);
    const ctx = openContext(o);
    try {
      const failures = ctx.run(w.finish(), new Uint8Array(1));
      return { failures, bytes: o.counters[Counter.Bytes]! };
    } finally {
      ctx.close();
    }
  };

  const check = (file: string): void => {
    const st = fs.lstatSync(join(dst, file));
    expect(st.isFile()).toBe(true);
    expect(fs.readFileSync(join(dst, file), 'utf8')).toBe(`data of ${file}`);
    expect((st.mode & 0o7777).toString(8)).toBe('640');
    expect(st.mtimeMs).toBe(1_000_000_000_000);
    expect(fs.readdirSync(dst).filter((n) => n.startsWith('.'))).toEqual([]);
  };

  it('links the source in under a temp name, replacing a planted symlink, and counts its bytes', () => {
    const outside = join(base, 'outside');
    fs.writeFileSync(outside, 'keep');
    fs.symlinkSync(outside, join(dst, 'f'));
    const r = fileOp('f', BASE | Preserve.AdoptSource);
    expect(r.failures).toEqual([]);
    check('f');
    expect(fs.lstatSync(join(src, 'f')).nlink).toBe(2);
    expect(fs.lstatSync(join(src, 'f')).ino).toBe(fs.lstatSync(join(dst, 'f')).ino);
    expect(fs.readFileSync(outside, 'utf8')).toBe('keep');
    expect(r.bytes).toBe(BigInt('data of f'.length));
  });

  it('copies without the flag', () => {
    expect(fileOp('f', BASE).failures).toEqual([]);
    check('f');
    expect(fs.lstatSync(join(src, 'f')).nlink).toBe(1);
  });

  for (const [label, flags, opFlags] of COPIES) {
    it(`copies under ${label}`, () => {
      const r = fileOp('f', BASE | Preserve.AdoptSource | flags, opFlags);
      expect(r.failures).toEqual([]);
      if (!(opFlags & OpFlag.RemoveSource)) {
        expect(fs.lstatSync(join(src, 'f')).nlink).toBe(1);
      } else expect(fs.existsSync(join(src, 'f'))).toBe(false);
      check('f');
    });
  }

  it('copies when the temp directory is on another filesystem (no link possible)', () => {
    const far = fs.mkdtempSync(join(fs.statSync('/tmp').dev === fs.statSync('/dev/shm').dev ? '/dev/shm' : '/tmp', 'arsync-adopt-far-'));
    try {
      const p = join(src, 'f');
      fs.writeFileSync(p, 'data of f');
      const st = { ...statOf(p), mode: (statOf(p).mode & ~0o7777) | 0o640, mtimeSec: 1_000_000_000, mtimeNsec: 0 };
      const w = new BatchWriter();
      w.add(OpKind.File, B(p), B('f'), st);
      const ctx = openContext(options(BASE | Preserve.AdoptSource, { tempDir: B(far) }));
      try {
        expect(ctx.run(w.finish(), new Uint8Array(1))).toEqual([]);
      } finally {
        ctx.close();
      }
      check('f');
      expect(fs.lstatSync(p).nlink).toBe(1);
      expect(fs.readdirSync(far)).toEqual([]);
    } finally {
      fs.rmSync(far, { recursive: true, force: true });
    }
  });
}
