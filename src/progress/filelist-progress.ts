// rsync's file-list progress under --info=flist2 (what --progress turns on) when the list is not sent
// incrementally: after "building file list ... " (sending) or "receiving file list ... " (receiving),
// " N files...\r" at every hundredth entry, each overwriting the last, then "N files to consider" on the
// same line. A sender counts before adding each entry (so from 0), a receiver after (so from 100, and not
// at all, nor the newline before it, for a list under a hundred). Under flist1 the line ends in "done".

/** What follows "building file list ... " / "receiving file list ... " once the list has `n` entries. */
export function filelistEnd(n: number, level: number, side: 'sending' | 'receiving'): string {
  if (level < 2) return 'done\n';
  let s = '';
  for (let k = side === 'sending' ? 0 : 100; k < n + (side === 'sending' ? 0 : 1); k += 100) s += ` ${k} files...\r`;
  if (s) s = '\n' + s;
  return `${s}${n} file${n === 1 ? ' ' : 's '}to consider\n`;
}

/**
 * The same progress from rsync's delete pass (--delete-before, --delete-after) on a receiving client (a
 * pull, --read-batch; a local copy's generator is a server and draws none), under --info=flist2 without
 * incremental recursion: its generator lists each destination directory it deletes in, and each directory
 * it deletes, as a file list, drawing " N files...\r" before the entry numbered N = 0, 100, 200... The
 * count runs on across the lists under --info=progress (rsync's flist_count_offset), else starts again at
 * 0 in each. When the pass ends, 20 spaces and "\r" cover the last count.
 */
export class DeleteListProgress {
  private count = 0;

  constructor(
    /** Text without a newline; `open`: the next line starts on a new one (Reporter.draw). */
    private readonly draw: (text: string, open: boolean) => void,
    /** --info=progress: the count runs on from list to list. */
    private readonly runsOn: boolean,
  ) {}

  /** A directory listed with `n` entries (those the receiver's filters do not hide). */
  listed(n: number): void {
    const from = this.runsOn ? this.count : 0;
    for (let k = Math.ceil(from / 100) * 100; k < from + n; k += 100) this.draw(` ${k} files...\r`, true);
    if (this.runsOn) this.count += n;
  }

  /** The pass is over. */
  end(): void {
    this.draw(`${' '.repeat(20)}\r`, false);
  }
}
