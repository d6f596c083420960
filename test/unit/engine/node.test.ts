// The node engine against real files in /dev/shm: each test builds a batch with BatchWriter, runs it,
// and checks the destination (bytes, modes, times, links, specials, leftovers) and the reported failures.
// Errors the kernel will not produce on demand (ENOSPC, EMFILE) are injected through the fsImpl seam.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { constants as osConstants } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchWriter } from '../../../src/engine/batch.js';
import { createNodeContext } from '../../../src/engine/node.js';
import { fsImpl } from '../../../src/engine/node.js';
import { nodeLstat, nodeScanDir } from '../../../src/engine/node-walk.js';
import { COUNTER_SLOTS, Counter, OpFlag, OpKind, Outcome, Preserve } from '../../../src/model/ops.js';
import { S_IFSOCK, type Stat } from '../../../src/model/stat.js';
import type { EngineOptions } from '../../../src/engine/types.js';

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

describe('node engine: files', () => {
  it('copies bytes, mode and mtime through a temp file, over an existing target', () => {
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const s = writeSource('f', data, 0o751);
    fs.writeFileSync(join(dst, 'f'), 'old');
    const { failures, counters } = run([[OpKind.File, s, 'f']]);
    expect(failures).toEqual([]);
    expect(fs.readFileSync(join(dst, 'f')).equals(data)).toBe(true);
    expect(fs.statSync(join(dst, 'f')).mode & 0o7777).toBe(0o751);
    expect(mtimeNs(s)).toBe(1_700_000_000_123_456_789n);
    expect(mtimeNs(join(dst, 'f'))).toBe(1_700_000_000_123_456_000n);
    expect(leftovers(dst)).toEqual([]);
    expect(counters[Counter.Files]).toBe(1n);
    expect(counters[Counter.Bytes]).toBe(BigInt(data.length));
  });

  it('without -p keeps an existing target mode, else applies the umask', () => {
    const s = writeSource('a', 'x', 0o777);
    writeSource('b', 'y', 0o777);
    fs.writeFileSync(join(dst, 'a'), 'old');
    fs.chmodSync(join(dst, 'a'), 0o600);
    const { failures } = run(
      [
        [OpKind.File, s, 'a'],
        [OpKind.File, join(src, 'b'), 'b'],
      ],
      options(Preserve.Times),
    );
    expect(failures).toEqual([]);
    expect(fs.statSync(join(dst, 'a')).mode & 0o7777).toBe(0o600);
    expect(fs.statSync(join(dst, 'b')).mode & 0o7777).toBe(0o755);
  });

  it('sets pre-1970 mtimes (Node would turn a negative number into "now")', () => {
    const p = writeSource('old', 'x');
    const st = { ...statOf(p), mtimeSec: -2, mtimeNsec: 500_000_000 };
    expect(run([[OpKind.File, p, 'old', st]]).failures).toEqual([]);
    expect(mtimeNs(join(dst, 'old'))).toBe(-1_500_000_000n);
  });

  it('copies names that are not UTF-8, byte for byte', () => {
    const name = Buffer.from([0x66, 0xff, 0xfe, 0x2e, 0x74]);
    const s = Buffer.concat([B(src + '/'), name]);
    fs.writeFileSync(s, 'bytes');
    const w = new BatchWriter();
    w.add(OpKind.File, s, name, nodeLstat(s) as Stat);
    const ctx = createNodeContext(options());
    expect(ctx.run(w.finish())).toEqual([]);
    expect(fs.readFileSync(Buffer.concat([B(dst + '/'), name]), 'utf8')).toBe('bytes');
  });

  it('keeps the holes of a sparse source', () => {
    const p = join(src, 'sparse');
    const fd = fs.openSync(p, 'w');
    fs.writeSync(fd, B('head'), 0, 4, 0);
    fs.writeSync(fd, B('middle'), 0, 6, 4 << 20);
    fs.ftruncateSync(fd, 16 << 20); // trailing hole
    fs.closeSync(fd);
    const { failures } = run([[OpKind.File, p, 'sparse']], options(ALL, 128 * 1024));
    expect(failures).toEqual([]);
    const out = join(dst, 'sparse');
    expect(fs.readFileSync(out).equals(fs.readFileSync(p))).toBe(true);
    const st = fs.statSync(out);
    expect(st.size).toBe(16 << 20);
    expect(st.blocks * 512).toBeLessThan(64 * 1024);
  });

  it('reports a changed source as ESTALE/fstat and a vanished one as ENOENT/open', () => {
    const p = writeSource('f', 'x');
    const moved = { ...statOf(p), ino: statOf(p).ino + 1 };
    const { failures } = run([
      [OpKind.File, p, 'f', moved],
      [OpKind.File, join(src, 'gone'), 'g', statOf(p)],
    ]);
    expect(failures).toEqual([
      { index: 0, errno: E.ESTALE, syscall: 'fstat', path: B(p), onDest: false },
      { index: 1, errno: E.ENOENT, syscall: 'open', path: B(join(src, 'gone')), onDest: false },
    ]);
    expect(fs.readdirSync(dst)).toEqual([]);
  });

  it('replaces an empty directory in the way and reports rmdir for a non-empty one', () => {
    const p = writeSource('f', 'x');
    fs.mkdirSync(join(dst, 'empty'));
    fs.mkdirSync(join(dst, 'full'));
    fs.writeFileSync(join(dst, 'full', 'keep'), 'k');
    const { failures } = run([
      [OpKind.File, p, 'empty'],
      [OpKind.File, p, 'full'],
    ]);
    expect(fs.readFileSync(join(dst, 'empty'), 'utf8')).toBe('x');
    expect(failures).toEqual([{ index: 1, errno: E.ENOTEMPTY, syscall: 'rmdir', path: B('full'), onDest: true }]);
    expect(fs.readFileSync(join(dst, 'full', 'keep'), 'utf8')).toBe('k');
    expect(leftovers(dst)).toEqual([]);
  });
});

