// Pure decisions: what to do with one source entry under a Config. No disk access, so every rule is
// unit-tested on plain values.

import { actsAsRoot, type Config } from '../model/config.js';
import { OpKind } from '../model/ops.js';
import { S_IFIFO, S_IFMT, S_IFSOCK, fileType, type Stat } from '../model/stat.js';

/** rsync's line for a special file it does not copy (--info=nonreg). */
export const NONREG_SKIP = 'skipping non-regular file';

export type Decision = { op: OpKind } | { skip: string };

/**
 * Whether a named source (an operand, a --files-from line) that is a symlink is looked through, as rsync's
 * sender stats it (flist.c send_file_list's link_stat): under -L, under -k, and when named "link/" (or as a
 * dot-dir). What counts there is a directory behind it: a link to anything else is the entry's own step
 * (followed by -L, kept by -k).
 */
export function namedLinkFollowed(c: Config, slashed: boolean): boolean {
  return slashed || c.copyLinks || c.copyDirlinks;
}

/** What rsync would do with an entry of this type, before comparing with the destination. */
export function decide(st: Stat, c: Config): Decision {
  switch (fileType(st.mode)) {
    case 'reg':
      return { op: OpKind.File };
    case 'dir':
      // rsync's xfer_dirs: -d, which -r and --files-from bring (cli/dir-options.ts).
      return c.dirs ? { op: OpKind.Mkdir } : { skip: 'skipping directory' };
    case 'link':
      return c.links ? { op: OpKind.Symlink } : { skip: NONREG_SKIP };
    case 'dev':
      // rsync makes devices only as root (or with --super).
      return c.devices && actsAsRoot(c) ? { op: OpKind.Special } : { skip: NONREG_SKIP };
    case 'special': {
      const t = st.mode & S_IFMT;
      if (t !== S_IFIFO && t !== S_IFSOCK) return { skip: NONREG_SKIP };
      return c.specials ? { op: OpKind.Special } : { skip: NONREG_SKIP };
    }
  }
}
