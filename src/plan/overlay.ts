// Several sources landing on the same destination paths, merged as rsync merges its file list
// (flist.c, flist_sort_and_clean): one entry per destination name, the first source's occurrence wins,
// except that a directory wins over a non-directory (it may have contents); directories of the same name
// are merged, their contents coming from every source that has them. Deletion (--delete) in a merged
// directory removes only what none of the sources has.
//
// The walk still visits one source root at a time; this module answers, for a destination directory
// being walked in root i, what the other roots put there, so that the walk can skip what another root
// owns, descend into a directory another root made, and spare from deletion what another root brings.

import { S_IFDIR, S_IFMT, type Stat } from '../model/stat.js';
import type { DirListing } from '../model/listing.js';
import type { SysFailure } from '../model/failure.js';
import type { Root } from './sources.js';

/** Lists a directory; the first `anchor` bytes of its path (a root's own operand) may pass through symlinks. */
type Lister = (path: Buffer, anchor: number) => DirListing | SysFailure;
type Lstat = (path: Buffer) => Stat | SysFailure;
/** --iconv: destination names are the source's converted (run/iconv-source.ts); a name that cannot be stays as it is. */
export interface NameMap {
  toDest(name: Buffer): Buffer;
  toSource(name: Buffer): Buffer;
}

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

/** The proper ancestors of a destination path, "" first ("a/b/c" → "", "a", "a/b"). */
function ancestors(rel: string): string[] {
  if (rel === '') return [];
  const out = [''];
  for (let i = rel.indexOf('/'); i >= 0; i = rel.indexOf('/', i + 1)) out.push(rel.slice(0, i));
  return out;
}

/** The first occurrence, and the first directory occurrence, of a name (all roleOf needs). */
interface Firsts {
  first: Occurrence;
  firstDir?: Occurrence;
}

function note(map: Map<string, Firsts>, name: string, o: Occurrence): void {
  const f = map.get(name);
  if (!f) map.set(name, { first: o, ...(o.dir ? { firstDir: o } : {}) });
  else if (o.dir && !f.firstDir) f.firstDir = o;
}

const occurrences = (f: Firsts): Occurrence[] => (f.firstDir && f.firstDir !== f.first ? [f.first, f.firstDir] : [f.first]);

export class Overlay {
  /** Roots walked as layers of an earlier root's directory (run/layers.ts): not walked on their own. */
  readonly absorbed = new Set<number>();
  private readonly rels: string[];
  /** Roots by the destination path they land on. */
  private readonly byRel = new Map<string, number[]>();
  /** For each destination directory, what roots landing deeper put in it (by name), first ones only. */
  private readonly below = new Map<string, Map<string, Firsts>>();

  private constructor(
    private readonly roots: Root[],
    /** Whether each root is a directory that is walked (-r, or one level for --files-from "dir/"). */
    private readonly isDir: boolean[],
    /** Whether each root's own entry is a directory that the run makes. */
    private readonly entryDir: boolean[],
    private readonly list: Lister,
    private readonly lstat: Lstat,
    private readonly names: NameMap | undefined,
  ) {
    this.rels = roots.map((r) => key(names ? names.toDest(r.rel) : r.rel));
    this.rels.forEach((rel, j) => {
      const same = this.byRel.get(rel);
      if (same) same.push(j);
      else this.byRel.set(rel, [j]);
      for (const a of ancestors(rel)) {
        const rest = a === '' ? rel : rel.slice(a.length + 1);
        const slash = rest.indexOf('/');
        let names = this.below.get(a);
        if (!names) this.below.set(a, (names = new Map()));
        note(names, slash < 0 ? rest : rest.slice(0, slash), { root: j, dir: slash >= 0 || entryDir[j]! });
      }
    });
  }

