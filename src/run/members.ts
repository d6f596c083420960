// A non-directory entry on its way to a decision, and the -H groups that hold such entries back until
// the walk is over (hardlinks.ts chooses each group's leader then).

import type { Stat } from '../model/stat.js';
import type { DirRecord } from './dirmeta.js';

export interface Member {
  src: Buffer;
  rel: Buffer;
  st: Stat;
  destSt: Stat | undefined;
  /** The parent directory's record, whose mtime must be restored when this entry changes. */
  record: DirRecord | undefined;
  flags: number;
  /** The name printed, when it is not rel (a single file copied to a new name prints the source's). */
  display: Buffer | undefined;
  /** A symlink's target as read once and judged (--safe-links, --copy-unsafe-links): the one written. */
  target?: Buffer;
}

/** -H: the members of each inode (dev:ino) with more than one link, in the order the walk found them. */
export class HardLinkGroups {
  private readonly groups = new Map<string, Member[]>();

  add(m: Member): void {
    const key = `${m.st.dev}:${m.st.ino}`;
    const group = this.groups.get(key);
    if (group) group.push(m);
    else this.groups.set(key, [m]);
  }

  /** Every group, once (the groups are emptied). */
  *take(): Generator<Member[]> {
    for (const g of this.groups.values()) yield g;
    this.groups.clear();
  }
}
