// The node:fs walker, for the `node` engine: the same answers as the addon's scanDir/lstat
// (docs/native-contract.md), names as bytes, failures as { errno, syscall } instead of throws. Every
// call goes through `fsImpl` (node-fs.ts), so tests can inject errors.

import type * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import { openSourceDir, procPath } from './node-beneath.js';
import { asValue, toFailure, type WalkFailure } from './node-fs.js';
import { fsImpl } from './node-fs.js';
import { S_IFLNK, S_IFMT, type Stat } from '../model/stat.js';
import type { DirListing } from '../model/listing.js';

/** [seconds, nanoseconds] of a bigint nanosecond time, nanoseconds always in [0, 1e9) (floored). */
export function splitNs(ns: bigint): [number, number] {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  return [Number(sec), Number(nsec)];
}

/** The Stat shape of the walk: plain numbers, mtime split into seconds and nanoseconds (floored). */
export function toStat(st: fs.BigIntStats): Stat {
  const [sec, nsec] = splitNs(st.mtimeNs);
  return {
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: Number(st.size),
    mtimeSec: sec,
    mtimeNsec: nsec,
    atimeSec: Number(st.atimeNs / 1_000_000_000n),
    ino: Number(st.ino),
    // Node reports dev/rdev glibc-makedev-encoded, as the addon does.
    dev: Number(st.dev),
    nlink: Number(st.nlink),
    rdev: Number(st.rdev),
    blocks: Number(st.blocks),
  };
}

/**
 * One directory's entries (no . or ..) with their lstat, in readdir order. `follow` is for callers that
 * pass a path they hold (the engine's scanDest, through /proc/self/fd); otherwise the directory is opened
 * beneath the first `anchor` bytes of `path` without following symlinks (node-beneath.ts), like the addon,
 * and listed through that descriptor.
 */
export function nodeScanDir(path: Buffer, follow = false, anchor = 0): DirListing | WalkFailure {
  if (follow) return listPath(path);
  let fd: number;
  try {
    fd = openSourceDir(path, anchor);
  } catch (e) {
    // As the addon reports a directory it cannot open.
    return { errno: toFailure(e, 'scandir').errno, syscall: 'scandir' };
  }
  try {
    return listPath(procPath(fd));
  } finally {
    fsImpl.closeSync(fd);
  }
}

function listPath(path: Buffer): DirListing | WalkFailure {
  const listed = nodeListNames(path, true);
  if (!Array.isArray(listed)) return listed;
  const dir = dirPrefix(path);
  const names: Buffer[] = [];
  const stats: (Stat | null)[] = [];
  const errors: number[] = [];
  for (const n of listed) {
    const name = Buffer.from(n, 'latin1');
    const r = nodeLstatIn(dir, name);
    names.push(name);
    stats.push(r.st);
    errors.push(r.err);
  }
  return { names, stats, errors };
}
/**
 * One directory's names, in readdir order, as latin1 strings (one char per byte, so they are exact and
 * their default sort order is byte order; far smaller than a Buffer each). `follow` as for nodeScanDir.
 */
export function nodeListNames(path: Buffer, follow = false): string[] | WalkFailure {
  // The addon opens the directory O_NOFOLLOW; readdir would follow, so refuse a symlink first.
  if (!follow) {
    try {
      if ((Number(fsImpl.lstatSync(path, { bigint: true }).mode) & S_IFMT) === S_IFLNK) {
        return { errno: osConstants.errno.ELOOP, syscall: 'scandir' };
      }
    } catch (e) {
      return toFailure(e, 'lstat');
    }
  }
  return asValue('scandir', () => fsImpl.readdirSync(path, { encoding: 'latin1' }));
}

/** `path` with a trailing slash, ready for names to be appended. */
export function dirPrefix(path: Buffer): Buffer {
  return path.length > 0 && path[path.length - 1] !== 0x2f ? Buffer.concat([path, Buffer.from('/')]) : path;
}

/** lstat of one entry of a directory (`dir` from dirPrefix); st null with the errno when it failed. */
export function nodeLstatIn(dir: Buffer, name: Buffer): { st: Stat | null; err: number } {
  try {
    // Entries that vanish between readdir and lstat are common in live trees: no exception for those.
    const st = fsImpl.lstatSync(Buffer.concat([dir, name]), { bigint: true, throwIfNoEntry: false });
    return st ? { st: toStat(st), err: 0 } : { st: null, err: osConstants.errno.ENOENT };
  } catch (e) {
    return { st: null, err: toFailure(e, 'lstat').errno };
  }
}

/** stat(2) of one path (following symlinks), in the walk's Stat shape. */
export function nodeStat(path: Buffer): Stat | WalkFailure {
  return asValue('stat', () => toStat(fsImpl.statSync(path, { bigint: true })));
}

export function nodeReadlink(path: Buffer): Buffer | WalkFailure {
  return asValue('readlink', () => fsImpl.readlinkSync(path, { encoding: 'buffer' }));
}

/** lstat of one path, in the walk's Stat shape. */
export function nodeLstat(path: Buffer): Stat | WalkFailure {
  return asValue('lstat', () => toStat(fsImpl.lstatSync(path, { bigint: true })));
}
