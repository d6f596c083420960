// The transfer pass: each source root walked depth-first against the destination, one directory at a
// time in rsync's order (its deletions under --delete-during, then its non-directories, then its
// subdirectories). A re-sync onto an existing destination may start from scanTree's dirty directories.

import { resolve as resolvePath } from 'node:path';
import { isFailure } from '../model/failure.js';
import type { PairListing } from '../model/listing.js';
import { fileType, type FileType, type Stat } from '../model/stat.js';
import { DeleteList } from '../plan/deletelist.js';
import type { Root } from '../plan/sources.js';
import { ERRNO, showPath } from '../util/errors.js';
import { absolutePath, baseName, dirName, joinPath } from '../util/names.js';
import { withChmod, type Frame, type Kept, type RunContext } from './context.js';
import { deleteExtraneous, deleteMissingArg, destPath } from './deletions.js';
import { dirFrame, impliedDirs, listedImplied, mergedFrame } from './dirs.js';
import type { DirRecord } from './dirmeta.js';
import { directRequest, frameAllows, planDirect, treeDirect } from './direct.js';
import { entry, unsafeLinkLine } from './entry.js';
import { prunedDirs } from './prune.js';
import { unconvertibleName } from './iconv-errors.js';
import type { DirEntries } from './source.js';
import { classify, isDirKept, linkThrough, openListing, rootScopes, startRoot, walkFrames } from './walk.js';
import { depthFirst } from './tree-lines.js';
import { quickCheck } from '../plan/quickcheck.js';
import { NONREG_SKIP, decide } from '../plan/decide.js';
import { unsafeSymlink } from '../plan/safelinks.js';
import { receiverOutput } from '../model/config.js';
import { unmunge } from '../util/munge.js';
import { sizeSkipLine, skipLine } from './skip-lines.js';
import { Counter } from '../model/ops.js';
import { layeredKept, layersAt } from './layers.js';
import { rejudgeDirXattrs } from './xattrs.js';
import { remoteXattrs } from './remote-xattrs.js';
import { configXattrRules } from '../plan/xattr-rules.js';

