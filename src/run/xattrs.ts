// -X/-A: xattrs and ACLs are part of the attributes compared (rsync's 'x' and 'a'). The engine reads
// both sides; an entry that only differs there becomes an attribute update.

import { S_IFMT, type Stat } from '../model/stat.js';
import type { Changes } from '../plan/quickcheck.js';
import type { RunContext } from './context.js';
import { NO_CHANGES } from './lines.js';
import type { Verdict } from '../plan/quickcheck.js';

export function withXattrs(rc: RunContext, v: Verdict, src: Buffer, rel: Buffer, st: Stat, destSt: Stat | undefined): Verdict {
  // A symlink too: root's trusted.* and security.* xattrs may sit on one (Linux allows no user.* there).
  if (!rc.spec.xattrFlags || !destSt || v.action === 'skip' || v.action === 'create') return v;
  if ((destSt.mode & S_IFMT) !== (st.mode & S_IFMT)) return v;
  const diff = rc.dest.xattrDiff(src, rel, rc.spec.xattrFlags);
  if (!diff) return v;
  const changes: Changes = { ...('changes' in v ? v.changes : NO_CHANGES), xattr: (diff & 1) !== 0, acl: (diff & 2) !== 0 };
  if (changes.xattr) rc.tally.totals.xattrsChanged = (rc.tally.totals.xattrsChanged ?? 0) + 1;
  return v.action === 'none' ? { action: 'attrs', changes } : { ...v, changes };
}
