// Source anchors: which leading part of a source path is the operator's (an operand, or a symlink the
// run chose to follow), resolved as given, and which part the walk found beneath it, which the engines
// resolve without following any symlink. Engines receive the anchor as a byte length (batch.ts).

import { PATH_MAX } from '../model/path-max.js';

const SLASH = 0x2f;

/**
 * An anchor is resolved by the kernel as one path, through the links in it (the operator's part is
 * followed as given), so it must fit in PATH_MAX: by how many bytes `dir` is too long for that (0: it
 * fits), counted as rsync's "filename overflows max-path len by N" counts.
 */
export function anchorOverflow(dir: Buffer): number {
  return Math.max(0, dir.length - (PATH_MAX - 1));
}

/** A path as a map key, without trailing slashes ("/" stays "/"). */
function key(p: Buffer): string {
  let end = p.length;
  while (end > 1 && p[end - 1] === SLASH) end--;
  return p.toString('latin1', 0, end);
}

/** Does `src` start with all of `prefix`? (A plain loop: Buffer#compare's argument checks cost more here.) */
function samePrefix(src: Buffer, prefix: Buffer): boolean {
  for (let i = prefix.length - 1; i >= 0; i--) if (src[i] !== prefix[i]) return false;
  return true;
}

export class SourceAnchors {
  private readonly dirs = new Set<string>();
  /** Lengths of the registered keys: a path of another length cannot be one (no string built for it). */
  private readonly lengths = new Set<number>();
  /**
   * The last parent answered (its bytes up to and with its last slash) and its anchor: the entries of one
   * directory come one after another, and each would otherwise build a string per slash of its path.
   */
  private lastParent: Buffer | undefined;
  private lastAnchor = 0;

  /** A directory the run resolves as given: a directory operand, or a followed link to a directory. */
  add(dir: Buffer): void {
    const k = key(dir);
    this.dirs.add(k);
    this.lengths.add(k.length);
    this.lastParent = undefined;
  }

  /**
   * How many leading bytes of `src` are its anchor: the longest registered directory it is, or lies
   * beneath; 0 when none (the engines then take the path's own directory, checking only its last part).
   */
  of(src: Buffer): number {
    if (this.dirs.size === 0) return 0;
    if (this.isDir(src, src.length)) return src.length;
    // Only the bytes up to the last slash decide the rest.
    const last = src.lastIndexOf(SLASH, src.length - 1);
    if (last <= 0) return 0;
    const seen = this.lastParent;
    if (seen && seen.length === last + 1 && samePrefix(src, seen)) return this.lastAnchor;
    let found = 0;
    for (let i = last; i > 0; i--) {
      if (src[i] === SLASH && this.isDir(src, i)) {
        found = i;
        break;
      }
    }
    this.lastParent = Buffer.from(src.subarray(0, last + 1));
    this.lastAnchor = found;
    return found;
  }

  /**
   * The anchor of every entry directly inside `dir`, as of(joinPath(dir, name)) gives it for a name that
   * is no registered directory itself: the longest registered directory among `dir` and those above it.
   */
  ofEntryIn(dir: Buffer): number {
    if (this.dirs.size === 0) return 0;
    // Where the entry's last slash would be (joinPath adds none after a trailing one).
    const last = dir.length > 0 && dir[dir.length - 1] === SLASH ? dir.length - 1 : dir.length;
    if (last <= 0) return 0;
    if (this.isDir(dir, last)) return last;
    for (let i = last - 1; i > 0; i--) if (dir[i] === SLASH && this.isDir(dir, i)) return i;
    return 0;
  }

  /** Is a registered directory strictly beneath `dir` (a tree whose entries do not all share one anchor)? */
  hasBelow(dir: Buffer): boolean {
    const k = key(dir);
    const prefix = k === '/' ? '/' : `${k}/`;
    for (const d of this.dirs) if (d.length > prefix.length && d.startsWith(prefix)) return true;
    return false;
  }

  /** Is src[0, end) a registered directory (trailing slashes aside)? */
  private isDir(src: Buffer, end: number): boolean {
    let e = end;
    while (e > 1 && src[e - 1] === SLASH) e--;
    return this.lengths.has(e) && this.dirs.has(src.toString('latin1', 0, e));
  }
}