export async function transferRoot(rc: RunContext, rootIn: Root): Promise<void> {
  const c = rc.c;
  // --iconv: where an operand lands (its name, -R's whole path) in the destination's charset.
  const root = rc.charsets && rootIn.rel.length ? convertedRoot(rc, rootIn) : rootIn;
  if (!root) return;
  if (root.missing) return missingRoot(rc, root);
  // --no-implied-dirs: the "." a "./name" implies is listed, and rsync's generator skips it.
  if (root.impliedDot && !c.impliedDirs) {
    rc.tally.addListed({ dir: 1 }, 0);
    return;
  }
  if (rc.overlay?.absorbed.has(rc.plan.roots.indexOf(rootIn))) return;
  const started = startRoot(rc, root, (errno, syscall, what) => rc.tally.ioError(root.src, errno, syscall, what));
  if (!started) return;
  const { st, scanSrc } = started;
  const { sender, receiver, role } = rootScopes(rc, root, st, c.deleteMode === 'during' || c.deleteMode === 'delay');
  const type = fileType(st.mode);
  // -m: a named directory (not "dir/") with nothing to transfer inside is left out, with -R's
  // implied directories above it; rsync's sender still lists its directories (--stats counts them).
  // Under -d without -r its entries are not listed, so it is always left out (unless protected).
  if (type === 'dir' && (c.recursive || c.dirs) && root.rel.length) {
    const prunedHere = prunedDirs(rc, scanSrc, root.rel, sender, receiver, c.recursive || root.oneLevel === true);
    if (prunedHere > 0) {
      rc.tally.addListed({ dir: prunedHere }, 0);
      listedImplied(rc, root);
      return;
    }
  }
  // An operand (or --files-from name) the filter rules exclude is left out whole, -R's implied
  // directories above it too: rsync's sender checks it before it sends them (send_file_list).
  if (root.rel.length && sender && sender.check(root.rel, type === 'dir') === 'exclude') return;
  if (!impliedDirs(rc, root)) return;
  if (role === 'skip') return;
  if (type === 'dir' && root.dirOnly) {
    // --files-from without -r: the listed directory is made; named with a trailing slash, its own
    // entries are copied too and its subdirectories made, but not entered (rsync's --dirs).
    if (sender && sender.check(root.rel, true) === 'exclude') return;
    // A destination root made by this run is reported as created (as below).
    const made = rc.plan.createDest && !root.rel.length && !c.mkpath;
    const f = role === 'merged'
      ? mergedFrame(rc, scanSrc, root.rel, st, sender, receiver)
      : dirFrame(rc, scanSrc, root.rel, st, made ? undefined : rc.dest.stat(root.rel), sender, receiver);
    if (!f) return;
    // -d onto a new name: rsync prints the directory under its own name.
    if (root.display && f.pending) f.pending.line = rc.lines.lineFor(root.display, scanSrc, st, 'dir');
    if (!root.oneLevel) {
      if (f.pending) rc.lines.emitHeld(f.pending);
      return;
    }
    f.sender = sender?.enterDir(root.rel, root.src);
    f.receiver = receiver?.enterDir(root.rel);
    f.oneLevel = true;
    enterXattrViews(rc, f);
    for (const sub of await transferDir(rc, f)) {
      if (sub.pending) rc.lines.emitHeld(sub.pending);
    }
    return;
  }
  if (type !== 'dir' || !c.recursive) {
    if (root.rel.length && sender && sender.check(root.rel, false) === 'exclude') return;
    // Several sources: a file landing in a directory an earlier source sent changes that directory,
    // whose times are then set again at the end.
    const record = root.rel.length ? rc.dirs.find(dirName(root.rel)) : undefined;
    const changed = await entry(rc, { src: root.src, rel: root.rel, st, destSt: rc.dest.stat(root.rel), isRoot: true, display: root.display, listName: listName(rc, root), record }, descend);
    if (changed) rc.dirs.touch(record);
    await rc.sink.maybeFlush();
    return;
  }
  // The root directory itself.
  if (root.rel.length && sender && sender.check(root.rel, true) === 'exclude') return;
  // A destination root made by this run is reported as created, as rsync does ("cd+++++++++ ./");
  // with --mkpath rsync makes the path first and then compares the root as existing.
  const rootDest = rc.plan.createDest && !root.rel.length && !c.mkpath ? undefined : rc.dest.stat(root.rel);
  const frame = role === 'merged' ? mergedFrame(rc, scanSrc, root.rel, st, sender, receiver) : dirFrame(rc, scanSrc, root.rel, st, rootDest, sender, receiver);
  if (!frame) return;
  // A directory operand made in a directory the run listed (-R's implied one, an earlier operand's)
  // moves that directory's time, which is set back at the end.
  if (root.rel.length && !rootDest) rc.dirs.touch(rc.dirs.find(dirName(root.rel)));
  frame.sender = sender?.enterDir(root.rel, root.src);
  frame.receiver = receiver?.enterDir(root.rel);
  const layered = role === 'owner' ? layersAt(rc, rc.root.index, root) : undefined;
  if (layered) {
    frame.layers = layered.layers;
    frame.adopt = layered.adopt;
  }
  await walkFrames(
    treeFrames(rc, frame, scanSrc),
    async (dir) => {
      rc.treeLines.upTo(dir.rel);
      enterXattrViews(rc, dir);
      rc.lists.enter();
      rc.items.dirList(rc.lists, dir.pending?.verdict.action);
      const subdirs = await transferDir(rc, dir);
      // The directory's list is whole: rsync's sender counts it at once (--progress's figures).
      rc.lists.close(rc.tally.listedCount(), subdirs.length);
      // Incremental recursion: rsync's generator, done with the first list, waits for the next one and
      // writes out its requests meanwhile: the sender prints the first list's lines before anything the
      // generator says about the next directories (their deletions).
      if (dir === frame && rc.c.incRecursive) rc.order?.senderFlush();
      return subdirs;
    },
    rc,
    true,
    depthFirst,
  );
  rc.treeLines.flush();
  recordLists(rc, scanSrc, root.rel);
}

/**
 * rsync's byte figures of a run that created and sent entries count the source's lists (stream-totals.ts).
 * A re-sync's scanTree recorded them as it went; a run that did not start with one (a fresh copy) has
 * them recorded now by a scan of the finished tree, in C, instead of a second walk in JavaScript.
 */
function recordLists(rc: RunContext, scanSrc: Buffer, rel: Buffer): void {
  const t = rc.tally.totals;
  if (t.lists || !rc.items.exchanges || !rc.items.acted || rc.c.sources.length !== 1 || rc.c.hardLinks) return;
  const scan = rc.source.dirtyDirs(scanSrc, rel, true);
  if (scan !== undefined && !isFailure(scan) && scan.lists) t.lists = scan.lists;
}

/** A root whose destination name is converted by --iconv; undefined (reported) when it cannot be. */
function convertedRoot(rc: RunContext, root: Root): Root | undefined {
  const rel = rc.charsets!.toDest(root.rel);
  if (Buffer.isBuffer(rel)) return { ...root, rel };
  unconvertibleName(rc, root.rel, rel);
  return undefined;
}

