// The node engine's view of the destination: the root held open for the context's life, and its
// directories opened beneath it one O_NOFOLLOW component at a time (node-beneath.ts) and held in a small
// cache, so every destination call names its entry as /proc/self/fd/<dir fd>/<name> and a directory
// swapped for a symlink after it was opened cannot redirect anything (DESIGN.md §3.2).

import * as fs from 'node:fs';
import { O_PATH, below, openDirBeneath, procPath, trimSlashes, type LinkPolicy } from './node-beneath.js';
import { closeQuietly, sysError } from './node-fs.js';
import { fsImpl } from './node-fs.js';
import type { OpScope } from './node-scope.js';
import { joinPath } from '../util/names.js';

const C = fs.constants;
const DOTDOT = Buffer.from('..');

/** Destination directories held open at once: an op resolves at most two, so neither is evicted while in use; few, since each worker holds its own under a low `ulimit -n`. */
const DIR_CACHE = 4;

/** A destination entry, reached through its parent directory's held descriptor. */
export interface Target {
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

/**
 * Destination paths are relative to the root: one starting with '/' would leave it, and is refused with
 * the EXDEV that openat2's RESOLVE_BENEATH gives (native dest.c), not quietly taken as relative.
 */
function notAbsolute(rel: Buffer): void {
  if (rel[0] === 0x2f) throw sysError('EXDEV', 'open');
}

export class DestTree {
  /** The destination root's real path, and as given (for recognising --backup paths beneath it). */
  readonly root: Buffer;
  readonly rootGiven: Buffer;
  /** The destination root, held open (O_PATH) for the context's life: every destination path starts here. */
  readonly rootFd: number;
  /**
   * Destination directories opened beneath the root (relative paths as latin1 keys, so any bytes work),
   * least recently used first, so each is resolved once while it is in use rather than once per op.
   */
  private readonly dirs = new Map<string, number>();

  constructor(
    destRoot: Buffer,
    /** -K: symlinks to directories beneath the root may be followed. */
    private readonly keepDirlinks: boolean,
    private readonly scope: OpScope,
  ) {
    this.rootGiven = trimSlashes(destRoot);
    // The CLI resolved the root once (operator-path rule) to a path with no symlink: one found in it now
    // was swapped in since and must not redirect every write (ELOOP, as the native engines say). Node
    // has no openat2: this check-then-use leaves the race window the native engines close.
    this.root = fsImpl.realpathSync(destRoot, { encoding: 'buffer' });
    if (!this.root.equals(this.rootGiven)) throw sysError('ELOOP', 'open');
    if (!fsImpl.statSync(this.root).isDirectory()) {
      throw new Error(`destination root is not a directory: ${destRoot.toString()}`);
    }
    this.rootFd = fsImpl.openSync(destRoot, O_PATH | C.O_DIRECTORY);
  }

  /**
   * The held descriptor of the destination directory `dirRel` ("" = the root), opened beneath the root one
   * O_NOFOLLOW component at a time (node-beneath.ts): a symlink on the way is refused with ELOOP, like
   * openat2's RESOLVE_NO_SYMLINKS; with -K one that leads to a directory inside the root is followed, like
   * RESOLVE_BENEATH alone. Once open, the descriptor is that directory whatever is renamed or swapped later.
   */
  dirFd(dirRel: Buffer): number {
    if (dirRel.length === 0) return this.rootFd;
    notAbsolute(dirRel);
    const key = dirRel.toString('latin1');
    const held = this.dirs.get(key);
    if (held !== undefined) {
      this.dirs.delete(key); // most recently used goes last
      this.dirs.set(key, held);
      return held;
    }
    const fd = openDirBeneath(this.rootFd, dirRel, O_PATH, this.linkPolicy());
    this.dirs.set(key, fd);
    if (this.dirs.size > DIR_CACHE) {
      const [oldest, old] = this.dirs.entries().next().value as [string, number];
      this.dirs.delete(oldest);
      closeQuietly(old);
    }
    return fd;
  }

  /**
   * A new descriptor (not held) on the destination directory `rel` ("" = the root), opened with `flags`
   * and resolved as dirFd resolves: a symlink as the last component is refused with ELOOP too (or
   * followed with -K), as the native engines' openat2 does, never opened as itself (ENOTDIR).
   */
  openDir(rel: Buffer, flags: number): number {
    notAbsolute(rel);
    return openDirBeneath(this.rootFd, rel, flags, this.linkPolicy());
  }

  private linkPolicy(): LinkPolicy | undefined {
    return this.keepDirlinks ? (at: number, name: Buffer) => this.followDirLink(at, name) : undefined;
  }

  /** -K: a symlink to a directory is followed when the directory it reaches is the root or beneath it. */
  private followDirLink(at: number, name: Buffer): number {
    const fd = fsImpl.openSync(procPath(at, name), O_PATH | C.O_DIRECTORY);
    const real = fsImpl.readlinkSync(`/proc/self/fd/${fd}`, { encoding: 'buffer' });
    if (real.equals(this.root) || below(real, this.root) !== null) return fd;
    closeQuietly(fd);
    throw sysError('EXDEV', 'open');
  }

  /** Close the held descriptors of `rel` and everything beneath it (all of them without `rel`). */
  forget(rel?: Buffer): void {
    const key = rel?.toString('latin1');
    for (const [k, fd] of this.dirs) {
      if (key !== undefined && k !== key && !k.startsWith(`${key}/`)) continue;
      this.dirs.delete(k);
      closeQuietly(fd);
    }
  }

  /** Where a destination entry lives, through its parent's held descriptor. */
  resolve(rel: Buffer): Target {
    const cut = rel.lastIndexOf(0x2f);
    const dirRel = cut < 0 ? Buffer.alloc(0) : rel.subarray(0, cut);
    const name = cut < 0 ? rel : rel.subarray(cut + 1);
    this.scope.at(rel, true);
    notAbsolute(rel);
    if (name.length === 0 || name.equals(DOTDOT)) throw sysError('EINVAL', 'open');
    const fd = this.dirFd(dirRel);
    const dir = Buffer.from(`/proc/self/fd/${fd}`);
    return { rel, dirRel, fd, dir, name, abs: joinPath(dir, name) };
  }

  close(): void {
    this.forget();
    closeQuietly(this.rootFd);
  }
}
