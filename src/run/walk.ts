// The walk's shared steps, for the transfer pass and the deletion passes alike: a root operand resolved
// (followed where rsync follows it), a directory's paired listing opened (with fewer batches in flight
// when descriptors run out), a chunk classified (what is in the transfer, what is extraneous), and the
// depth-first stack that visits directories in rsync's order.

import { ClockSlot } from './clock.js';
import { resolve as resolvePath } from 'node:path';
import { isFailure, type SysFailure } from '../model/failure.js';
import { PairStream } from '../engine/pair.js';
import type { DirectRequest, PairEntry, PairListing } from '../model/listing.js';
import { S_IFDIR, S_IFMT, type Stat, fileType } from '../model/stat.js';
import type { DeleteList } from '../plan/deletelist.js';
import { namedLinkFollowed } from '../plan/decide.js';
import { filterTrace, type FilterScope } from '../plan/filter-scope.js';
import { roleOf, type Role } from '../plan/overlay.js';
import { unsafeSymlink } from '../plan/safelinks.js';
import type { Root } from '../plan/sources.js';
import { fdPause, isFdShortage } from '../pool/fd-retry.js';
import { ERRNO, showPath } from '../util/errors.js';
import { absolutePath, joinPath } from '../util/names.js';
import { notePlanned } from '../util/tiering.js';
import { withChmod, type Frame, type Kept, type RunContext } from './context.js';
import { prunedDirs } from './prune.js';
import { unconvertibleName } from './iconv-errors.js';
import type { DirEntries } from './source.js';

export const isDirEntry = (e: PairEntry): boolean => e.st !== null && (e.st.mode & S_IFMT) === S_IFDIR;
export const isDirKept = (k: Kept): boolean => (k.st.mode & S_IFMT) === S_IFDIR;

/** A root operand as the walk starts it. */
export interface StartedRoot {
  st: Stat;
  /** The path the walk lists ("link/" when a symlinked directory is followed). */
  scanSrc: Buffer;
}

/** An operand as the walk takes it, from its lstat; undefined for a "link/" whose link leads nowhere. */
function operandTaken(rc: RunContext, root: Root, st: Stat): { st: Stat; scanSrc: Buffer } | undefined {
  // Named with a trailing slash (or as a dot-dir): under -R too, where it is not "contents" (rsync's
  // link_stat follows any name that is not a plain one).
  const slashed = root.contents || root.oneLevel === true;
  if (!namedLinkFollowed(rc.c, slashed) || fileType(st.mode) !== 'link') return { st, scanSrc: root.src };
  // "link/" means the directory behind the link; so do -L and -k for a link to a directory. A link
  // to anything else stays a link here: the entry's own step follows it under -L (and tells the
  // engine to open through it) or reports it dangling.
  const followed = rc.source.follow(root.src);
  if (!followed && slashed) return undefined;
  if (!followed || !(slashed || fileType(followed.mode) === 'dir')) return { st, scanSrc: root.src };
  // A trailing slash makes every open resolve through the link (the walk opens with O_NOFOLLOW).
  return { st: followed, scanSrc: fileType(followed.mode) === 'dir' ? Buffer.concat([root.src, Buffer.from('/')]) : root.src };
}

/**
 * rsync's sender without incremental recursion enters the operands' directories in the order they were
 * given (`given`); with it, in its sorted list's order, the walk's own. The first it enters is the one
 * its dir-merge rules scan the parents of (plan/filter-rules.ts ScopeRules scansParents): claimed here,
 * before any pass enters a root.
 */
export function claimParentScan(rc: RunContext, given: readonly Root[]): void {
  if (!rc.filters?.hasDirMerge || rc.c.incRecursive) return;
  for (const root of given) {
    if (root.missing) continue;
    const st = rc.source.lstat(root.src);
    const taken = isFailure(st) ? undefined : operandTaken(rc, root, st);
    // A directory rsync's sender lists the entries of: under -r, or a "dir/" (-d, --files-from).
    if (!taken || fileType(taken.st.mode) !== 'dir' || !(rc.c.recursive || root.contents || root.oneLevel)) continue;
    senderScope(rc, root)?.claimParentScan(root.rel);
    return;
  }
}

/** The sending side's rules for one root: its paths are relative to the directory `rel` is relative to. */
function senderScope(rc: RunContext, root: Root): FilterScope | undefined {
  const base = root.src.subarray(0, root.src.length - root.rel.length).toString('latin1') || '.';
  return rc.filters?.root('sender', Buffer.from(resolvePath(base), 'latin1'));
}

