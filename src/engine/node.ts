// The `node` engine: the pure node:fs twin of the addon's `sync` engine, for hosts where the addon did not
// build. It executes the same batches with the same semantics (docs/native-contract.md) using only
// synchronous node:fs calls on Buffer paths: it runs inside worker threads, where blocking I/O is right.
//
// Node has no *at() calls and no openat2, so the destination-safety rule (never follow a symlink planted
// in the destination) is kept by checking each parent component with lstat before use (see `verifyDirs`),
// by O_NOFOLLOW on every open, and by using only calls that never follow the final component (rename,
// unlink, rmdir, link, mkdir, lchown, lutimes). Where a call by name would follow (chmod, chown, utimes of
// a special file), it goes through /proc/self/fd of an O_PATH descriptor, as glibc's fchmodat does.
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
import { fsImpl, nodeScanDir } from './node-walk.js';
import { nodeOpenPair } from './node-pair.js';
import type { PairCursor } from './pair.js';
import {
  Counter,
  OpFlag,
  OpKind,
  Outcome,
  Preserve,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
  type DirListing,
  type EngineContext,
  type EngineOptions,
  type OpFailure,
} from './types.js';

export { fsImpl };

const C = fs.constants;
const E = osConstants.errno;
/** Not in fs.constants; the value on x86-64 and arm64. Names an inode without opening it for I/O. */
const O_PATH = 0o10000000;
const NAME_MAX = 255;
/** Granularity of hole detection: the usual filesystem block. */
const BLOCK = 4096;
const ZERO = Buffer.alloc(BLOCK);
const SLASH = Buffer.from('/');
const DOTDOT = Buffer.from('..');
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Thrown out of an op when the abort slot is set; never reported as a failure. */
const ABORTED = Symbol('aborted');

type ErrnoSyscall = { errno: number; syscall: string };

