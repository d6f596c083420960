// Directories on the transfer pass: a source directory decided against its destination twin and made at
// once on this thread (everything inside needs it; under -p its set-gid bit set then too, the one bit of
// its mode that changes what is made inside), -R's implied parent directories, and the directory an
// earlier source already made when several sources share a path. Each is recorded in the directory
// ledger (dirmeta.ts), whose metadata ops come last.

import { skipLine } from './skip-lines.js';
import { BatchWriter } from '../engine/batch.js';
import { isFailure, type SysFailure } from '../model/failure.js';
import { OpFlag, OpKind } from '../model/ops.js';
import { S_IFDIR, S_IFMT, S_ISGID, type Stat, fileType } from '../model/stat.js';
import type { FilterScope } from '../plan/filter-scope.js';
import { attrChanges, quickCheck } from '../plan/quickcheck.js';
import type { Root } from '../plan/sources.js';
import { ERRNO, showPath } from '../util/errors.js';
import { dirName, joinPath } from '../util/names.js';
import { withChmod, type Frame, type RunContext } from './context.js';
import { removeForReplace } from './deletions.js';
import type { DirRecord } from './dirmeta.js';
import { anyChange } from './lines.js';
import { withXattrs, xattrBits } from './xattrs.js';
import { fakeDiskStale } from './fake-source.js';
import type { Verdict } from '../plan/quickcheck.js';
import { inRootList } from './item-bytes.js';