/**
 * Stat a root operand and follow it where rsync does ("link/", -L). `onError` gets what could not be
 * stat'ed (the transfer pass reports it, a deletion pass only notes it). Sets the run's current root.
 */
export function startRoot(rc: RunContext, root: Root, onError: (errno: number, syscall: string, what: string) => void): StartedRoot | undefined {
  rc.root.current = root;
  rc.root.index = rc.plan.roots.indexOf(root);
  rc.lines.fromRoot = root.absolute === true;
  rc.lines.dotRoot = root.contents;
  let st = rc.source.lstat(root.src);
  if (isFailure(st)) {
    onError(st.errno, st.syscall, `[sender] link_stat "${showPath(absolutePath(root.src))}" failed`);
    return undefined;
  }
  const taken = operandTaken(rc, root, st);
  if (!taken) {
    onError(ERRNO.ENOENT, 'stat', `symlink has no referent "${showPath(root.src)}"`);
    return undefined;
  }
  st = taken.st;
  const scanSrc = taken.scanSrc;
  // Below a directory operand, the engines follow no symlink the walk did not choose to follow.
  if (fileType(st.mode) === 'dir') rc.anchors.add(scanSrc);
  st = withChmod(rc, st);
  rc.root.dev = st.dev;
  return { st, scanSrc };
}

/** The filter scopes at a root, and what this root is at its path when several sources share it. */
export function rootScopes(rc: RunContext, root: Root, st: Stat, deleting: boolean): { sender: FilterScope | undefined; receiver: FilterScope | undefined; role: Role } {
  // Filter paths are relative to the transfer root: the directory that `rel` is relative to.
  const sender = senderScope(rc, root);
  // rsync's generator reads the destination's per-directory merge files only where it deletes
  // (delete_in_dir): `deleting`, the pass that does. Without --delete a bad or planted one there is
  // never read; with --delete-before/-after, only by their own pass.
  const receiver = rc.filters?.root('receiver', rc.plan.destRoot, deleting);
  const type = fileType(st.mode);
  const role: Role = rc.overlay
    ? roleOf({ root: rc.root.index, dir: type === 'dir' && (rc.c.recursive || root.dirOnly) }, rc.overlay.othersAtPath(rc.root.index, root.rel))
    : 'owner';
  return { sender, receiver, role };
}

/**
 * The source directory against its destination twin (the twin only when it existed); scanTree may have
 * listed it already (a listing is used once). Out of descriptors: fewer batches in flight, and again.
 * `direct`: the transfer pass's request for new regular files as encoded ops (run/direct.ts).
 */
export async function openListing(rc: RunContext, dir: Frame, direct?: DirectRequest): Promise<DirEntries | SysFailure> {
  const list = (): DirEntries | SysFailure => rc.source.openDir(dir.src, dir.destExists ? dir.rel : null, rc.anchors.of(dir.src), direct);
  let pair = dir.pair ? new PairStream(dir.pair) : list();
  dir.pair = undefined;
  // Fewer batches in flight first; then, with nothing of ours left to wait for, a few pauses (about 1.2 s
  // in all) before the directory is reported as unreadable.
  for (let tries = 0; isFailure(pair) && isFdShortage(pair.errno) && tries < 9; tries++) {
    await rc.sink.lowerConcurrency();
    if (tries >= 3) await fdPause(tries - 3);
    pair = list();
  }
  return pair;
}

/**
 * The entries of one chunk that are in the transfer, non-directories first (rsync's order within
 * the chunk; the caller keeps directories for after every chunk). A vanished entry is reported when
 * `onVanish` is 'fail' (noted for the delete gate when 'note'); an entry the sender excludes is
 * extraneous on the destination, like the chunk's destination-only names (collected in `extraneous`
 * when given). `rootIndex`: the root whose directory `dir.src` is (another than the walk's in run/layers.ts).
 */
/** Directories classify found unsearchable (reported once, whatever the chunks). */
const unsearchable = new WeakSet<Frame>();