/** An Error shaped like Node's, for failures this engine detects itself (ESTALE, ELOOP, ...). */
function sysError(code: string, syscall: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${syscall}`);
  err.code = code;
  err.errno = -(E[code as keyof typeof E] ?? E.EIO);
  err.syscall = syscall;
  return err;
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

/** A destination entry whose parent directory has been checked to be a real directory. */
interface Target {
  /** Destination-relative path, as in the op. */
  rel: Buffer;
  /** Destination-relative path of the parent ("" = the root). */
  dirRel: Buffer;
  /** Absolute path of the parent. */
  dir: Buffer;
  name: Buffer;
  abs: Buffer;
}

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
  private readonly counters: BigInt64Array;
  private readonly isRoot = process.geteuid?.() === 0;
  /** One data buffer for the life of the context, a whole number of hole-detection blocks. */
  private readonly buf: Buffer;
  /** A second one for -c comparisons, allocated on first use. */
  private cmp: Buffer | undefined;
  /**
   * Destination directories (relative paths, as latin1 keys so any bytes work) already seen by lstat to be
   * real directories, so each is checked once per context rather than once per op.
   */
  private readonly verified = new Set<string>();
  private blame: Blame = { path: Buffer.alloc(0), dest: undefined, onDest: false };
  /** Bytes of the current file written so far (decides whether --partial keeps anything). */
  private copied = 0;
  private closed = false;

  constructor(opts: EngineOptions) {
    // The root itself may be reached through symlinks (it is the user's path); pin its real path once so
    // later resolution starts from a real directory.
    this.root = fsImpl.realpathSync(opts.destRoot, { encoding: 'buffer' });
    if (!fsImpl.statSync(this.root).isDirectory()) {
      throw new Error(`destination root is not a directory: ${opts.destRoot.toString()}`);
    }
    let given = opts.destRoot.length;
    while (given > 1 && opts.destRoot[given - 1] === 0x2f) given--;
    this.rootGiven = opts.destRoot.subarray(0, given);
    this.flags = opts.flags;
    this.umask = opts.umask;
    this.counters = opts.counters;
    this.buf = Buffer.allocUnsafe(Math.max(BLOCK, Math.ceil(opts.bufferSize / BLOCK) * BLOCK));
  }

  run(batch: Uint8Array, outcomes?: Uint8Array): OpFailure[] {
    if (this.closed) throw new Error('node engine context used after close()');
    const failures: OpFailure[] = [];
    let index = 0;
    for (const op of readBatch(batch)) {
      if (this.aborted()) break;
      const result = this.runOp(op, index);
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
    try {
      this.verifyDirs(rel);
    } catch (e) {
      const r = toErrno(e);
      return r.errno === E.ENOENT ? { errno: r.errno, syscall: 'scandir' } : r;
    }
    return nodeScanDir(join(this.root, rel), true);
  }

  /** The node engine pairs two plain listings and leaves nothing out (see node-pair.ts). */
  openPair(src: Buffer, destRel: Buffer | null): PairCursor | ErrnoSyscall {
    if (destRel === null) return nodeOpenPair(src, undefined);
    try {
      this.verifyDirs(destRel);
    } catch (e) {
      const r = toErrno(e);
      return nodeOpenPair(src, undefined, r.errno === E.ENOENT || r.errno === E.ENOTDIR ? 0 : r.errno);
    }
    return nodeOpenPair(src, join(this.root, destRel), 0);
  }

  readlinkDest(rel: Buffer): Buffer | ErrnoSyscall {
    try {
      return fsImpl.readlinkSync(this.resolve(rel).abs, { encoding: 'buffer' });
    } catch (e) {
      return toErrno(e);
    }
  }

  xattrDiff(_src: Buffer, _rel: Buffer, flags: number): number {
    if (flags & (Preserve.Xattrs | Preserve.Acls)) {
      throw new Error('the node engine cannot read xattrs or ACLs: Node has no xattr API');
    }
    return 0;
  }

  close(): void {
    this.closed = true;
    this.verified.clear();
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
    // cached state (this engine holds no fds between ops, only the verified-directory cache), retry once.
    for (let attempt = 0; ; attempt++) {
      try {
        outcome = this.exec(op);
        break;
      } catch (e) {
        if (e === ABORTED) return ABORTED;
        const failure = this.failure(e, index);
        if (attempt > 0 || (failure.errno !== E.EMFILE && failure.errno !== E.ENFILE)) return failure;
        this.verified.clear();
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
        this.link(op.src, op.src, false, this.resolve(op.dst));
        return this.done(Counter.Hardlinks);
      case OpKind.Mkdir:
        this.makeDir(op);
        return this.done(Counter.Dirs);
      case OpKind.DirMeta:
        this.dirMeta(op);
        return this.done();
      case OpKind.Attrs:
        this.setAttrs(op, op.dst.length === 0 ? this.root : this.resolve(op.dst).abs);
        return this.done();
      case OpKind.Delete:
        this.remove(op);
        return this.done(Counter.Deleted);
      case OpKind.Backup:
        this.backup(op);
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
   * Check that `dirRel` and every directory above it is a real directory beneath the root (lstat: a
   * symlink is refused with ELOOP, like openat2's RESOLVE_NO_SYMLINKS; with -K it may point to a directory
   * inside the root, like RESOLVE_BENEATH alone).
   *
   * Remaining TOCTOU window: without openat2/*at() calls, the kernel resolves the path again at each later
   * call, so someone with write access inside the destination who swaps a checked directory for a symlink
   * between our lstat and that call (or later in the run, since checks are cached per context) could
   * redirect it. The final component is never followed (O_NOFOLLOW, rename, unlink, link, lchown,
   * lutimes, O_PATH), which keeps the common planted-symlink case safe.
   */
  private verifyDirs(dirRel: Buffer): void {
    if (dirRel.length === 0 || this.verified.has(dirRel.toString('latin1'))) return;
    let end = 0;
    do {
      end = dirRel.indexOf(0x2f, end + 1);
      const prefix = end < 0 ? dirRel : dirRel.subarray(0, end);
      const key = prefix.toString('latin1');
      if (this.verified.has(key)) continue;
      // RESOLVE_BENEATH: ".." could climb out of the root.
      if (prefix.subarray(prefix.lastIndexOf(0x2f) + 1).equals(DOTDOT)) throw sysError('EXDEV', 'open');
      this.at(prefix, true);
      const abs = join(this.root, prefix);
      const st = fsImpl.lstatSync(abs);
      if (st.isSymbolicLink()) {
        if (!(this.flags & Preserve.KeepDirlinks)) throw sysError('ELOOP', 'lstat');
        const real = fsImpl.realpathSync(abs, { encoding: 'buffer' });
        if (!real.equals(this.root) && below(real, this.root) === null) throw sysError('EXDEV', 'open');
        if (!fsImpl.statSync(real).isDirectory()) throw sysError('ENOTDIR', 'open');
      } else if (!st.isDirectory()) {
        throw sysError('ENOTDIR', 'lstat');
      }
      this.verified.add(key);
    } while (end >= 0);
  }

  /** Where a destination entry lives, its parent verified. */
  private resolve(rel: Buffer): Target {
    const cut = rel.lastIndexOf(0x2f);
    const dirRel = cut < 0 ? Buffer.alloc(0) : rel.subarray(0, cut);
    const name = cut < 0 ? rel : rel.subarray(cut + 1);
    this.at(rel, true);
    if (name.length === 0 || name.equals(DOTDOT)) throw sysError('EINVAL', 'open');
    this.verifyDirs(dirRel);
    return { rel, dirRel, dir: join(this.root, dirRel), name, abs: join(this.root, rel) };
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
      this.verified.delete(t.rel.toString('latin1'));
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

  /** The mode a new entry gets: the source's with -p, else an existing target's, else umask'd. */
  private modeFor(op: Op, t: Target): number {
    if (this.flags & Preserve.Perms) return op.stat.mode & 0o7777;
    const old = fsImpl.lstatSync(t.abs, { throwIfNoEntry: false });
    if (old && (old.mode & S_IFMT) === (op.stat.mode & S_IFMT)) return old.mode & 0o7777;
    return op.stat.mode & 0o777 & ~this.umask;
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

  /** Open a source (not following it unless asked) and check it is still what the walk saw. */
  private openSource(op: Op, flags: number, type: number, follow = false): Source {
    this.at(op.src, false);
    if (!follow) flags |= C.O_NOFOLLOW;
    let fd: number;
    try {
      fd = fsImpl.openSync(op.src, flags | C.O_NOATIME);
    } catch (e) {
      // O_NOATIME is only allowed on our own files (or with CAP_FOWNER).
      if (codeOf(e) !== 'EPERM') throw e;
      fd = fsImpl.openSync(op.src, flags);
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

  /** The type (given by the op kind) and, when the walk recorded them, the ino and dev (else ESTALE). */
  private checkIdentity(op: Op, st: fs.BigIntStats, type: number, syscall = 'fstat'): void {
    const moved = op.stat.ino !== 0 && (Number(st.ino) !== op.stat.ino || Number(st.dev) !== op.stat.dev);
    if ((Number(st.mode) & S_IFMT) !== type || moved) throw sysError('ESTALE', syscall);
  }

  /** --remove-source-files: only the file we copied; one put in its place meanwhile stays. */
  private removeSource(op: Op): void {
    this.at(op.src, false);
    const st = fsImpl.lstatSync(op.src, { bigint: true, throwIfNoEntry: false });
    if (st && Number(st.ino) === op.stat.ino && Number(st.dev) === op.stat.dev) fsImpl.unlinkSync(op.src);
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
      this.copyData(op, src.fd, fd, t, sparse);
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
      this.copyData(op, src.fd, fd, t, false);
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
   * read/write through the context's one buffer until EOF (copyFileSync would write in place and follow
   * symlinks). For sparse copies, all-zero blocks are skipped with positioned writes and the size is set
   * with ftruncate at the end, so holes stay holes.
   */
  private copyData(op: Op, from: number, to: number, t: Target, sparse: boolean): void {
    const buf = this.buf;
    this.copied = 0;
    for (;;) {
      if (this.aborted()) throw ABORTED;
      this.at(op.src, false);
      const n = fsImpl.readSync(from, buf, 0, buf.length, null);
      if (n === 0) break;
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
      for (let pos = 0; ; ) {
        if (this.aborted()) throw ABORTED;
        this.at(op.src, false);
        const n = fsImpl.readSync(src.fd, a, 0, a.length, pos);
        this.at(t.rel, true);
        const m = fsImpl.readSync(fd, b, 0, b.length, pos);
        if (n !== m || a.compare(b, 0, m, 0, n) !== 0) return false;
        if (n === 0) return true;
        pos += n;
      }
    } finally {
      this.closeQuietly(fd);
    }
  }

  // ---- other entries ---------------------------------------------------------------------------------

  private copySymlink(op: Op): void {
    const t = this.resolve(op.dst);
    this.at(op.src, false);
    this.checkIdentity(op, fsImpl.lstatSync(op.src, { bigint: true }), S_IFLNK, 'lstat');
    const target = fsImpl.readlinkSync(op.src, { encoding: 'buffer' });
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
    // The child's cwd is our verified parent through our own fd, so the parent path (bytes, maybe not
    // UTF-8, maybe long) never goes through argv.
    const dirFd = fsImpl.openSync(t.dir, O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW);
    let tmp: Temp;
    try {
      const cwd = `/proc/${process.pid}/fd/${dirFd}`;
      tmp = this.temp(t, (_abs, name) => this.mknod(cwd, name.toString('utf8'), type, op.stat.rdev), prefix);
    } finally {
      this.closeQuietly(dirFd);
    }
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

  /** Hardlink and LinkFrom: link `from` at a temp name, rename it over the target. */
  private link(from: Buffer, fromRel: Buffer, fromOnDest: boolean, t: Target): void {
    this.at(fromRel, fromOnDest);
    const have = fsImpl.lstatSync(from, { bigint: true });
    this.at(t.rel, true);
    const old = fsImpl.lstatSync(t.abs, { bigint: true, throwIfNoEntry: false });
    // Already linked: rename() between two links of one inode would do nothing and leave the temp.
    if (old && old.ino === have.ino && old.dev === have.dev) return;
    // link(2) does not follow a symlink at `from`: it links the symlink itself.
    const tmp = this.temp(t, (abs, name) => {
      this.at(fromRel, fromOnDest, join(t.dirRel, name));
      fsImpl.linkSync(from, abs);
    });
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
    this.verified.add(t.rel.toString('latin1'));
  }

  private dirMeta(op: Op): void {
    this.at(op.dst, true);
    const fd =
      op.dst.length === 0
        ? fsImpl.openSync(this.root, C.O_RDONLY | C.O_DIRECTORY)
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
        this.verified.delete(t.rel.toString('latin1'));
      } else {
        fsImpl.unlinkSync(t.abs);
      }
    } catch (e) {
      if (codeOf(e) !== 'ENOENT') throw e;
    }
  }

  /** --backup: move dst aside to the absolute path in src, resolved beneath the root when it is inside. */
  private backup(op: Op): void {
    const t = this.resolve(op.dst);
    if (!fsImpl.lstatSync(t.abs, { throwIfNoEntry: false })) return;
    const inside = below(op.src, this.rootGiven) ?? below(op.src, this.root);
    const to = inside ? this.resolve(inside) : null;
    this.at(t.rel, true, to ? to.rel : op.src);
    fsImpl.renameSync(t.abs, to ? to.abs : op.src);
    this.verified.delete(t.rel.toString('latin1'));
  }
}
