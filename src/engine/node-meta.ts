// The node engine's metadata: owner, mode and times set on an entry in the contract's order (on the fd,
// or on a symlink by name, or on a special file through /proc), only where they differ; the mode a new
// entry gets; and the Attrs op. The twin of the addon's native/meta.c.

import * as fs from 'node:fs';
import type { Op } from './batch.js';
import { O_PATH } from './node-beneath.js';
import { closeAfter, closeQuietly, codeOf, discard, sysError } from './node-fs.js';
import { fsImpl } from './node-fs.js';
import { splitNs } from './node-walk.js';
import { OpFlag, Preserve } from '../model/ops.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, execMode } from '../model/stat.js';
import type { Target } from './node-dest.js';

const C = fs.constants;

/** How metadata reaches one entry: an fd, a symlink by name, or a special file through /proc. */
export interface MetaHandle {
  chown(uid: number, gid: number): void;
  chmod(mode: number): void;
  utimes(atime: number | string, mtime: number | string): void;
  /** The entry's current state, so that what already matches is not set again (keeps ctime). */
  stat(): { uid: bigint; gid: bigint; mode: bigint; atimeNs: bigint; mtimeNs: bigint };
}

export const byFd = (fd: number): MetaHandle => ({
  chown: (uid, gid) => fsImpl.fchownSync(fd, uid, gid),
  chmod: (mode) => fsImpl.fchmodSync(fd, mode),
  utimes: (atime, mtime) => fsImpl.futimesSync(fd, atime, mtime),
  stat: () => fsImpl.fstatSync(fd, { bigint: true }),
});

/** lchown and lutimes act on the link itself; a symlink has no mode of its own. */
export const symlinkByName = (abs: Buffer): MetaHandle => ({
  chown: (uid, gid) => fsImpl.lchownSync(abs, uid, gid),
  chmod: () => undefined,
  utimes: (atime, mtime) => fsImpl.lutimesSync(abs, atime, mtime),
  stat: () => fsImpl.lstatSync(abs, { bigint: true }),
});

