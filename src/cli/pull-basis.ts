// The bases a pull's generator side weighs other than the destination's own file, before it asks the
// sender for a file, as rsync's generator does. --compare-dest / --copy-dest / --link-dest (its
// try_dests_reg): a twin that matches by the quick check (or -c's sums) means the file need not come at
// all, since the local run links it, leaves it out or copies it from the twin; otherwise, for a file the
// destination lacks, the first directory's twin is the basis whose block sums are sent, so only the
// changed blocks travel. The twins are found by the local run's own rules (run/alt-dest.ts), judged
// with the strictest time comparison so that a match here is one for the local run too (a looser
// judgement there only means a file fetched that it then links). --fuzzy (its find_fuzzy): for a file
// the destination lacks with no twin, a similar file of its destination directory (-yy: or of the
// basis directories') is the basis. Every basis is only read: the destination's through PullDest (no
// symlink followed), the others opened following no symlink and checked to be the inode judged.

import * as fs from 'node:fs';
import type { Config } from '../model/config.js';
import type { Engine } from '../engine/engine.js';
import { S_IFMT, S_IFREG, type Stat } from '../model/stat.js';
import { AltDests } from '../run/alt-dest.js';
import { checkOptions } from '../run/spec.js';
import { attrChanges, type CheckOptions } from '../plan/quickcheck.js';
import { anyChange } from '../run/lines.js';
import { chooseFuzzy, type FuzzyCandidate } from '../plan/fuzzy.js';
import { applyChmod } from '../plan/chmod.js';
import { joinPath } from '../util/names.js';
import { digestFd } from '../run/file-sum.js';
import type { PullDest } from './pull-dest.js';

/** A basis directory's file for one listed file: where it is, what it was when judged, which directory. */
export interface FileTwin {
  path: Buffer;
  st: Stat;
  /** The directory's place among the basis directories (rsync's FNAMECMP_BASIS_DIR_LOW + index). */
  index: number;
}

/** What a twin does for a file the pull would otherwise fetch. */
export type TwinUse =
  /** Nothing comes: the local run links the file to the twin, leaves it out, or copies the twin. */
  | { need: 'none'; twin: FileTwin }
  /** The file comes as a delta against the twin. */
  | { need: 'delta'; twin: FileTwin };

/** A file's whole-file sum (-c), as the sender listed it, and the hash that makes one here. */
export interface ListedSum {
  sum: Buffer;
  file(): { update(b: Buffer): void; digest(): Buffer };
}

export class PullBasisDirs {
  readonly alt: AltDests;
  private readonly check: CheckOptions;

  constructor(
    private readonly c: Config,
    engine: Engine,
    /** The directory the list's names are relative to (relative basis directories are beneath it). */
    destDir: Buffer,
  ) {
    // Nanoseconds compared exactly: the local run compares no more strictly than this.
    this.check = checkOptions(c, 1).files;
    // --fake-super: twins are as their records describe them, as the local run sees them.
    this.alt = new AltDests(engine, this.check, c.amRoot === -1 ? engine.fakeRead?.bind(engine) : undefined);
    // The local run says what is wrong with a directory (a missing one, one behind a symlink): not twice.
    this.alt.resolve(c, destDir, () => {});
  }

  /**
   * The twin rsync's generator would take for the listed regular file `rel` (sender's stat `st`), given
   * the destination's entry `present` (undefined: none); undefined when no twin changes the fetch.
   * `listed`: under -c, the sender's sum (twins are compared by their data then).
   */
  choose(rel: string, sent: Stat, present: Stat | undefined, listed?: ListedSum): TwinUse | undefined {
    const c = this.c;
    // The source as the local run sees it: --chmod applied (run/context.ts withChmod).
    const st = c.chmod.length ? { ...sent, mode: applyChmod(sent.mode, c.chmod, process.umask()) } : sent;
    const existing = present !== undefined && (present.mode & S_IFMT) === S_IFREG;
    // With a destination file, only an exact --link-dest/--compare-dest twin acts on it (rsync's
    // find_exact_for_existing), and never the one that file already is.
    if (existing && c.copyDest.length) return undefined;
    const name = Buffer.from(rel, 'latin1');
    const sameInode = (t: { st: Stat }): boolean => c.linkDest.length > 0 && present !== undefined && present.ino === t.st.ino && present.dev === t.st.dev;
    const exact = (t: { st: Stat }): boolean => !anyChange(attrChanges(st, t.st, this.check));
    if (listed) return this.chooseBySum(name, st, existing, listed, sameInode, exact);
    // The first of the highest level: at level 1, the first directory's (rsync's best_match), the basis.
    const best = this.alt.best(name, st, 'reg', undefined, () => undefined);
    // Outside --confine-root rsync refuses to open a twin: the local run copies the file whole.
    if (!best || best.outside !== undefined) return undefined;
    if (existing) return best.level === 3 && !sameInode(best) ? { need: 'none', twin: best } : undefined;
    return { need: best.level >= 2 ? 'none' : 'delta', twin: best };
  }

  /** choose under -c: a twin matches by size and data (rsync's quick_check_ok with always_checksum). */
  private chooseBySum(name: Buffer, st: Stat, existing: boolean, listed: ListedSum, sameInode: (t: { st: Stat }) => boolean, exact: (t: { st: Stat }) => boolean): TwinUse | undefined {
    const twins = this.alt.fileTwins(name);
    let match: FileTwin | undefined;
    for (const t of twins) {
      if (t.outside || t.st.size !== st.size) continue;
      // Under -o as root another owner's twin is never linked or copied (run/alt-dest.ts best).
      if (this.check.owner && this.check.isRoot && t.st.uid !== st.uid) continue;
      if (!this.sumOf(t, listed).equals(listed.sum)) continue;
      if (exact(t)) {
        match = t;
        break;
      }
      if (!existing) match ??= t;
    }
    if (match) return existing && sameInode(match) ? undefined : { need: 'none', twin: match };
    if (existing || !twins.length || twins[0]!.outside) return undefined;
    return { need: 'delta', twin: twins[0]! };
  }