/** --delete-missing-args: a missing operand's twin is deleted, unless a filter leaves the name out. */
function missingRoot(rc: RunContext, root: Root): void {
  // -R: rsync's sender sends the directories above it first, whatever the filter rules say; those that
  // are there are made as any implied ones (those missing were reported: plan/sources.ts ImpliedParents).
  // Under --no-implied-dirs its generator makes none.
  rc.lines.fromRoot = root.absolute === true;
  if (rc.c.impliedDirs) impliedDirs(rc, root);
  else listedImplied(rc, root);
  const lost = root.lostParent;
  // Incremental recursion: the sender left the name out after its missing directory.
  if (lost?.leftOut) return;
  // Listed all the same (mode 0), so "Number of files" counts it: rsync's sender, a local copy's client,
  // as a regular file; its receiver, a pull's client, as a special one (none of the other kinds).
  rc.tally.addListed(rc.lines.receiver ? { special: 1 } : { reg: 1 }, 0);
  if (lost?.warn) absentParent(rc, root.rel, lost.found);
  const base = root.src.subarray(0, root.src.length - root.rel.length).toString('latin1') || '.';
  const sender = rc.filters?.root('sender', Buffer.from(resolvePath(base), 'latin1'));
  const receiver = rc.filters?.root('receiver', rc.plan.destRoot);
  const destSt = rc.dest.stat(root.rel);
  const isDir = destSt !== undefined && fileType(destSt.mode) === 'dir';
  if (sender && sender.check(root.rel, isDir) === 'exclude') return;
  deleteMissingArg(rc, root.rel, receiver);
}

/** Directories warned of, by latin1 path (absentParent). */
const warnedParents = new WeakMap<RunContext, Set<string>>();

/**
 * rsync's generator's warning for a missing name whose directory is not in the list (generator.c
 * recv_generator), once for the names in one directory (they are together in its sorted list). Not in a
 * dry run below a directory it would have made (its dry_missing_dir): it skips the check there.
 */
function absentParent(rc: RunContext, rel: Buffer, found: Buffer): void {
  if (rc.c.dryRun && dirsOf(found).some((d) => !rc.dest.stat(d))) return;
  const parent = dirName(rel);
  let warned = warnedParents.get(rc);
  if (!warned) warnedParents.set(rc, (warned = new Set()));
  const key = parent.toString('latin1');
  if (warned.has(key)) return;
  warned.add(key);
  rc.reporter.warn(`WARNING: parent dir is absent in the file list: ${showPath(parent)}`);
}

/** A relative path's directories from the top, itself last ("a", "a/b" for "a/b"; none for ""). */
function dirsOf(rel: Buffer): Buffer[] {
  const out: Buffer[] = [];
  if (!rel.length) return out;
  for (let at = rel.indexOf(0x2f); at > 0; at = rel.indexOf(0x2f, at + 1)) out.push(rel.subarray(0, at));
  out.push(rel);
  return out;
}

/** A root's name in rsync's file list: "." for "dir/", and under -R the path as given when it has no "/./". */
function listName(rc: RunContext, root: Root): Buffer {
  if (rc.c.relative && !root.src.includes('/./')) return root.src;
  return root.rel.length ? root.rel : Buffer.from('.');
}

/**
 * A directory reached through a followed symlink (-L, -k, --copy-unsafe-links): walked here and now; without
 * -r (a name -d or --files-from lists) only made, as a directory named there is.
 */
async function descend(rc: RunContext, f: Frame): Promise<void> {
  if (!rc.c.recursive) {
    if (f.pending) rc.lines.emitHeld(f.pending);
    return;
  }
  await walkFrames(
    [f],
    async (dir) => {
      rc.lists.enter();
      const subdirs = await transferDir(rc, dir);
      rc.lists.close(rc.tally.listedCount(), subdirs.length);
      return subdirs;
    },
    rc,
    false,
  );
}

/**
 * A re-sync onto an existing destination starts with scanTree: the native quick check over the whole
 * tree on several threads. Only the directories it finds dirty are walked (in name order); the
 * clean ones are only counted. Returns the frames to walk (a stack), or [root] when it does not apply.
 */
function treeFrames(rc: RunContext, root: Frame, scanSrc: Buffer): Frame[] {
  if (!root.destExists || root.layers) return [root];
  const t = rc.source.dirtyDirs(scanSrc, root.rel, false, treeDirect(rc, scanSrc));
  if (t === undefined || isFailure(t)) return [root];
  // A listing holding the direct path's ops stands for a frame only where the ops may (else the walk
  // lists that directory again, entry by entry).
  const usable = (pair: PairListing | undefined, f: Frame): PairListing | undefined => (pair && (!pair.direct || frameAllows(rc, f)) ? pair : undefined);
  rc.tally.addListed(t.counts, t.counts.size);
  // Kept for the byte figures of a run that ends up changing nothing (run/stream-totals.ts).
  if (t.lists) rc.tally.totals.lists = t.lists;
  const frames: Frame[] = [];
  let rootDirty = false;
  for (const { rel: d, pair, self } of t.dirty) {
    if (d.length === 0) {
      rootDirty = true;
      root.treeMode = true;
      const listed = usable(pair, root);
      if (listed) root.pair = listed;
      frames.push(root);
      continue;
    }
    const src = joinPath(scanSrc, d);
    const rel = joinPath(root.rel, d);
    // The directory's lstat as the scan listed it, else its own.
    const st = self ?? rc.source.lstat(src);
    if (isFailure(st)) {
      rc.fail({ index: -1, errno: st.errno, syscall: st.syscall, path: src, onDest: false });
      continue;
    }
    const stat = withChmod(rc, st);
    const record: DirRecord = rc.dirs.recordEarly({ src, rel, stat, needMeta: false });
    const f: Frame = { src, rel, stat, destExists: true, sender: undefined, receiver: undefined, record, pending: undefined, treeMode: true };
    const listed = usable(pair, f);
    if (listed) f.pair = listed;
    frames.push(f);
  }
  if (!rootDirty && root.pending) {
    // The root's own line (its attributes may differ even when nothing inside does).
    rc.lines.emitHeld(root.pending);
    root.pending = undefined;
  }
  // A stack: popped in rsync's list order (tree-lines.ts depthFirst: "a-b/" before "a/").
  return frames.sort((x, y) => depthFirst(y.rel, x.rel));
}

