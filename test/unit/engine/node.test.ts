// What only the node engine has: errors the kernel will not produce on demand (ENOSPC, EMFILE, EIO),
// injected through its fsImpl seam, its refusal of xattrs/ACLs, and its walker. The op semantics every
// engine shares (node included) are held by test/contract/engine-ops.test.ts.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { constants as osConstants } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchWriter } from '../../../src/engine/batch.js';
import { createNodeContext } from '../../../src/engine/node.js';
import { nodeLstat, nodeScanDir } from '../../../src/engine/node-walk.js';
import { COUNTER_SLOTS, Counter, OpKind, Outcome, Preserve } from '../../../src/model/ops.js';
import type { Stat } from '../../../src/model/stat.js';
import type { EngineOptions } from '../../../src/engine/types.js';
import { fsImpl } from '../../../src/engine/node-fs.js';

const E = osConstants.errno;
const B = (s: string): Buffer => Buffer.from(s);
const ALL = Preserve.Perms | Preserve.Times | Preserve.Owner | Preserve.Group | Preserve.Devices | Preserve.Specials;

let base: string;
let src: string;
let dst: string;
const saved = { ...fsImpl };

beforeEach(() => {
  const tmp = fs.existsSync('/dev/shm') ? '/dev/shm' : (process.env.TMPDIR ?? '/tmp');
  base = fs.mkdtempSync(join(tmp, 'arsync-node-'));
  src = join(base, 'src');
  dst = join(base, 'dst');
  fs.mkdirSync(src);
  fs.mkdirSync(dst);
});

afterEach(() => {
  Object.assign(fsImpl, saved);
  fs.rmSync(base, { recursive: true, force: true });
});

function options(flags = ALL, bufferSize = 64 * 1024): EngineOptions {
  return {
    engine: 'node',
    destRoot: B(dst),
    flags,
    umask: 0o022,
    queueDepth: 0,
    bufferSize,
    bufferCount: 1,
    direct: false,
    counters: new BigInt64Array(new SharedArrayBuffer(8 * COUNTER_SLOTS)),
  };
}

/** The walk's view of a source path, as the planner would put it in an op. */
function statOf(path: string): Stat {
  const st = nodeLstat(B(path));
  if ('errno' in st) throw new Error(`lstat ${path}: ${st.errno}`);
  return st;
}

type OpSpec = [kind: (typeof OpKind)[keyof typeof OpKind], src: string, dst: string, stat?: Stat, flags?: number];

function run(ops: OpSpec[], opts = options()) {
  const w = new BatchWriter();
  for (const [kind, s, d, st, flags] of ops) w.add(kind, B(s), B(d), st ?? statOf(s), flags);
  const ctx = createNodeContext(opts);
  const outcomes = new Uint8Array(ops.length);
  try {
    return { failures: ctx.run(w.finish(), outcomes), counters: opts.counters, outcomes: [...outcomes] };
  } finally {
    ctx.close();
  }
}

/** An error as node:fs throws it, for injection through fsImpl. */
const fsErr = (code: keyof typeof E, syscall: string): Error =>
  Object.assign(new Error(`${code}: injected, ${syscall}`), { code, errno: -E[code], syscall });

const leftovers = (dir: string): string[] => fs.readdirSync(dir).filter((n) => /^\..+\.[A-Za-z0-9]{6}$/.test(n));
const mtimeNs = (p: fs.PathLike): bigint => fs.lstatSync(p, { bigint: true }).mtimeNs;

/** A source file with a nanosecond mtime (Node itself could only set microseconds). */
function writeSource(name: string, data: Buffer | string, mode = 0o640): string {
  const p = join(src, name);
  fs.writeFileSync(p, data);
  fs.chmodSync(p, mode);
  execFileSync('touch', ['-d', '@1700000000.123456789', p]);
  return p;
}

