// rsync's deletions on the destination (delete.c): what a directory has and the sources do not
// (delete_in_dir), an entry with its contents (delete_item, delete_dir_contents), --max-delete, the
// protections (filters' P rules, earlier backups, what another operand provides), and the deletion that
// makes way for a directory replaced by a non-directory. Ops run now, in batches of DELETE_BATCH
// (run/deletion-batch.ts: each deletion's line and count come once its op worked, as rsync's).

import type { Config } from '../model/config.js';
import type { BatchWriter, Op } from '../engine/batch.js';
import type { OpFailure } from '../engine/types.js';
import { DeletionBatch } from './deletion-batch.js';
import { isFailure } from '../model/failure.js';
import { OpFlag, OpKind } from '../model/ops.js';
import { S_IFDIR, S_IFMT, type Stat, fileType, type FileType } from '../model/stat.js';
import type { DeleteList } from '../plan/deletelist.js';
import { filterTrace, type FilterScope } from '../plan/filter-scope.js';
import { ERRNO, showPath } from '../util/errors.js';
import { joinPath } from '../util/names.js';
import { backedUpLine, unsafeToBackUp } from './backups.js';
import type { Frame, RunContext } from './context.js';
import { receiverOutput } from '../model/config.js';
import type { DeleteListProgress } from '../progress/filelist-progress.js';

/** Deletions are run in batches of this many ops, so deleting a wide directory holds no huge batch. */
const DELETE_BATCH = 4096;

/** rsync's words for what a deletion makes way for (delete_item's DEL_FOR_* descriptions). */
const MAKE_WAY_FOR: Record<FileType, string> = { reg: 'regular file', dir: 'directory', link: 'symlink', dev: 'device file', special: 'special file' };

/**
 * Make way for a non-directory where a directory stands. rsync empties a full one only under --delete
 * or --force (its contents are listed as deleted); an empty one the engines replace themselves.
 */
export function removeForReplace(rc: RunContext, rel: Buffer, destSt: Stat, w: BatchWriter, kind?: FileType): void {
  if ((destSt.mode & S_IFMT) !== S_IFDIR || (rc.c.deleteMode === 'none' && !rc.c.force)) return;
  if (kind) rc.trace?.deleteItem(showPath(rel), destSt.mode, DEL_FOR[kind] | DEL_RECURSE);
  rc.items.deletingIn();
  // The directory itself is not listed: rsync logs no deletion that only makes room.
  // Into the caller's batch: printed as planned (DeletionBatch, immediate).
  const del = new DeletionBatch(rc, w);
  const r = deleteDirContents(rc, rel, del, undefined, true);
  if (r.empty) deleteOne(rc, rel, destSt, 'dir', del, false, r.backupsInside, true);
  else ownerWriteOnly(rc, rel, destSt, del);
}

/**
 * Whether a directory in the way of a non-directory is removed with what it holds (rsync's DEL_RECURSE
 * for it: --delete of any kind, or --force); otherwise only an empty one goes.
 */
export function replacesFullDirs(c: Pick<Config, 'deleteMode' | 'force'>): boolean {
  return c.deleteMode !== 'none' || c.force;
}

/**
 * Whether a `kind` can replace what the destination has at `rel`: without --delete or --force, a
 * directory that is not empty stays, and the entry is not made (rsync's "cannot delete non-empty
 * directory", then its error "could not make way for new ...").
 */