  /**
   * An overlay when some roots land on the same path or inside another root's directory; undefined when
   * the roots are disjoint (the everyday case), so the walk pays nothing for it.
   */
  static of(roots: Root[], recursive: boolean, list: Lister, lstat: Lstat, names?: NameMap): Overlay | undefined {
    if (roots.length < 2) return undefined;
    const rels = roots.map((r) => key(names ? names.toDest(r.rel) : r.rel));
    const seen = new Map<string, boolean>(); // rel → some root there is a directory the run makes
    const isDir: boolean[] = [];
    const entryDir: boolean[] = [];
    let overlap = false;
    roots.forEach((r, j) => {
      const st = lstat(r.contents ? Buffer.concat([r.src, Buffer.of(SLASH)]) : r.src);
      const type = !('errno' in st) && (st.mode & S_IFMT) === S_IFDIR;
      // A --files-from "dir/" without -r puts its own entries (one level) at its path too.
      const dir = type && ((recursive && !r.dirOnly) || (r.dirOnly && r.oneLevel === true));
      isDir.push(dir);
      entryDir.push(type && (recursive || r.dirOnly));
      const rel = rels[j]!;
      if (seen.has(rel)) overlap = true;
      seen.set(rel, (seen.get(rel) ?? false) || entryDir[j]!);
    });
    if (!overlap) {
      // A root inside another root's directory (walked, or made: -R's implied directories meet it).
      overlap = rels.some((rel) => ancestors(rel).some((a) => seen.get(a) === true));
    }
    return overlap ? new Overlay(roots, isDir, entryDir, list, lstat, names) : undefined;
  }

  /** Root j's source path for destination path R (which lies within root j's directory). */
  private sourceAt(j: number, R: string): Buffer {
    const r = this.roots[j]!;
    const rest = Buffer.from(R.slice(this.rels[j]!.length).replace(/^\//, ''), 'latin1');
    return Buffer.concat([r.src, Buffer.of(SLASH), this.names ? this.names.toSource(rest) : rest]);
  }

  /**
   * The walked directory roots, other than i, whose walk reaches destination path P (as an entry), or
   * lists P (as a directory, `self`). A one-level root reaches only its own entries.
   */
  private covering(i: number, P: string, self: boolean): number[] {
    const out: number[] = [];
    const up = ancestors(P);
    const parent = up[up.length - 1];
    for (const a of self ? [...up, P] : up) {
      for (const j of this.byRel.get(a) ?? []) {
        if (j === i || !this.isDir[j]) continue;
        if (this.roots[j]!.dirOnly && a !== (self ? P : parent)) continue;
        out.push(j);
      }
    }
    return out;
  }

  /** What the roots other than i put at path P itself (for a root's own top entry). */
  othersAtPath(i: number, P: Buffer): Occurrence[] {
    const p = key(P);
    const out: Occurrence[] = [];
    for (const j of this.byRel.get(p) ?? []) {
      if (j === i) continue;
      const r = this.roots[j]!;
      const st = this.lstat(r.contents ? Buffer.concat([r.src, Buffer.of(SLASH)]) : r.src);
      if (!('errno' in st)) out.push({ root: j, dir: this.entryDir[j]! });
    }
    if (p !== '') {
      // -R: an implied directory above roots that land deeper (the destination root is no one's entry).
      for (const f of this.below.get(p)?.values() ?? []) out.push({ root: f.first.root, dir: true });
    }
    for (const j of this.covering(i, p, false)) {
      const st = this.lstat(this.sourceAt(j, p));
      if (!('errno' in st)) out.push({ root: j, dir: (st.mode & S_IFMT) === S_IFDIR });
    }
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
    for (const [name, f] of this.below.get(dir) ?? []) for (const o of occurrences(f)) add(name, o);
    for (const j of this.covering(i, dir, true)) {
      // The root's own path is the operator's ("link/" reaches its directory through a symlink).
      const l = this.list(this.sourceAt(j, dir), this.roots[j]!.src.length);
      if ('errno' in l) continue;
      l.names.forEach((n, k) => {
        const st = l.stats[k];
        if (st) add(key(this.names ? this.names.toDest(n) : n), { root: j, dir: (st.mode & S_IFMT) === S_IFDIR });
      });
    }
    return out;
  }
}