/** Through the /proc link of an O_PATH fd the calls reach that inode, never a symlink swapped in later. */
export function byPathFd(fd: number): MetaHandle {
  const self = `/proc/self/fd/${fd}`;
  return {
    chown: (uid, gid) => fsImpl.chownSync(self, uid, gid),
    chmod: (mode) => fsImpl.chmodSync(self, mode),
    utimes: (atime, mtime) => fsImpl.utimesSync(self, atime, mtime),
    stat: () => fsImpl.fstatSync(fd, { bigint: true }),
  };
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

/** An O_PATH fd on a destination entry that must still be of `type` (else ESTALE). */
export function openPath(abs: Buffer, type: number): number {
  const fd = fsImpl.openSync(abs, O_PATH | C.O_NOFOLLOW);
  try {
    if ((Number(fsImpl.fstatSync(fd, { bigint: true }).mode) & S_IFMT) !== type) throw sysError('ESTALE', 'fstat');
    return fd;
  } catch (e) {
    closeQuietly(fd);
    throw e;
  }
}

/** rsync's am_root as the engine options carry it (Preserve.Super/NoSuper), else the effective uid. */
export function actsAsRoot(flags: number): boolean {
  if (flags & Preserve.Super) return true;
  if (flags & Preserve.NoSuper) return false;
  return process.geteuid?.() === 0;
}

export class NodeMeta {
  /** Per destination directory (relative, latin1): rsync's default permissions for new entries. */
  private readonly dfltPerms = new Map<string, number>();

  constructor(
    private readonly flags: number,
    private readonly umask: number,
    /** A probe file created beside `t` (the temp-name rule of the ops). */
    private readonly probe: (t: Target, create: (abs: Buffer) => number) => { abs: Buffer; made: number },
  ) {
    this.isRoot = actsAsRoot(flags);
  }

  private readonly isRoot: boolean;
  /** rsync's FLAG_SKIP_GROUP: not acting as root, only groups we are a member of are set (native/meta.c). */
  private readonly memberGids = new Set([...(process.getgroups?.() ?? []), process.getegid?.() ?? 0]);

  /** Owner, then mode (when not null), then times, in the contract's order. */
  apply(op: Op, h: MetaHandle, mode: number | null, isDir = false): void {
    // Only what differs is set, like the native engines: an up-to-date entry keeps its ctime.
    const cur = h.stat();
    const uid = this.isRoot && this.flags & Preserve.Owner && BigInt(op.stat.uid) !== cur.uid ? op.stat.uid : -1;
    const gid = this.flags & Preserve.Group && (this.isRoot || this.memberGids.has(op.stat.gid)) && BigInt(op.stat.gid) !== cur.gid ? op.stat.gid : -1;
    if (uid !== -1 || gid !== -1) {
      try {
        h.chown(uid, gid);
      } catch (e) {
        // As non-root we only ever set the group; like rsync, a group we are not in is not an error.
        if (this.isRoot || codeOf(e) !== 'EPERM') throw e;
      }
    }
    if (mode !== null && BigInt(mode) !== (cur.mode & 0o7777n)) h.chmod(mode);
    const isLink = (op.stat.mode & S_IFMT) === S_IFLNK;
    if (isLink && this.flags & Preserve.OmitLinkTimes) return;
    // -t sets the mtime, -U the access time (whole seconds, as rsync; never a directory's). What is not
    // set is passed back as it is: Node cannot leave one of the two alone (UTIME_OMIT) as the contract does.
    const setM = (this.flags & Preserve.Times) !== 0 && !(isDir && this.flags & Preserve.OmitDirTimes);
    const atime = this.flags & Preserve.Atimes && !isDir && (op.stat.mode & S_IFMT) !== S_IFDIR ? op.stat.atimeSec : undefined;
    // Node sets times through a double: within a microsecond is as close as it gets, so it counts as equal.
    const want = BigInt(op.stat.mtimeSec) * 1_000_000_000n + BigInt(op.stat.mtimeNsec);
    const diff = cur.mtimeNs - want;
    const mDiffers = setM && (diff >= 1000n || diff <= -1000n);
    const aDiffers = atime !== undefined && cur.atimeNs / 1_000_000_000n !== BigInt(atime);
    if (mDiffers || aDiffers) {
      const [asec, ansec] = atime !== undefined ? [atime, 0] : splitNs(cur.atimeNs);
      const [msec, mnsec] = setM ? [op.stat.mtimeSec, op.stat.mtimeNsec] : splitNs(cur.mtimeNs);
      h.utimes(utime(asec, ansec), utime(msec, mnsec));
    }
  }

  /**
   * The mode -p preserves (the source's), or null without -p: left as it is. A directory's, not acting
   * as root, with owner write keeps all of the owner's bits rsync fills it with (native/ops.c perms_mode).
   */
  preservedMode(op: Op, dir = false): number | null {
    if (!(this.flags & Preserve.Perms)) return null;
    const m = op.stat.mode & 0o7777;
    return dir && !this.isRoot && !(this.flags & Preserve.FakeSuper) && m & 0o200 ? m | 0o700 : m;
  }

  /**
   * Without -p, a directory filled with all of the owner's bits (OpFlag.OwnerBits) gets back the owner's
   * bits its op's mode lacks; not acting as root only when that mode lacks owner write, as rsync's
   * touch_up_dirs (native/ops.c owner_bits_mode). Null: nothing to set.
   */
  ownerBitsMode(op: Op, cur: number): number | null {
    const give = op.stat.mode & 0o700;
    if (this.flags & (Preserve.Perms | Preserve.FakeSuper) || !(op.flags & OpFlag.OwnerBits) || give === 0o700) return null;
    if (!this.isRoot && give & 0o200) return null;
    return cur & 0o7777 & ~(0o700 & ~give);
  }

  /** Mkdir with OpFlag.OwnerBits, not acting as root: an existing directory of ours gets all of the owner's bits while the run fills it. */
  openUpMode(op: Op, cur: fs.BigIntStats | fs.Stats): number | null {
    const mode = Number(cur.mode);
    if (!(op.flags & OpFlag.OwnerBits) || this.isRoot || (mode & 0o700) === 0o700 || Number(cur.uid) !== process.geteuid?.()) return null;
    return (mode & 0o7777) | 0o700;
  }

  /**
   * The mode a new entry gets: the source's with -p (or the op's own, OpFlag.GivenMode), else an existing
   * target's, else the source's filtered through its directory's default permissions. A regular file the
   * user cannot read counts as new (native meta_target_mode: rsync's receiver takes the mode of the basis
   * it opened, and treats one it could not open as absent).
   */
  modeFor(op: Op, t: Target): number {
    if (this.flags & Preserve.Perms || op.flags & OpFlag.GivenMode) return op.stat.mode & 0o7777;
    const old = fsImpl.lstatSync(t.abs, { throwIfNoEntry: false });
    const kept = old && (old.mode & S_IFMT) === (op.stat.mode & S_IFMT) && ((old.mode & S_IFMT) !== S_IFREG || this.readable(t.abs));
    if (kept) return this.existingMode(op, old.mode);
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
        const probe = this.probe(t, (abs) => fsImpl.openSync(abs, C.O_RDONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o777));
        try {
          perms = fsImpl.fstatSync(probe.made).mode & 0o777;
        } finally {
          discard(probe.abs, probe.made);
        }
      } catch {
        // the op that follows reports what is wrong with the directory
      }
      this.dfltPerms.set(key, perms);
    }
    return perms;
  }

  /** Whether this process may open `abs` for reading (root may open anything). */
  private readable(abs: Buffer): boolean {
    if (process.geteuid?.() === 0) return true;
    try {
      fsImpl.accessSync(abs, C.R_OK);
      return true;
    } catch {
      return false;
    }
  }

  /** Without -p, an existing entry keeps its bits; under -E a regular file's execute bits follow. */
  private existingMode(op: Op, cur: number): number {
    return this.flags & Preserve.Executability && (op.stat.mode & S_IFMT) === S_IFREG ? execMode(op.stat.mode, cur) : cur & 0o7777;
  }

  /** The Attrs op (also -c's "equal" case): preserved attributes of an existing entry, in place. */
  setAttrs(op: Op, abs: Buffer): void {
    const st = fsImpl.lstatSync(abs);
    const mode = this.preservedMode(op, st.isDirectory()) ?? (this.flags & Preserve.Executability && st.isFile() ? this.existingMode(op, st.mode) : null);
    if (st.isSymbolicLink()) return this.apply(op, symlinkByName(abs), null);
    // Regular files and directories are opened (O_NONBLOCK in case a FIFO was swapped in); other types
    // never are: opening a device can have side effects.
    let held = !(st.isFile() || st.isDirectory());
    let fd: number;
    if (held) fd = openPath(abs, st.mode & S_IFMT);
    else {
      try {
        fd = fsImpl.openSync(abs, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
      } catch (e) {
        // A file of ours that we may not read (mode 000): rsync sets its attributes by name all the same;
        // held by O_PATH, set through /proc/self/fd (native do_attrs).
        if (codeOf(e) !== 'EACCES' || !st.isFile() || this.isRoot || this.flags & Preserve.FakeSuper) throw e;
        fd = openPath(abs, S_IFREG);
        held = true;
      }
    }
    closeAfter(fd, () => this.apply(op, held ? byPathFd(fd) : byFd(fd), mode, st.isDirectory()));
  }
}