describe('node engine: destination safety', () => {
  it('on ENOSPC leaves the old file intact and no temp file', () => {
    const p = writeSource('f', Buffer.alloc(200_000, 1));
    fs.writeFileSync(join(dst, 'f'), 'old contents');
    let writes = 0;
    fsImpl.writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
      if (++writes === 2) throw fsErr('ENOSPC', 'write');
      return (saved.writeSync as (...a: unknown[]) => number)(...args);
    }) as typeof fs.writeSync;
    const { failures, counters } = run([[OpKind.File, p, 'f']], options(ALL, 64 * 1024));
    expect(failures).toEqual([{ index: 0, errno: E.ENOSPC, syscall: 'write', path: B('f'), onDest: true }]);
    expect(fs.readFileSync(join(dst, 'f'), 'utf8')).toBe('old contents');
    expect(leftovers(dst)).toEqual([]);
    expect(counters[Counter.Errors]).toBe(1n);
    expect(counters[Counter.Files]).toBe(0n);
  });

  it('retries an op once after EMFILE', () => {
    const p = writeSource('f', 'x');
    let opens = 0;
    fsImpl.openSync = ((...args: Parameters<typeof fs.openSync>) => {
      // The first open is the context's own (the destination root); the second is the op's.
      if (++opens === 2) throw fsErr('EMFILE', 'open');
      return saved.openSync(...args);
    }) as typeof fs.openSync;
    expect(run([[OpKind.File, p, 'f']]).failures).toEqual([]);
    expect(fs.readFileSync(join(dst, 'f'), 'utf8')).toBe('x');
  });

  it('stops at abort between chunks, removes the temp, and starts no further op', () => {
    const a = writeSource('a', 'first');
    const b = writeSource('b', Buffer.alloc(1 << 20, 2));
    const c = writeSource('c', 'third');
    const opts = options(ALL, 64 * 1024);
    let reads = 0;
    fsImpl.readSync = ((...args: Parameters<typeof fs.readSync>) => {
      if (++reads === 4) Atomics.store(opts.counters, Counter.Abort, 1n); // inside b
      return (saved.readSync as (...x: unknown[]) => number)(...args);
    }) as typeof fs.readSync;
    const { failures, counters, outcomes } = run(
      [
        [OpKind.File, a, 'a'],
        [OpKind.File, b, 'b'],
        [OpKind.File, c, 'c'],
      ],
      opts,
    );
    expect(failures).toEqual([]);
    expect(fs.readdirSync(dst)).toEqual(['a']);
    expect(counters[Counter.Files]).toBe(1n);
    expect(outcomes).toEqual([Outcome.Done, Outcome.NotRun, Outcome.NotRun]);
  });

  it('refuses xattrs and ACLs before any I/O', () => {
    expect(() => createNodeContext(options(ALL | Preserve.Xattrs))).toThrow(/xattr/);
    expect(() => createNodeContext(options(ALL | Preserve.Acls))).toThrow(/ACL/);
  });
});

describe('node walker', () => {
  it('lists names as bytes with their lstat, and reports errors as { errno, syscall }', () => {
    const odd = Buffer.concat([B(src + '/'), Buffer.from([0xff, 0x41])]);
    fs.writeFileSync(odd, 'abc');
    fs.symlinkSync('nowhere', join(src, 'l'));
    const listing = nodeScanDir(B(src));
    if ('errno' in listing) throw new Error('scan failed');
    const byName = new Map(listing.names.map((n, i) => [n.toString('latin1'), listing.stats[i]]));
    expect(listing.errors).toEqual([0, 0]);
    expect(byName.get('\xffA')?.size).toBe(3);
    expect(byName.get('l')?.mode).toBe(fs.lstatSync(join(src, 'l')).mode);
    const ns = mtimeNs(odd);
    const st = nodeLstat(odd) as Stat;
    expect(BigInt(st.mtimeSec) * 1_000_000_000n + BigInt(st.mtimeNsec)).toBe(ns);
    expect(nodeScanDir(B(join(src, 'missing')))).toEqual({ errno: E.ENOENT, syscall: 'scandir' });
    expect(nodeScanDir(B(join(src, 'l')))).toEqual({ errno: E.ELOOP, syscall: 'scandir' });
    expect(nodeLstat(B(join(src, 'missing')))).toEqual({ errno: E.ENOENT, syscall: 'lstat' });
  });
});

describe('node engine: sync additions', () => {
  it('--partial keeps the data written before a failure in place of the target', () => {
    const f = writeSource('f', Buffer.alloc(200_000, 3));
    fs.writeFileSync(join(dst, 'f'), 'old');
    let writes = 0;
    fsImpl.writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
      if (++writes === 2) throw fsErr('EIO', 'write');
      return (saved.writeSync as (...a: unknown[]) => number)(...args);
    }) as typeof fs.writeSync;
    const { failures } = run([[OpKind.File, f, 'f']], options(ALL | Preserve.Partial, 64 * 1024));
    expect(failures).toEqual([{ index: 0, errno: E.EIO, syscall: 'write', path: B('f'), onDest: true }]);
    expect(fs.statSync(join(dst, 'f')).size).toBe(64 * 1024);
    expect(leftovers(dst)).toEqual([]);
  });

  it('refuses xattr comparisons (it copies none)', () => {
    const ctx = createNodeContext(options());
    expect(ctx.xattrDiff(B(src), B('.'), 0)).toBe(0);
    expect(() => ctx.xattrDiff(B(src), B('.'), Preserve.Xattrs)).toThrow(/xattr/);
    ctx.close();
  });
});