/**
 * -X with x-rules in per-directory merge files: the view the directory's entries are judged in, before
 * any of them is planned, and the directory's own comparison again where rsync's generator makes it in
 * another view (xattr-views.ts). A directory rsync's generator deletes nothing in (one it did not make,
 * one it passes by) pushes no rules.
 */
function enterXattrViews(rc: RunContext, dir: Frame): void {
  const views = rc.xattrViews;
  if (!views || dir.listOnly || dir.blocked || (rc.c.dryRun && !dir.destExists && dir.rel.length)) return;
  const self = views.enter(dir);
  if (self.differs) rejudgeDirXattrs(rc, dir, self.view);
}

/** List one source directory against its destination twin; returns the subdirectories to visit. */
async function transferDir(rc: RunContext, dir: Frame): Promise<Frame[]> {
  await rc.sink.retryFdShortage();
  rc.trace?.enterDir(showPath(dir.rel), dir.src, resolvePath(dir.src.toString('latin1')));
  if (dir.listOnly) return listOnlyDir(rc, dir);
  if (dir.blocked) return blockedDir(rc, dir);
  const pair = await openListing(rc, dir, directRequest(rc, dir));
  if (isFailure(pair)) {
    // The directory itself is in rsync's list (its parent's): its own line stands, only its contents fail.
    if (dir.pending) {
      rc.lines.emitHeld(dir.pending);
      dir.pending = undefined;
    }
    if (pair.errno === ERRNO.ENOENT) rc.fail({ index: -1, errno: pair.errno, syscall: pair.syscall, path: dir.src, onDest: false });
    else rc.tally.ioError(dir.src, pair.errno, pair.syscall, `[sender] opendir "${showPath(absolutePath(dir.src))}" failed`);
    // rsync still comes to this directory's deletions, and says why there are none.
    if ((rc.c.deleteMode === 'during' || rc.c.deleteMode === 'delay') && dir.destExists) rc.gate.allows(rc.tally.totals.ioErrors);
    return [];
  }
  try {
    return await transferListing(rc, dir, pair);
  } finally {
    pair.close();
  }
}

/** One entry of rsync's sender's list of a directory (senderListed). */
interface Listed {
  src: Buffer;
  rel: Buffer;
  st: Stat;
  kind: FileType;
}

/**
 * rsync's sender's list of one directory where its generator makes nothing (listOnlyDir, blockedDir):
 * the entries in name order, without those its filters exclude, each counted in --stats' "Number of
 * files" and "Total file size"; what cannot be read is reported (undefined then), a vanished entry left out.
 */
function senderListed(rc: RunContext, dir: Frame): Listed[] | undefined {
  const names = rc.source.names(dir.src, rc.anchors.of(dir.src));
  if (isFailure(names)) {
    if (names.errno !== ERRNO.ENOENT) rc.tally.ioError(dir.src, names.errno, names.syscall, `[sender] opendir "${showPath(absolutePath(dir.src))}" failed`);
    return undefined;
  }
  const listed: Listed[] = [];
  for (const name of [...names].sort(Buffer.compare)) {
    let src = joinPath(dir.src, name);
    const lst = rc.source.lstat(src);
    const rel = joinPath(dir.rel, name);
    if (isFailure(lst)) continue;
    // A link the sender follows is listed as what it leads to (one leading nowhere is its I/O error).
    const through = linkThrough(rc, src, rel, lst, true);
    if (through === 'dangling') {
      rc.tally.xferError(src, `symlink has no referent: "${showPath(absolutePath(src))}"`, true);
      continue;
    }
    const st = through ?? lst;
    const kind = fileType(st.mode);
    if (through && kind === 'dir') {
      // Listed in turn through the link, as entry.ts walks a followed directory.
      src = Buffer.concat([src, Buffer.from('/')]);
      rc.anchors.add(src);
    }
    if (dir.sender?.check(rel, kind === 'dir') === 'exclude') continue;
    rc.tally.addListed({ [kind]: 1 }, kind === 'reg' || kind === 'link' ? st.size : 0);
    listed.push({ src, rel, st, kind });
  }
  return listed;
}

