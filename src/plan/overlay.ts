// Several sources landing on the same destination paths, merged as rsync merges its file list
// (flist.c, flist_sort_and_clean): one entry per destination name, the first source's occurrence wins,
// except that a directory wins over a non-directory (it may have contents); directories of the same name
// are merged, their contents coming from every source that has them. Deletion (--delete) in a merged
// directory removes only what none of the sources has.
//
// The walk still visits one source root at a time; this module answers, for a destination directory
// being walked in root i, what the other roots put there, so that the walk can skip what another root
// owns, descend into a directory another root made, and spare from deletion what another root brings.

import { S_IFDIR, S_IFMT, type DirListing, type Stat } from '../engine/types.js';
import type { Root } from './sources.js';

type Failure = { errno: number; syscall: string };
type Lister = (path: Buffer) => DirListing | Failure;
type Lstat = (path: Buffer) => Stat | Failure;

/** What one root puts at a destination path. */
export interface Occurrence {
  root: number;
  dir: boolean;
}

/** How root i must treat its entry at a destination path. */
export type Role =
  /** It is the entry that lands there (for a directory: the one whose attributes it gets). */
  | 'owner'
  /** A directory that an earlier root's directory already stands for: only its contents are walked. */
  | 'merged'
  /** Another root's entry lands there instead. */
  | 'skip';

const SLASH = 0x2f;
const key = (b: Buffer): string => b.toString('latin1');

/** rel is R itself or lies beneath it (component-wise); "" is above everything. */
function within(rel: string, R: string): boolean {
  return R === '' || rel === R || rel.startsWith(`${R}/`);
}

/** The role of `self` among every root's occurrence at one path (rsync's duplicate rule). */
export function roleOf(self: Occurrence, others: Occurrence[]): Role {
  const all = [...others, self].sort((a, b) => a.root - b.root);
  const firstDir = all.find((o) => o.dir);
  if (firstDir) {
    if (!self.dir) return 'skip';
    return firstDir.root === self.root ? 'owner' : 'merged';
  }
  return all[0]!.root === self.root ? 'owner' : 'skip';
}

export class Overlay {
  private readonly rels: string[];

  private constructor(
    private readonly roots: Root[],
    /** Whether each root is a directory that is walked (-r). */
    private readonly isDir: boolean[],
    private readonly list: Lister,
    private readonly lstat: Lstat,
  ) {
    this.rels = roots.map((r) => key(r.rel));
  }

  /**
   * An overlay when some roots land on the same path or inside another root's directory; undefined when
   * the roots are disjoint (the everyday case), so the walk pays nothing for it.
   */
  static of(roots: Root[], recursive: boolean, list: Lister, lstat: Lstat): Overlay | undefined {
    if (roots.length < 2) return undefined;
    const isDir = roots.map((r) => {
      if (!recursive || r.dirOnly) return false;
      const st = lstat(r.contents ? Buffer.concat([r.src, Buffer.of(SLASH)]) : r.src);
      return !('errno' in st) && (st.mode & S_IFMT) === S_IFDIR;
    });
    const rels = roots.map((r) => key(r.rel));
    for (let i = 0; i < roots.length; i++) {
      for (let j = 0; j < roots.length; j++) {
        if (i === j) continue;
        if (rels[i] === rels[j] || (isDir[i] && within(rels[j]!, rels[i]!))) return new Overlay(roots, isDir, list, lstat);
      }
    }
    return undefined;
  }

  /** Root j's source path for destination path R (which lies within root j's directory). */
  private sourceAt(j: number, R: string): Buffer {
    const r = this.roots[j]!;
    const rest = R.slice(this.rels[j]!.length).replace(/^\//, '');
    return Buffer.concat([r.src, Buffer.of(SLASH), Buffer.from(rest, 'latin1')]);
  }

  /** What the roots other than i put at path P itself (for a root's own top entry). */
  othersAtPath(i: number, P: Buffer): Occurrence[] {
    const p = key(P);
    const out: Occurrence[] = [];
    this.roots.forEach((r, j) => {
      if (j === i) return;
      const rel = this.rels[j]!;
      if (rel === p) {
        const st = this.lstat(r.contents ? Buffer.concat([r.src, Buffer.of(SLASH)]) : r.src);
        if (!('errno' in st)) out.push({ root: j, dir: this.isDir[j]! });
      } else if (p !== '' && within(rel, p)) {
        // -R: an implied directory above root j (the destination root itself is no entry of anyone's).
        out.push({ root: j, dir: true });
      } else if (this.isDir[j] && within(p, rel)) {
        const st = this.lstat(this.sourceAt(j, p));
        if (!('errno' in st)) out.push({ root: j, dir: (st.mode & S_IFMT) === S_IFDIR });
      }
    });
    return out;
  }

  /**
   * What the roots other than i put inside destination directory R, by entry name (latin1): their
   * directories' entries at R, and the first component of roots that land deeper.
   */
  othersIn(i: number, R: Buffer): Map<string, Occurrence[]> {
    const dir = key(R);
    const out = new Map<string, Occurrence[]>();
    const add = (name: string, o: Occurrence): void => {
      const list = out.get(name);
      if (list) list.push(o);
      else out.set(name, [o]);
    };
    this.roots.forEach((_, j) => {
      if (j === i) return;
      const rel = this.rels[j]!;
      if (rel !== dir && within(rel, dir)) {
        const rest = dir === '' ? rel : rel.slice(dir.length + 1);
        const slash = rest.indexOf('/');
        add(slash < 0 ? rest : rest.slice(0, slash), { root: j, dir: slash >= 0 || this.isDir[j]! });
        return;
      }
      if (!this.isDir[j] || !within(dir, rel)) return;
      const l = this.list(this.sourceAt(j, dir));
      if ('errno' in l) return;
      l.names.forEach((n, k) => {
        const st = l.stats[k];
        if (st) add(key(n), { root: j, dir: (st.mode & S_IFMT) === S_IFDIR });
      });
    });
    return out;
  }
}