/** Set up a directory to descend into, made now if it is new; prints nothing yet (its deletions come first). */
export function dirFrame(
  rc: RunContext,
  src: Buffer,
  rel: Buffer,
  st: Stat,
  destStIn: Stat | undefined,
  sender: FilterScope | undefined,
  receiver: FilterScope | undefined,
): Frame | undefined {
  const c = rc.c;
  const { destSt, keptLink, destIsDir } = destDir(rc, rel, destStIn);
  rc.tally.totals.listed.dir++;
  // The destination root is never passed by: rsync has just made it when it was missing.
  if (c.existing && !destSt && rel.length) {
    skipLine(rc, { src, rel, st, destSt, display: undefined }, 'dir', 'missing', false);
    return { src, rel, stat: st, destExists: false, sender, receiver, record: undefined, pending: undefined, listOnly: true };
  }
  if (c.ignoreExisting && destSt && !destIsDir) {
    // rsync leaves the non-directory in place ("X exists" at --info=skip) and then fails on everything
    // inside it.
    skipLine(rc, { src, rel, st, destSt, display: undefined }, 'dir', 'exists', false);
    const errno = rc.dest.belowErrno(rel, destSt);
    // A dry run makes nothing, so whatever rsync's generator would make below succeeds (statErrno).
    if (c.dryRun) return { src, rel, stat: st, destExists: false, sender, receiver, record: undefined, pending: undefined, statErrno: errno };
    return { src, rel, stat: st, destExists: false, sender, receiver, record: undefined, pending: undefined, blocked: errno };
  }
  const verdict = withXattrs(
    rc,
    quickCheck(st, destSt, { ...rc.spec.dirCheck, existing: false, ignoreExisting: false, update: false }),
    src, rel, st, destSt,
  );
  // --fake-super receiving: a directory left as a run without it made it (a set-id or sticky bit on disk,
  // no owner access) gets rsync's form and record when its attributes are set, with no line.
  const fakeStale = verdict.action === 'none' && c.amRoot === -1 && c.perms && !c.dryRun && destSt !== undefined && !keptLink && fakeDiskStale(st, destSt);
  const record: DirRecord = { src, rel, stat: st, needMeta: verdict.action !== 'none' || fakeStale, keptLink, ownerBits: verdict.action === 'create' };
  // (A non-directory in its place is removed first, so it is looked for in the alternate directories
  // too, as rsync's recv_generator does after its delete_item.)
  // rsync's unchanged_attrs judges a twin's time under -t even with -O (-O is its itemize's alone).
  const twinCheck = { ...rc.spec.dirCheck, times: c.times };
  const exact = (t: { st: Stat; path: Buffer }): boolean => !anyChange(attrChanges(st, t.st, twinCheck)) && !(rc.spec.xattrFlags && rc.dest.basisXattrDiff(src, t.path, rc.spec.xattrFlags, rc.xattrViews?.ofEntry(rel)));
  const twin = verdict.action === 'create' && (!destSt || !destIsDir) && !keptLink ? rc.alt.dirTwin(rel, exact) : undefined;
  const alt = twin?.st;
  if (verdict.action === 'attrs') rc.items.note(rc.lists, rc.tally.listedCount(), inRootList(rc.root.current, rel, true));
  else if (verdict.action === 'create' && !alt) rc.items.newDir(rc.lists, rc.tally.listedCount());
  else if (verdict.action === 'none') rc.items.unchanged(rc.lists, rc.tally.listedCount());
  // rsync's generator tells its sender of a new or changed directory (--info=progress2's list ends).
  if (verdict.action === 'attrs' || verdict.action === 'create') rc.reporter.itemized?.();
  const line = rc.lines.lineFor(rel, src, st, 'dir');
  if (alt) {
    // rsync's try_dests_non for a directory: a twin in an alternate directory turns "cd+++++++++"
    // into "cd" plus what differs from it, or into silence when nothing does.
    // Itemized against the twin, it is not new to rsync ("Number of created files" leaves it out).
    // Under -X/-A its xattrs and ACLs are compared with the twin's too (rsync's itemize against it).
    const flags = rc.spec.xattrFlags;
    const differ = flags && twin ? rc.dest.basisXattrDiff(src, twin.path, flags, rc.xattrViews?.ofEntry(rel)) : 0;
    const changes = { ...attrChanges(st, alt, twinCheck), ...(differ ? xattrBits(differ) : {}) };
    // Under -O rsync's itemize reports `t` for any local change that is not a match: a twin that differs
    // in anything shows it (without -t, `T`: itemize's rule for every local change).
    if (c.times && c.omitDirTimes && anyChange(changes)) changes.time = true;
    record.needMeta = true;
    // Its sender hears of it only where it differs from the twin (the index and flags, as for a changed
    // directory); making it and setting its attributes at the end are rsync's generator's own work.
    const told = anyChange(changes);
    if (told) rc.items.note(rc.lists, rc.tally.listedCount(), inRootList(rc.root.current, rel, true));
    const totals = rc.tally.totals;
    if (destSt) totals.streamUnknown = true;
    if (!c.dryRun) totals.unchangedOps = (totals.unchangedOps ?? 0) + (rel.length ? 1 : 0) + (told ? 0 : 1);
    if (!c.dryRun && rel.length) {
      const w = new BatchWriter(512);
      // The non-directory in its place: backed up first under -b (the Mkdir replaces it), as on the way below.
      const after = destSt && c.backup ? rc.backups.beforeReplace((...a) => w.add(...a), rel, destSt) : 0;
      w.add(OpKind.Mkdir, src, rel, visitStat(rc, st), after | visitSetgid(rc, st, undefined) | visitAcl(rc));
      rc.sink.now(w);
    }
    const kept = rc.dirs.record(record);
    const pending = anyChange(changes) || rc.lines.all ? { verdict: { action: 'attrs', changes } as Verdict, line, local: true } : undefined;
    return { src, rel, stat: st, destExists: false, sender, receiver, record: kept, pending, madeFromTwin: true };
  }
  if (verdict.action === 'create') {
    rc.tally.totals.created.dir++;
    if (!c.dryRun) {
      const w = new BatchWriter(512);
      let after = 0;
      if (destSt && rel.length) {
        if (c.backup && !destIsDir) after = rc.backups.beforeReplace((...a) => w.add(...a), rel, destSt);
        else removeForReplace(rc, rel, destSt, w);
      }
      // The root was made before the run (run/dest-root.ts): only its set-gid bit is set here.
      const visit = visitSetgid(rc, st, undefined) | visitAcl(rc);
      if (rel.length || visit) w.add(OpKind.Mkdir, src, rel, visitStat(rc, st), after | visit);
      if (!rc.sink.now(w) && rel.length) {
        // rsync's generator gives up on a directory it cannot make, and everything below it, after
        // saying so (an rprintf line: no program name); its attributes are not set either. It itemized
        // the directory before its mkdir (recv_generator), so its line stands, printed when the walk
        // comes to it (transfer-pass.ts listOnlyDir).
        rc.tally.note('*** Skipping any contents from this failed directory ***');
        return { src, rel, stat: st, destExists: false, sender, receiver, record: undefined, pending: { verdict, line }, listOnly: true };
      }
    }
  }
  if (destIsDir && destSt && !keptLink) openUp(rc, record, destSt, visitSetgid(rc, st, destSt) | visitAcl(rc));
  const kept = rc.dirs.record(record);
  return { src, rel, stat: st, destExists: destIsDir, sender, receiver, record: kept, pending: { verdict, line } };
}

