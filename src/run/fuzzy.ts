// --fuzzy's basis for a file the destination lacks, chosen as rsync's generator chooses it (plan/fuzzy.ts)
// over its directory's listing (read once per directory, the files this run replaces there left out, and
// with -yy the --*-dest directories' listings too), and printed under --debug=FUZZY. A local copy sends
// whole files, so the choice shows only in those lines, as in rsync, and without -p in the new file's
// permission bits, which are the basis's (run/basis-mode.ts).

import { fileType, type Stat } from '../model/stat.js';
import { chooseFuzzy, type FuzzyCandidate } from '../plan/fuzzy.js';
import { showPath } from '../util/errors.js';
import { baseName, dirName } from '../util/names.js';
import type { DirListing } from '../model/listing.js';
import type { DeleteList } from '../plan/deletelist.js';

/** What the choice reads and where its lines go. */
export interface FuzzyIO {
  /** -yy: 2 (the --*-dest directories too), else 1. */
  level: number;
  /** --debug=FUZZY's level: 2 adds each candidate's score; 0 prints nothing. */
  debug: number;
  /** The destination directory's entries. */
  list: (dir: Buffer) => DeleteList;
  /** The --*-dest directories' listings of a directory, each with the name rsync gives it. */
  altListings: (dir: Buffer) => { shown: string; listing: DirListing }[];
  print: (line: string) => void;
}

export class FuzzyBases {
  /** The directory the lists are of (latin1), and its lists: the destination's, then -yy's. */
  private dir: string | undefined;
  private lists: FuzzyCandidate[][] = [];
  /** Each candidate's listing entry. */
  private stats = new Map<FuzzyCandidate, Stat>();
  /** Names in that directory that the run replaces: never a basis (rsync's FLAG_FILE_SENT). */
  private readonly replaced = new Set<string>();

  constructor(private readonly io: FuzzyIO) {}

  /** An existing file is being replaced: while its directory's lists are current, it is no candidate. */
  replacing(rel: Buffer): void {
    if (this.dir === dirName(rel).toString('latin1')) this.replaced.add(baseName(rel).toString('latin1'));
  }

  /** The basis for `rel` (no twin in the destination, nor in a --*-dest directory), with rsync's lines. */
  choose(rel: Buffer, st: Stat): Stat | undefined {
    const io = this.io;
    const dir = dirName(rel);
    const key = dir.toString('latin1');
    if (key !== this.dir) {
      this.dir = key;
      this.replaced.clear();
      const shown = dir.length ? `${showPath(dir)}/` : '';
      this.stats = new Map();
      this.lists = [candidates(fromDeleteList(io.list(dir)), shown, this.stats)];
      if (io.level > 1) for (const l of io.altListings(dir)) this.lists.push(candidates(l.listing, `${l.shown}/`, this.stats));
    }
    const lists = this.replaced.size ? this.lists.map((l) => l.filter((f) => !this.replaced.has(f.name.toString('latin1')))) : this.lists;
    const { basis, traces } = chooseFuzzy(baseName(rel), st.size, st.mtimeSec, lists);
    if (io.debug > 1) for (const t of traces) io.print(t);
    if (basis && io.debug > 0) io.print(`fuzzy basis selected for ${showPath(rel)}: ${basis.shown}`);
    return basis && this.stats.get(basis);
  }
}

/** The destination directory's entries as a listing. */
function fromDeleteList(list: DeleteList): DirListing {
  const out: DirListing = { names: [], stats: [], errors: [] };
  for (let i = 0; i < list.size; i++) {
    out.names.push(list.name(i));
    out.stats.push(list.stat(i));
    out.errors.push(0);
  }
  return out;
}

/** The regular files of a listing, in rsync's file-list order (names compared as bytes). */
function candidates(l: DirListing, prefix: string, stats: Map<FuzzyCandidate, Stat>): FuzzyCandidate[] {
  const out: FuzzyCandidate[] = [];
  l.names.forEach((name, i) => {
    const st = l.stats[i];
    if (!st || fileType(st.mode) !== 'reg') return;
    const f = { name, shown: `${prefix}${showPath(name)}`, size: st.size, mtimeSec: st.mtimeSec };
    stats.set(f, st);
    out.push(f);
  });
  return out.sort((a, b) => Buffer.compare(a.name, b.name));
}