export async function canMakeWay(rc: RunContext, m: { rel: Buffer; destSt: Stat | undefined }, kind: FileType): Promise<boolean> {
  const { rel, destSt } = m;
  if (!destSt || (destSt.mode & S_IFMT) !== S_IFDIR || kind === 'dir') return true;
  if (replacesFullDirs(rc.c)) {
    // Without backups or a limit, queueCopy empties it (removeForReplace); a --*-dest twin may be linked
    // or copied in its place instead, so there it goes now.
    // --delay-updates renames the file into place at the end, onto whatever is there then: the
    // directory goes now, as rsync's generator deletes it before the transfer.
    if (!rc.c.backup && rc.c.maxDelete === undefined && !rc.alt.any && !rc.c.delayUpdates) return true;
    return emptiedForReplace(rc, m, kind);
  }
  // -vvv: rsync's delete_item finds out whether the directory is empty (delete_dir_contents, not recursing).
  rc.trace?.deleteItem(showPath(rel), destSt.mode, DEL_FOR[kind]);
  rc.trace?.popFilters(rc.trace.pushFilters(showPath(rel), destPath(rc, rel)));
  if (rc.dest.list(rel).size === 0) return rc.c.delayUpdates && !rc.c.dryRun ? emptiedForReplace(rc, m, kind) : true;
  rc.reporter.print(`cannot delete non-empty directory: ${showPath(rel)}`);
  rc.tally.generatorError(joinPath(rc.plan.destRoot, rel), `could not make way for new ${MAKE_WAY_FOR[kind]}: ${showPath(rel)}`);
  return false;
}

/**
 * rsync's delete_item(DEL_RECURSE | DEL_FOR_...) where what it deletes may stay: under --backup without
 * --backup-dir each file inside is backed up in place (its "name~" then keeps the directory: "cannot
 * delete non-empty directory", the entry not made), under --backup-dir moved there; past --max-delete's
 * limit what is left stays (each counted as skipped). The deletions are queued here, before the entry's op; when the directory
 * is gone `m.destSt` is cleared (queueCopy then makes the entry as new), else "could not make way".
 */
async function emptiedForReplace(rc: RunContext, m: { rel: Buffer; destSt: Stat | undefined }, kind: FileType): Promise<boolean> {
  const { rel } = m;
  const destSt = m.destSt!;
  const c = rc.c;
  const failed = (): false => {
    rc.tally.generatorError(joinPath(rc.plan.destRoot, rel), `could not make way for new ${MAKE_WAY_FOR[kind]}: ${showPath(rel)}`);
    return false;
  };
  rc.trace?.deleteItem(showPath(rel), destSt.mode, DEL_FOR[kind] | DEL_RECURSE);
  rc.items.deletingIn();
  // What is still queued runs first: the deletions run as they are planned (DeletionBatch).
  if (!c.dryRun) await rc.sink.flush();
  const del = new DeletionBatch(rc);
  const r = deleteDirContents(rc, rel, del, undefined, true);
  let gone = r.empty;
  if (gone && r.backupsInside) {
    del.say(() => rc.reporter.print(`cannot delete non-empty directory: ${rc.lines.generatorName(rel)}`));
    gone = false;
  }
  const at = gone ? deleteOne(rc, rel, destSt, 'dir', del, false, false, true, false, r.stays) : undefined;
  if (!gone) ownerWriteOnly(rc, rel, destSt, del);
  del.flush();
  if (at === undefined || del.didFail(at)) return failed();
  m.destSt = undefined;
  return true;
}

/**
 * --delete-missing-args: a missing operand's twin on the destination is deleted (rsync's delete_item,
 * with the contents of a directory only under --delete or --force).
 */
export function deleteMissingArg(rc: RunContext, rel: Buffer, receiver: FilterScope | undefined): void {
  const st = rc.dest.stat(rel);
  if (!st) return;
  if ((st.mode & S_IFMT) === S_IFDIR && !replacesFullDirs(rc.c) && rc.dest.list(rel).size > 0) {
    rc.reporter.print(`cannot delete non-empty directory: ${showPath(rel)}`);
    return;
  }
  rc.items.deletingIn();
  const before = { ...rc.tally.totals.deleted };
  const del = new DeletionBatch(rc);
  deleteItem(rc, rel, st, del, receiver, true, false);
  del.flush();
  // rsync's generator sends its deletion counts only under --delete or --force (generator.c, protocol 31).
  if (rc.c.deleteMode === 'none' && !rc.c.force) {
    const t = rc.tally.totals;
    const unsaid = (t.unsaidDeleted ??= { reg: 0, dir: 0, link: 0, dev: 0, special: 0 });
    for (const k of Object.keys(before) as (keyof typeof before)[]) unsaid[k] += t.deleted[k] - before[k];
  }
}

