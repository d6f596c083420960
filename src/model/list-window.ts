// rsync's sender lists ahead of its generator: under incremental recursion it sends one directory's list
// at a time, and before each file it keeps at least MIN_FILECNT_LOOKAHEAD (1,000) entries listed in the
// lists after the file's own (flist.c send_extra_file_list, called from sender.c send_files). Its
// --progress line for a file counts that list (num_files) and says "ir-chk" until the last directory's
// list is sent (flist_eof). This records where each directory's list ends in the walk's running count of
// entries, so a file's last line can show the figure rsync's sender had when it sent the file, whatever
// pace arsync's walk keeps: the line waits until the walk has listed that far. Only the lists from the
// oldest file still waiting on are kept (a number per directory), so memory stays flat.
// rsync also sends more lists while it waits for its generator (up to MAX_FILECNT_LOOKAHEAD, 10,000):
// that depends on timing, so rsync's own figures vary from run to run beyond the first 1,000 entries;
// the figure here is the one rsync always reaches.
// Without incremental recursion rsync sends one list, sorted whole, before any file: every line says
// "to-chk" with the total, and a file's place in that list is the walk's count less the directories the
// walk has counted but not yet entered (they sort after it: a directory's files come before its
// subdirectories, and each subdirectory's contents right after it).

/** rsync's MIN_FILECNT_LOOKAHEAD. */
export const LIST_LOOKAHEAD = 1000;

/** What a file's last line counts: entries in the list so far, and whether more lists are to come. */
export interface ListFigure {
  listed: number;
  growing: boolean;
}

export class ListWindow {
  /** Where each list still asked about ends (entries listed up to and including it), list `first` on. */
  private ends: number[] = [];
  private first = 0;
  /** How many of `ends` are no longer asked about (dropped in bulk). */
  private dropped = 0;
  private done = false;
  /** Directories counted by the walk and not yet entered. */
  private waiting = 0;
  private closed = 0;
  /** Entries listed when the last list closed: the next list's first entry is number lastEnd + 1. */
  private lastEnd = 0;

  /**
   * `incremental`: rsync's inc_recurse; without it the whole list is sent before any file. `figures`:
   * whether figure() will be asked (--progress); else only the lists and places are counted.
   */
  constructor(
    readonly incremental: boolean,
    private readonly figures = true,
  ) {}

  /** The list being filled now: a file queued now belongs to it (lists are numbered from 0). */
  get current(): number {
    return this.closed;
  }

  /** Entries listed when the last list closed (0 before any has). */
  get lastListed(): number {
    return this.lastEnd;
  }

  /** The walk enters a directory it counted. */
  enter(): void {
    if (this.waiting > 0) this.waiting--;
  }

  /** The walk finished one directory's list, `listed` entries counted so far, `subdirs` of them to enter. */
  close(listed: number, subdirs: number): void {
    this.closed++;
    this.lastEnd = listed;
    if (this.figures) this.ends.push(listed);
    this.waiting += subdirs;
  }

  /** A file's place in rsync's list, + 1, when the walk has counted `listed` entries with it. */
  place(listed: number): number {
    return this.incremental ? listed : listed - this.waiting;
  }

  /**
   * A file counted now (`listed` entries with it) is the first entry of the list being filled: rsync's
   * generator is then just past the lists before it (--info=progress2's list ends, progress/list-ends.ts).
   */
  opens(listed: number): boolean {
    return this.incremental && listed === this.lastEnd + 1;
  }

  /** Where list `list` ends (entries listed up to and including it), while it is still kept. */
  end(list: number): number | undefined {
    if (list < this.first) return undefined;
    return this.ends[list - this.first + this.dropped];
  }

  /** The walk is over: every list is known. */
  complete(): void {
    this.done = true;
  }

  /**
   * rsync's count when it sends a file of list `list`: undefined while the walk has not listed as far as
   * rsync's sender would have by then. `listedNow`: the walk's count now (the total once it is over).
   */
  figure(list: number, listedNow: number): ListFigure | undefined {
    if (!this.incremental) return this.done ? { listed: listedNow, growing: false } : undefined;
    const at = list - this.first + this.dropped;
    const n = this.ends.length;
    if (at >= n) return this.done ? { listed: listedNow, growing: false } : undefined;
    const base = this.ends[at]!;
    for (let j = at; j < n; j++) {
      if (this.ends[j]! - base < LIST_LOOKAHEAD) continue;
      // The sender stops after this list; it says "to-chk" only when no directory's list is left.
      // (Directories counted and not entered yet are lists still to come.)
      if (j < n - 1 || this.waiting > 0) return { listed: this.ends[j]!, growing: true };
      break;
    }
    return this.done ? { listed: listedNow, growing: false } : undefined;
  }

  /** Lists before `list` will not be asked about again. */
  forget(list: number): void {
    const drop = Math.min(list - this.first, this.ends.length - this.dropped);
    if (drop <= 0) return;
    this.first += drop;
    this.dropped += drop;
    // Compacted in bulk: one copy per many lists, not one shift per list.
    if (this.dropped > 1024 && this.dropped * 2 > this.ends.length) {
      this.ends = this.ends.slice(this.dropped);
      this.dropped = 0;
    }
  }
}
