// Destination files with several names that the run does not treat as hard links (no -H, or names the
// source does not link): setting the attributes of one name sets them for all. rsync decides each name
// after the previous one was done, so a later name sees the times or mode an earlier one just got and
// prints nothing for them. Here the ops run later, in batches: a name whose inode the run has already
// given attributes is decided from a fresh stat once those ops are done.

import type { Stat } from '../model/stat.js';

const key = (st: Stat): string => `${st.dev}:${st.ino}`;

export class SharedInodes {
  /** Inodes with other names whose attributes an op of this run sets in place (not by replacing the file). */
  private readonly touched = new Set<string>();

  /** Whether `destSt` is an inode the run has set attributes on through another name. */
  stale(destSt: Stat | undefined): boolean {
    return destSt !== undefined && destSt.nlink > 1 && destSt.ino !== 0 && this.touched.has(key(destSt));
  }

  /** An op of the run keeps this inode and sets its attributes. */
  note(destSt: Stat | undefined): void {
    if (destSt && destSt.nlink > 1 && destSt.ino !== 0) this.touched.add(key(destSt));
  }
}