/**
 * Delete what the destination has and the source does not (rsync's delete_in_dir). Returns how many
 * entries were deleted.
 */
export function deleteExtraneous(rc: RunContext, dir: Frame, extraneous: DeleteList, listing?: { progress: DeleteListProgress; entries: number }): number {
  const io = rc.tally.totals.ioErrors;
  if (!(rc.c.deleteMode === 'delay' ? rc.gate.allowsDelayed(dir.rel, io) : rc.gate.allows(io))) return 0;
  if (onOtherFilesystem(rc, dir.rel)) return 0;
  const before = rc.tally.deletedCount();
  rc.items.deletingIn();
  const del = new DeletionBatch(rc, undefined, listing?.progress);
  // rsync's generator lists the directory (get_dirlist) once it knows it may delete in it.
  if (listing) del.listed(listing.entries);
  for (const i of extraneous.order()) {
    const st = extraneous.stat(i);
    const rel = joinPath(dir.rel, extraneous.name(i));
    if (isProtected(rc, dir.receiver, rel, st, false, del) || fromOtherRoot(rc, rel)) continue;
    // Removed from the source by this run (--remove-source-files): in rsync's list, so not extraneous.
    if (rc.takenFromSource?.has(rel.toString('latin1'))) continue;
    if (mountPoint(rc, rel, st, del)) continue;
    del.say(() => rc.trace?.deleteItem(showPath(rel), st.mode, DEL_RECURSE | noUidWrite(rc, st)));
    deleteItem(rc, rel, st, del, dir.receiver, true, false);
    if (del.pending >= DELETE_BATCH) del.flush();
  }
  del.flush();
  return rc.tally.deletedCount() - before;
}

/**
 * Several operands can fill one destination directory (`a/ b/ dst/`): rsync deletes only what none of
 * them has, while this walk sees one operand at a time. An entry another operand provides stays.
 */
function fromOtherRoot(rc: RunContext, rel: Buffer): boolean {
  const roots = rc.plan.roots;
  // --files-from lists many single entries of one source directory: its own rules apply there.
  if (roots.length < 2 || rc.c.filesFrom !== undefined) return false;
  for (const r of roots) {
    if (r === rc.root.current) continue;
    const n = r.rel.length;
    const inside = n === 0 || (rel.length > n && rel[n] === 0x2f && rel.subarray(0, n).equals(r.rel)) || rel.equals(r.rel);
    if (!inside) continue;
    const rest = n === 0 ? rel : rel.subarray(Math.min(rel.length, n + 1));
    if (!isFailure(rc.source.lstat(rest.length ? joinPath(r.src, rest) : r.src))) return true;
  }
  return false;
}

/**
 * -x: rsync deletes nothing inside a destination directory on another filesystem than the top
 * directories it has gone into so far (delete_in_dir's device check): a filesystem mounted inside the
 * destination keeps what it holds.
 */
function onOtherFilesystem(rc: RunContext, rel: Buffer): boolean {
  if (rc.c.oneFileSystem < 1) return false;
  const here = rc.dest.stat(rel);
  if (!here) return false;
  const roots = rc.plan.roots;
  for (let i = 0; i <= rc.root.index && i < roots.length; i++) {
    const top = rc.dest.stat(roots[i]!.rel);
    if (top && top.dev === here.dev) return false;
  }
  return true;
}

/**
 * -x: a directory of the destination on another filesystem than the destination root is a mount point,
 * which rsync never deletes (its FLAG_MOUNT_DIR); --info=mount (-vv) says so.
 */
function mountPoint(rc: RunContext, rel: Buffer, st: Stat, del: DeletionBatch): boolean {
  if (rc.c.oneFileSystem < 1 || (st.mode & S_IFMT) !== S_IFDIR) return false;
  const here = rc.dest.stat(rel);
  const top = rc.dest.stat(Buffer.alloc(0));
  if (!here || !top || here.dev === top.dev) return false;
  if (receiverOutput(rc.c).info.MOUNT > 0 && !rc.c.json) del.say(() => rc.reporter.print(`cannot delete mount point: ${showPath(rel)}`));
  return true;
}

