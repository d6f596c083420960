// --delete-before and --delete-after: a walk of the sources that only deletes (rsync's delete pass before
// or after the transfer). --delete-before first walks once deleting nothing, to find any I/O error in the
// whole file list (which stops every deletion, rsync's rule), then walks again to delete.
// --delete-during deletes in the transfer pass itself (transfer-pass.ts).

import { isFailure } from '../model/failure.js';
import { showPath } from '../util/errors.js';
import { S_IFDIR, S_IFMT, fileType, type Stat } from '../model/stat.js';
import { DeleteList } from '../plan/deletelist.js';
import type { Root } from '../plan/sources.js';
import type { Frame, Kept, RunContext } from './context.js';
import { deleteExtraneous, listedForDeletion } from './deletions.js';
import { destDir, mergedFrame } from './dirs.js';
import { pruned } from './prune.js';
import type { DirEntries } from './source.js';
import { classify, isDirKept, openListing, rootScopes, startRoot, walkFrames } from './walk.js';
import { receiverOutput } from '../model/config.js';
import type { DeleteListProgress } from '../progress/filelist-progress.js';
import { joinPath } from '../util/names.js';

/**
 * rsync reads the whole file list before deleting anything when it has no incremental recursion
 * (--delete-before, and --delete-during under --no-inc-recursive, -m or --delay-updates): an error
 * anywhere in it must stop every deletion, so the source is listed once for errors first, deleting
 * nothing (the errors are the transfer's to report; here they only close the gate).
 */
export async function probeWholeList(rc: RunContext): Promise<void> {
  for (const root of rc.plan.roots) if (!rc.abort.aborted) await deleteRoot(rc, root, true);
}

/**
 * --delete-before: list everything for errors first, then delete when the gate allows. `listing`: the
 * pass's file-list progress (a receiving client's, progress/filelist-progress.ts).
 */
export async function deleteBefore(rc: RunContext, listing?: DeleteListProgress): Promise<void> {
  await probeWholeList(rc);
  // After an error rsync's pass still goes through the list's directories, and says why it deletes
  // nothing when it meets the first the destination has (none: it says nothing).
  const gated = !rc.gate.isOpen(rc.tally.totals.ioErrors);
  for (const root of rc.plan.roots) if (!rc.abort.aborted) await deleteRoot(rc, root, false, listing, gated);
  endListing(rc, listing);
}

/** --delete-after: once every file is in place. */
export async function deleteAfter(rc: RunContext, listing?: DeleteListProgress): Promise<void> {
  for (const root of rc.plan.roots) if (!rc.abort.aborted) await deleteRoot(rc, root, false, listing);
  endListing(rc, listing);
}

/**
 * The pass's file-list progress ends (its blank line), as rsync's do_delete_pass ends: not for one file
 * copied to a new name (no pass), nor in a dry run into a destination that does not exist (none either).
 */
function endListing(rc: RunContext, listing: DeleteListProgress | undefined): void {
  if (!listing || rc.abort.aborted || rc.plan.renamed || (rc.c.dryRun && rc.plan.createDest)) return;
  listing.end();
}

/**
 * One root's deletion walk. `probing`: list the whole source for errors, delete nothing. `gated`: an
 * error closed the gate before the pass: only whether the root's destination directory is there.
 */