export function classify(rc: RunContext, dir: Frame, chunk: PairListing, extraneous: DeleteList | undefined, onVanish: 'fail' | 'note' | 'none', rootIndex = rc.root.index): Kept[] {
  // Several sources: what the other roots put in this directory is theirs, and never extraneous.
  const others = rc.overlay?.othersIn(rootIndex, dir.rel);
  // Many entries planned here is a large job even if none needs copying (util/tiering.ts).
  notePlanned(chunk.entries.length);
  if (extraneous) for (const x of chunk.extras) if (!others?.has(x.name.toString('latin1'))) extraneous.add(x.name, x.st);
  const ordered: PairEntry[] = [];
  for (const e of chunk.entries) if (!isDirEntry(e)) ordered.push(e);
  for (const e of chunk.entries) if (isDirEntry(e)) ordered.push(e);
  const kept: Kept[] = [];
  for (const e of ordered) {
    if (e.unconvertible) {
      unconvertibleName(rc, joinPath(rc.charsets ? rc.charsets.toSource(dir.rel) : dir.rel, e.name), e.unconvertible);
      continue;
    }
    const src = joinPath(dir.src, e.srcName ?? e.name);
    const rel = joinPath(dir.rel, e.name);
    if (!e.st) {
      if (e.err === ERRNO.EACCES && onVanish === 'fail') {
        // A directory this user may read but not search: its names list, none of them stats. rsync's
        // sender cannot open it at all ("opendir ... failed", once) and lists nothing of it.
        if (!unsearchable.has(dir)) {
          unsearchable.add(dir);
          rc.tally.ioError(dir.src, ERRNO.EACCES, 'opendir', `[sender] opendir "${showPath(absolutePath(dir.src))}" failed`);
        }
        continue;
      }
      // A source entry that vanished must not get its destination twin deleted.
      if (onVanish === 'fail') rc.fail({ index: -1, errno: e.err || ERRNO.ENOENT, syscall: 'lstat', path: src, onDest: false });
      else if (onVanish === 'note') rc.gate.noteError();
      continue;
    }
    const st = withChmod(rc, e.st);
    // -xx: a directory on another filesystem than the operand's is left out of the transfer, not
    // excluded (rsync's sender drops it before its filters), so its destination twin is extraneous.
    if (rc.c.oneFileSystem > 1 && rc.c.recursive && isDirEntry(e) && e.st.dev !== rc.root.dev) {
      if (onVanish === 'fail' && rc.c.info.MOUNT > 0 && !rc.c.json) rc.reporter.print(`[sender] skipping mount-point dir ${showPath(rel)}`);
      if (e.dest && extraneous && !others?.has(e.name.toString('latin1'))) extraneous.add(e.name, e.dest);
      continue;
    }
    const occ = others?.get(e.name.toString('latin1'));
    const role = occ ? roleOf({ root: rootIndex, dir: isDirEntry(e) }, occ) : 'owner';
    if (role === 'skip') continue;
    // Excluded, or a directory -m prunes: not in the transfer, so extraneous on the destination.
    // --iconv: the sender matches its rules against its own names.
    const excluded = dir.sender && senderExcludes(rc, dir.sender, rc.charsets && e.srcName ? joinPath(rc.charsets.toSource(dir.rel), e.srcName) : rel, isDirEntry(e), e.name);
    const prunedHere = !excluded && isDirEntry(e) ? prunedDirs(rc, src, rel, dir.sender, dir.receiver) : 0;
    if (excluded || prunedHere > 0) {
      if (e.dest && !occ && extraneous) extraneous.add(e.name, e.dest);
      // rsync's sender lists what its receiver prunes: --stats' "Number of files" counts it.
      if (prunedHere > 0 && onVanish === 'fail') rc.tally.addListed({ dir: prunedHere }, 0);
      continue;
    }
    const k: Kept = { name: e.name, src, rel, st, dest: e.dest };
    if (role === 'merged') k.merged = true;
    const through = followedLink(rc, dir, e, src, rel);
    if (through === 'dir' && (rc.c.recursive || dir.oneLevel)) k.linkDir = true;
    // rsync's sender finds a link it must follow dangling as it lists this directory, before the
    // generator deletes in it: no deletion from here on (the entry reports it when it is decided).
    else if (through === 'dangling' && rc.c.deleteMode !== 'none') rc.gate.noteError();
    kept.push(k);
  }
  return kept;
}

/**
 * -L, -k, --copy-unsafe-links (an unsafe link): a symlink that leads to a directory is that directory in
 * rsync's list (its sender stats through it), so it comes among the directories, in their order, and its
 * contents after every file of its parent; one that leads nowhere is the sender's I/O error. Which links
 * are followed is entry.ts's rule, applied there again to the link's target read once for the entry.
 */
function followedLink(rc: RunContext, dir: Frame, e: PairEntry, src: Buffer, rel: Buffer): 'dir' | 'dangling' | undefined {
  if (!e.st) return undefined;
  // Only -r (or -d's "dir/", whose directories are made) needs a directory known here (among the
  // directories, in their order), and only --delete a dangling link.
  if (!rc.c.recursive && !dir.oneLevel && rc.c.deleteMode === 'none') return undefined;
  const through = linkThrough(rc, src, rel, e.st);
  return through === 'dangling' ? through : through && fileType(through.mode) === 'dir' ? 'dir' : undefined;
}

