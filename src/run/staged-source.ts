// A pull's entries (the first transport seam, EntrySource, over what a remote sender listed): the
// received files are rebuilt into a private staging tree, and the planner walks that tree through the
// local walk with each entry's metadata replaced by the sender's (permissions, owner and group as this
// machine maps them, size, modification time to the nanosecond). The staging tree holds the data and
// the file types; the file list holds everything else. So the planner, the engines and every check of
// theirs run unchanged: the staging files are an ordinary local source owned by this process.
// A file the destination already has and the run will not copy (the pull's quick check) is not staged
// at all: it is a virtual entry, listed from the sender's metadata and paired with the destination's
// file that the local listing reports as destination-only (a no-op pull creates nothing). A file whose
// basis-directory twin stands for it (a pull with --link-dest and the like) is virtual too, listed with
// no destination twin where the destination has none: the local run finds the twin and reads no data.

import { isFailure, type SysFailure } from '../model/failure.js';
import type { PairListing, TreeScan } from '../model/listing.js';
import { S_IFMT, S_IFREG, type Stat } from '../model/stat.js';
import type { DirEntries, EntrySource } from './source.js';

/** What the sender said of one entry, by its staging path (latin1). */
export interface StagedMeta {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeSec: number;
  mtimeNsec: number;
  /** -U: the sender's access time (whole seconds), for a file. */
  atimeSec?: number;
  /** Not in the staging tree: the destination's regular file of the same name stands for it. */
  virtual?: boolean;
  /**
   * With `virtual`: a --link-dest/--compare-dest/--copy-dest twin stands for it (cli/pull-basis.ts), which
   * the local run links, leaves out for or copies; the destination may have no file of that name.
   */
  twin?: boolean;
  /** A regular file given this metadata where it was written (cli/pull-place.ts leaves it be then). */
  settled?: boolean;
  /**
   * A device this user could not make: the staging tree holds an empty file in its place, which the
   * local run sees as the device (type and `rdev`, glibc's makedev, the sender's) and, not acting as
   * root, skips as rsync's receiver does, or under --fake-super records.
   */
  standIn?: boolean;
  rdev?: number;
}

/** A staged entry's metadata as the stat an engine op carries (Attrs, DirMeta, writeNewSettled). */
export function stagedStat(m: StagedMeta): Stat {
  return { mode: m.mode, uid: m.uid, gid: m.gid, size: m.size, mtimeSec: m.mtimeSec, mtimeNsec: m.mtimeNsec, ino: 0, dev: 0, nlink: 1, rdev: 0, blocks: 0 };
}

export class StagedSource implements EntrySource {
  private readonly done = new WeakSet<PairListing>();
  /** The virtual entries' names, by their staging directory (latin1). */
  private readonly virtuals = new Map<string, Set<string>>();
  /** The names of those a basis-directory twin stands for (StagedMeta.twin), sorted, by directory. */
  private readonly twins = new Map<string, string[]>();