function isProtected(rc: RunContext, receiver: FilterScope | undefined, rel: Buffer, st: Stat, insideDeleted = false, del?: DeletionBatch): boolean {
  const { m, isDir, hidden } = receiverRule(rc, receiver, rel, st, insideDeleted);
  // --debug=FILTER (-vv): rsync's generator names the rule that protects (or risks) the entry.
  if (m && receiverOutput(rc.c).debug.FILTER > 0 && !rc.c.json) {
    const line = filterTrace('receiver', showPath(rel), isDir, m);
    if (del) del.say(() => rc.reporter.print(line));
    else rc.reporter.print(line);
  }
  return hidden;
}

/**
 * The receiver's rule for a destination entry, and whether it hides it from the generator's listing of
 * its directory (rsync's get_dirlist), which protects it from deletion.
 */
function receiverRule(rc: RunContext, receiver: FilterScope | undefined, rel: Buffer, st: Stat, insideDeleted: boolean): { m: ReturnType<FilterScope['match']>; isDir: boolean; hidden: boolean } {
  // Inside a directory being deleted, perishable rules protect nothing (rsync's ignore_perishable):
  // a --partial-dir or -C's rules do not keep an otherwise gone directory alive.
  const isDir = (st.mode & S_IFMT) === S_IFDIR;
  const m = receiver?.match(rel, isDir, { ignorePerishable: insideDeleted });
  if (m) return { m, isDir, hidden: m.verdict === 'exclude' };
  // --backup without --backup-dir protects earlier backups by rsync's implied "P *~" rule, which it
  // appends after the operator's rules (so an "R *~" of theirs comes first) and not under
  // --delete-excluded.
  return { m, isDir, hidden: rc.c.backup && !rc.c.deleteExcluded && rc.backups.isBackupName(rel) };
}

/** Whether rsync's generator lists a destination entry when it reads its directory to delete in it. */
export function listedForDeletion(rc: RunContext, receiver: FilterScope | undefined, rel: Buffer, st: Stat, insideDeleted = false): boolean {
  return !receiverRule(rc, receiver, rel, st, insideDeleted).hidden;
}

/**
 * rsync's delete_item: a directory's contents go first (unless the caller already handled them),
 * then the entry itself unless --max-delete is reached. Whether it was queued for deletion.
 */
function deleteItem(rc: RunContext, rel: Buffer, st: Stat, del: DeletionBatch, receiver: FilterScope | undefined, print: boolean, dirIsEmpty: boolean): boolean {
  const kind = fileType(st.mode);
  let backupsInside = false;
  if (kind === 'dir' && !dirIsEmpty) {
    const r = deleteDirContents(rc, rel, del, receiver?.enterDir(rel), print);
    if (!r.empty) {
      ownerWriteOnly(rc, rel, st, del);
      return false;
    }
    backupsInside = r.backupsInside;
    return deleteOne(rc, rel, st, kind, del, print, backupsInside, false, false, r.stays) !== undefined;
  }
  return deleteOne(rc, rel, st, kind, del, print, backupsInside) !== undefined;
}

/**
 * The entry itself, after its contents (rsync's delete_item past the recursion). The sequence number of
 * its op (-1: none, a dry run's) when it was queued; undefined when it stays. Its line, its count and
 * the word to the sender come once the op worked (DeletionBatch).
 */
