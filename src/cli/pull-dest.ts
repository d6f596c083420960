// A pull's view of its destination before the local run: each entry looked up through a held descriptor
// of its directory, opened from the destination's root one component at a time following no symlink (a
// symlink planted in the destination is never followed), the last directory kept open because the list
// comes a directory at a time. Only reads: every write to the destination is the local run's.

import * as fs from 'node:fs';
import type { DirListing } from '../model/listing.js';
import type { Stat } from '../model/stat.js';

/** An engine's listing of one directory with each entry's lstat (engine/engine.ts scanDir). */
export type ScanDir = (path: Buffer, anchor: number) => DirListing | { errno: number };

const O_DIRECTORY = fs.constants.O_DIRECTORY;
const O_NOFOLLOW = fs.constants.O_NOFOLLOW;
const O_NONBLOCK = fs.constants.O_NONBLOCK;

export class PullDest {
  /** The destination directory last looked into and its ancestors, held open (fd -1: it has no such directory). */
  private held: { rel: string; fd: number }[] = [];

  /** Directories listed whole (scanDir), by relative name: the one being looked into and its ancestors. */
  private readonly listed = new Map<string, Map<string, Stat> | undefined>();

  constructor(
    /** The directory the list's names are relative to, or the one file a single-file pull names. */
    readonly dest: { dir: Buffer } | { file: Buffer },
    /** Lists a directory with each entry's lstat in one call (the addon's getdents and statx). */
    private readonly scan?: ScanDir,
  ) {}

  /**
   * The destination entry at `rel` (not the root), from its directory listed whole through the held
   * descriptor (one call a directory instead of one lstat a name); undefined when there is none.
   */
  entry(rel: string): Stat | undefined {
    const slash = rel.lastIndexOf('/');
    return this.entryIn(rel, slash < 0 ? '.' : rel.slice(0, slash), rel.slice(slash + 1));
  }

  /** As entry, for a caller that has already split `rel` into its directory (".": the root) and its last name. */
  entryIn(rel: string, dir: string, base: string): Stat | undefined {
    if (!this.scan || 'file' in this.dest || rel === '.') {
      const st = this.lstat(rel);
      return st && statOf(st);
    }
    let names = this.listed.get(dir);
    if (names === undefined && !this.listed.has(dir)) {
      // The list goes depth first: only the ancestors of this directory can be asked for again.
      for (const k of this.listed.keys()) if (k !== '.' && !(dir.startsWith(k) && dir[k.length] === '/')) this.listed.delete(k);
      const fd = this.dirFd(dir);
      // The magic link names the held directory itself: the scan opens what was opened following no symlink.
      const at = Buffer.from(`/proc/self/fd/${fd}`, 'latin1');
      const l = fd < 0 ? undefined : this.scan(at, at.length);
      if (l && !('errno' in l)) {
        names = new Map();
        for (let i = 0; i < l.names.length; i++) if (l.stats[i]) names.set(l.names[i]!.toString('latin1'), l.stats[i]!);
      } else names = undefined;
      this.listed.set(dir, names);
    }
    return names?.get(base);
  }

  /** Closes the directories held open. */
  close(): void {
    for (const h of this.held) if (h.fd >= 0) fs.closeSync(h.fd);
    this.held = [];
  }

  /**
   * The destination directory `dir` (relative to the root, "." the root itself), opened following no
   * symlink. The directories on the way to the last one asked for stay open: the list goes depth first,
   * so each directory is opened once, from its parent's descriptor.
   */
  private dir(dir: string): number {
    const fd = this.dirFd(dir);
    if (fd < 0) throw new Error(`the destination has no directory ${dir}`);
    return fd;
  }

  /**
   * As dir, but -1 when the destination has no such directory: a fresh pull asks once per directory
   * of the list, and an Error made for each (its stack and all) cost more than the look-up itself.
   */
  private dirFd(dir: string): number {
    const held = this.held;
    const top = held[held.length - 1];
    if (top?.rel === dir) return top.fd;
    // Back up to the deepest held ancestor of `dir` (the root at worst).
    while (held.length && !(held[held.length - 1]!.rel === '.' || dir.startsWith(`${held[held.length - 1]!.rel}/`))) {
      const h = held.pop()!;
      if (h.fd >= 0) fs.closeSync(h.fd);
    }
    if (!held.length) {
      const root = (this.dest as { dir: Buffer }).dir;
      let fd = -1;
      try {
        fd = fs.openSync(root, fs.constants.O_RDONLY | O_DIRECTORY);
      } catch {
        // Remembered below: a fresh pull into a new destination asks for each file.
      }
      held.push({ rel: '.', fd });
    }
    let at = held[held.length - 1]!;
    // A directory the destination does not have is remembered too (a fresh pull asks for each file).
    if (at.fd < 0 || dir === '.') return at.fd;
    const rest = at.rel === '.' ? dir : dir.slice(at.rel.length + 1);
    for (const part of rest.split('/')) {
      const rel = at.rel === '.' ? part : `${at.rel}/${part}`;
      let fd = -1;
      try {
        fd = fs.openSync(Buffer.from(`/proc/self/fd/${at.fd}/${part}`, 'latin1'), fs.constants.O_RDONLY | O_NOFOLLOW | O_DIRECTORY);
      } catch {
        // Remembered as absent (fd -1), with everything below it.
      }
      held.push((at = { rel, fd }));
      if (fd < 0) break;
    }
    return at.fd;
  }