/** A subdirectory of a directory the generator makes nothing in: only listed in turn. */
const listedOnly = (dir: Frame, e: Listed, stat: Stat): Frame => ({ src: e.src, rel: e.rel, stat, destExists: false, sender: dir.sender, receiver: undefined, record: undefined, pending: undefined, listOnly: true });

/**
 * --ignore-existing kept a non-directory where this directory would go (dirs.ts dirFrame): rsync's sender
 * lists its entries all the same (they count in --stats), and its generator fails on each, the
 * non-directories first (blockedEntry); then each subdirectory, which its stat reads as missing:
 * itemized as new (and counted as created), its mkdir failed, "*** Skipping any contents from this
 * failed directory ***", its own entries only listed. (A pull asks for none of their data:
 * cli/pull-stage.ts.) Each failure carries the errno of rsync's stat below the name (Frame.blocked):
 * below a symlink that leads nowhere that is ENOENT, where a file counts as missing and is sent, and
 * rsync's receiver then fails to make its temp file, after the generator's lines (sentIntoNothing).
 */
function blockedDir(rc: RunContext, dir: Frame): Frame[] {
  const errno = dir.blocked ?? ERRNO.ENOTDIR;
  const listed = senderListed(rc, dir) ?? [];
  const unmade: Buffer[] = [];
  for (const e of listed) if (e.kind !== 'dir') blockedEntry(rc, e, errno, unmade);
  const subdirs: Frame[] = [];
  const unstated: Buffer[] = [];
  for (const e of listed) {
    if (e.kind !== 'dir') continue;
    const stat = withChmod(rc, e.st);
    // --existing: a subdirectory rsync's stat finds missing is passed by ("not creating new directory").
    if (rc.c.existing && errno === ERRNO.ENOENT) {
      skipLine(rc, { src: e.src, rel: e.rel, st: stat, destSt: undefined, display: undefined }, 'dir', 'missing', false);
      subdirs.push(listedOnly(dir, e, stat));
      continue;
    }
    const verdict = quickCheck(stat, undefined, { ...rc.spec.dirCheck, existing: false, ignoreExisting: false, update: false });
    rc.tally.totals.created.dir++;
    rc.items.newDir(rc.lists, rc.tally.listedCount());
    rc.reporter.itemized?.();
    rc.lines.emitHeld({ verdict, line: rc.lines.lineFor(e.rel, e.src, stat, 'dir') });
    const where = joinPath(rc.plan.destRoot, e.rel);
    rc.tally.ioError(where, errno, 'mkdir', `[generator] recv_generator: mkdir "${showPath(absolutePath(where))}" failed`);
    rc.tally.note('*** Skipping any contents from this failed directory ***');
    // -X: itemized as new with xattrs, it is named to rsync's receiver, which then fails to stat it to
    // set them (after the generator's lines for this directory: the receiver comes behind).
    if (hasXattrs(rc, dir, e)) unstated.push(where);
    subdirs.push(listedOnly(dir, e, stat));
  }
  for (const where of unstated) rc.tally.ioError(where, errno, 'stat', `[receiver] stat "${showPath(absolutePath(where))}" failed`);
  // rsync's receiver, behind its generator: each file sent into a directory that is not there.
  for (const where of unmade) {
    const temp = joinPath(dirName(where), Buffer.concat([Buffer.from('.'), baseName(where), Buffer.from('.XXXXXX')]));
    rc.tally.sendError(where, errno, 'mkstemp', `[receiver] mkstemp "${showPath(absolutePath(temp))}" failed`);
  }
  // Without -r a subdirectory's contents are not in the list. A stack: popped in name order.
  return rc.c.recursive ? subdirs.reverse() : [];
}

/**
 * -X (not under -n, where rsync's receiver sets nothing): whether `e`, listed in `dir`, has xattrs the
 * sender lists (the x-rules in `dir`'s scope, per-directory files' among them: xattr-views.ts; -XX and
 * --fake-super as it reads them); rsync's generator itemizes such a new entry with ITEM_REPORT_XATTR.
 * Without the addon nothing is read: no.
 */
function hasXattrs(rc: RunContext, dir: Frame, e: Listed): boolean {
  const c = rc.c;
  if (!c.xattrs || c.dryRun) return false;
  const x = remoteXattrs();
  if ('reason' in x) return false;
  const rules = dir.sender?.xattrRules() ?? configXattrRules(c);
  const items = x.source(e.src, e.st.mode, false, c.fakeSuper === true, c.xattrsAll === true, rules);
  return !('message' in items) && items.length > 0;
}