describe('node engine: destination safety', () => {
  it('refuses to write through a symlink planted in the destination', () => {
    const outside = join(base, 'outside');
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, join(dst, 'evil'));
    const p = writeSource('f', 'payload');
    const { failures } = run([
      [OpKind.File, p, 'evil/f'],
      [OpKind.Mkdir, src, 'evil/d'],
    ]);
    expect(failures).toEqual([
      { index: 0, errno: E.ELOOP, syscall: 'open', path: B('evil/f'), onDest: true },
      { index: 1, errno: E.ELOOP, syscall: 'open', path: B('evil/d'), onDest: true },
    ]);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('replaces a symlink at the target name instead of following it', () => {
    const victim = join(base, 'victim');
    fs.writeFileSync(victim, 'precious');
    fs.symlinkSync(victim, join(dst, 'f'));
    const p = writeSource('f', 'new');
    expect(run([[OpKind.File, p, 'f']]).failures).toEqual([]);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    expect(fs.lstatSync(join(dst, 'f')).isFile()).toBe(true);
  });

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

describe('node engine: links, specials, directories', () => {
  it('copies a symlink with its target bytes and mtime', () => {
    const l = join(src, 'l');
    fs.symlinkSync('../some/where', l);
    execFileSync('touch', ['-h', '-d', '@1600000000.987654321', l]);
    const { failures, counters } = run([[OpKind.Symlink, l, 'l']]);
    expect(failures).toEqual([]);
    expect(fs.readlinkSync(join(dst, 'l'))).toBe('../some/where');
    expect(mtimeNs(join(dst, 'l'))).toBe(1_600_000_000_987_654_000n); // floored to the microsecond
    expect(counters[Counter.Symlinks]).toBe(1n);
    expect(leftovers(dst)).toEqual([]);
  });

  it('hard-links to an earlier destination file, and does nothing when already linked', () => {
    const p = writeSource('f', 'shared');
    const ops: OpSpec[] = [
      [OpKind.File, p, 'f'],
      [OpKind.Hardlink, 'f', 'g', statOf(p)],
    ];
    expect(run(ops).failures).toEqual([]);
    expect(fs.statSync(join(dst, 'g')).ino).toBe(fs.statSync(join(dst, 'f')).ino);
    expect(run([ops[1]!]).failures).toEqual([]);
    expect(fs.readdirSync(dst).sort()).toEqual(['f', 'g']);
  });

  it('creates a FIFO and a socket with their mode and mtime', () => {
    const fifo = join(src, 'fifo');
    fs.writeFileSync(join(src, 'plain'), '');
    execFileSync('mkfifo', ['-m', '640', fifo]);
    fs.utimesSync(fifo, 1_650_000_000, 1_650_000_000);
    const sock = { ...statOf(join(src, 'plain')), mode: S_IFSOCK | 0o751 };
    const { failures, counters } = run([
      [OpKind.Special, fifo, 'fifo'],
      [OpKind.Special, join(src, 'plain'), 'sock', sock],
    ]);
    expect(failures).toEqual([]);
    const st = fs.lstatSync(join(dst, 'fifo'));
    expect(st.isFIFO()).toBe(true);
    expect(st.mode & 0o7777).toBe(0o640);
    expect(mtimeNs(join(dst, 'fifo'))).toBe(1_650_000_000_000_000_000n);
    expect(fs.lstatSync(join(dst, 'sock')).isSocket()).toBe(true);
    expect(fs.lstatSync(join(dst, 'sock')).mode & 0o7777).toBe(0o751);
    expect(counters[Counter.Specials]).toBe(2n);
    expect(leftovers(dst)).toEqual([]);
  });

  it.runIf(process.geteuid?.() === 0)('creates a character device with its major and minor (root)', () => {
    const st = { ...statOf('/dev/null'), ino: 0, dev: 0 };
    const { failures } = run([[OpKind.Special, '/dev/null', 'null', st]]);
    if (failures[0]?.errno === E.EPERM) return; // no CAP_MKNOD in this container
    expect(failures).toEqual([]);
    expect(fs.lstatSync(join(dst, 'null')).rdev).toBe(fs.lstatSync('/dev/null').rdev);
  });

  it('makes directories 0700 until DirMeta applies mode and mtime, deepest first', () => {
    const d = join(src, 'd');
    fs.mkdirSync(join(d, 'e'), { recursive: true });
    fs.chmodSync(join(d, 'e'), 0o750);
    fs.utimesSync(join(d, 'e'), 1_500_000_000, 1_500_000_000);
    fs.chmodSync(d, 0o705);
    fs.utimesSync(d, 1_400_000_000, 1_400_000_000);
    fs.writeFileSync(join(dst, 'd'), 'file in the way');
    const mk = run([
      [OpKind.Mkdir, d, 'd'],
      [OpKind.Mkdir, join(d, 'e'), 'd/e'],
    ]);
    expect(mk.failures).toEqual([]);
    expect(mk.counters[Counter.Dirs]).toBe(2n);
    expect(fs.statSync(join(dst, 'd/e')).mode & 0o7777).toBe(0o700);
    const meta = run([
      [OpKind.DirMeta, join(d, 'e'), 'd/e'],
      [OpKind.DirMeta, d, 'd'],
    ]);
    expect(meta.failures).toEqual([]);
    expect(fs.statSync(join(dst, 'd')).mode & 0o7777).toBe(0o705);
    expect(fs.statSync(join(dst, 'd/e')).mode & 0o7777).toBe(0o750);
    expect(mtimeNs(join(dst, 'd'))).toBe(1_400_000_000_000_000_000n);
    expect(mtimeNs(join(dst, 'd/e'))).toBe(1_500_000_000_000_000_000n);
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
  it('-c: equal content only gets attributes (outcome Equal), different content is copied', () => {
    const same = writeSource('same', 'identical', 0o600);
    const diff = writeSource('diff', 'new bytes');
    fs.writeFileSync(join(dst, 'same'), 'identical');
    fs.writeFileSync(join(dst, 'diff'), 'old bytes');
    const ino = fs.statSync(join(dst, 'same')).ino;
    const { failures, outcomes } = run([
      [OpKind.File, same, 'same', undefined, OpFlag.Compare],
      [OpKind.File, diff, 'diff', undefined, OpFlag.Compare],
    ]);
    expect(failures).toEqual([]);
    expect(outcomes).toEqual([Outcome.Equal, Outcome.Done]);
    expect(fs.statSync(join(dst, 'same')).ino).toBe(ino);
    expect(fs.statSync(join(dst, 'same')).mode & 0o7777).toBe(0o600);
    expect(mtimeNs(join(dst, 'same'))).toBe(1_700_000_000_123_456_000n);
    expect(fs.readFileSync(join(dst, 'diff'), 'utf8')).toBe('new bytes');
  });

  it('--remove-source-files unlinks the source after the copy, and only if it is still the same file', () => {
    const a = writeSource('a', 'x');
    const b = writeSource('b', 'y');
    const unknown = { ...statOf(b), ino: 0, dev: 0 }; // copied unchecked, so its identity is not confirmed
    const { failures } = run([
      [OpKind.File, a, 'a', undefined, OpFlag.RemoveSource],
      [OpKind.Attrs, b, 'a', undefined, OpFlag.RemoveSource], // not a copy from the source: never unlinks
      [OpKind.File, b, 'b', unknown, OpFlag.RemoveSource],
    ]);
    expect(failures).toEqual([]);
    expect(fs.readFileSync(join(dst, 'b'), 'utf8')).toBe('y');
    expect(fs.existsSync(a)).toBe(false);
    expect(fs.existsSync(b)).toBe(true);
  });

  it('Attrs, Delete, LinkFrom and Backup', () => {
    const f = writeSource('f', 'data', 0o604);
    const linkDest = join(base, 'prev');
    fs.mkdirSync(linkDest);
    fs.writeFileSync(join(linkDest, 'f'), 'data');
    fs.writeFileSync(join(dst, 'attrs'), 'keep');
    fs.writeFileSync(join(dst, 'old'), 'bye');
    fs.mkdirSync(join(dst, 'olddir'));
    fs.writeFileSync(join(dst, 'changed'), 'v1');
    fs.mkdirSync(join(dst, 'bak'));
    const file = statOf(f);
    const dir = statOf(src);
    const { failures, counters } = run([
      [OpKind.Attrs, f, 'attrs'],
      [OpKind.Delete, f, 'old'],
      [OpKind.Delete, src, 'olddir', dir],
      [OpKind.Delete, f, 'never-there'],
      [OpKind.LinkFrom, join(linkDest, 'f'), 'linked', file],
      // Without a backupDir, backups are made beside the file.
      [OpKind.Backup, join(dst, 'changed~'), 'changed', file],
      [OpKind.Backup, join(base, 'outside~'), 'missing', file],
    ]);
    expect(failures).toEqual([]);
    expect(fs.readFileSync(join(dst, 'attrs'), 'utf8')).toBe('keep');
    expect(fs.statSync(join(dst, 'attrs')).mode & 0o7777).toBe(0o604);
    expect(mtimeNs(join(dst, 'attrs'))).toBe(1_700_000_000_123_456_000n);
    expect(fs.existsSync(join(dst, 'old')) || fs.existsSync(join(dst, 'olddir'))).toBe(false);
    expect(counters[Counter.Deleted]).toBe(3n);
    expect(fs.statSync(join(dst, 'linked')).ino).toBe(fs.statSync(join(linkDest, 'f')).ino);
    expect(fs.readFileSync(join(dst, 'changed~'), 'utf8')).toBe('v1');
    expect(fs.existsSync(join(dst, 'changed'))).toBe(false);
    expect(leftovers(dst)).toEqual([]);
  });

  it('--inplace rewrites the target itself and truncates it to the source size', () => {
    const f = writeSource('f', 'short');
    fs.writeFileSync(join(dst, 'f'), 'a much longer old content');
    const ino = fs.statSync(join(dst, 'f')).ino;
    expect(run([[OpKind.File, f, 'f']], options(ALL | Preserve.Inplace)).failures).toEqual([]);
    expect(fs.readFileSync(join(dst, 'f'), 'utf8')).toBe('short');
    expect(fs.statSync(join(dst, 'f')).ino).toBe(ino);
  });

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

  it('-K follows a symlink to a directory inside the destination, never one that leads out', () => {
    fs.mkdirSync(join(dst, 'real'));
    fs.symlinkSync('real', join(dst, 'inside'));
    fs.symlinkSync(base, join(dst, 'out'));
    const f = writeSource('f', 'x');
    const { failures } = run(
      [
        [OpKind.File, f, 'inside/f'],
        [OpKind.File, f, 'out/f'],
      ],
      options(ALL | Preserve.KeepDirlinks),
    );
    expect(failures).toEqual([{ index: 1, errno: E.EXDEV, syscall: 'open', path: B('out/f'), onDest: true }]);
    expect(fs.readFileSync(join(dst, 'real', 'f'), 'utf8')).toBe('x');
    expect(fs.existsSync(join(base, 'f'))).toBe(false);
  });

  it('scanDest and readlinkDest resolve beneath the root without following symlinks', () => {
    fs.mkdirSync(join(dst, 'd'));
    fs.writeFileSync(join(dst, 'd', 'x'), '1');
    fs.symlinkSync(src, join(dst, 'evil'));
    fs.symlinkSync('target', join(dst, 'd', 'l'));
    const ctx = createNodeContext(options());
    const listing = ctx.scanDest(B('d'));
    if ('errno' in listing) throw new Error('scanDest failed');
    expect(listing.names.map(String).sort()).toEqual(['l', 'x']);
    expect(ctx.scanDest(B('evil'))).toEqual({ errno: E.ELOOP, syscall: 'open' });
    expect(ctx.scanDest(B('missing'))).toEqual({ errno: E.ENOENT, syscall: 'scandir' });
    expect(ctx.readlinkDest(B('d/l'))).toEqual(B('target'));
    expect(ctx.readlinkDest(B('evil/x'))).toEqual({ errno: E.ELOOP, syscall: 'open' });
    expect(ctx.xattrDiff(B(src), B('d'), 0)).toBe(0);
    expect(() => ctx.xattrDiff(B(src), B('d'), Preserve.Xattrs)).toThrow(/xattr/);
    ctx.close();
  });
});