  /** Where the destination's entry at `rel` is, through its held directory (the last component is not followed by lstat, readlink or O_NOFOLLOW). */
  path(rel: string): Buffer {
    if ('file' in this.dest) return this.dest.file;
    if (rel === '.') return Buffer.from(`/proc/self/fd/${this.dir('.')}/.`, 'latin1');
    const slash = rel.lastIndexOf('/');
    const fd = this.dir(slash < 0 ? '.' : rel.slice(0, slash));
    return Buffer.from(`/proc/self/fd/${fd}/${rel.slice(slash + 1)}`, 'latin1');
  }

  /** The destination entry's lstat (nanosecond times), undefined when there is none. */
  lstat(rel: string): fs.BigIntStats | undefined {
    try {
      return fs.lstatSync(this.path(rel), { bigint: true });
    } catch {
      return undefined;
    }
  }

  /**
   * -K: whether the destination's entry at `rel` leads to a directory inside the destination, its last
   * component followed (a decision input only, as the local run's run/dest.ts follow: nothing is opened
   * or written through it). One leading out of it does not count: every write below it is refused (DESIGN
   * §3 rule 2), as rsync's generator fails each entry there, so nothing below is worth asking for.
   */
  leadsToDir(rel: string): boolean {
    try {
      if (!fs.statSync(this.path(rel)).isDirectory()) return false;
      // Only where it ends up: an absolute link, or one that climbs out and back in, leads inside, and
      // whether the local run goes through it is its engine's (the node engine does; openat2's
      // RESOLVE_BENEATH does not): in doubt, it counts, and what is below is fetched.
      const root = fs.realpathSync(this.path('.'));
      const there = fs.realpathSync(this.path(rel));
      return there === root || there.startsWith(root === '/' ? '/' : `${root}/`);
    } catch {
      return false;
    }
  }

  /** A destination symlink's target, undefined when it is none now. */
  readlink(rel: string): Buffer | undefined {
    try {
      return fs.readlinkSync(this.path(rel), { encoding: 'buffer' });
    } catch {
      return undefined;
    }
  }

  /** The names in the destination directory `rel` (latin1), undefined when it cannot be read. */
  names(rel: string): string[] | undefined {
    try {
      const fd = this.dir(rel);
      return fs.readdirSync(`/proc/self/fd/${fd}`, { encoding: 'buffer' }).map((n) => n.toString('latin1'));
    } catch {
      return undefined;
    }
  }

  /** The destination's file or directory at `rel`, opened following no symlink; undefined when none. */
  openEntry(rel: string): { fd: number } | undefined {
    let fd: number;
    try {
      fd = fs.openSync(this.path(rel), fs.constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch {
      return undefined;
    }
    const st = fs.fstatSync(fd);
    if (st.isFile() || st.isDirectory()) return { fd };
    fs.closeSync(fd);
    return undefined;
  }

  /** The destination's file at `rel` opened for reading, following no symlink on the way; throws when it is no regular file now. */
  openFile(rel: string): number {
    const fd = fs.openSync(this.path(rel), fs.constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    if (!fs.fstatSync(fd).isFile()) {
      fs.closeSync(fd);
      throw new Error(`the destination's ${rel} is no longer a regular file`);
    }
    return fd;
  }
}

/** A lstat with nanosecond times as the planner's Stat. */
function statOf(st: fs.BigIntStats): Stat {
  return {
    mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), size: Number(st.size),
    mtimeSec: Number(st.mtimeNs / 1_000_000_000n), mtimeNsec: Number(st.mtimeNs % 1_000_000_000n),
    ino: Number(st.ino), dev: Number(st.dev), nlink: Number(st.nlink), rdev: Number(st.rdev), blocks: Number(st.blocks),
  };
}