/**
 * What rsync's sender lists for the entry `st` (an lstat) at `src`: for a link it follows (-L, an unsafe
 * link under --copy-unsafe-links, a link to a directory under -k) the stat of what it leads to, or
 * 'dangling' when a link followed whatever it leads to leads nowhere; undefined for anything else.
 * `listing`: the sender lists it now, and says so of an unsafe link it copies (unsafeCopied).
 */
export function linkThrough(rc: RunContext, src: Buffer, rel: Buffer, st: Stat, listing = false): Stat | 'dangling' | undefined {
  const c = rc.c;
  if (fileType(st.mode) !== 'link' || !(c.copyLinks || c.copyDirlinks || c.copyUnsafeLinks)) return undefined;
  let followAll = c.copyLinks;
  if (!c.copyLinks && c.copyUnsafeLinks) {
    // Judged on the link as it is, before --munge-links' unmunging (rsync's readlink_stat; entry.ts).
    const raw = rc.source.readlink(src);
    followAll = raw !== undefined && unsafeSymlink(raw, rel);
    if (followAll && listing) unsafeCopied(rc, src, rel, raw);
  }
  if (!followAll && !c.copyDirlinks) return undefined;
  const through = rc.source.follow(src);
  // -k alone keeps a link that leads nowhere as a link: only a link followed whatever it leads to fails.
  if (through === undefined) return followAll ? 'dangling' : undefined;
  return followAll || fileType(through.mode) === 'dir' ? through : undefined;
}

/**
 * rsync's sender says so as it lists a link --copy-unsafe-links follows (--info=symsafe, on with -v),
 * before it looks behind it. (line-order.ts puts it ahead of the generator's lines.)
 */
export function unsafeCopied(rc: RunContext, src: Buffer, rel: Buffer, raw: Buffer | undefined): void {
  if (rc.c.info.SYMSAFE === 0 || rc.c.json) return;
  const line = `copying unsafe symlink "${showPath(rel)}" -> "${showPath(raw ?? Buffer.alloc(0))}"`;
  if (rc.order) rc.order.listed(line, src);
  else rc.reporter.print(line);
}

/** The sender's filter verdict on an entry; the rule that decided it traced under --debug=FILTER (-vv). */
function senderExcludes(rc: RunContext, scope: FilterScope, rel: Buffer, isDir: boolean, name: Buffer): boolean {
  if (rc.c.debug.FILTER === 0 || rc.c.json) return scope.check(rel, isDir) === 'exclude';
  const m = scope.match(rel, isDir);
  // -vvv: the sender says it while it reads the directory, in readdir order among its make_file lines.
  if (m && rc.trace) rc.trace.senderListing(name, filterTrace('sender', showPath(rel), isDir, m));
  else if (m) rc.reporter.print(filterTrace('sender', showPath(rel), isDir, m));
  return m?.verdict === 'exclude';
}

/**
 * Depth-first over directories: `visit` plans one directory and returns its subdirectories, which are
 * visited in name order before the directory's next sibling. `stopOnAbort`: a signal ends the walk.
 * `order`: the frames given are a stack in that order (the next one last), and each subdirectory goes
 * to its place among them rather than on top: a re-sync's walk starts with the dirty directories its
 * tree scan found, and a new directory inside one of them comes after every dirty directory that
 * sorts before it (rsync's list order: "a/" is walked before a new "c/" made in the root).
 */
export async function walkFrames(
  first: Frame[],
  visit: (f: Frame) => Promise<Frame[]>,
  rc: RunContext,
  stopOnAbort = true,
  order?: (a: Buffer, b: Buffer) => number,
): Promise<void> {
  const stack = first;
  while (stack.length) {
    if (stopOnAbort && rc.abort.aborted) return;
    const dir = stack.pop()!;
    // Walking is progress for --timeout (run/clock.ts), as rsync's generator keeps its peer alive.
    Atomics.add(rc.tally.counters, ClockSlot.Beat, 1n);
    const subdirs = await visit(dir);
    for (let i = subdirs.length - 1; i >= 0; i--) {
      const sub = subdirs[i]!;
      if (!order || !stack.length || order(stack[stack.length - 1]!.rel, sub.rel) > 0) {
        stack.push(sub);
        continue;
      }
      // Past the frames that come before it: the first place from the bottom whose frame does not come after it.
      let lo = 0;
      let hi = stack.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (order(stack[mid]!.rel, sub.rel) > 0) lo = mid + 1;
        else hi = mid;
      }
      stack.splice(lo, 0, sub);
    }
  }
}