/**
 * A non-directory below a directory --ignore-existing left blocked: rsync's generator stats it (`errno`,
 * Frame.blocked) and goes as far as its type takes it before it writes: a symlink or special file it
 * does not make gets "skipping non-regular file", an unsafe symlink under --safe-links its "ignoring
 * unsafe symlink" line, one it makes fails there ("symlink ... failed", "mknod ... failed"), a file
 * outside --max-size/--min-size its skip line; any other file fails its stat ("failed to stat"), unless
 * the stat found nothing (ENOENT): then the file is missing, and sent (sentIntoNothing; its temp file's
 * failure is added to `unmade`).
 */
function blockedEntry(rc: RunContext, e: Listed, errno: number, unmade: Buffer[]): void {
  const c = rc.c;
  const where = joinPath(rc.plan.destRoot, e.rel);
  const named = `"${showPath(absolutePath(where))}"`;
  // --existing: whatever rsync's stat finds missing is passed by, before its type is looked at.
  if (c.existing && errno === ERRNO.ENOENT) {
    skipLine(rc, { src: e.src, rel: e.rel, st: e.st, destSt: undefined, display: undefined }, e.kind, 'missing', false);
    return;
  }
  // (A link the sender follows was listed as what it leads to: senderListed.)
  if (e.kind !== 'reg') {
    const d = decide(e.st, c);
    if ('skip' in d) {
      if (receiverOutput(c).info.NONREG > 0 && !c.json) rc.reporter.print(`${NONREG_SKIP} "${showPath(e.rel)}"`);
      return;
    }
    if (e.kind === 'link') {
      const raw = rc.source.readlink(e.src);
      const target = raw && c.mungeLinks ? unmunge(raw) : raw;
      if (c.safeLinks && target !== undefined && (c.receiverMungeLinks === true || unsafeSymlink(target, e.rel))) {
        unsafeLinkLine(rc, e.rel, target);
        return;
      }
      rc.tally.ioError(where, errno, 'symlink', `[generator] symlink ${named} -> "${showPath(target ?? Buffer.alloc(0))}" failed`);
      return;
    }
    rc.tally.ioError(where, errno, 'mknod', `[generator] mknod ${named} failed`);
    return;
  }
  const over = c.maxSize !== undefined && e.st.size > c.maxSize;
  if (over || (c.minSize !== undefined && e.st.size < c.minSize)) {
    sizeSkipLine(rc, e.rel, undefined, over);
    return;
  }
  if (errno === ERRNO.ENOENT) {
    sentIntoNothing(rc, e, where, unmade);
    return;
  }
  failedStat(rc, where, errno);
}

/**
 * A dry run's regular file below a non-directory --ignore-existing kept (Frame.statErrno): rsync's stat
 * of its name fails, and unless it found nothing (then the file is new, as entry() plans it) that is its
 * "failed to stat" line, after the size limits' skips, which come first. Still listed.
 */
function failsStat(rc: RunContext, k: Kept, errno: number): boolean {
  const c = rc.c;
  if (errno === ERRNO.ENOENT || fileType(k.st.mode) !== 'reg') return false;
  if ((c.maxSize !== undefined && k.st.size > c.maxSize) || (c.minSize !== undefined && k.st.size < c.minSize)) return false;
  rc.tally.addListed({ reg: 1 }, k.st.size);
  failedStat(rc, joinPath(rc.plan.destRoot, k.rel), errno);
  return true;
}

/** rsync's generator's line for a name below a kept non-directory whose stat failed. */
function failedStat(rc: RunContext, where: Buffer, errno: number): void {
  rc.tally.ioError(where, errno, 'stat', `[generator] recv_generator: failed to stat "${showPath(absolutePath(where))}"`);
}

/**
 * A file below a dangling symlink at its directory's name: rsync's generator, finding it missing, asks
 * for it; its sender sends the whole file (itemized as new, counted as created and transferred, its
 * bytes literal data), and its receiver fails to make the temp file (`unmade`, reported by blockedDir
 * after the generator's lines). Nothing is written here. (A dry run goes another way: dirs.ts dirFrame.)
 */
function sentIntoNothing(rc: RunContext, e: Listed, where: Buffer, unmade: Buffer[]): void {
  const totals = rc.tally.totals;
  const stat = withChmod(rc, e.st);
  totals.created.reg++;
  totals.plannedFiles++;
  totals.plannedBytes += e.st.size;
  rc.items.sent(rc.lists, rc.tally.listedCount(), e.st.size);
  // What the engines count for a file they copy (--stats' "Number of regular files transferred").
  Atomics.add(totals.counters, Counter.Files, 1n);
  Atomics.add(totals.counters, Counter.Bytes, BigInt(e.st.size));
  unmade.push(where);
  // The line is the sender's as it sends the file; in a pull rsync's receiver prints it once the file is
  // received, which it never is.
  if (rc.pulled) return;
  const verdict = quickCheck(stat, undefined, { ...rc.spec.check, existing: false, ignoreExisting: false, update: false });
  rc.lines.emit('reg', verdict, rc.lines.lineFor(e.rel, e.src, stat, 'reg'));
}