function deleteOne(rc: RunContext, rel: Buffer, st: Stat, kind: FileType, del: DeletionBatch, print: boolean, backupsInside: boolean, makeRoom = false, inDeleted = false, untried?: () => boolean): number | undefined {
  const c = rc.c;
  // Inside a directory whose contents go, the engine may make that directory writable (OpFlag.OwnerWrite).
  const flags = inDeleted ? OpFlag.OwnerWrite : 0;
  // A directory rmdir finds not empty is said so, not an error (delete_item's ENOTEMPTY); any other
  // failure is rsync's "delete_file: ... failed" (an FERROR_XFER: exit 23, later deletions go on).
  // `untried`: a directory of the caller's whose contents did not all go, which rsync then does not try
  // to remove (delete_item's DR_NOT_EMPTY): its rmdir, queued before that was known, is not reported.
  const failed = (x: { f: OpFailure; op: Op | undefined }): void => {
    if (untried?.()) return;
    if (kind === 'dir' && x.f.errno === ERRNO.ENOTEMPTY) {
      if (print || makeRoom) rc.reporter.print(`cannot delete non-empty directory: ${rc.lines.generatorName(rel)}`);
    } else rc.tally.fail(x.f, x.op, true);
  };
  if (makeRoom) {
    // rsync's delete_item with DEL_MAKE_ROOM: the entry that only makes room is not held to
    // --max-delete, not counted in the deletion statistics and not logged.
    if (kind === 'dir' && backupsInside) {
      ownerWriteOnly(rc, rel, st, del);
      return undefined;
    }
    if (c.dryRun) return -1;
    return del.add(OpKind.Delete, rel, st, flags, (x) => x && failed(x));
  }
  if (c.maxDelete !== undefined && rc.tally.deletedCount() + del.pendingDeletes >= c.maxDelete) {
    // rsync counts the deletions that worked: those still running decide.
    del.flush();
    if (rc.tally.deletedCount() >= c.maxDelete) {
      rc.tally.totals.deleteSkipped++;
      ownerWriteOnly(rc, rel, st, del);
      return undefined;
    }
  }
  if (kind === 'dir' && backupsInside && del.immediate) {
    // The backups made inside keep it from being removed: rmdir would fail with ENOTEMPTY. (Otherwise
    // the rmdir runs, as rsync's, and its ENOTEMPTY says the same.)
    if (print) rc.reporter.print(`cannot delete non-empty directory: ${rc.lines.generatorName(rel)}`);
    ownerWriteOnly(rc, rel, st, del);
    return undefined;
  }
  const backUp = !c.dryRun && c.backup && kind !== 'dir' && !rc.backups.isBackupName(rel) && !unsafeToBackUp(c, rc.dest, rel, st);
  const done = (): void => {
    rc.tally.totals.deleted[kind]++;
    // --info=backup (-vv): rsync names the backup its deletion makes (the --backup-dir as given), first.
    if (backUp) backedUpLine(c, rc.reporter, rel, (r) => rc.lines.generatorName(r));
    if (print) {
      const line = rc.lines.deletedLineFor(rel, st, kind);
      rc.lines.out.deleted({ ...line, itemize: '*deleting', op: 'del.' });
    }
    // rsync's receiving side tells its sender each deletion it logs, a dry run's too (the byte figures
    // count the message).
    if (print) rc.items.deleted(rel.length, kind === 'dir');
  };
  if (c.dryRun) {
    del.say(done);
    return -1;
  }
  const then = (x: { f: OpFailure; op: Op | undefined } | undefined): void => (x ? failed(x) : done());
  del.pendingDeletes++;
  if (backUp) return del.addBackup((w) => rc.backups.insteadOfDelete(w, rel, st, flags | OpFlag.DeletionBackup), then);
  return del.add(OpKind.Delete, rel, st, flags, then);
}

/**
 * rsync's delete_dir_contents: children in reverse of rsync's order, each directory emptied first;
 * "cannot delete non-empty directory" when something stays, known once the children's ops ran (a
 * deletion that failed keeps it). `empty`: nothing stays as far as the plan knows; `stays` says it
 * once the ops ran. `backupsInside`: everything was "deleted", but some as backups that stay in the
 * directory.
 */