/**
 * -p: rsync's generator sets a directory's mode when it visits it, before it makes anything inside, and
 * what is made inside a set-gid directory takes its group (a new subdirectory the bit too); arsync sets
 * the mode at the end (dirmeta.ts), so the set-gid bit alone is set at the visit, by the visit's Mkdir
 * op (OpFlag.SetGid; its mode from visitStat): on a new directory always (the engine compares it with
 * the parent it was made in, whose bit it took), on an existing one (`destSt`) only when its bit differs
 * from the final mode's. Without -p rsync leaves an existing directory's bits, and a new one keeps the
 * bit it inherits; --fake-super receiving, rsync's set_stat_xattr gives the disk only the access bits
 * (the rest go in the xattr) with -p or without, so there the bit goes. Not under -n, nor through -K's
 * kept symlink (its attributes go on the link at the end).
 */
function visitSetgid(rc: RunContext, st: Stat, destSt: Stat | undefined): number {
  const c = rc.c;
  if ((!c.perms && c.amRoot !== -1) || c.dryRun) return 0;
  if (destSt && (destSt.mode & S_ISGID) === (visitStat(rc, st).mode & S_ISGID)) return 0;
  return OpFlag.SetGid;
}

/**
 * -A without -p: rsync's generator sets a directory's ACLs at its visit, and a new entry inside takes its
 * bits from the default ACL the directory has by then (dest_mode, default_perms_for_dir), so the visit's
 * Mkdir op makes the default ACL the source's (OpFlag.VisitAcl); DirMeta sets the ACLs again at the end.
 * With -p the bits are the source's whatever the ACL says; --fake-super keeps ACLs as records instead.
 */
function visitAcl(rc: RunContext): number {
  const c = rc.c;
  return c.acls && !c.perms && !c.dryRun && !c.fakeSuper ? OpFlag.VisitAcl : 0;
}

/** The stat a directory's visit op carries: --fake-super receiving, without the set-gid bit (visitSetgid). */
function visitStat(rc: RunContext, st: Stat): Stat {
  return rc.c.amRoot === -1 && st.mode & S_ISGID ? { ...st, mode: st.mode & ~S_ISGID } : st;
}

/**
 * Not acting as root, rsync's generator gives an existing directory that lacks some of the owner's bits
 * all of them while it fills it, and its touch_up_dirs gives the mode back at the end (without -p, the
 * mode the directory had: the record's, for DirMeta's OpFlag.OwnerBits). Only a directory of ours, below
 * the destination root, in a run that writes. `visit`: the visit's set-gid bit and default ACL flags (visitSetgid, visitAcl), set by
 * the same op.
 */
function openUp(rc: RunContext, record: DirRecord, destSt: Stat, visit: number): void {
  const c = rc.c;
  // --fake-super acts as root only in what it records: not root, the directory must still be opened (rsync's
  // set_stat_xattr gives a directory's disk mode the owner's bits at its visit).
  const notRoot = !rc.spec.check.isRoot || (c.fakeSuper && process.geteuid?.() !== 0);
  const open = record.rel.length > 0 && !c.dryRun && notRoot && (destSt.mode & 0o700) !== 0o700 && destSt.uid === process.geteuid?.();
  if (!open && !visit) return;
  const w = new BatchWriter(512);
  w.add(OpKind.Mkdir, record.src, record.rel, visitStat(rc, record.stat), (open ? OpFlag.OwnerBits : 0) | visit);
  rc.sink.now(w);
  if (!open) return;
  record.needMeta = true;
  record.ownerBits = true;
  if (!c.perms) record.stat = { ...record.stat, mode: (record.stat.mode & ~0o7777) | (destSt.mode & 0o7777) };
}

/** What the destination has where a source directory goes, and whether it is a directory to walk into. */
export function destDir(rc: RunContext, rel: Buffer, destStIn: Stat | undefined): { destSt: Stat | undefined; keptLink: boolean; destIsDir: boolean } {
  const { destSt, keptLink } = keptDirlink(rc, rel, destStIn);
  return { destSt, keptLink, destIsDir: destSt !== undefined && (destSt.mode & S_IFMT) === S_IFDIR };
}

/**
 * -K: a destination symlink to a directory counts as that directory (resolution stays beneath the
 * destination root in the engines).
 */