/**
 * A directory whose mkdir failed or that --existing passes by: rsync's generator skips everything below
 * it, but its sender still lists the source there (its file list is built on its own), so what it cannot read is still reported
 * and what it lists still counts in --stats' "Number of files" and "Total file size". Only the
 * subdirectories are looked at, to be listed in turn.
 */
function listOnlyDir(rc: RunContext, dir: Frame): Frame[] {
  // A directory whose mkdir failed: its line, which rsync's generator printed before the mkdir (dirs.ts
  // dirFrame). Not its --json=events entry, which says an entry was made (docs/json.md): its error event
  // said it was not.
  if (dir.pending) {
    if (!rc.events) rc.lines.emitHeld(dir.pending);
    dir.pending = undefined;
  }
  const listed = senderListed(rc, dir) ?? [];
  // A stack: popped in name order.
  return listed.filter((e) => e.kind === 'dir').reverse().map((e) => listedOnly(dir, e, e.st));
}

/**
 * One directory's entries, read from its paired listing a chunk at a time, so a wide directory is
 * never held whole. rsync's order: deletions first, then non-directories, then directories, each by
 * name bytes. A listing of one chunk is gone over once; a wider one twice when what to delete must be
 * known first.
 */
async function transferListing(rc: RunContext, dir: Frame, pair: DirEntries): Promise<Frame[]> {
  const c = rc.c;
  const derr = pair.destErrno;
  if (dir.destExists && derr !== 0 && derr !== ERRNO.ENOENT && derr !== ERRNO.ENOTDIR) {
    const listed = joinPath(rc.plan.destRoot, dir.rel);
    rc.tally.ioError(listed, derr, 'scandir', `[generator] opendir "${showPath(absolutePath(listed))}" failed`);
  }
  const deleting = c.deleteMode === 'during';
  // Destination names that are not in the transfer (filters applied) are extraneous (deleted with
  // --delete unless protected).
  const extraneous = new DeleteList();
  let firstKept: Kept[] | undefined;
  if (dir.layers) {
    firstKept = layeredKept(rc, dir, pair, extraneous);
  } else if (pair.whole) {
    firstKept = classify(rc, dir, pair.whole, extraneous, 'fail');
    traceListed(rc, dir, firstKept);
    countCollapsed(rc, pair.whole);
  } else if (deleting && dir.destExists) {
    // Without sender filters or other sources, only destination-only names can be extraneous: source
    // entries are passed over without a stat.
    const extrasOnly = !dir.sender && !rc.overlay;
    for (const chunk of pair.chunks(extrasOnly)) classify(rc, dir, chunk, extraneous, 'none');
  }

  let deletedHere = 0;
  // -vvv: rsync's generator looks in every directory it makes too (not in one a dry run only pretends to make).
  if (deleting && !dir.merged && (dir.destExists || !c.dryRun)) rc.trace?.deleteInDir(showPath(dir.rel), destPath(rc, dir.rel), hiddenInDest(rc, dir));
  if (deleting && dir.destExists && !dir.merged) deletedHere = deleteExtraneous(rc, dir, extraneous);
  // --delete-delay: rsync's generator decides this directory's deletions now (carried out at the end),
  // or says (once, in a directory it made too) that an I/O error stops them.
  else if (c.deleteMode === 'delay' && !dir.merged && (dir.destExists || !c.dryRun)) rc.gate.visitDelayed(dir.rel, rc.tally.totals.ioErrors);
  // In one it made there is nothing to delete, but after an I/O error rsync says (once) why it deletes nothing.
  else if (deleting && !dir.merged && !c.dryRun) rc.gate.allows(rc.tally.totals.ioErrors);
  // rsync compares a directory before deleting in it: our own deletions do not show, but its mtime
  // is restored at the end.
  if (deletedHere > 0 && dir.record) rc.dirs.touch(dir.record);
  if (deletedHere > 0 && !dir.record && !c.dryRun) rc.dirs.changedUnrecorded(dir.src, dir.rel, dir.stat);

  if (dir.pending) {
    rc.lines.emitHeld(dir.pending);
    dir.pending = undefined;
  }

  // Non-directories are planned chunk by chunk; directories wait for all of them.
  const dirs: Kept[] = [];
  if (firstKept) {
    await planFiles(rc, dir, firstKept, dirs, pair.whole);
  } else {
    for (const chunk of pair.chunks()) {
      countCollapsed(rc, chunk);
      const kept = classify(rc, dir, chunk, undefined, 'fail');
      traceListed(rc, dir, kept);
      await planFiles(rc, dir, kept, dirs, chunk);
      if (rc.abort.aborted) break;
    }
  }

  const subdirs: Frame[] = [];
  // rsync lists a directory's subdirectories by name with their trailing "/" ("a-b/" before "a/").
  dirs.sort((x, y) => depthFirst(x.rel, y.rel));
  for (const k of dirs) {
    if (rc.abort.aborted) break;
    const destSt = k.dest;
    if (k.linkDir) {
      // Followed (and judged) by entry(); its directory is walked in its turn among the subdirectories.
      const changed = await entry(rc, { src: k.src, rel: k.rel, st: k.st, destSt, isRoot: false, record: dir.record }, (_rc, f) => {
        f.sender = dir.sender?.enterDir(k.rel, f.src);
        f.receiver = dir.receiver?.enterDir(k.rel);
        subdirs.push(f);
        return Promise.resolve();
      });
      if (changed) rc.dirs.touch(dir.record);
      continue;
    }
    if (c.recursive || dir.oneLevel) {
      if (c.oneFileSystem > 0 && k.st.dev !== rc.root.dev) {
        // -x: the mount point is made but not entered (-xx left it out: walk.ts classify).
        const f = dirFrame(rc, k.src, k.rel, k.st, destSt, undefined, undefined);
        if (f?.pending) rc.lines.emitHeld(f.pending);
        continue;
      }
      const f = k.merged ? mergedFrame(rc, k.src, k.rel, k.st, undefined, undefined) : dirFrame(rc, k.src, k.rel, k.st, destSt, undefined, undefined);
      if (!f) continue;
      // (One whose mkdir failed, only listed, changed nothing here.)
      if ((f.pending?.verdict.action === 'create' && !f.listOnly) || f.madeFromTwin) rc.dirs.touch(dir.record);
      if (dir.treeMode && f.destExists) {
        // scanTree already looked inside: it is walked on its own if it is dirty. Its line waits for its
        // place, right before its own contents.
        // Held only when lines print: the held list is gone over at every frame the walk reaches.
        const p = f.pending;
        if (p && rc.lines.active) rc.treeLines.hold(f.rel, () => rc.lines.emit('dir', p.verdict, p.line));
        continue;
      }
      f.sender = dir.sender?.enterDir(k.rel, k.src);
      f.receiver = dir.receiver?.enterDir(k.rel);
      if (k.layers) f.layers = k.layers;
      subdirs.push(f);
      continue;
    }
    const changed = await entry(rc, { src: k.src, rel: k.rel, st: k.st, destSt, isRoot: false, record: dir.record }, descend);
    if (changed) rc.dirs.touch(dir.record);
  }
  await rc.sink.maybeFlush();
  return subdirs;
}

