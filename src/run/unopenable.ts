// A source file this run will not be allowed to read, told from its lstat alone. rsync's sender prints a
// file's -v/-i line once it has sent the file, so a file whose open fails ("send_files failed to open",
// exit 23) has no line; arsync prints lines as it plans, before any open, and asks this instead. The
// copy is still queued: its open fails and is reported as any other per-file error.
//
// Only what the mode bits settle counts as unreadable. With an ACL the group bits are its mask, so a
// named entry may grant read where the "other" bits do not: that case is taken as readable (the line is
// printed, as before), never the reverse. Root reads everything (CAP_DAC_OVERRIDE). The mode and ids
// judged are the file's own (Stat.own), not the ones --chmod, --fake-super or an id map make the run see.

import type { Stat } from '../model/stat.js';

/** The ids the kernel checks a read against: the effective user and group, and the supplementary groups. */
interface Identity {
  uid: number;
  gids: Set<number>;
}

let cached: Identity | null | undefined;

/** The process's identity, or null as root (or where Node cannot say). Read once: it does not change. */
function identity(): Identity | null {
  if (cached !== undefined) return cached;
  const uid = process.geteuid?.();
  if (uid === undefined || uid === 0) return (cached = null);
  cached = { uid, gids: new Set([process.getegid?.() ?? -1, ...(process.getgroups?.() ?? [])]) };
  return cached;
}

/** Does the file's own mode (`st.own`, else `st`'s) deny this process a read of it, for certain? */
export function surelyUnreadable(seen: Stat): boolean {
  const me = identity();
  if (!me) return false;
  const st = seen.own ?? seen;
  if (st.uid === me.uid) return (st.mode & 0o400) === 0;
  if (me.gids.has(st.gid)) return (st.mode & 0o040) === 0;
  // Neither owner nor group: "other" decides unless an ACL entry (bounded by the mask, the group bits) might.
  return (st.mode & 0o044) === 0;
}