function keptDirlink(rc: RunContext, rel: Buffer, destSt: Stat | undefined): { destSt: Stat | undefined; keptLink: boolean } {
  if (rc.c.keepDirlinks && destSt && fileType(destSt.mode) === 'link' && rel.length) {
    const through = rc.dest.follow(rel);
    if (through && fileType(through.mode) === 'dir') return { destSt: through, keptLink: true };
  }
  return { destSt, keptLink: false };
}

/**
 * Several sources: a directory an earlier root already made (or will make, under -n) here. Nothing
 * is printed or set for it; this root's entries are walked into it, and its owner's record notes
 * their changes.
 */
export function mergedFrame(rc: RunContext, src: Buffer, rel: Buffer, st: Stat, sender: FilterScope | undefined, receiver: FilterScope | undefined): Frame {
  const destSt = rc.dest.stat(rel);
  const record = rc.dirs.find(rel);
  const destExists = destSt !== undefined && (destSt.mode & S_IFMT) === S_IFDIR;
  return { src, rel, stat: st, destExists, sender, receiver, record, pending: undefined, merged: true };
}

/** -R: implied directories counted as listed for a root -m prunes, not made (listedImplied), by latin1 path. */
const listedOnly = new WeakMap<RunContext, Set<string>>();

/**
 * -R: the implied directories above a root that rsync's sender lists but no one makes here, counted in
 * --stats' "Number of files" (once, as impliedDirs counts them): above a root -m prunes whole, and under
 * --no-implied-dirs, where a sender of protocol 30 or later still sends them, flagged (flist.c).
 */
export function listedImplied(rc: RunContext, root: Root): void {
  if (!rc.c.relative || (!rc.c.impliedDirs && (rc.c.protocol ?? 32) < 30)) return;
  let seen = listedOnly.get(rc);
  if (!seen) listedOnly.set(rc, (seen = new Set()));
  for (const rel of parentsOf(root.rel)) {
    const key = rel.toString('latin1');
    if (rc.implied.has(key) || rc.dirs.has(rel) || seen.has(key) || !impliedSource(rc, root, rel)) continue;
    seen.add(key);
    rc.tally.addListed({ dir: 1 }, 0);
  }
}

/**
 * The source path and stat of `rel`, a directory above `root` under -R, as rsync's sender sends it, or
 * undefined when it is not a directory there. Its path is the operand's prefix that ends where `rel`
 * ends (--iconv: where the source's own spelling of it ends).
 */
function impliedSource(rc: RunContext, root: Root, rel: Buffer): { src: Buffer; st: Stat } | undefined {
  const srcSide = (r: Buffer): Buffer => (rc.charsets ? rc.charsets.toSource(r) : r);
  const srcPrefix = root.src.subarray(0, root.src.length - srcSide(root.rel).length);
  let src = Buffer.concat([srcPrefix, srcSide(rel)]);
  let st: Stat | SysFailure | undefined = rc.source.lstat(src);
  if (!isFailure(st) && fileType(st.mode) === 'link') {
    // rsync sends implied directories as what they lead to: a symlinked directory in the source
    // path arrives as a real directory (its attributes; opened through the link).
    st = rc.source.follow(src);
    src = Buffer.concat([src, Buffer.from('/')]);
  }
  if (!st || isFailure(st) || fileType(st.mode) !== 'dir') return undefined;
  return { src, st };
}

/**
 * -R: make the directories above a root (a/b for a/b/c), with their source attributes; under
 * --no-implied-dirs only the missing ones, with default attributes (noImplied). Returns false when the
 * root cannot be transferred (reported).
 */
