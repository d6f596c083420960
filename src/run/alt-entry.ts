// --compare-dest / --copy-dest / --link-dest for one entry (rsync's try_dests_reg / try_dests_non): the
// twin alt-dest.ts found turns the entry into a hard link to the earlier snapshot, a local copy of it,
// nothing at all, or a normal transfer itemized against it. An op that reads a basis file carries the
// copy from the source to fall back on.

import { OpFlag, OpKind } from '../model/ops.js';
import { ELOOP_TEXT } from '../plan/operator-path.js';
import { showPath } from '../util/errors.js';
import { fileType, type Stat, type FileType } from '../model/stat.js';
import { attrChanges, sameTime, type Changes } from '../plan/quickcheck.js';
import { sameFileData, type Fallback, type Twin } from './alt-dest.js';
import type { RunContext } from './context.js';
import { anyChange, NO_CHANGES, NO_LINE, type Line } from './lines.js';
import type { Member } from './members.js';
import { removeSource } from './remove-source.js';
import type { Pending } from './sink.js';
import type { Verdict } from '../plan/quickcheck.js';
import { inRootList } from './item-bytes.js';
import { againstBasis, overReplaced } from './basis-mode.js';

type QueueCopy = (rc: RunContext, m: Member, kind: FileType, verdict: Verdict, flags: number, from?: Twin) => Promise<boolean>;

/**
 * Look for the entry in the --compare-dest, --copy-dest and --link-dest directories. Returns undefined
 * when the normal path should go on. `destCurrent`: the destination's file holds the source's data by the
 * quick check (only its attributes may differ).
 */