async function deleteRoot(rc: RunContext, root: Root, probing: boolean, listing?: DeleteListProgress, gated = false): Promise<void> {
  // --delete-missing-args: the transfer pass deletes a missing operand's twin.
  if (root.missing) return;
  const started = startRoot(rc, root, () => rc.gate.noteError());
  if (!started) return;
  const { st, scanSrc } = started;
  const { sender, receiver, role } = rootScopes(rc, root, st, true);
  if (role === 'skip') return;
  // Deletions happen in directories whose contents are transferred: -r's, and -d's "dir/".
  if (fileType(st.mode) !== 'dir' || (root.dirOnly ? !root.oneLevel : !rc.c.recursive)) return;
  if (root.rel.length && sender && sender.check(root.rel, true) === 'exclude') return;
  if (root.rel.length && pruned(rc, scanSrc, root.rel, sender, receiver, true)) return;
  // --debug=DEL (-vv): rsync's delete pass names each top directory it goes into (do_delete_pass).
  if (!probing && receiverOutput(rc.c).debug.DEL > 0 && !rc.c.json) rc.reporter.print(`deleting in ${root.rel.length ? showPath(root.rel) : '.'}`);
  const made = rc.plan.createDest && !root.rel.length && !rc.c.mkpath;
  if (gated) {
    // A destination the run makes is there by the time rsync's pass runs (but for -n: no pass). A merged
    // root's directory is an earlier root's, the pass went into it already.
    const there = made ? !rc.c.dryRun : role !== 'merged' && destDir(rc, root.rel, rc.dest.stat(root.rel)).destIsDir;
    if (there) rc.gate.allows(rc.tally.totals.ioErrors);
    return;
  }
  // A destination this run made holds nothing extraneous, but rsync's --delete-after pass still goes into
  // it (made by then) and says, once, that an I/O error keeps it from deleting.
  if (made && !probing && rc.c.deleteMode === 'after' && !rc.c.dryRun) rc.gate.allows(rc.tally.totals.ioErrors);
  // (Its file-list progress counts what the transfer put there: rsync's pass lists it all the same.)
  const listsMade = made && listing !== undefined && !probing && rc.c.deleteMode === 'after' && !rc.c.dryRun;
  const rootDest = made && !listsMade ? undefined : rc.dest.stat(root.rel);
  let frame: Frame;
  if (role === 'merged') frame = mergedFrame(rc, scanSrc, root.rel, st, sender, receiver);
  else {
    // The deletion walk enters only a directory the destination has (or any, when probing).
    const { destIsDir } = destDir(rc, root.rel, rootDest);
    if (!destIsDir && !probing) return;
    frame = { src: scanSrc, rel: root.rel, stat: st, destExists: destIsDir, sender, receiver, record: undefined, pending: undefined };
  }
  frame.sender = sender?.enterDir(root.rel, root.src);
  frame.receiver = receiver?.enterDir(root.rel);
  await walkFrames([frame], (dir) => deleteDir(rc, dir, probing, listing), rc);
}

/** One directory: delete what is extraneous in it; returns its subdirectories to visit. */
async function deleteDir(rc: RunContext, dir: Frame, probing: boolean, listing: DeleteListProgress | undefined): Promise<Frame[]> {
  await rc.sink.retryFdShortage();
  if (dir.blocked) return [];
  const pair = await openListing(rc, dir);
  if (isFailure(pair)) {
    rc.gate.noteError();
    return [];
  }
  try {
    return deleteInListing(rc, dir, pair, probing, listing);
  } finally {
    pair.close();
  }
}

function deleteInListing(rc: RunContext, dir: Frame, pair: DirEntries, probing: boolean, listing: DeleteListProgress | undefined): Frame[] {
  const c = rc.c;
  // Destination names that are not in the transfer (filters applied) are extraneous (deleted with
  // --delete unless protected). A source entry that vanished is only noted (no deletion after an I/O
  // error): the transfer pass reports it.
  const extraneous = new DeleteList();
  const keptDirs: Kept[] = [];
  // What rsync's generator lists of the destination directory: every entry its filters do not hide.
  let destEntries = 0;
  const listed = (name: Buffer, st: Stat): void => {
    if (listedForDeletion(rc, dir.receiver, joinPath(dir.rel, name), st)) destEntries++;
  };
  for (const chunk of pair.whole ? [pair.whole] : pair.chunks(false)) {
    keptDirs.push(...classify(rc, dir, chunk, extraneous, 'note').filter(isDirKept));
    if (!listing) continue;
    for (const x of chunk.extras) listed(x.name, x.st);
    for (const e of chunk.entries) if (e.dest) listed(e.name, e.dest);
  }
  let deletedHere = 0;
  if (c.deleteMode !== 'none' && !probing && dir.destExists && !dir.merged) {
    deletedHere = deleteExtraneous(rc, dir, extraneous, listing ? { progress: listing, entries: destEntries } : undefined);
  }
  // Its mtime moved: restored at the end.
  if (deletedHere > 0 && dir.record) rc.dirs.touch(dir.record);
  if (deletedHere > 0 && !dir.record && !c.dryRun) rc.dirs.changedUnrecorded(dir.src, dir.rel, dir.stat);
  const next: Frame[] = [];
  for (const k of keptDirs) {
    if (!c.recursive) continue;
    // -x: a mount point's contents are not in the transfer (rsync lists it without them), so nothing in
    // its twin is extraneous.
    if (c.oneFileSystem > 0 && k.st.dev !== rc.root.dev) continue;
    const destIsDir = k.dest !== undefined && (k.dest.mode & S_IFMT) === S_IFDIR;
    if (!destIsDir && !probing) continue;
    next.push({
      src: k.src, rel: k.rel, stat: k.st, destExists: destIsDir,
      sender: dir.sender?.enterDir(k.rel, k.src), receiver: dir.receiver?.enterDir(k.rel), record: undefined, pending: undefined,
      ...(k.merged ? { merged: true } : {}),
    });
  }
  return next;
}