export function impliedDirs(rc: RunContext, root: Root): boolean {
  if (!rc.c.relative) return true;
  if (!rc.c.impliedDirs) {
    listedImplied(rc, root);
    return noImplied(rc, root);
  }
  const parts = parentsOf(root.rel);
  if (!parts.length) return true;
  for (const rel of parts) {
    // Several sources under the same directories make (and print) each one once.
    const key = rel.toString('latin1');
    if (rc.implied.has(key) || rc.dirs.has(rel)) continue;
    rc.implied.add(key);
    const found = impliedSource(rc, root, rel);
    if (!found) continue;
    const { src, st } = found;
    // An implied directory is part of the operand: the engines resolve it as given (anchors.ts).
    rc.anchors.add(src);
    // rsync's sender lists it (--stats' "Number of files"), once.
    if (!listedOnly.get(rc)?.has(key)) rc.tally.addListed({ dir: 1 }, 0);
    const dest = rc.dest.stat(rel);
    // Its xattrs and ACLs too (-X/-A): rsync's generator treats it as any directory in its list.
    const verdict = withXattrs(rc, quickCheck(withChmod(rc, st), dest, rc.spec.dirCheck), src, rel, st, dest);
    if (verdict.action === 'skip') continue;
    if (verdict.action === 'create') rc.tally.totals.created.dir++;
    // rsync's generator itemizes it to its sender, as any directory it makes or touches.
    if (verdict.action === 'create') rc.items.created(rc.lists, rc.tally.listedCount());
    else if (verdict.action === 'attrs') rc.items.note(rc.lists, rc.tally.listedCount());
    // An implied directory already in place: -vvv's trace still has rsync's generator decide it. It is
    // recorded all the same: an operand that changes inside it moves its time, which rsync's generator
    // sets back (the directory is in its list).
    if (verdict.action === 'none') {
      if (rc.trace) rc.lines.emit('dir', verdict, rc.lines.lineFor(rel, src, st, 'dir'));
      // Looked up by path: a file operand inside it touches it (transfer-pass.ts).
      rc.dirs.record({ src, rel, stat: withChmod(rc, st), needMeta: false }, true);
      continue;
    }
    rc.lines.emit('dir', verdict, rc.lines.lineFor(rel, src, st, 'dir'));
    const w = new BatchWriter(512);
    const visit = visitSetgid(rc, withChmod(rc, st), verdict.action === 'create' ? undefined : dest) | visitAcl(rc);
    if (verdict.action === 'create' || visit) w.add(OpKind.Mkdir, src, rel, visitStat(rc, withChmod(rc, st)), visit);
    rc.sink.now(w);
    rc.dirs.record({ src, rel, stat: withChmod(rc, st), needMeta: true, ownerBits: verdict.action === 'create' }, true);
  }
  return true;
}

/**
 * --no-implied-dirs: the directories above a root are not part of the transfer. One the destination
 * lacks is made silently with a new directory's attributes (rsync's receiver makes the path); one it
 * has is left as it is. Where the destination has a symlink instead, rsync writes through it; arsync
 * never writes through a destination symlink (DESIGN §3.2) unless -K, whose engines follow one to a
 * directory only while it stays beneath the destination: the root is refused with an error instead.
 */
function noImplied(rc: RunContext, root: Root): boolean {
  for (const rel of parentsOf(root.rel)) {
    const key = rel.toString('latin1');
    if (rc.implied.has(key) || rc.dirs.has(rel)) continue;
    const dest = rc.dest.stat(rel);
    if (dest && fileType(dest.mode) === 'dir') continue;
    if (dest && fileType(dest.mode) === 'link' && rc.c.keepDirlinks) {
      const through = rc.dest.follow(rel);
      if (through && fileType(through.mode) === 'dir') continue;
    }
    if (dest) {
      const where = joinPath(rc.plan.destRoot, rel);
      const why = fileType(dest.mode) === 'link' ? ERRNO.ELOOP : ERRNO.ENOTDIR;
      rc.tally.ioError(joinPath(rc.plan.destRoot, root.rel), why, 'open', `not transferred: "${showPath(where)}" is not a directory (--no-implied-dirs; arsync writes through no destination symlink without -K)`);
      return false;
    }
    rc.implied.add(key);
    if (rc.c.dryRun) continue;
    // Named after the source's directory of that path (the ops want a directory there).
    const src = Buffer.concat([root.src.subarray(0, root.src.length - root.rel.length), rel]);
    const w = new BatchWriter(512);
    const st = newDirStat(rc);
    w.add(OpKind.Mkdir, src, rel, st);
    rc.sink.now(w);
    rc.dirs.record({ src, rel, stat: st, needMeta: true });
  }
  return true;
}

/** The directories above a relative path, outermost first ("a", "a/b" for "a/b/c"). */
function parentsOf(rel: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  for (let p = dirName(rel); p.length && !(p.length === 1 && p[0] === 0x2f); p = dirName(p)) parts.unshift(p);
  return parts;
}

/** The attributes a directory made by a plain mkdir gets: 0777 less the umask, ours, now. */
function newDirStat(rc: RunContext): Stat {
  const now = Date.now();
  return {
    mode: S_IFDIR | (0o777 & ~rc.spec.engineOptions.umask),
    uid: process.geteuid?.() ?? 0,
    gid: process.getegid?.() ?? 0,
    size: 0,
    mtimeSec: Math.floor(now / 1000),
    mtimeNsec: (now % 1000) * 1e6,
    ino: 0,
    dev: 0,
    nlink: 1,
    rdev: 0,
    blocks: 0,
  };
}
