// rsync's make_path for --mkpath (util1.c), judged before anything is written: which directories of
// the destination's path it makes, or the errno its failing mkdir gives, so that the plan can refuse as
// rsync's get_local_name refuses (main.c) and the run can make exactly those. The judgement writes
// nothing: the directories are made later, with makeDirs, the one place (with makeDir) the main thread
// writes outside the engines: the destination root, made before any engine context can be opened in it.
// Each directory is made with a plain mkdir, never Node's recursive one: libuv's loops forever (100% CPU,
// deaf to SIGTERM since it blocks the main thread) where mkdir answers ENOENT under a parent that exists,
// as it does under /proc.

import { lstatSync, mkdirSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { ERRNO } from './errors.js';

/** What rsync's make_path does with a path: the directories it makes, shallowest first, or its errno. */
export type PathMade = { made: Buffer[] } | { errno: number };

/**
 * rsync's make_path(path, dropName ? MKP_DROP_NAME : 0), step for step: from the deepest level up, a
 * mkdir until one succeeds or finds something; ENOENT goes one level up, EEXIST on a directory (or on a
 * link that leads nowhere, which its stat cannot tell) ends the search, anything else is the failure;
 * then each level below is made in turn. A dry run stats instead of making (a non-directory is ENOTDIR)
 * and makes nothing below. Nothing is written here: a mkdir's answer is foretold from what is on disk
 * (a level this judgement has "made" counts as made), the way rsync 3.5's do_mkdir_at answers: a relative
 * path with a directory part has that part resolved beneath the working directory, following a relative
 * link but refusing an absolute one or a climb above it (ELOOP), a file in its middle (ELOOP, ENOTDIR at
 * its end) and a ".." of its own (EINVAL); an absolute path, or --insecure-links, is a plain mkdir's.
 * So a link planted in the destination's path never has a directory made through it where rsync's
 * would not. What the disk alone decides (EACCES, EROFS, ENOSPC) is left to makeDirs' real mkdir.
 */
export function judgeMakePath(path: Buffer, dropName: boolean, o: { dryRun: boolean; insecure: boolean }): PathMade {
  let fname = path.toString('latin1');
  while (fname.startsWith('./')) fname = fname.slice(2);
  if (dropName) {
    const slash = fname.lastIndexOf('/');
    if (slash <= 0) return { made: [] };
    fname = fname.slice(0, slash);
  }
  if (!fname.length) return { made: [] };
  const made: string[] = [];
  // The ends of the levels looked at on the way up (rsync writes a NUL there), deepest first.
  const cuts = [fname.length];
  // Where the levels to make begin: below the level found or made, -1 below a relative path's top.
  let at: number;
  const mkdir = (p: string): number => (o.dryRun ? 0 : foretoldMkdir(p, made, o.insecure));
  for (let p = fname.length; ; ) {
    const level = fname.slice(0, p);
    let errno: number;
    if (o.dryRun) {
      const st = stat(level);
      errno = typeof st === 'number' ? st : st.isDirectory() ? ERRNO.EEXIST : ERRNO.ENOTDIR;
    } else {
      errno = mkdir(level);
      if (errno === 0) {
        made.push(level);
        at = p;
        break;
      }
    }
    if (errno !== ERRNO.ENOENT) {
      if (errno !== ERRNO.EEXIST) return { errno };
      const st = stat(level);
      // EEXIST on a non-directory is the failure; on a link that leads nowhere the search just ends.
      if (typeof st !== 'number' && !st.isDirectory()) return { errno };
      at = p;
      break;
    }
    // One level up: a relative path's top is taken to be there, as is "/".
    for (;;) {
      if (p === 0) break;
      p--;
      if (fname[p] === '/') break;
    }
    if (p === 0) {
      at = fname[0] === '/' ? 0 : -1;
      break;
    }
    cuts.push(p);
  }
  for (const cut of cuts.reverse()) {
    const level = fname.slice(0, cut);
    // (A level named twice, as in "a//", is one directory: made once.)
    if (cut <= at || made.some((m) => trimSlashes(m) === trimSlashes(level))) continue;
    const errno = mkdir(level);
    if (errno !== 0) return { errno };
    made.push(level);
  }
  return { made: made.map((m) => Buffer.from(m, 'latin1')) };
}

/** Makes the directories judgeMakePath said, in order; throws the failing mkdir's error. */
export function makeDirs(dirs: readonly Buffer[]): void {
  for (const d of dirs) mkdirSync(d);
}

/** The destination root when only its last level is missing (rsync's plain mkdir without --mkpath). */
export function makeDir(path: Buffer, mode?: number): void {
  mkdirSync(path, mode === undefined ? undefined : { mode });
}

/** stat(2), following links: the Stats, or the positive errno. */
function stat(p: string): Stats | number {
  try {
    return statSync(Buffer.from(p, 'latin1'));
  } catch (err) {
    return Math.abs((err as NodeJS.ErrnoException).errno ?? ERRNO.EIO);
  }
}

/** A positive errno, or 0 when lstat finds something. */
function lstatErrno(p: string): number {
  try {
    lstatSync(Buffer.from(p, 'latin1'));
    return 0;
  } catch (err) {
    return Math.abs((err as NodeJS.ErrnoException).errno ?? ERRNO.EIO);
  }
}

/** What rsync's do_mkdir_at(p) would answer (0: made), `made` being the levels already judged made. */
function foretoldMkdir(p: string, made: readonly string[], insecure: boolean): number {
  p = trimSlashes(p);
  const trimmed = made.map(trimSlashes);
  const slash = p.lastIndexOf('/');
  const parent = slash < 0 ? '.' : slash === 0 ? '/' : p.slice(0, slash);
  if (trimmed.includes(parent)) return 0;
  if (!insecure && slash > 0 && !p.startsWith('/')) {
    if (parent.split('/').includes('..')) return ERRNO.EINVAL;
    const e = walkBeneath(parent);
    if (e) return e;
  } else {
    const st = stat(parent);
    if (typeof st === 'number') return st;
    if (!st.isDirectory()) return ERRNO.ENOTDIR;
  }
  const e = lstatErrno(p);
  return e === 0 ? ERRNO.EEXIST : e === ERRNO.ENOENT ? 0 : e;
}

/**
 * rsync 3.5's secure_relative_open(NULL, dir, O_DIRECTORY) (syscall.c): `dir` resolved one name at a
 * time beneath the working directory; a relative link is followed (at most 40), an absolute one, or a
 * ".." above the start, is ELOOP; a non-directory is ENOTDIR at the end and ELOOP in the middle.
 * Returns the positive errno, or 0 when `dir` is a directory reached that way.
 */
function walkBeneath(dir: string): number {
  const stack = [process.cwd()];
  let hops = 40;
  const descend = (name: string): number => {
    if (name === '.') return 0;
    if (name === '..') {
      if (stack.length === 1) return ERRNO.ELOOP;
      stack.pop();
      return 0;
    }
    const here = `${stack[stack.length - 1] === '/' ? '' : stack[stack.length - 1]}/${name}`;
    let st: Stats;
    try {
      st = lstatSync(Buffer.from(here, 'latin1'));
    } catch (err) {
      return Math.abs((err as NodeJS.ErrnoException).errno ?? ERRNO.EIO);
    }
    if (st.isDirectory()) {
      stack.push(here);
      return 0;
    }
    if (!st.isSymbolicLink()) return ERRNO.ENOTDIR;
    const target = readlinkSync(Buffer.from(here, 'latin1'), { encoding: 'buffer' }).toString('latin1');
    if (!target.length || target.startsWith('/') || --hops < 0) return ERRNO.ELOOP;
    for (const n of target.split('/')) {
      if (!n.length) continue;
      const e = descend(n);
      if (e) return e;
    }
    return 0;
  };
  const names = dir.split('/').filter((n) => n.length > 0);
  for (let i = 0; i < names.length; i++) {
    const e = descend(names[i]!);
    if (e) return i < names.length - 1 && e === ERRNO.ENOTDIR ? ERRNO.ELOOP : e;
  }
  return 0;
}

/** `p` without its trailing slashes ("/" stays), as rsync's trim_trailing_slashes leaves a name to mkdir. */
function trimSlashes(p: string): string {
  let end = p.length;
  while (end > 1 && p[end - 1] === '/') end--;
  return p.slice(0, end);
}