  private sumOf(t: FileTwin, listed: ListedSum): Buffer {
    const h = listed.file();
    let fd: number;
    try {
      fd = openTwin(t);
    } catch {
      return Buffer.alloc(0);
    }
    try {
      return digestFd(fd, h);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/**
 * The twin opened for reading: no symlink followed at its last component, and still the inode judged
 * (a directory on its way swapped for a symlink since would lead to another file: refused).
 */
export function openTwin(t: FileTwin): number {
  const fd = fs.openSync(t.path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  const now = fs.fstatSync(fd);
  if (!now.isFile() || now.ino !== t.st.ino || now.dev !== t.st.dev) {
    fs.closeSync(fd);
    throw new Error(`${t.path.toString('latin1')} is no longer the file judged`);
  }
  return fd;
}

/** rsync's FNAMECMP_FUZZY: a fuzzy basis from the destination's directory (+ i: the i-th basis directory's, -yy). */
const FNAMECMP_FUZZY = 0x83;

/** A basis other than the destination's own file, as a fetch takes it (remote/pull.ts Fetch). */
export interface OtherBasis {
  size: number;
  open(): number;
  /** rsync's fnamecmp_type for it. */
  type: number;
  /** A fuzzy basis's name in its directory (rsync's xname). */
  name?: Buffer;
}

/** A candidate with where it is: the destination's directory (list 0) or a basis directory's. */
type Candidate = FuzzyCandidate & { list: number; st: Stat; path?: Buffer };

/**
 * --fuzzy's basis for files the destination lacks, chosen by rsync's rules (plan/fuzzy.ts) over the
 * destination directory's files (and with -yy the basis directories' same directory), those this pull
 * replaces left out (rsync's FLAG_FILE_SENT). The list comes a directory at a time, as the choice does.
 */
export class PullFuzzy {
  private dir: string | undefined;
  private lists: Candidate[][] = [];
  private readonly replaced = new Set<string>();

  constructor(
    private readonly level: number,
    private readonly dest: PullDest,
    private readonly alt: AltDests | undefined,
    /**
     * Under --delete before or during the transfer: the names the list has, by directory. rsync has
     * deleted a directory's other names before it looks for a fuzzy basis there; only these are left.
     */
    private readonly kept?: ReadonlyMap<string, ReadonlySet<string>>,
  ) {}

  /** A destination file of the list is asked for (its basis the file itself): no fuzzy basis for another. */
  replacing(rel: string): void {
    const slash = rel.lastIndexOf('/');
    if (this.dir === (slash < 0 ? '.' : rel.slice(0, slash))) this.replaced.add(rel.slice(slash + 1));
  }

  /** The basis for the listed file `rel` (size, mtime) the destination lacks; undefined when none is close enough. */
  choose(rel: string, size: number, mtimeSec: number): OtherBasis | undefined {
    const slash = rel.lastIndexOf('/');
    const dir = slash < 0 ? '.' : rel.slice(0, slash);
    if (dir !== this.dir) this.listDir(dir);
    const lists = this.replaced.size ? this.lists.map((l) => l.filter((f) => f.list > 0 || !this.replaced.has(f.name.toString('latin1')))) : this.lists;
    const basis = chooseFuzzy(Buffer.from(rel.slice(slash + 1), 'latin1'), size, mtimeSec, lists).basis as Candidate | undefined;
    if (!basis) return undefined;
    const name = Buffer.from(basis.name);
    if (basis.list === 0) {
      const at = dir === '.' ? basis.name.toString('latin1') : `${dir}/${basis.name.toString('latin1')}`;
      return { size: basis.size, type: FNAMECMP_FUZZY, name, open: () => this.dest.openFile(at) };
    }
    const twin = { path: basis.path!, st: basis.st, index: basis.list - 1 };
    return { size: basis.size, type: FNAMECMP_FUZZY + basis.list, name, open: () => openTwin(twin) };
  }

  private listDir(dir: string): void {
    this.dir = dir;
    this.replaced.clear();
    const own: Candidate[] = [];
    const kept = this.kept && (this.kept.get(dir) ?? new Set<string>());
    for (const n of this.dest.names(dir) ?? []) {
      if (kept && !kept.has(n)) continue;
      const st = this.dest.entry(dir === '.' ? n : `${dir}/${n}`);
      if (st && (st.mode & S_IFMT) === S_IFREG) own.push({ name: Buffer.from(n, 'latin1'), shown: n, size: st.size, mtimeSec: st.mtimeSec, list: 0, st });
    }
    this.lists = [sorted(own)];
    if (this.level > 1 && this.alt) {
      this.alt.listings(Buffer.from(dir === '.' ? '' : dir, 'latin1')).forEach((l, i) => {
        const files: Candidate[] = [];
        l.listing.names.forEach((name, j) => {
          const st = l.listing.stats[j];
          // Outside --confine-root a file is never opened: no basis.
          if (st && !l.outside && (st.mode & S_IFMT) === S_IFREG) files.push({ name, shown: name.toString('latin1'), size: st.size, mtimeSec: st.mtimeSec, list: i + 1, st, path: joinPath(l.path, name) });
        });
        this.lists.push(sorted(files));
      });
    }
  }
}

/** A listing's candidates in rsync's file-list order (names compared as bytes). */
function sorted(l: Candidate[]): Candidate[] {
  return l.sort((a, b) => Buffer.compare(a.name, b.name));
}
