// The `node` engine: the pure node:fs twin of the addon's `sync` engine, for hosts where the addon did not
// build. It executes the same batches with the same semantics (docs/native-contract.md) using only
// synchronous node:fs calls on Buffer paths: it runs inside worker threads, where blocking I/O is right.
//
// Node has no *at() calls and no openat2, so the destination-safety rule (never follow a symlink planted
// in the destination) is kept with held directory descriptors: each destination directory is opened one
// O_NOFOLLOW component at a time beneath the held root, and every call names its entry as
// /proc/self/fd/<dir fd>/<name> (node-beneath.ts), so a directory swapped for a symlink after it was
// opened cannot redirect anything. The final component is never followed either (O_NOFOLLOW, rename,
// unlink, rmdir, link, mkdir, lchown, lutimes, O_PATH). Where a call by name would follow (chmod, chown,
// utimes of a special file), it goes through /proc/self/fd of an O_PATH descriptor, as glibc's fchmodat
// does. Sources are opened the same way beneath their anchor (the operator's part of the path).
//
// Differences from the addon, all forced by what Node exposes:
// - mtimes are set to the microsecond, not the nanosecond (see `utime`);
// - no xattrs or ACLs (createNodeContext refuses those flags);
// - devices and FIFOs are made by coreutils' mknod(1), sockets by a child node process (see `mknod`);
// - holes are found by looking for all-zero blocks, not with SEEK_DATA/SEEK_HOLE.

import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { readBatch, type Op } from './batch.js';
import { fsImpl } from './node-fs.js';
import { nodeScanDir } from './node-walk.js';
import { NodeBackup } from './node-backup.js';
import { O_PATH, openDirBeneath, openSourceDir, openSourceParent, procPath, splitSource, sysError } from './node-beneath.js';
import { nodeOpenPair } from './node-pair.js';
import { nodeUnlinkSource } from './node-unlink-source.js';
import type { PairCursor } from './pair.js';
import { Counter, OpFlag, OpKind, Outcome, Preserve } from '../model/ops.js';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK } from '../model/stat.js';
import type { DirListing } from '../model/listing.js';
import type { SysFailure as ErrnoSyscall } from '../model/failure.js';
import type { EngineContext, EngineOptions, OpFailure } from './types.js';

export { fsImpl };

const C = fs.constants;
const E = osConstants.errno;
const NAME_MAX = 255;
/** Granularity of hole detection: the usual filesystem block. */
const BLOCK = 4096;
const ZERO = Buffer.alloc(BLOCK);
const SLASH = Buffer.from('/');
const DOTDOT = Buffer.from('..');
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Thrown out of an op when the abort slot is set; never reported as a failure. */
const ABORTED = Symbol('aborted');

