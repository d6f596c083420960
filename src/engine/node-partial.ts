// --partial-dir and --delay-updates on the node engine, the twin of native/partial.c: where a kept
// partial file and a delayed update wait. A relative partial dir is one per destination directory,
// made (0700) when a file goes into it and removed once emptied; an absolute one is the operator's (the
// CLI resolved it to hold no symlink), opened once and held. No symlink is followed on the way: the
// relative dir is opened beneath its parent one O_NOFOLLOW component at a time.

import * as fs from 'node:fs';
import { O_PATH, openDirBeneath, procPath } from './node-beneath.js';
import { closeQuietly, codeOf, fsImpl, sysError } from './node-fs.js';

const C = fs.constants;
const SLASH = 0x2f;

/** The run's partial dir. `open` answers a directory's path through a descriptor, to `put` back after use. */
export class PartialDir {
  private held = -1;
  private readonly abs: boolean;
  /** The leaf, and the path of its parent ("" for a single component). */
  private readonly leaf: Buffer;
  private readonly parent: Buffer;

  constructor(spec: Buffer) {
    this.abs = spec[0] === SLASH;
    const i = spec.lastIndexOf(SLASH);
    this.leaf = spec.subarray(i + 1);
    this.parent = i < 0 ? Buffer.alloc(0) : i === 0 ? Buffer.from('/') : spec.subarray(0, i);
  }

  /**
   * The partial dir of the destination directory `dirFd` (an absolute one is the same for all), as an
   * fd; `create`: made 0700 when missing, a non-directory in its place removed first (rsync's
   * handle_partial_dir). Throws like open (ENOENT when missing and not `create`).
   */
  open(dirFd: number, create: boolean): number {
    if (this.abs && this.held >= 0) return this.held;
    const par = this.abs ? openAbsolute(this.parent) : openDirBeneath(dirFd, this.parent, O_PATH);
    try {
      const at = procPath(par, this.leaf);
      let fd: number;
      try {
        fd = fsImpl.openSync(at, O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW);
      } catch (e) {
        const code = codeOf(e);
        if (!create || (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'ELOOP')) throw e;
        if (code !== 'ENOENT') fsImpl.unlinkSync(at);
        try {
          fsImpl.mkdirSync(at, 0o700);
        } catch (m) {
          if (codeOf(m) !== 'EEXIST') throw m;
        }
        fd = fsImpl.openSync(at, O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW);
      }
      if (this.abs) this.held = fd;
      return fd;
    } finally {
      fsImpl.closeSync(par);
    }
  }

  /** Done with what `open` gave (the held absolute dir stays open). */
  put(fd: number): void {
    if (fd !== this.held) closeQuietly(fd);
  }

  /** A relative partial dir of `dirFd` removed if empty (rsync's PDIR_DELETE); best effort. */
  removeIfEmpty(dirFd: number): void {
    if (this.abs) return;
    try {
      const par = openDirBeneath(dirFd, this.parent, O_PATH);
      try {
        fsImpl.rmdirSync(procPath(par, this.leaf));
      } finally {
        fsImpl.closeSync(par);
      }
    } catch {
      // not there, not empty, or not a directory: kept
    }
  }

  /**
   * After `name` in `dirFd` was written in full: its partial file is used up (unlinked), and then only
   * the dir removed if empty (native/partial.c's rule: an empty dir of that name is not a used one).
   */
  consumed(dirFd: number, name: Buffer): void {
    let fd: number;
    try {
      fd = this.open(dirFd, false);
    } catch {
      return; // no partial dir here: nothing was kept for this name
    }
    try {
      fsImpl.unlinkSync(procPath(fd, name));
    } catch {
      return; // no partial file for this name
    } finally {
      this.put(fd);
    }
    this.removeIfEmpty(dirFd);
  }

  /**
   * A finished file placed by `place`: at `t` (then its partial file is used up), or with --delay-updates
   * (`delay`) at its name in the partial dir (made when missing), where the Delayed op finds it.
   */
  finish<T extends Spot>(t: T, delay: boolean, place: (into: T) => void): void {
    if (!delay) {
      place(t);
      return this.consumed(t.fd, t.name);
    }
    // A partial dir that cannot be opened or made fails the file as the native engines do ("mkdir").
    let fd: number;
    try {
      fd = this.open(t.fd, true);
    } catch (e) {
      throw sysError(codeOf(e) ?? 'EIO', 'mkdir');
    }
    try {
      place(inPartialDir(t, fd));
    } finally {
      this.put(fd);
    }
  }

  /** --partial's kept data, moved by `commit` to its name in the partial dir (made when missing). */
  keep<T extends Spot>(t: T, commit: (into: T) => void): void {
    this.within(t, true, (fd) => commit(inPartialDir(t, fd)));
  }

  /** The Delayed op: the file waiting for `t`, renamed over it by `commit(from)`; an emptied relative dir removed. */
  delayed(t: Spot, commit: (from: Buffer) => void): void {
    this.within(t, false, (fd) => commit(procPath(fd, t.name)));
    this.removeIfEmpty(t.fd);
  }

  private within(t: Spot, create: boolean, fn: (fd: number) => void): void {
    const fd = this.open(t.fd, create);
    try {
      fn(fd);
    } finally {
      this.put(fd);
    }
  }

  close(): void {
    closeQuietly(this.held);
    this.held = -1;
  }
}

/** What the partial dir needs of a target (node-dest.ts Target). */
interface Spot {
  rel: Buffer;
  dirRel: Buffer;
  fd: number;
  dir: Buffer;
  name: Buffer;
  abs: Buffer;
}

/** The context's partial dir for the Delayed op, which is only sent with one. */
export function partialDirOf(pd: PartialDir | undefined): PartialDir {
  if (!pd) throw sysError('EINVAL', 'rename');
  return pd;
}

/**
 * A file kept by --partial at the target's name: mtime 0, as rsync's cleanup leaves it (a signal or the
 * file's own failure; rsync stops the run at either): with a time of now it would be newer than the
 * source, and -u would never complete it. Best effort; fd -1 (already closed) leaves it.
 */
export function partialTime(fd: number): void {
  if (fd < 0) return;
  try {
    fsImpl.futimesSync(fd, fsImpl.fstatSync(fd).atime, 0);
  } catch {
    // kept as it is
  }
}

/** A kept partial file's permission bits: the finished file's, not the temp's 0600. Best effort. */
export function partialMode(fd: number, mode: number): void {
  if (fd < 0) return;
  try {
    fsImpl.fchmodSync(fd, mode & 0o7777);
  } catch {
    // kept as it is
  }
}

/** An absolute path that the CLI resolved to hold no symlink, opened following none now either. */
function openAbsolute(path: Buffer): number {
  const root = fsImpl.openSync('/', O_PATH | C.O_DIRECTORY);
  try {
    return openDirBeneath(root, path.subarray(1), O_PATH);
  } finally {
    fsImpl.closeSync(root);
  }
}

/** The place `t`'s file takes in the partial dir `fd` (failures still blamed on `t`). */
function inPartialDir<T extends Spot>(t: T, fd: number): T {
  return { ...t, fd, dir: procPath(fd), abs: procPath(fd, t.name) };
}
