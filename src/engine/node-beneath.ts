// Resolution beneath a held directory for the node engine, which has no openat/openat2: each component
// is opened relative to the previous one's descriptor through its /proc/self/fd/N/<name> path, with
// O_NOFOLLOW, so a symlink swapped in anywhere along the way is refused (ELOOP) instead of followed.
// The kernel resolves /proc/self/fd/N to the very directory the descriptor holds, wherever it is now:
// once opened, a directory can be renamed or replaced, but never turned into somewhere else.
//
// The same split of a source path into the operator's anchor (followed as given) and the walk's part
// (resolved here) as the addon's native/source.c.

import * as fs from 'node:fs';
import { fsImpl } from './node-fs.js';
import { sysError } from './node-fs.js';

const C = fs.constants;
/** Not in fs.constants; the value on x86-64 and arm64. Names an inode without opening it for I/O. */
export const O_PATH = 0o10000000;
const SLASH = 0x2f;
const DOT = Buffer.from('.');

/** The path through which `name` (or the directory itself) is reached relative to the held fd `fd`. */
export function procPath(fd: number, name: Buffer = DOT): Buffer {
  return Buffer.concat([Buffer.from(`/proc/self/fd/${fd}/`), name]);
}

/** The part of `path` below `dir`, or null when `path` is not strictly inside it. */
export function below(path: Buffer, dir: Buffer): Buffer | null {
  const slash = dir[dir.length - 1] === SLASH;
  const start = slash ? dir.length : dir.length + 1;
  if (path.length <= start || !path.subarray(0, dir.length).equals(dir)) return null;
  return slash || path[dir.length] === SLASH ? path.subarray(start) : null;
}

/** `p` without trailing slashes ("/" stays). */
export function trimSlashes(p: Buffer): Buffer {
  let n = p.length;
  while (n > 1 && p[n - 1] === SLASH) n--;
  return p.subarray(0, n);
}

const isDotDot = (c: Buffer): boolean => c.length === 2 && c[0] === 0x2e && c[1] === 0x2e;

/**
 * Called for a component that is a symlink: an fd on the directory it may be followed to (caller-checked,
 * e.g. -K's "still beneath the root"), or undefined to refuse it with ELOOP.
 */
export type LinkPolicy = (dirFd: number, name: Buffer) => number | undefined;

/**
 * Open the directory `rel` ("" = `at` itself) beneath the directory fd `at`, one O_NOFOLLOW component at a
 * time; the result is a new fd (O_PATH unless `flags` says otherwise). Throws ELOOP for a symlink on the
 * way (unless `link` accepts it), EXDEV for "..".
 */
export function openDirBeneath(at: number, rel: Buffer, flags = O_PATH, link?: LinkPolicy): number {
  let cur = at;
  const parts = rel.length ? splitComponents(rel) : [];
  try {
    if (!parts.length) return fsImpl.openSync(procPath(at), flags | C.O_DIRECTORY);
    for (let i = 0; i < parts.length; i++) {
      const comp = parts[i]!;
      if (isDotDot(comp)) throw sysError('EXDEV', 'open');
      const last = i === parts.length - 1;
      const fl = (last ? flags : O_PATH) | C.O_DIRECTORY | C.O_NOFOLLOW;
      let next: number;
      try {
        next = fsImpl.openSync(procPath(cur, comp), fl);
      } catch (e) {
        // O_NOFOLLOW on a symlink: ELOOP, or ENOTDIR together with O_PATH|O_DIRECTORY.
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ELOOP' && code !== 'ENOTDIR') throw e;
        if (!fsImpl.lstatSync(procPath(cur, comp), { throwIfNoEntry: false })?.isSymbolicLink()) throw e;
        const followed = link?.(cur, comp);
        if (followed === undefined) throw sysError('ELOOP', 'open');
        next = followed;
      }
      if (cur !== at) fsImpl.closeSync(cur);
      cur = next;
    }
    return cur;
  } catch (e) {
    if (cur !== at) fsImpl.closeSync(cur);
    throw e;
  }
}

function splitComponents(p: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= p.length; i++) {
    if (i === p.length || p[i] === SLASH) {
      if (i > start && !(i === start + 1 && p[start] === 0x2e)) out.push(p.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

/** A source path split at its anchor: anchor (followed), parent beneath it, last name. */
export interface SourceSplit {
  anchor: Buffer;
  parent: Buffer;
  name: Buffer;
  /** Nothing beneath the anchor: the path is the anchor itself (opened as given). */
  whole: boolean;
}

/** native/source.c's split_path: `anchor` leading bytes (0 or not on a boundary: the path's own directory). */
export function splitSource(src: Buffer, anchorLen: number): SourceSplit {
  let end = src.length;
  while (end > 1 && src[end - 1] === SLASH) end--;
  let a = anchorLen;
  if (a > src.length || (a > 0 && a < src.length && src[a] !== SLASH && src[a - 1] !== SLASH)) a = 0;
  if (a === 0) {
    const slash = end ? src.lastIndexOf(SLASH, end - 1) : -1;
    a = slash < 0 ? 0 : slash === 0 ? 1 : slash;
  }
  let r = a;
  while (r < end && src[r] === SLASH) r++;
  const rest = src.subarray(r, Math.max(r, end));
  const cut = rest.lastIndexOf(SLASH);
  return {
    anchor: a ? src.subarray(0, a) : DOT,
    parent: cut < 0 ? Buffer.alloc(0) : rest.subarray(0, cut),
    name: cut < 0 ? rest : rest.subarray(cut + 1),
    whole: r >= end,
  };
}

/**
 * The directory holding a source path, opened beneath its anchor (an O_PATH fd the caller closes), or
 * undefined when the path is its own anchor. A symlink or escape on the way means the tree changed since
 * the walk: ESTALE, as the addon reports it.
 */
export function openSourceParent(s: SourceSplit): number | undefined {
  if (s.whole) return undefined;
  if (isDotDot(s.name) || (s.name.length === 1 && s.name[0] === 0x2e)) throw sysError('ESTALE', 'fstat');
  const a = fsImpl.openSync(s.anchor, O_PATH | C.O_DIRECTORY);
  try {
    return openDirBeneath(a, s.parent);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw code === 'ELOOP' || code === 'EXDEV' ? sysError('ESTALE', 'fstat') : e;
  } finally {
    fsImpl.closeSync(a);
  }
}

/** A source directory opened for listing beneath its anchor (an fd the caller closes). */
export function openSourceDir(src: Buffer, anchorLen: number): number {
  const s = splitSource(src, anchorLen);
  if (s.whole) return fsImpl.openSync(src, C.O_RDONLY | C.O_DIRECTORY);
  const a = fsImpl.openSync(s.anchor, O_PATH | C.O_DIRECTORY);
  try {
    return openDirBeneath(a, s.parent.length ? Buffer.concat([s.parent, Buffer.from('/'), s.name]) : s.name, C.O_RDONLY);
  } finally {
    fsImpl.closeSync(a);
  }
}

/** Run `fn` on the path through which `src` is reached beneath its anchor, its directory held meanwhile. */
export function atSourcePath<T>(src: Buffer, anchorLen: number, fn: (path: Buffer) => T): T {
  const s = splitSource(src, anchorLen);
  const fd = openSourceParent(s);
  try {
    return fn(fd === undefined ? src : procPath(fd, s.name));
  } finally {
    if (fd !== undefined) fsImpl.closeSync(fd);
  }
}