export async function tryAltDirs(rc: RunContext, m: Member, kind: FileType, line: Line, target: Buffer | undefined, queueCopy: QueueCopy, destCurrent = false): Promise<boolean | undefined> {
  const c = rc.c;
  const check = rc.spec.check;
  // An entry of another type there is deleted first (rsync's delete_item before try_dests_reg/non):
  // the twin is looked for as for an entry the destination lacks (`there`: what is replaced or removed).
  const there = m.destSt;
  const exists = there !== undefined && fileType(there.mode) === kind;
  const flags = rc.spec.xattrFlags;
  const xattrs = flags ? (p: Buffer): number => rc.dest.basisXattrDiff(m.src, p, flags, rc.xattrViews?.ofEntry(m.rel)) : undefined;
  // -c: a file twin matches by its data, as rsync's quick_check_ok compares its sum.
  const sameData = c.checksum && kind === 'reg' ? (p: Buffer): boolean => sameFileData(m.src, p, m.st.size, c.copyLinks || c.copyUnsafeLinks) : undefined;
  const best = rc.alt.best(m.rel, m.st, kind, target, (p) => rc.source.readlink(p), xattrs, sameData);
  if (!best) return undefined;
  // The destination has another version: only an exact --link-dest or --compare-dest match acts on it
  // (rsync's try_dests_reg with find_exact_for_existing: the file is unlinked, then linked to the twin,
  // or under --compare-dest left out, the destination keeping only what differs from it).
  // A directory there is not unlinked (rsync's unlink fails, and the file goes the normal way).
  if (exists && (best.level !== 3 || c.copyDest.length || kind !== 'reg' || fileType(m.destSt!.mode) === 'dir')) return undefined;
  // Under --link-dest a destination file that is the twin's inode already stays as it is.
  if (exists && c.linkDest.length && m.destSt!.ino === best.st.ino && m.destSt!.dev === best.st.dev) return undefined;
  const alt = best;
  m.hasTwin = true;
  // What rsync's generator tells its sender under -ii/-vv for a linked or compared twin (an empty name
  // after the flags for a link) is not worked out, nor an entry of another type removed first.
  if (rc.items.everyEntry || (there !== undefined && !exists)) rc.tally.totals.streamUnknown = true;
  const totals = rc.tally.totals;
  // The ops rsync's generator makes for the twin on its own, with nothing for its sender (the byte
  // figures, run/stream-totals.ts quiet): counted from here, less `items` ops that its sender is told of.
  const opsBefore = rc.sink.opsAdded;
  const silent = (items = 0): void => {
    totals.unchangedOps = (totals.unchangedOps ?? 0) + rc.sink.opsAdded - opsBefore - items;
  };
  // The entry's directory gets its time back at the end: one more op of rsync's generator's own when
  // nothing else had it set.
  const touchSilently = (e: Member): void => {
    if (e.record && !e.record.needMeta) totals.unchangedOps = (totals.unchangedOps ?? 0) + 1;
    rc.dirs.touch(e.record);
  };
  // A twin outside --confine-root that rsync would open (to copy or link it, or to compare a level-2
  // match's data): its open is refused, reported as rsync's generator does, and the file is transferred
  // as though no twin were there.
  if (alt.outside !== undefined && kind === 'reg' && (alt.level === 2 || (alt.level === 3 && (c.linkDest.length || c.copyDest.length)))) {
    rc.tally.xferError(alt.path, `[generator] open "${alt.outside}": ${ELOOP_TEXT}`);
    return undefined;
  }
  const changesVsAlt = (): Changes => {
    const ch = { ...attrChanges(m.st, alt.st, check), ...(alt.xattrs ? { xattr: (alt.xattrs & 1) !== 0, acl: (alt.xattrs & 2) !== 0 } : {}) };
    // Any other entry rsync's generator makes itself after its try_dests_non found a twin, itemized
    // against it with ITEM_REPORT_CHANGE whatever matched (a symlink's time too, unless -J), except an
    // exact twin under --copy-dest, made without a word.
    return kind === 'reg' ? { ...ch, size: m.st.size !== alt.st.size, time: !sameTime(m.st, alt.st, check) } : { ...ch, value: alt.level < 3 };
  };
  if (alt.level === 3 && !c.copyDest.length) {
    if (c.linkDest.length) {
      // -vvv: rsync's generator settles it alone (no index for the sender).
      rc.trace?.settledByGenerator(showPath(m.rel));
      // Hard-linked to the earlier snapshot: rsync prints it only with -ii.
      if (rc.lines.all) rc.lines.emit(kind, { action: 'attrs', changes: NO_CHANGES }, line, true);
      if (!c.dryRun) {
        // -b: rsync's try_dests_reg unlinks a destination file it replaces by the link without a backup.
        // One whose data is the source's loses nothing (the twin holds the same data), so none is made,
        // as rsync; one with other data is backed up (stricter than rsync, which loses it).
        const after = there && !(exists && destCurrent) ? rc.backups.beforeReplace((k: OpKind, s: Buffer, r: Buffer, st: Stat, f: number) => rc.sink.add(k, s, r, st, f), m.rel, there) : 0;
        const copy = kind === 'reg' ? OpKind.File : kind === 'link' ? OpKind.Symlink : OpKind.Special;
        addBasis(rc, OpKind.LinkFrom, alt, kind, { op: copy, src: m.src, rel: m.rel, st: m.st, flags: m.flags | after });
        // A file replaced by the link changes its directory, whose time is set back at the end (one more
        // op of rsync's generator's own when nothing else had it set; the caller touches it too).
        if (there) touchSilently(m);
        await rc.sink.maybeFlush();
      }
      m.fromTwin = true;
      silent();
      // --remove-source-files: rsync's generator reports a file settled by its twin as done (removed from
      // the source), but leaves a symlink, device or special file it linked or compared to one
      // (try_dests_non's -2 goes to cleanup, not to return_with_success).
      if (kind === 'reg') removeSource(rc, m, kind);
      return true;
    }
    // --compare-dest: the earlier copy will do; nothing is made here, and a destination file there is
    // removed (rsync unlinks it, with no deletion line and no backup). rsync itemizes the entry with
    // -ii/-vv (no local change: ".f", blank), and -vv alone calls it up to date.
    if (there && !c.dryRun) {
      rc.sink.add(OpKind.Delete, Buffer.alloc(0), m.rel, there);
      // Its directory changed: its time is set back at the end, as rsync's generator does.
      touchSilently(m);
      await rc.sink.maybeFlush();
    }
    if (rc.lines.all) rc.lines.emit(kind, { action: 'attrs', changes: NO_CHANGES }, line);
    m.fromTwin = true;
    silent();
    if (kind === 'reg') removeSource(rc, m, kind);
    return false;
  }
  if (alt.level >= 2) {
    // A local copy of the alternate entry (attributes from the source): "cf" with what differs. rsync's
    // generator copies it itself: --stats does not count it as transferred.
    const changes = changesVsAlt();
    rc.lines.emitLocal(kind, { action: 'attrs', changes }, line);
    m.fromTwin = true;
    if (kind === 'reg') {
      const local = (totals.localCopies ??= { files: 0, bytes: 0 });
      local.files++;
      local.bytes += m.st.size;
    }
    // rsync's generator itemizes its copy against the twin: what differs goes to its sender as an
    // attribute change does (the index and flags), the copy itself is its own work.
    const told = anyChange(changes);
    if (told) rc.items.note(rc.lists, rc.tally.listedCount(), inRootList(rc.root.current, m.rel, false));
    // Without -p the copy takes the bits of an entry it replaces (a symlink's 0777 too), as rsync's
    // generator gives it the mode it worked out against that entry.
    if (kind === 'reg') overReplaced(rc, m);
    // A twin whose xattrs or ACLs differ has the same data: it is read from the source, whose xattrs
    // the engines copy with it (an op reading the twin would copy the twin's).
    const queued = await queueCopy(rc, m, kind, { action: 'create' }, m.flags, kind === 'reg' && !alt.xattrs ? alt : undefined);
    silent(told && !c.dryRun ? 1 : 0);
    return queued;
  }
  // Only the name matched: a normal transfer, itemized against the alternate entry (rsync's receiver
  // maps that twin as its basis: -vvv's "recv mapped").
  if (kind === 'reg') rc.trace?.basisIn(showPath(m.rel), alt.shown, alt.st.size);
  // Without -p its bits are that basis's, or a waiting partial file's, which rsync's receiver opens instead.
  if (kind === 'reg' && !c.dryRun) againstBasis(rc, m, rc.partials?.stat(m.rel) ?? alt.st);
  // -c: rsync's generator marks every transfer against an existing basis ITEM_REPORT_CHANGE ("c").
  rc.lines.emit(kind, { action: 'transfer', changes: kind === 'reg' && c.checksum ? { ...changesVsAlt(), value: true } : changesVsAlt() }, line);
  return queueCopy(rc, m, kind, { action: 'create' }, m.flags);
}

/**
 * An op that reads a basis file: checked like a source (OpFlag.Basis: no symlink on its path, still
 * the twin's inode), with the copy from the source to fall back on if it is not (entry.ts settled()).
 */
export function addBasis(rc: RunContext, op: OpKind, twin: Twin, kind: FileType, fallback: Omit<Fallback, 'basis'>, shown = true): void {
  const pending: Pending = { kind, verdict: { action: 'create' }, line: NO_LINE, size: fallback.st.size, fallback: { ...fallback, basis: twin.path } };
  const st = { ...fallback.st, ino: twin.st.ino, dev: twin.st.dev };
  rc.sink.add(op, twin.path, fallback.rel, st, (fallback.flags & ~OpFlag.FollowSource) | OpFlag.Basis, pending, undefined, shown);
}
