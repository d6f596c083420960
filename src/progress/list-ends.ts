// Where rsync's --info=progress2 draws a line at the end of a file list, and whose count it shows. In a
// local rsync the sender draws every progress line; besides each file's end it draws one at every
// NDX_DONE its generator sends (sender.c send_files): under incremental recursion one per list, when the
// generator has gone past the list and none of its files is still in flight; without it, one at each of
// the three phase ends. The count is "to-chk" from the last entry of the sender's current list: the list
// of the last file it was sent, or the next one once that list itself is finished.
// The model: until the first file is sent the generator finishes each list as it passes it (nothing is in
// flight); after that the lists wait on their files' completions, which in rsync come back in their own
// time, so the rest are drawn at the end. rsync's own output varies from run to run there on large
// trees; on small ones, and on re-syncs that send nothing, it is this. rsync's generator also tells its
// sender about every entry it itemizes without a transfer (a new directory, changed attributes, a new
// symlink: generator.c itemize(), -v or not), which moves the sender's current list like a file does but
// leaves nothing in flight.

/** A line's count from the whole list (no incremental recursion: rsync's one list, its last entry). */
export const WHOLE_LIST = -1;

export class ListEnds {
  /** The first list not yet finished. */
  private next = 0;
  /** The list of the last entry sent (rsync's sender's cur_flist), once one was. */
  private last: number | undefined;
  /** A file was sent: lists now wait on files in flight. */
  private inFlight = false;

  constructor(private readonly incremental: boolean) {}

  /**
   * An entry of list `list` is sent, a file or (`transfer` false) an itemized entry; `opens`: it is that
   * list's first entry. The lists finished around it, each as the list whose end its line counts from:
   * `before` its own line, `after` it.
   */
  fileSent(list: number, opens: boolean, transfer = true): { before: number[]; after: number[] } {
    const ends = { before: [] as number[], after: [] as number[] };
    if (this.incremental && !this.inFlight) {
      // The generator finished each list before this one as it went past it; the one just before is
      // finished after this entry when the entry opens its list (rsync checks after each entry it makes).
      const upTo = opens ? list - 1 : list;
      for (let i = this.next; i < upTo; i++) ends.before.push(i);
      if (opens && list - 1 >= this.next) ends.after.push(list);
      this.next = Math.max(this.next, list);
    }
    this.last = list;
    if (transfer) this.inFlight = true;
    return ends;
  }

  /** The run is over with `lists` lists: the lines still to draw, each as the list its count is from. */
  atEnd(lists: number): number[] {
    if (!this.incremental) return [WHOLE_LIST, WHOLE_LIST, WHOLE_LIST];
    const out: number[] = [];
    for (let i = this.next; i < lists; i++) out.push(this.last !== undefined && i <= this.last ? this.last : i);
    this.next = lists;
    return out;
  }
}