function deleteDirContents(rc: RunContext, rel: Buffer, del: DeletionBatch, receiver: FilterScope | undefined, print: boolean): { empty: boolean; backupsInside: boolean; stays: () => boolean } {
  const c = rc.c;
  const inside = rc.dest.list(rel);
  let empty = true;
  let backupsInside = false;
  const queued: number[] = [];
  let pushed: string[] | undefined;
  del.say(() => (pushed = rc.trace?.pushFilters(showPath(rel), destPath(rc, rel))));
  // rsync's generator lists it (get_dirlist) to empty it.
  if (del.counting) {
    let n = 0;
    for (const i of inside.order()) if (listedForDeletion(rc, receiver, joinPath(rel, inside.name(i)), inside.stat(i), true)) n++;
    del.listed(n);
  }
  for (const i of inside.order()) {
    const childRel = joinPath(rel, inside.name(i));
    const cst = inside.stat(i);
    const kind = fileType(cst.mode);
    if (isProtected(rc, receiver, childRel, cst, true, del)) {
      empty = false;
      continue;
    }
    let childBackups = false;
    if (kind === 'dir') {
      const r = deleteDirContents(rc, childRel, del, receiver?.enterDir(childRel), print);
      // rsync calls delete_item on it all the same (delete_dir_contents): its rmdir then says "cannot
      // delete non-empty directory" (a dry run's "works": "*deleting"), or --max-delete stops it.
      if (!r.empty) empty = false;
      childBackups = r.backupsInside;
    }
    del.say(() => rc.trace?.deleteItem(showPath(childRel), cst.mode, DEL_DIR_IS_EMPTY));
    const at = deleteOne(rc, childRel, cst, kind, del, print, childBackups, false, true);
    if (at === undefined) empty = false;
    else {
      if (at >= 0) queued.push(at);
      if (!c.dryRun && c.backup && kind !== 'dir' && !rc.backups.isBackupName(childRel) && !rc.backups.dir && !unsafeToBackUp(c, rc.dest, childRel, cst)) backupsInside = true;
    }
    if (del.pending >= DELETE_BATCH) del.flush();
  }
  del.say(() => rc.trace?.popFilters(pushed));
  // Known once what was queued in it has run: a deletion inside that failed keeps it too (its rmdir,
  // queued all the same, then fails with ENOTEMPTY).
  const stays = (): boolean => !empty || queued.some((at) => del.didFail(at));
  if (print) del.say(() => stays() && rc.reporter.print(`cannot delete non-empty directory: ${showPath(rel)}`));
  return { empty, backupsInside, stays };
}

/** rsync's delete flags, as -vvv's delete_item lines show them. */
const DEL_NO_UID_WRITE = 1;
const DEL_RECURSE = 2;
const DEL_DIR_IS_EMPTY = 4;
/** What a deletion makes room for (DEL_FOR_FILE, _SYMLINK, _DEVICE, _SPECIAL, _DIR). */
const DEL_FOR: Record<FileType, number> = { reg: 8, dir: 16, link: 32, dev: 64, special: 128 };

/** rsync makes an entry of ours without owner write permission writable before deleting it (not as root). */
function noUidWrite(rc: RunContext, st: Stat): number {
  return !rc.spec.check.isRoot && !(st.mode & 0o200) && st.uid === process.getuid?.() ? DEL_NO_UID_WRITE : 0;
}

/**
 * An entry rsync tries to delete that stays (--max-delete reached, something kept inside a directory):
 * not acting as root, rsync gave it owner write first if it is ours and lacks it (DEL_NO_UID_WRITE,
 * delete_dir_contents' chmod), so the engine does that much (OpFlag.OwnerWriteOnly). A deletion that
 * runs does it itself (native/ops.h owner_write_first).
 */
function ownerWriteOnly(rc: RunContext, rel: Buffer, st: Stat, del: DeletionBatch): void {
  if (rc.c.dryRun || !noUidWrite(rc, st) || fileType(st.mode) === 'link') return;
  del.add(OpKind.Delete, rel, st, OpFlag.OwnerWriteOnly);
}

/** A destination directory's absolute path (-vvv's "pushing local filters for"). */
export function destPath(rc: RunContext, rel: Buffer): Buffer {
  return rel.length ? joinPath(rc.plan.destRoot, rel) : rc.plan.destRoot;
}
