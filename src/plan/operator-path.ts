// rsync 3.5's operator-path rule, the one place it lives: a path the operator gives (the destination and
// its parents, --backup-dir, --link-dest/--copy-dest/--compare-dest, --files-from, --exclude-from,
// --include-from, merge files, and later --temp-dir, --partial-dir, --log-file) may pass through a
// symlink only when root or the running user owns it. A user who can write somewhere along such a path
// could otherwise plant a symlink and steer a root run's reads or writes out of the tree.
// --insecure-links turns the rule off (the old follow-anything behaviour).

import { lstatSync, readlinkSync } from 'node:fs';
import { ERRNO } from '../util/errors.js';

/** rsync 3.5's words for a refusal (its daemon clause dropped: arsync has no daemon). */
export const UNTRUSTED_SYMLINK =
  'refusing to follow a symlink owned by an untrusted user; use --insecure-links ONLY if every path component is trusted';

/** strerror(ELOOP), the reason rsync gives next to the path it could not use. */
export const ELOOP_TEXT = 'Too many levels of symbolic links (40)';

export interface OperatorPathOptions {
  /** --insecure-links: follow every symlink, as before rsync 3.5. */
  insecure: boolean;
  /** The user whose symlinks are trusted besides root (default: the effective uid). */
  euid?: number;
  /** Relative paths start here (default: the current directory). */
  cwd?: Buffer;
  /**
   * --confine-root: the absolute, normalized directory this path must not resolve outside of (undefined
   * or "/": nothing confined). Only the paths rsync confines pass it (see confine-root.ts).
   */
  confine?: Buffer;
}

export type OperatorPath =
  /**
   * `path`: absolute, every symlink on the way replaced by its target, so using it follows no link
   * (a missing tail is kept as given). `exists`: the whole path resolved to something.
   */
  | { ok: true; path: Buffer; exists: boolean }
  /**
   * A symlink owned by someone else is in the way (`link`: the path of that symlink), or with `confined`
   * the path left the --confine-root directory (`link`: where it was when it did).
   */
  | { ok: false; errno: number; link: Buffer; confined?: boolean };

/** A process's descriptor directory in /proc, whose entries are the kernel's magic links. */
const FD_DIR = /^\/proc\/(\d+|self|thread-self)(\/task\/\d+)?\/fd$/;

/** rsync's SYMLOOP_MAX-like cap on symlinks followed in one path. */
const MAX_LINKS = 40;
const SLASH = 0x2f;

function components(p: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= p.length; i++) {
    if (i === p.length || p[i] === SLASH) {
      if (i > start) out.push(p.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

/**
 * rsync 3.5's abspath_outside_confinement: `at` (absolute, symlink-free) is outside `root` when it is
 * neither inside it nor one of its ancestors (a walk from "/" passes through those on its way down).
 */
export function outsideConfinement(at: Buffer, root: Buffer | undefined): boolean {
  if (!root || root.length <= 1) return false;
  const inside = at.length >= root.length && at.subarray(0, root.length).equals(root) && (at.length === root.length || at[root.length] === SLASH);
  if (inside) return false;
  if (at.length === 1 && at[0] === SLASH) return false;
  const ancestor = root.length > at.length && root.subarray(0, at.length).equals(at) && root[at.length] === SLASH;
  return !ancestor;
}

const isDot = (c: Buffer): boolean => c.length === 1 && c[0] === 0x2e;
const isDotDot = (c: Buffer): boolean => c.length === 2 && c[0] === 0x2e && c[1] === 0x2e;

function child(dir: Buffer, name: Buffer): Buffer {
  return dir.length === 1 && dir[0] === SLASH ? Buffer.concat([dir, name]) : Buffer.concat([dir, Buffer.of(SLASH), name]);
}

function parent(dir: Buffer): Buffer {
  const i = dir.lastIndexOf(SLASH);
  return i <= 0 ? Buffer.from('/') : dir.subarray(0, i);
}

/**
 * Resolve an operator-given path component by component without letting the kernel follow anything:
 * each symlink met is checked for its owner, then its target is spliced in and walked the same way.
 * The caller uses the returned path, which holds no symlink, or reports the refusal.
 */
export function resolveOperatorPath(path: Buffer, o: OperatorPathOptions): OperatorPath {
  const cwd = o.cwd ?? Buffer.from(process.cwd(), 'latin1');
  const start = path[0] === SLASH ? Buffer.from('/') : cwd;
  const euid = o.euid ?? process.geteuid?.() ?? 0;
  let done = start;
  const todo = components(path).reverse(); // a stack: the next component last
  let links = 0;
  while (todo.length) {
    const comp = todo.pop()!;
    if (isDot(comp)) continue;
    if (isDotDot(comp)) {
      // `done` holds no symlink, so its parent is the real parent.
      done = parent(done);
      if (outsideConfinement(done, o.confine)) return { ok: false, errno: ERRNO.ELOOP, link: done, confined: true };
      continue;
    }
    const next = child(done, comp);
    // rsync checks each component its walk arrives at (a symlink is not arrived at: its target is), so
    // a path that leaves the root is refused whether or not the rest of it exists.
    const outside = outsideConfinement(next, o.confine);
    let st;
    try {
      st = lstatSync(next);
    } catch {
      if (outside) return { ok: false, errno: ERRNO.ELOOP, link: next, confined: true };
      // Missing (or unreadable): nothing there can be followed; the operation itself reports it.
      const rest = [comp, ...todo.reverse()];
      return { ok: true, path: rest.reduce(child, done), exists: false };
    }
    if (!st.isSymbolicLink()) {
      if (outside) return { ok: false, errno: ERRNO.ELOOP, link: next, confined: true };
      done = next;
      continue;
    }
    // A descriptor of this process (/dev/stdin, /dev/fd/N: a shell's `<(command)`): the kernel opens
    // the object itself through such a link, whose target is no path ("pipe:[N]"), and nobody can
    // plant one in /proc. Kept as it is, as rsync's open() takes it.
    if (FD_DIR.test(done.toString('latin1'))) {
      done = next;
      continue;
    }
    // --insecure-links: every owner is trusted, but the path is still resolved (callers rely on it
    // holding no symlink).
    if (!o.insecure && st.uid !== 0 && st.uid !== euid) return { ok: false, errno: ERRNO.ELOOP, link: next };
    if (++links > MAX_LINKS) return { ok: false, errno: ERRNO.ELOOP, link: next };
    let target: Buffer;
    try {
      target = readlinkSync(next, { encoding: 'buffer' });
    } catch {
      return { ok: false, errno: ERRNO.ELOOP, link: next };
    }
    if (target[0] === SLASH) done = Buffer.from('/');
    todo.push(...components(target).reverse());
  }
  return { ok: true, path: done, exists: true };
}
