// -X/-A: xattrs and ACLs are part of the attributes compared (rsync's 'x' and 'a'). The engine reads
// both sides; an entry that only differs there becomes an attribute update.

import { S_IFMT, S_IFREG, type Stat } from '../model/stat.js';
import type { Changes } from '../plan/quickcheck.js';
import type { Frame, RunContext } from './context.js';
import { NO_CHANGES, anyChange } from './lines.js';
import type { Verdict } from '../plan/quickcheck.js';

export function withXattrs(rc: RunContext, v: Verdict, src: Buffer, rel: Buffer, st: Stat, destSt: Stat | undefined): Verdict {
  // A symlink too: root's trusted.* and security.* xattrs may sit on one (Linux allows no user.* there).
  if (!rc.spec.xattrFlags || !destSt || v.action === 'skip' || v.action === 'create') return v;
  // A pull's file the destination's own stands for (one not received: run/staged-source.ts) has no
  // inode to read; its xattrs and ACLs are the destination's.
  if (rc.source.unfetched?.(src)) return v;
  if ((destSt.mode & S_IFMT) !== (st.mode & S_IFMT)) return v;
  const diff = rc.dest.xattrDiff(src, rel, rc.spec.xattrFlags, rc.xattrViews?.ofEntry(rel));
  // An ACL's bytes count as an xattr too (x-rules under -AX), except for a regular file whose data is
  // current: rsync's receiver sets its attributes, the ACL among them, before it reads the xattrs it
  // itemizes (set_file_attrs, then itemize), so they are equal by then; -n sets nothing.
  const settled = (st.mode & S_IFMT) === S_IFREG && !rc.c.dryRun;
  const plain = (diff & XATTR) !== 0;
  const raw = (diff & ACL_RAW) !== 0 && !(settled && (v.action === 'none' || v.action === 'attrs'));
  if (!plain && !raw && !(diff & ACL)) return v;
  const changes: Changes = { ...('changes' in v ? v.changes : NO_CHANGES), xattr: plain || raw, acl: (diff & ACL) !== 0 };
  if (raw && !plain && settled && v.action === 'compare') changes.xattrIfCurrent = false;
  if (changes.xattr) rc.tally.totals.xattrsChanged = (rc.tally.totals.xattrsChanged ?? 0) + 1;
  if (changes.perms && (diff & ACL_ACCESS) !== 0 && (st.mode & S_IFMT) === S_IFREG && !rc.c.dryRun) {
    // Known current now, or once -c's compare finds it so (the 'p' of a file sent is the modes').
    if (v.action === 'none' || v.action === 'attrs') changes.perms = permsAfterAcl(st.mode, destSt.mode);
    else if (v.action === 'compare') changes.permsIfCurrent = permsAfterAcl(st.mode, destSt.mode);
  }
  return v.action === 'none' ? { action: 'attrs', changes } : { ...v, changes };
}

/** xattrDiff's bits (native/meta.h XC_*): xattrs, ACLs, the access ACL among them, an ACL's bytes. */
const XATTR = 1;
const ACL = 2;
const ACL_ACCESS = 4;
const ACL_RAW = 8;

/** The `xattr` of an entry itemized before its attributes are set (a directory, a --*-dest twin). */
export function xattrBits(diff: number): { xattr: boolean; acl: boolean } {
  return { xattr: (diff & (XATTR | ACL_RAW)) !== 0, acl: (diff & ACL) !== 0 };
}

/**
 * rsync's 'p' for a regular file whose data is current and whose access ACL changes: its receiver sets
 * the attributes before it itemizes them (set_file_attrs, then itemize), and writing the ACL brings the
 * permission bits with it (change_sacl_perms), so 'p' is left for the bits an ACL cannot carry (set-id,
 * sticky). A directory is itemized before its attributes are set, and -n sets nothing: their 'p' stays
 * as the modes say.
 */
export function permsAfterAcl(srcMode: number, dstMode: number): boolean {
  return (srcMode & 0o7000) !== (dstMode & 0o7000);
}

/**
 * A directory's xattrs judged again as the walk enters it, in its own view (run/xattr-views.ts enter),
 * when that is not the view its comparison as its parent's entry took: rsync's generator compares a
 * directory in full right before its entries, with whatever per-directory rules the directory it handled
 * last left pushed. Its pending line and its metadata op at the end follow the new judgement.
 */
export function rejudgeDirXattrs(rc: RunContext, dir: Frame, view: Buffer | undefined): void {
  const p = dir.pending;
  const flags = rc.spec.xattrFlags;
  if (!p || !flags || !dir.destExists || p.local) return;
  const v = p.verdict;
  if (v.action !== 'none' && v.action !== 'attrs') return;
  const bits = xattrBits(rc.dest.xattrDiff(dir.src, dir.rel, flags, view));
  if (v.changes.xattr === bits.xattr) return;
  const changes: Changes = { ...v.changes, xattr: bits.xattr };
  const t = rc.tally.totals;
  t.xattrsChanged = (t.xattrsChanged ?? 0) + (bits.xattr ? 1 : -1);
  p.verdict = anyChange(changes) ? { action: 'attrs', changes } : { action: 'none', changes };
  if (bits.xattr && dir.record) dir.record.needMeta = true;
}