/** -vvv: the destination entries the receiving side's rules exclude (rsync's generator lists only the others in delete_in_dir), by latin1 name. */
function hiddenInDest(rc: RunContext, dir: Frame): Set<string> {
  const hidden = new Set<string>();
  if (!dir.receiver || !rc.trace?.levels.flist) return hidden;
  const inside = rc.dest.list(dir.rel);
  for (const i of inside.order()) {
    const name = inside.name(i);
    if (dir.receiver.check(joinPath(dir.rel, name), fileType(inside.stat(i).mode) === 'dir') === 'exclude') hidden.add(name.toString('latin1'));
  }
  return hidden;
}

/** -vvv: the entries of a directory's list in rsync's trace (run/trace.ts). */
function traceListed(rc: RunContext, dir: Frame, kept: Kept[]): void {
  rc.trace?.listed(showPath(dir.rel), kept.map((k) => ({ name: showPath(k.rel), base: k.name, isDir: isDirKept(k), size: k.st.size, basis: k.dest && fileType(k.dest.mode) === 'reg' ? k.dest.size : 0, mode: k.st.mode, rdev: k.st.rdev })));
}

/** Entries the native quick check found unchanged are only counted. */
function countCollapsed(rc: RunContext, chunk: PairListing): void {
  rc.tally.addListed({ reg: chunk.collapsed.reg, link: chunk.collapsed.link }, chunk.collapsed.size);
}

/**
 * Plan the non-directories of `kept` now (after the chunk's direct-path ops); its directories go to
 * `dirs` (planned after every file).
 */
async function planFiles(rc: RunContext, dir: Frame, kept: Kept[], dirs: Kept[], chunk: PairListing | undefined): Promise<void> {
  // A layered listing (run/layers.ts) has no one chunk: several sources make it, no direct path.
  // Its direct files go to the sink (and -v's names out) at their places among the entries planned here.
  const direct = chunk ? planDirect(rc, dir, chunk) : undefined;
  for (const k of kept) {
    if (rc.abort.aborted) {
      await direct?.before(undefined, false);
      return;
    }
    if (isDirKept(k) || k.linkDir) {
      dirs.push(k);
      continue;
    }
    await direct?.before(k.rel);
    if (dir.statErrno !== undefined && failsStat(rc, k, dir.statErrno)) continue;
    const changed = await entry(rc, { src: k.src, rel: k.rel, st: k.st, destSt: k.dest, isRoot: false, record: dir.record }, descend);
    if (changed) rc.dirs.touch(dir.record);
  }
  await direct?.before(undefined, !rc.abort.aborted);
  await rc.sink.maybeFlush();
}