  constructor(
    private readonly inner: EntrySource,
    private readonly meta: ReadonlyMap<string, StagedMeta>,
  ) {
    for (const [path, m] of meta) {
      if (!m.virtual) continue;
      const slash = path.lastIndexOf('/');
      const dir = path.slice(0, slash);
      let names = this.virtuals.get(dir);
      if (!names) this.virtuals.set(dir, (names = new Set()));
      names.add(path.slice(slash + 1));
      if (m.twin) {
        let t = this.twins.get(dir);
        if (!t) this.twins.set(dir, (t = []));
        t.push(path.slice(slash + 1));
      }
    }
    // Latin1 strings compare as their bytes do: the listings' order.
    for (const t of this.twins.values()) t.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  unfetched(path: Buffer): boolean {
    const m = this.meta.get(trim(path).toString('latin1'));
    return m?.virtual === true && !m.twin;
  }

  /** A virtual entry's lstat: the sender's, with no inode of its own (it is no file here, nor the same file as any). */
  private virtualStat(path: Buffer): Stat | undefined {
    const m = this.meta.get(path.toString('latin1'));
    if (!m?.virtual) return undefined;
    return { mode: m.mode, uid: m.uid, gid: m.gid, size: m.size, mtimeSec: m.mtimeSec, mtimeNsec: m.mtimeNsec, ino: 0, dev: 0, nlink: 1, rdev: 0, blocks: 0 };
  }

  private staged(path: Buffer, st: Stat): Stat {
    return this.stagedAt(path.toString('latin1'), st);
  }

  /** `st` with the sender's metadata for the staging path `key` (latin1), when the list sent one. */
  private stagedAt(key: string, st: Stat): Stat {
    const m = this.meta.get(key);
    if (!m) return st;
    const staged = { ...st, mode: (st.mode & S_IFMT) | (m.mode & 0o7777), uid: m.uid, gid: m.gid, size: m.size, mtimeSec: m.mtimeSec, mtimeNsec: m.mtimeNsec };
    if (m.standIn) {
      staged.mode = m.mode;
      staged.rdev = m.rdev ?? 0;
    }
    if (m.atimeSec !== undefined) staged.atimeSec = m.atimeSec;
    return staged;
  }

  /**
   * `l` with the sender's metadata and the virtual entries of its range. `twins`: the names a basis
   * directory's twin stands for, of which those from `from` on and not past the chunk's last name are
   * this chunk's (all of them for the whole listing); returns where the next chunk's begin.
   */
  private listing(dir: Buffer, l: PairListing, twins: readonly string[] = [], from = 0, whole = false, noDest = false): number {
    if (this.done.has(l)) return twins.length;
    // Each entry's key is the directory's once plus its name: no joined Buffer per entry.
    const prefix = `${dir.toString('latin1')}/`;
    for (const e of l.entries) if (e.st) e.st = this.stagedAt(prefix + e.name.toString('latin1'), e.st);
    const virtual = this.virtuals.get(dir.toString('latin1'));
    let added = false;
    const paired = new Set<string>();
    if (virtual) {
      // The destination's twin shows as destination-only: it is the entry's, never an extraneous one.
      const extras: PairListing['extras'] = [];
      for (const x of l.extras) {
        const name = x.name.toString('latin1');
        const st = virtual.has(name) ? this.virtualStat(Buffer.concat([dir, Buffer.from('/'), x.name])) : undefined;
        // One a basis-directory twin stands for takes whatever stands in the destination (the local run
        // deals with another type in the way as for any entry).
        if (st && ((x.st.mode & S_IFMT) === S_IFREG || this.meta.get(prefix + name)?.twin)) {
          l.entries.push({ name: x.name, st, err: 0, dest: x.st });
          paired.add(name);
          added = true;
        } else extras.push(x);
      }
      l.extras = extras;
      // Listed without the destination's side (-m's look below a directory, run/prune.ts): the virtual
      // entries are source entries all the same, or a directory holding only them would look empty.
      if (noDest) {
        const have = new Set(l.entries.map((e) => e.name.toString('latin1')));
        for (const name of virtual) {
          if (have.has(name) || this.meta.get(prefix + name)?.twin) continue;
          const st = this.virtualStat(Buffer.from(prefix + name, 'latin1'));
          if (st) {
            l.entries.push({ name: Buffer.from(name, 'latin1'), st, err: 0, dest: undefined });
            added = true;
          }
        }
      }
    }
    let next = from;
    if (next < twins.length) {
      // This chunk's range ends at its last name (the listing merges both sides in name order).
      let last = '';
      for (const e of l.entries) if (e.name.toString('latin1') > last) last = e.name.toString('latin1');
      for (const x of l.extras) if (x.name.toString('latin1') > last) last = x.name.toString('latin1');
      for (; next < twins.length && (whole || twins[next]! <= last); next++) {
        const name = twins[next]!;
        if (paired.has(name)) continue;
        const st = this.virtualStat(Buffer.from(prefix + name, 'latin1'));
        if (st) {
          l.entries.push({ name: Buffer.from(name, 'latin1'), st, err: 0, dest: undefined });
          added = true;
        }
      }
    }
    if (added) l.entries.sort((a, b) => Buffer.compare(a.name, b.name));
    this.done.add(l);
    return next;
  }

  lstat(path: Buffer): Stat | SysFailure {
    const st = this.inner.lstat(path);
    if (isFailure(st)) return this.virtualStat(trim(path)) ?? st;
    return this.staged(trim(path), st);
  }

  follow(path: Buffer): Stat | undefined {
    const st = this.inner.follow(path);
    return st ? this.staged(trim(path), st) : this.virtualStat(trim(path));
  }

  readlink(path: Buffer): Buffer | undefined {
    return this.inner.readlink(path);
  }

  names(path: Buffer, anchor: number): Buffer[] | SysFailure {
    const names = this.inner.names(path, anchor);
    const virtual = this.virtuals.get(trim(path).toString('latin1'));
    return isFailure(names) || !virtual ? names : [...names, ...[...virtual].map((n) => Buffer.from(n, 'latin1'))];
  }

  openDir(src: Buffer, destRel: Buffer | null, anchor: number): DirEntries | SysFailure {
    const d = this.inner.openDir(src, destRel, anchor);
    if (isFailure(d)) return d;
    const dir = trim(src);
    const twins = this.twins.get(dir.toString('latin1')) ?? [];
    const noDest = destRel === null;
    if (d.whole) this.listing(dir, d.whole, twins, 0, true, noDest);
    // (Without the destination's side the virtual entries all go in the first chunk: only -m's count reads it.)
    let first = noDest;
    const listing = (l: PairListing, from: number, only: boolean, all = false): number => {
      const r = this.listing(dir, l, only ? [] : twins, from, all, first && !only);
      first = false;
      return r;
    };
    return {
      whole: d.whole,
      destErrno: d.destErrno,
      chunks: function* (extrasOnly?: boolean): Generator<PairListing> {
        // A pass over destination-only names leaves the virtual entries out (they are source entries).
        let next = 0;
        for (const l of d.chunks(extrasOnly)) {
          next = listing(l, next, extrasOnly === true);
          yield l;
        }
        // Names past the last chunk's last one: a chunk of their own.
        if (!extrasOnly && next < twins.length) {
          const rest: PairListing = { entries: [], extras: [], collapsed: { reg: 0, link: 0, size: 0 }, destErrno: d.destErrno };
          listing(rest, next, false, true);
          yield rest;
        }
      },
      close: () => d.close(),
    };
  }

  /** Never: the staging tree's own times say nothing (the run sees every entry, run.ts). */
  dirtyDirs(): TreeScan | SysFailure | undefined {
    return undefined;
  }
}

/** A path without trailing slashes or "/." ("staging/" and "staging/." are the staging root). */
function trim(p: Buffer): Buffer {
  let s = p.toString('latin1');
  for (;;) {
    if (s.length > 1 && s.endsWith('/')) s = s.slice(0, -1);
    else if (s.endsWith('/.')) s = s.slice(0, -2);
    else break;
  }
  s = s.replace(/\/\.\//g, '/');
  return Buffer.from(s, 'latin1');
}