/** Positioned read of up to `len` bytes, continuing short reads; less only at EOF (a zero-byte read). */
function readFull(fd: number, buf: Buffer, len: number, pos: number): number {
  let got = 0;
  while (got < len) {
    const n = fsImpl.readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

const codeOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | null)?.code;

/** errno and syscall of a thrown fs error; anything else is a bug and propagates. */
function toErrno(e: unknown): ErrnoSyscall {
  const err = e as NodeJS.ErrnoException;
  const errno = typeof err?.errno === 'number' ? Math.abs(err.errno) : E[err?.code as keyof typeof E];
  if (typeof errno !== 'number' || typeof err.syscall !== 'string') throw e;
  return { errno, syscall: err.syscall };
}

function join(dir: Buffer, name: Buffer): Buffer {
  if (dir.length === 0) return name;
  if (dir[dir.length - 1] === 0x2f) return Buffer.concat([dir, name]);
  return Buffer.concat([dir, SLASH, name]);
}

/** The part of `path` below `dir`, or null when `path` is not strictly inside it. */
function below(path: Buffer, dir: Buffer): Buffer | null {
  const slash = dir[dir.length - 1] === 0x2f;
  const start = slash ? dir.length : dir.length + 1;
  if (path.length <= start || !path.subarray(0, dir.length).equals(dir)) return null;
  return slash || path[dir.length] === 0x2f ? path.subarray(start) : null;
}

/** [seconds, nanoseconds] of a bigint nanosecond time, nanoseconds always in [0, 1e9). */
function splitNs(ns: bigint): [number, number] {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  return [Number(sec), Number(nsec)];
}

/**
 * A time for Node's *utimes family. Node takes seconds as a double and libuv truncates it to the
 * microsecond, so the nanoseconds are dropped: the file gets the source time floored to the microsecond.
 * A double near 1.7e9 is only exact to ~0.24 µs, so we aim at the middle of the wanted microsecond and
 * libuv's truncation (toward zero) lands on it for either sign. Node turns a negative *number* into
 * "now", but passes numeric strings through untouched, so pre-1970 times go as strings.
 */
function utime(sec: number, nsec: number): number | string {
  const t = sec + Math.floor(nsec / 1000) / 1e6;
  return t >= 0 ? t + 5e-7 : String(t - 5e-7);
}

/** glibc's gnu_dev_major/gnu_dev_minor, for the makedev-encoded rdev of the walk. */
function devNumbers(rdev: number): [number, number] {
  const d = BigInt(rdev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return [Number(major), Number(minor)];
}

/** mknod(1) writes strerror text; map the ones mknod(2) can produce back to codes. */
const STRERROR: Record<string, string> = {
  'Operation not permitted': 'EPERM',
  'Permission denied': 'EACCES',
  'File exists': 'EEXIST',
  'No space left on device': 'ENOSPC',
  'Disk quota exceeded': 'EDQUOT',
  'Read-only file system': 'EROFS',
  'No such file or directory': 'ENOENT',
  'Not a directory': 'ENOTDIR',
  'Too many levels of symbolic links': 'ELOOP',
  'File name too long': 'ENAMETOOLONG',
  'Invalid argument': 'EINVAL',
  'Cannot allocate memory': 'ENOMEM',
  'Input/output error': 'EIO',
};

/** Binds a unix socket at argv[1] and exits; the socket inode stays. Prints the error code on failure. */
const BIND_SOCKET =
  "const s=require('net').createServer();" +
  "s.on('error',e=>{process.stderr.write(String(e.code));process.exit(1)});" +
  's.listen(process.argv[1],()=>process.exit(0))';

/** Where the next failure happened, for OpFailure.path/dest/onDest. */
interface Blame {
  path: Buffer;
  dest: Buffer | undefined;
  onDest: boolean;
}

/** A destination entry, reached through its parent directory's held descriptor. */
interface Target {
  /** Destination-relative path, as in the op. */
  rel: Buffer;
  /** Destination-relative path of the parent ("" = the root). */
  dirRel: Buffer;
  /** The parent's descriptor (held by the context's cache for at least the rest of the op). */
  fd: number;
  /** /proc/self/fd/<fd>: the parent, whatever has been renamed or swapped since it was opened. */
  dir: Buffer;
  name: Buffer;
  abs: Buffer;
}

/** Destination directories held open at once: an op resolves at most two, so neither is evicted while in use; few, since each worker holds its own under a low `ulimit -n`. */
const DIR_CACHE = 4;

interface Temp {
  abs: Buffer;
  rel: Buffer;
}

interface Source {
  fd: number;
  st: fs.BigIntStats;
}

/** How metadata reaches one entry: an fd, a symlink by name, or a special file through /proc. */
interface MetaHandle {
  chown(uid: number, gid: number): void;
  chmod(mode: number): void;
  utimes(atime: number | string, mtime: number | string): void;
  /** The entry's current state, so that what already matches is not set again (keeps ctime). */
  stat(): { uid: bigint; gid: bigint; mode: bigint; atimeNs: bigint; mtimeNs: bigint };
}

const byFd = (fd: number): MetaHandle => ({
  chown: (uid, gid) => fsImpl.fchownSync(fd, uid, gid),
  chmod: (mode) => fsImpl.fchmodSync(fd, mode),
  utimes: (atime, mtime) => fsImpl.futimesSync(fd, atime, mtime),
  stat: () => fsImpl.fstatSync(fd, { bigint: true }),
});

/** lchown and lutimes act on the link itself; a symlink has no mode of its own. */
const symlinkByName = (abs: Buffer): MetaHandle => ({
  chown: (uid, gid) => fsImpl.lchownSync(abs, uid, gid),
  chmod: () => undefined,
  utimes: (atime, mtime) => fsImpl.lutimesSync(abs, atime, mtime),
  stat: () => fsImpl.lstatSync(abs, { bigint: true }),
});

/** Through the /proc link of an O_PATH fd the calls reach that inode, never a symlink swapped in later. */
function byPathFd(fd: number): MetaHandle {
  const self = `/proc/self/fd/${fd}`;
  return {
    chown: (uid, gid) => fsImpl.chownSync(self, uid, gid),
    chmod: (mode) => fsImpl.chmodSync(self, mode),
    utimes: (atime, mtime) => fsImpl.utimesSync(self, atime, mtime),
    stat: () => fsImpl.fstatSync(fd, { bigint: true }),
  };
}

export function createNodeContext(opts: EngineOptions): EngineContext {
  if (opts.flags & (Preserve.Xattrs | Preserve.Acls)) {
    throw new Error('the node engine cannot copy xattrs or ACLs (-X/-A): Node has no xattr API');
  }
  return new NodeContext(opts);
}

class NodeContext implements EngineContext {
  readonly name = 'node' as const;
  /** The destination root's real path, and as given (for recognising --backup paths beneath it). */
  private readonly root: Buffer;
  private readonly rootGiven: Buffer;
  private readonly flags: number;
  private readonly umask: number;
  /** Per destination directory (relative, latin1): rsync's default permissions for new entries. */
  private readonly dfltPerms = new Map<string, number>();
  private readonly counters: BigInt64Array;
  private readonly isRoot = process.geteuid?.() === 0;
  /** One data buffer for the life of the context, a whole number of hole-detection blocks. */
  private readonly buf: Buffer;
  /** A second one for -c comparisons, allocated on first use. */
  private cmp: Buffer | undefined;
  /** The destination root, held open (O_PATH) for the context's life: every destination path starts here. */
  private readonly rootFd: number;
  /**
   * Destination directories opened beneath the root (relative paths as latin1 keys, so any bytes work),
   * least recently used first, so each is resolved once while it is in use rather than once per op.
   */
  private readonly dirs = new Map<string, number>();
  /** The last source directory opened beneath its anchor (consecutive ops mostly share it). */
  private srcDir: { key: string; fd: number } | undefined;
  private blame: Blame = { path: Buffer.alloc(0), dest: undefined, onDest: false };
  /** Bytes of the current file written so far (decides whether --partial keeps anything). */
  private copied = 0;
  private closed = false;
  private readonly backups: NodeBackup;

  constructor(opts: EngineOptions) {
    let given = opts.destRoot.length;
    while (given > 1 && opts.destRoot[given - 1] === 0x2f) given--;
    this.rootGiven = opts.destRoot.subarray(0, given);
    // The CLI resolved the root once (operator-path rule) to a path with no symlink: one found in it now
    // was swapped in since and must not redirect every write (ELOOP, as the native engines say). Node
    // has no openat2: this check-then-use leaves the race window the native engines close.
    this.root = fsImpl.realpathSync(opts.destRoot, { encoding: 'buffer' });
    if (!this.root.equals(this.rootGiven)) throw sysError('ELOOP', 'open');
    if (!fsImpl.statSync(this.root).isDirectory()) {
      throw new Error(`destination root is not a directory: ${opts.destRoot.toString()}`);
    }
    this.rootFd = fsImpl.openSync(opts.destRoot, O_PATH | C.O_DIRECTORY);
    this.flags = opts.flags;
    this.umask = opts.umask;
    this.counters = opts.counters;
    this.buf = Buffer.allocUnsafe(Math.max(BLOCK, Math.ceil(opts.bufferSize / BLOCK) * BLOCK));
    this.backups = new NodeBackup(
      {
        root: this.root,
        rootGiven: this.rootGiven,
        isRoot: this.isRoot,
        buf: this.buf,
        resolve: (rel) => this.resolve(rel),
        at: (path, onDest, dest) => this.at(path, onDest, dest),
        checkAbort: () => {
          if (this.aborted()) throw ABORTED;
        },
        mknodIn: (dirAbs, name, type, rdev) => {
          // A held parent (/proc/self/fd/N, what resolve() gives) is already ours: the child reaches it
          // through our pid. Opening that magic link with O_NOFOLLOW would be ELOOP.
          const held = /^\/proc\/self\/fd\/(\d+)$/.exec(dirAbs.toString('latin1'));
          if (held) {
            this.mknod(`/proc/${process.pid}/fd/${held[1]}`, name.toString('utf8'), type, rdev);
            return;
          }
          // As makeSpecial does: the child works in the directory through our fd, names stay off argv.
          const dirFd = fsImpl.openSync(dirAbs, O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW);
          try {
            this.mknod(`/proc/${process.pid}/fd/${dirFd}`, name.toString('utf8'), type, rdev);
          } finally {
            this.closeQuietly(dirFd);
          }
        },
        forget: (rel) => this.forget(rel),
      },
      opts.backupDir,
    );
  }

  run(batch: Uint8Array, outcomes?: Uint8Array): OpFailure[] {
    if (this.closed) throw new Error('node engine context used after close()');
    const failures: OpFailure[] = [];
    let index = 0;
    for (const op of readBatch(batch)) {
      if (this.aborted()) break;
      // An op that replaces an entry whose backup just failed is not run (DESIGN.md §3.7).
      const blocked = this.backups.gate(op);
      const result = blocked ? this.failure(blocked, index) : this.runOp(op, index);
      if (result === ABORTED) break; // the op in progress and the rest stay NotRun
      if (typeof result !== 'number') {
        failures.push(result);
        this.count(Counter.Errors);
      }
      if (outcomes) outcomes[index] = typeof result === 'number' ? result : Outcome.Failed;
      index++;
    }
    return failures;
  }

  scanDest(rel: Buffer): DirListing | ErrnoSyscall {
    let fd: number;
    try {
      fd = this.dirFd(rel);
    } catch (e) {
      const r = toErrno(e);
      return r.errno === E.ENOENT ? { errno: r.errno, syscall: 'scandir' } : r;
    }
    return nodeScanDir(procPath(fd), true);
  }

  /**
   * The node engine pairs two plain listings and leaves nothing out (see node-pair.ts). The source is
   * opened beneath its anchor, the twin through the held destination directories; the cursor holds both
   * descriptors until it is closed.
   */
  openPair(src: Buffer, destRel: Buffer | null, _q?: Float64Array, anchor = 0): PairCursor | ErrnoSyscall {
    let sfd: number;
    try {
      sfd = openSourceDir(src, anchor);
    } catch (e) {
      return { errno: toErrno(e).errno, syscall: 'scandir' };
    }
    if (destRel === null) return nodeOpenPair(procPath(sfd), undefined, 0, [sfd]);
    let dfd: number;
    try {
      // A private descriptor: the context's cache may close its own while the cursor is read.
      dfd = fsImpl.openSync(procPath(this.dirFd(destRel)), C.O_RDONLY | C.O_DIRECTORY);
    } catch (e) {
      const r = toErrno(e);
      return nodeOpenPair(procPath(sfd), undefined, r.errno === E.ENOENT || r.errno === E.ENOTDIR ? 0 : r.errno, [sfd]);
    }
    return nodeOpenPair(procPath(sfd), procPath(dfd), 0, [sfd, dfd]);
  }

  readlinkDest(rel: Buffer): Buffer | ErrnoSyscall {
    try {
      return fsImpl.readlinkSync(this.resolve(rel).abs, { encoding: 'buffer' });
    } catch (e) {
      return toErrno(e);
    }
  }

  unlinkSource(src: Buffer, st: { ino: number; dev: number }, anchor = 0): ErrnoSyscall | null {
    return nodeUnlinkSource(src, st, anchor);
  }

  xattrDiff(_src: Buffer, _rel: Buffer, flags: number): number {
    if (flags & (Preserve.Xattrs | Preserve.Acls)) {
      throw new Error('the node engine cannot read xattrs or ACLs: Node has no xattr API');
    }
    return 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.forget();
    this.closeQuietly(this.rootFd);
  }

  private aborted(): boolean {
    return Atomics.load(this.counters, Counter.Abort) !== 0n;
  }

  private count(slot: number, n = 1n): void {
    Atomics.add(this.counters, slot, n);
  }

  private at(path: Buffer, onDest: boolean, dest?: Buffer): void {
    this.blame = { path, dest, onDest };
  }

  private failure(e: unknown, index: number): OpFailure {
    const { errno, syscall } = toErrno(e);
    const { path, dest, onDest } = this.blame;
    return dest === undefined
      ? { index, errno, syscall, path, onDest }
      : { index, errno, syscall, path, dest, onDest };
  }

  /** One op: its Outcome, its failure, or ABORTED. */
  private runOp(op: Op, index: number): number | OpFailure | typeof ABORTED {
    let outcome: number;
    // EMFILE/ENFILE are often transient (other workers' fds come and go): as the contract says, drop
    // cached state (the held directory fds, except the root's), retry once.
    for (let attempt = 0; ; attempt++) {
      try {
        outcome = this.exec(op);
        break;
      } catch (e) {
        if (e === ABORTED) return ABORTED;
        const failure = this.failure(e, index);
        if (attempt > 0 || (failure.errno !== E.EMFILE && failure.errno !== E.ENFILE)) return failure;
        this.forget();
      }
    }
    const fromSource = op.kind === OpKind.File || op.kind === OpKind.Symlink || op.kind === OpKind.Special;
    if (fromSource && op.flags & OpFlag.RemoveSource) {
      try {
        this.removeSource(op);
      } catch (e) {
        return this.failure(e, index);
      }
    }
    return outcome;
  }

  private exec(op: Op): number {
    switch (op.kind) {
      case OpKind.File:
        return this.copyFile(op);
      case OpKind.Symlink:
        this.copySymlink(op);
        return this.done(Counter.Symlinks);
      case OpKind.Special:
        this.makeSpecial(op);
        return this.done(Counter.Specials);
      case OpKind.Hardlink: {
        const first = this.resolve(op.src);
        this.link(first.abs, first.rel, true, this.resolve(op.dst));
        return this.done(Counter.Hardlinks);
      }
      case OpKind.LinkFrom:
        this.link(op.src, op.src, false, this.resolve(op.dst), op.flags & OpFlag.Basis ? op : undefined);
        return this.done(Counter.Hardlinks);
      case OpKind.Mkdir:
        this.makeDir(op);
        return this.done(Counter.Dirs);
      case OpKind.DirMeta:
        this.dirMeta(op);
        return this.done();
      case OpKind.Attrs:
        this.setAttrs(op, op.dst.length === 0 ? procPath(this.rootFd) : this.resolve(op.dst).abs);
        return this.done();
      case OpKind.Delete:
        this.remove(op);
        return this.done(Counter.Deleted);
      case OpKind.Backup:
        this.backups.run(op);
        return this.done();
      default:
        throw new TypeError(`unknown op kind ${String(op.kind)} in batch`);
    }
  }

  private done(slot?: number): number {
    if (slot !== undefined) this.count(slot);
    return Outcome.Done;
  }

  // ---- destination resolution ------------------------------------------------------------------------

  /**
   * The held descriptor of the destination directory `dirRel` ("" = the root), opened beneath the root one
   * O_NOFOLLOW component at a time (node-beneath.ts): a symlink on the way is refused with ELOOP, like
   * openat2's RESOLVE_NO_SYMLINKS; with -K one that leads to a directory inside the root is followed, like
   * RESOLVE_BENEATH alone. Once open, the descriptor is that directory whatever is renamed or swapped later.
   */
  private dirFd(dirRel: Buffer): number {
    if (dirRel.length === 0) return this.rootFd;
    const key = dirRel.toString('latin1');
    const held = this.dirs.get(key);
    if (held !== undefined) {
      this.dirs.delete(key); // most recently used goes last
      this.dirs.set(key, held);
      return held;
    }
    const keep = this.flags & Preserve.KeepDirlinks ? (at: number, name: Buffer) => this.followDirLink(at, name) : undefined;
    const fd = openDirBeneath(this.rootFd, dirRel, O_PATH, keep);
    this.dirs.set(key, fd);
    if (this.dirs.size > DIR_CACHE) {
      const [oldest, old] = this.dirs.entries().next().value as [string, number];
      this.dirs.delete(oldest);
      this.closeQuietly(old);
    }
    return fd;
  }

  /** -K: a symlink to a directory is followed when the directory it reaches is the root or beneath it. */
  private followDirLink(at: number, name: Buffer): number {
    const fd = fsImpl.openSync(procPath(at, name), O_PATH | C.O_DIRECTORY);
    const real = fsImpl.readlinkSync(`/proc/self/fd/${fd}`, { encoding: 'buffer' });
    if (real.equals(this.root) || below(real, this.root) !== null) return fd;
    this.closeQuietly(fd);
    throw sysError('EXDEV', 'open');
  }

  /** Close the held descriptors of `rel` and everything beneath it (all of them without `rel`). */
  private forget(rel?: Buffer): void {
    const key = rel?.toString('latin1');
    for (const [k, fd] of this.dirs) {
      if (key !== undefined && k !== key && !k.startsWith(`${key}/`)) continue;
      this.dirs.delete(k);
      this.closeQuietly(fd);
    }
    if (key === undefined && this.srcDir) {
      this.closeQuietly(this.srcDir.fd);
      this.srcDir = undefined;
    }
  }

  /** Where a destination entry lives, through its parent's held descriptor. */
  private resolve(rel: Buffer): Target {
    const cut = rel.lastIndexOf(0x2f);
    const dirRel = cut < 0 ? Buffer.alloc(0) : rel.subarray(0, cut);
    const name = cut < 0 ? rel : rel.subarray(cut + 1);
    this.at(rel, true);
    if (name.length === 0 || name.equals(DOTDOT)) throw sysError('EINVAL', 'open');
    const fd = this.dirFd(dirRel);
    const dir = Buffer.from(`/proc/self/fd/${fd}`);
    return { rel, dirRel, fd, dir, name, abs: join(dir, name) };
  }

  /**
   * Create something at a fresh `.<prefix>.XXXXXX` beside the target (the prefix shortened so the name
   * fits NAME_MAX), retrying on EEXIST. `create` must fail with EEXIST rather than reuse an entry.
   */
  private temp<T>(t: Target, create: (abs: Buffer, name: Buffer) => T, prefix = t.name): Temp & { made: T } {
    for (let tries = 0; ; tries++) {
      let suffix = '.';
      for (const b of randomBytes(6)) suffix += ALNUM[b % ALNUM.length];
      const name = Buffer.concat([Buffer.from('.'), prefix.subarray(0, NAME_MAX - 8), Buffer.from(suffix)]);
      const abs = join(t.dir, name);
      const rel = join(t.dirRel, name);
      this.at(t.rel, true);
      try {
        return { abs, rel, made: create(abs, name) };
      } catch (e) {
        if (codeOf(e) !== 'EEXIST' || tries >= 10) throw e;
      }
    }
  }

  /** rename the temp over the target; a directory in the way is removed if empty, as the contract says. */
  private commit(tmp: Temp, t: Target): void {
    this.at(tmp.rel, true, t.rel);
    try {
      fsImpl.renameSync(tmp.abs, t.abs);
    } catch (e) {
      if (codeOf(e) !== 'EISDIR') throw e;
      this.at(t.rel, true);
      fsImpl.rmdirSync(t.abs);
      this.forget(t.rel);
      this.at(tmp.rel, true, t.rel);
      fsImpl.renameSync(tmp.abs, t.abs);
    }
  }

  /** Cleanup on a failure path: the failure that brought us here is the one worth reporting. */
  private discard(abs: Buffer, fd = -1): void {
    this.closeQuietly(fd);
    try {
      fsImpl.unlinkSync(abs);
    } catch {
      // already gone
    }
  }

  private closeQuietly(fd: number): void {
    try {
      if (fd >= 0) fsImpl.closeSync(fd);
    } catch {
      // see discard
    }
  }

  // ---- metadata --------------------------------------------------------------------------------------

  /** Owner, then mode (when not null), then times, in the contract's order. */
  private applyMeta(op: Op, h: MetaHandle, mode: number | null, isDir = false): void {
    // Only what differs is set, like the native engines: an up-to-date entry keeps its ctime.
    const cur = h.stat();
    const uid = this.isRoot && this.flags & Preserve.Owner && BigInt(op.stat.uid) !== cur.uid ? op.stat.uid : -1;
    const gid = this.flags & Preserve.Group && BigInt(op.stat.gid) !== cur.gid ? op.stat.gid : -1;
    if (uid !== -1 || gid !== -1) {
      try {
        h.chown(uid, gid);
      } catch (e) {
        // As non-root we only ever set the group; like rsync, a group we are not in is not an error.
        if (this.isRoot || codeOf(e) !== 'EPERM') throw e;
      }
    }
    if (mode !== null && BigInt(mode) !== (cur.mode & 0o7777n)) h.chmod(mode);
    if (this.flags & Preserve.Times && !(isDir && this.flags & Preserve.OmitDirTimes)) {
      // Node sets times through a double: within a microsecond is as close as it gets, so it counts as equal.
      const want = BigInt(op.stat.mtimeSec) * 1_000_000_000n + BigInt(op.stat.mtimeNsec);
      const diff = cur.mtimeNs - want;
      if (diff >= 1000n || diff <= -1000n) {
        // atime: the contract leaves it alone (UTIME_OMIT); Node cannot omit, so we pass back the current one.
        const [asec, ansec] = splitNs(cur.atimeNs);
        h.utimes(utime(asec, ansec), utime(op.stat.mtimeSec, op.stat.mtimeNsec));
      }
    }
  }

  /**
   * The mode a new entry gets: the source's with -p, else an existing target's, else the source's
   * filtered through its directory's default permissions.
   */
  private modeFor(op: Op, t: Target): number {
    if (this.flags & Preserve.Perms) return op.stat.mode & 0o7777;
    const old = fsImpl.lstatSync(t.abs, { throwIfNoEntry: false });
    if (old && (old.mode & S_IFMT) === (op.stat.mode & S_IFMT)) return old.mode & 0o7777;
    return op.stat.mode & 0o777 & this.defaultPerms(t);
  }

  /**
   * rsync's default_perms_for_dir: the bits a new entry may have without -p, those of the directory's
   * default ACL when it has one, else those the umask leaves. Node cannot read ACLs, but the kernel
   * applies that very rule to a file created with mode 0777: ask it once per directory.
   */
  private defaultPerms(t: Target): number {
    const key = t.dirRel.toString('latin1');
    let perms = this.dfltPerms.get(key);
    if (perms === undefined) {
      perms = 0o777 & ~this.umask;
      try {
        const probe = this.temp(t, (abs) => fsImpl.openSync(abs, C.O_RDONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o777));
        try {
          perms = fsImpl.fstatSync(probe.made).mode & 0o777;
        } finally {
          this.discard(probe.abs, probe.made);
        }
      } catch {
        // the op that follows reports what is wrong with the directory
      }
      this.dfltPerms.set(key, perms);
    }
    return perms;
  }

  /** An O_PATH fd on a destination entry that must still be of `type` (else ESTALE). */
  private openPath(abs: Buffer, type: number): number {
    const fd = fsImpl.openSync(abs, O_PATH | C.O_NOFOLLOW);
    try {
      if ((Number(fsImpl.fstatSync(fd, { bigint: true }).mode) & S_IFMT) !== type) throw sysError('ESTALE', 'fstat');
      return fd;
    } catch (e) {
      this.closeQuietly(fd);
      throw e;
    }
  }

  /** The Attrs op (also -c's "equal" case): preserved attributes of an existing entry, in place. */
  private setAttrs(op: Op, abs: Buffer): void {
    const mode = this.flags & Preserve.Perms ? op.stat.mode & 0o7777 : null;
    const st = fsImpl.lstatSync(abs);
    if (st.isSymbolicLink()) return this.applyMeta(op, symlinkByName(abs), null);
    // Regular files and directories are opened (O_NONBLOCK in case a FIFO was swapped in); other types
    // never are: opening a device can have side effects.
    const fd =
      st.isFile() || st.isDirectory()
        ? fsImpl.openSync(abs, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK)
        : this.openPath(abs, st.mode & S_IFMT);
    try {
      this.applyMeta(op, st.isFile() || st.isDirectory() ? byFd(fd) : byPathFd(fd), mode, st.isDirectory());
    } catch (e) {
      this.closeQuietly(fd);
      throw e;
    }
    fsImpl.closeSync(fd);
  }

  // ---- sources ---------------------------------------------------------------------------------------

  /**
   * The path through which the op's source is reached: its directory opened beneath the op's anchor
   * (node-beneath.ts; a symlink on the way fails with ESTALE), then the name. Valid until the next call.
   */
  private sourcePath(op: Op): Buffer {
    this.at(op.src, false);
    const s = splitSource(op.src, op.anchor);
    if (s.whole) return op.src; // the operand itself, used as the operator gave it
    const key = `${s.anchor.toString('latin1')}\0${s.parent.toString('latin1')}`;
    if (this.srcDir?.key !== key) {
      const fd = openSourceParent(s)!;
      if (this.srcDir) this.closeQuietly(this.srcDir.fd);
      this.srcDir = { key, fd };
    }
    return procPath(this.srcDir.fd, s.name);
  }

  /** Open a source (not following it unless asked) and check it is still what the walk saw. */
  private openSource(op: Op, flags: number, type: number, follow = false): Source {
    let path: Buffer;
    if (op.flags & OpFlag.Basis) {
      // A basis file is an absolute path outside the source tree: no anchor, no symlink at any level.
      this.at(op.src, false);
      this.noSymlinkParents(op.src);
      path = op.src;
    } else path = this.sourcePath(op);
    if (!follow) flags |= C.O_NOFOLLOW;
    let fd: number;
    try {
      fd = fsImpl.openSync(path, flags | C.O_NOATIME);
    } catch (e) {
      // O_NOATIME is only allowed on our own files (or with CAP_FOWNER).
      if (codeOf(e) !== 'EPERM') throw e;
      fd = fsImpl.openSync(path, flags);
    }
    try {
      const st = fsImpl.fstatSync(fd, { bigint: true });
      this.checkIdentity(op, st, type);
      return { fd, st };
    } catch (e) {
      this.closeQuietly(fd);
      throw e;
    }
  }

  /**
   * A basis file's directories (OpFlag.Basis) must all be real directories: a symlink planted in an old
   * snapshot must not lead a read or link elsewhere (ESTALE: the snapshot changed under us). Node has no
   * openat2, so this is a check before the open, with the race window the native engines do not have.
   */
  private noSymlinkParents(path: Buffer): void {
    for (let i = path.indexOf(0x2f, 1); i > 0; i = path.indexOf(0x2f, i + 1)) {
      if (fsImpl.lstatSync(path.subarray(0, i)).isSymbolicLink()) throw sysError('ESTALE', 'fstat');
    }
  }

  /** The type (given by the op kind) and, when the walk recorded them, the ino and dev (else ESTALE). */
  private checkIdentity(op: Op, st: fs.BigIntStats, type: number, syscall = 'fstat'): void {
    const moved = op.stat.ino !== 0 && (Number(st.ino) !== op.stat.ino || Number(st.dev) !== op.stat.dev);
    if ((Number(st.mode) & S_IFMT) !== type || moved) throw sysError('ESTALE', syscall);
  }

  /** --remove-source-files: only the file we copied; one put in its place meanwhile stays. */
  private removeSource(op: Op): void {
    let path: Buffer;
    try {
      path = this.sourcePath(op);
    } catch (e) {
      if (codeOf(e) === 'ESTALE') return; // its directory changed: kept, like a changed file
      throw e;
    }
    const st = fsImpl.lstatSync(path, { bigint: true, throwIfNoEntry: false });
    if (st && Number(st.ino) === op.stat.ino && Number(st.dev) === op.stat.dev) fsImpl.unlinkSync(path);
  }

  // ---- files -----------------------------------------------------------------------------------------

  private copyFile(op: Op): number {
    const t = this.resolve(op.dst);
    const follow = (op.flags & OpFlag.FollowSource) !== 0;
    const src = this.openSource(op, C.O_RDONLY, S_IFREG, follow);
    try {
      if (op.flags & OpFlag.Compare && this.sameContent(op, src, t)) {
        this.setAttrs(op, t.abs);
        return Outcome.Equal;
      }
      const mode = this.modeFor(op, t);
      if (this.flags & Preserve.Inplace) this.writeInPlace(op, src, t, mode);
      else this.writeViaTemp(op, src, t, mode);
      this.count(Counter.Files);
      return Outcome.Done;
    } finally {
      this.closeQuietly(src.fd);
    }
  }

  private writeViaTemp(op: Op, src: Source, t: Target, mode: number): void {
    const tmp = this.temp(t, (abs) => fsImpl.openSync(abs, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600));
    let fd = tmp.made;
    try {
      const sparse = (this.flags & Preserve.Sparse) !== 0 || src.st.blocks * 512n < src.st.size;
      this.copyData(op, src, fd, t, sparse);
      this.at(t.rel, true);
      this.applyMeta(op, byFd(fd), mode);
      const closing = fd;
      fd = -1;
      fsImpl.closeSync(closing);
      this.commit(tmp, t);
    } catch (e) {
      if (this.flags & Preserve.Partial && this.copied > 0) this.keepPartial(tmp, t, fd);
      else this.discard(tmp.abs, fd);
      throw e;
    }
  }

  /** --partial: the data so far replaces the target, like rsync; the original failure is still reported. */
  private keepPartial(tmp: Temp, t: Target, fd: number): void {
    const blame = this.blame;
    this.closeQuietly(fd);
    try {
      this.commit(tmp, t);
    } catch {
      this.discard(tmp.abs);
    }
    this.blame = blame;
  }

  /** --inplace: into the target itself, no temp file; holes are not punched (stale bytes would show). */
  private writeInPlace(op: Op, src: Source, t: Target, mode: number): void {
    this.at(t.rel, true);
    let fd: number;
    try {
      fd = fsImpl.openSync(t.abs, C.O_WRONLY | C.O_NOFOLLOW);
    } catch (e) {
      if (codeOf(e) !== 'ENOENT') throw e;
      fd = fsImpl.openSync(t.abs, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
    }
    try {
      this.copyData(op, src, fd, t, false);
      this.at(t.rel, true);
      fsImpl.ftruncateSync(fd, this.copied);
      this.applyMeta(op, byFd(fd), mode);
    } catch (e) {
      this.closeQuietly(fd);
      throw e;
    }
    fsImpl.closeSync(fd);
  }

  /**
   * read/write through the context's one buffer, exactly the size fstat gave at the open (copyFileSync
   * would write in place and follow symlinks). A short read is continued; a zero-byte read before that
   * size means the source shrank (or its filesystem promised more than it has): the op fails, as the
   * native engines' copy_fail_short does, and the data is never renamed into place. Growth after the
   * open is not copied. For sparse copies, all-zero blocks are skipped with positioned writes and the
   * size is set with ftruncate at the end, so holes stay holes.
   */
  private copyData(op: Op, src: Source, to: number, t: Target, sparse: boolean): void {
    const buf = this.buf;
    const size = Number(src.st.size);
    this.copied = 0;
    while (this.copied < size) {
      if (this.aborted()) throw ABORTED;
      this.at(op.src, false);
      const n = fsImpl.readSync(src.fd, buf, 0, Math.min(buf.length, size - this.copied), null);
      if (n === 0) throw sysError('ENODATA', 'read');
      this.at(t.rel, true);
      const pos = this.copied;
      if (!sparse) {
        this.writeAll(to, 0, n, null);
      } else {
        let run = -1; // start of the current run of non-zero blocks
        for (let b = 0; b < n; b += BLOCK) {
          const e = Math.min(b + BLOCK, n);
          const zero = buf.compare(ZERO, 0, e - b, b, e) === 0;
          if (!zero && run < 0) run = b;
          if (zero && run >= 0) {
            this.writeAll(to, run, b - run, pos + run);
            run = -1;
          }
        }
        if (run >= 0) this.writeAll(to, run, n - run, pos + run);
      }
      this.copied += n;
      // Holes count too, so progress reaches the files' total size.
      this.count(Counter.Bytes, BigInt(n));
    }
    if (sparse) fsImpl.ftruncateSync(to, this.copied);
  }

  private writeAll(fd: number, off: number, len: number, position: number | null): void {
    while (len > 0) {
      const w = fsImpl.writeSync(fd, this.buf, off, len, position);
      off += w;
      len -= w;
      if (position !== null) position += w;
    }
  }

  /** -c: does the target already hold the source's bytes? Positioned reads leave the source at offset 0. */
  private sameContent(op: Op, src: Source, t: Target): boolean {
    this.at(t.rel, true);
    const old = fsImpl.lstatSync(t.abs, { bigint: true, throwIfNoEntry: false });
    if (!old?.isFile() || old.size !== src.st.size) return false;
    const fd = fsImpl.openSync(t.abs, C.O_RDONLY | C.O_NOFOLLOW);
    try {
      const a = this.buf;
      const b = (this.cmp ??= Buffer.allocUnsafe(a.length));
      const size = Number(src.st.size);
      for (let pos = 0; pos < size; ) {
        if (this.aborted()) throw ABORTED;
        const want = Math.min(a.length, size - pos);
        this.at(op.src, false);
        // A source that ends early is "different": the copy that follows reports it.
        if (readFull(src.fd, a, want, pos) !== want) return false;
        this.at(t.rel, true);
        if (readFull(fd, b, want, pos) !== want || a.compare(b, 0, want, 0, want) !== 0) return false;
        pos += want;
      }
      return true;
    } finally {
      this.closeQuietly(fd);
    }
  }

  // ---- other entries ---------------------------------------------------------------------------------

  private copySymlink(op: Op): void {
    const t = this.resolve(op.dst);
    const path = this.sourcePath(op);
    this.checkIdentity(op, fsImpl.lstatSync(path, { bigint: true }), S_IFLNK, 'lstat');
    const target = fsImpl.readlinkSync(path, { encoding: 'buffer' });
    // The planner judged the target it read (--safe-links, --copy-unsafe-links): only that value may be
    // written; a link replaced since then is a changed entry.
    if (op.target && !target.equals(op.target)) throw sysError('ESTALE', 'readlink');
    const tmp = this.temp(t, (abs) => fsImpl.symlinkSync(target, abs));
    try {
      this.at(t.rel, true);
      this.applyMeta(op, symlinkByName(tmp.abs), null);
      this.commit(tmp, t);
    } catch (e) {
      this.discard(tmp.abs);
      throw e;
    }
  }

  /**
   * Node can make neither device nodes nor FIFOs (no mknod) nor sockets synchronously (net is async), so
   * the node is made at the temp name by a child process (see `mknod`), then its metadata is set through
   * an O_PATH fd (opening a device for real could have side effects) and it is renamed into place.
   */
  private makeSpecial(op: Op): void {
    const type = op.stat.mode & S_IFMT;
    const t = this.resolve(op.dst);
    this.at(t.rel, true);
    if (type !== S_IFIFO && type !== S_IFCHR && type !== S_IFBLK && type !== S_IFSOCK) {
      throw sysError('EINVAL', 'mknod');
    }
    const mode = this.modeFor(op, t);
    // The child gets the name as a string argument: a name that is not UTF-8 gets a plain temp prefix.
    // A socket's whole path must fit sun_path (108 bytes), hence the shorter prefix.
    let prefix = t.name.subarray(0, type === S_IFSOCK ? 80 : NAME_MAX);
    if (!Buffer.from(prefix.toString('utf8')).equals(prefix)) prefix = Buffer.from('special');
    // The child's cwd is our held parent through our own fd, so the parent path (bytes, maybe not
    // UTF-8, maybe long) never goes through argv, and nothing swapped in can redirect it.
    const cwd = `/proc/${process.pid}/fd/${t.fd}`;
    const tmp = this.temp(t, (_abs, name) => this.mknod(cwd, name.toString('utf8'), type, op.stat.rdev), prefix);
    try {
      const fd = this.openPath(tmp.abs, type);
      try {
        this.applyMeta(op, byPathFd(fd), mode);
      } finally {
        this.closeQuietly(fd);
      }
      this.commit(tmp, t);
    } catch (e) {
      this.discard(tmp.abs);
      throw e;
    }
  }

  /**
   * Devices and FIFOs: coreutils' mknod(1) with -m 600 (it sets the mode through O_PATH, never following).
   * Sockets: a child node binds a unix socket there and exits; the socket inode stays, which is all
   * rsync -a copies of a socket too. Either way EEXIST comes back as such, so `temp` picks another name.
   */
  private mknod(cwd: string, name: string, type: number, rdev: number): void {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
    let code: string | undefined;
    if (type === S_IFSOCK) {
      const r = fsImpl.spawnSync(process.execPath, ['-e', BIND_SOCKET, name], { cwd, env, encoding: 'utf8' });
      if (r.error) throw sysError(codeOf(r.error) ?? 'EIO', 'mknod');
      if (r.status === 0) return;
      code = r.stderr.trim() === 'EADDRINUSE' ? 'EEXIST' : r.stderr.trim();
    } else {
      const kind = type === S_IFIFO ? ['p'] : [type === S_IFCHR ? 'c' : 'b', ...devNumbers(rdev).map(String)];
      const r = fsImpl.spawnSync('mknod', ['-m', '600', '--', name, ...kind], { cwd, env, encoding: 'utf8' });
      // No mknod(1) on this host: the call is not available here.
      if (r.error) throw sysError(codeOf(r.error) === 'ENOENT' ? 'ENOSYS' : (codeOf(r.error) ?? 'EIO'), 'mknod');
      if (r.status === 0) return;
      code = STRERROR[r.stderr.trim().split(': ').pop() ?? ''];
    }
    throw sysError(code && code in E ? code : 'EIO', 'mknod');
  }

  /**
   * Hardlink and LinkFrom: link `from` at a temp name, rename it over the target. `basis`: a basis
   * file or symlink (OpFlag.Basis), which must be, before and after the link, the inode the op names.
   */
  private link(from: Buffer, fromRel: Buffer, fromOnDest: boolean, t: Target, basis?: Op): void {
    this.at(fromRel, fromOnDest);
    if (basis) this.noSymlinkParents(from);
    const have = fsImpl.lstatSync(from, { bigint: true });
    if (basis) this.checkIdentity(basis, have, basis.stat.mode & S_IFMT);
    this.at(t.rel, true);
    const old = fsImpl.lstatSync(t.abs, { bigint: true, throwIfNoEntry: false });
    // Already linked: rename() between two links of one inode would do nothing and leave the temp.
    if (old && old.ino === have.ino && old.dev === have.dev) return;
    // link(2) does not follow a symlink at `from`: it links the symlink itself.
    const tmp = this.temp(t, (abs, name) => {
      this.at(fromRel, fromOnDest, join(t.dirRel, name));
      fsImpl.linkSync(from, abs);
    });
    if (basis) {
      // What was linked is what counts: a file swapped in between the check and link(2) is undone.
      try {
        this.checkIdentity(basis, fsImpl.lstatSync(tmp.abs, { bigint: true }), basis.stat.mode & S_IFMT);
      } catch (e) {
        this.discard(tmp.abs);
        throw e;
      }
    }
    try {
      this.commit(tmp, t);
    } catch (e) {
      this.discard(tmp.abs);
      throw e;
    }
  }

  private makeDir(op: Op): void {
    this.at(op.dst, true);
    if (op.dst.length === 0) return; // the root exists: the context opened it
    const t = this.resolve(op.dst);
    const old = fsImpl.lstatSync(t.abs, { throwIfNoEntry: false });
    if (!old?.isDirectory()) {
      if (old) fsImpl.unlinkSync(t.abs);
      // Owner-writable until DirMeta sets the real mode, so the contents can be created.
      fsImpl.mkdirSync(t.abs, this.flags & Preserve.Perms ? 0o700 : (op.stat.mode & 0o777) | 0o700);
    }
  }

  private dirMeta(op: Op): void {
    this.at(op.dst, true);
    const fd =
      op.dst.length === 0
        ? fsImpl.openSync(procPath(this.rootFd), C.O_RDONLY | C.O_DIRECTORY)
        : fsImpl.openSync(this.resolve(op.dst).abs, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
    try {
      // The source is opened to check it is still the directory the walk saw.
      this.closeQuietly(this.openSource(op, C.O_RDONLY | C.O_DIRECTORY, S_IFDIR).fd);
      this.at(op.dst, true);
      this.applyMeta(op, byFd(fd), this.flags & Preserve.Perms ? op.stat.mode & 0o7777 : null, true);
    } catch (e) {
      this.closeQuietly(fd);
      throw e;
    }
    fsImpl.closeSync(fd);
  }

  /** Delete: never follows a symlink (unlink/rmdir act on the name); already gone is fine. */
  private remove(op: Op): void {
    const t = this.resolve(op.dst);
    try {
      if ((op.stat.mode & S_IFMT) === S_IFDIR) {
        fsImpl.rmdirSync(t.abs);
        this.forget(t.rel);
      } else {
        fsImpl.unlinkSync(t.abs);
      }
    } catch (e) {
      if (codeOf(e) !== 'ENOENT') throw e;
    }
  }
}
