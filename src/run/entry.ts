// Per-entry decisions on the transfer pass: one non-directory source entry (or a directory without -r)
// against its destination twin becomes an op, an output line and a tally, or nothing. Symlinks are
// judged here (--safe-links, -L, --copy-unsafe-links) on a target read once; -H members wait for
// hardlinks.ts; --*-dest twins go through alt-entry.ts; an op's outcome, when only it can tell what to
// print, comes back through settled().

import { sizeSkipLine, skipLine } from './skip-lines.js';
import { BatchWriter } from '../engine/batch.js';
import { OpFlag, OpKind, Outcome, targetParts } from '../model/ops.js';
import { fakeDiskStale } from './fake-source.js';
import { receiverOutput } from '../model/config.js';
import { S_IFDIR, S_IFMT, type Stat, fileType, type FileType } from '../model/stat.js';
import { NONREG_SKIP, decide } from '../plan/decide.js';
import { currentChanges, leftAlone, quickCheck } from '../plan/quickcheck.js';
import { appendSkips } from '../plan/append.js';
import { unsafeSymlink } from '../plan/safelinks.js';
import { anchorOverflow } from '../plan/anchors.js';
import { showPath } from '../util/errors.js';
import { absolutePath, dirName, joinPath } from '../util/names.js';
import { munge, unmunge } from '../util/munge.js';
import type { Twin } from './alt-dest.js';
import { addBasis, tryAltDirs } from './alt-entry.js';
import { withChmod, type Frame, type RunContext } from './context.js';
import { canMakeWay, removeForReplace } from './deletions.js';
import { deviceAsSource, deviceAsTarget, isDevice } from './devices.js';
import { dirFrame } from './dirs.js';
import type { DirRecord } from './dirmeta.js';
import { linkMember } from './link-member.js';
import { madeBy, madeLine, settleLine } from './made-line.js';
import { NO_LINE, anyChange, type Line } from './lines.js';
import { finishedAtPlace, hasBasis, keptEntry, leftToTwins, type Member } from './members.js';
import { removeFlag, removeSource } from './remove-source.js';
import { unsafeCopied } from './walk.js';
import { blockSumBytes, searchDelta } from './local-delta.js';
import { BATCH_BYTES, type Pending } from './sink.js';
import { withXattrs } from './xattrs.js';
import { convertedTarget } from './iconv-errors.js';
import { surelyUnreadable } from './unopenable.js';
import type { Verdict } from '../plan/quickcheck.js';
import { inRootList } from './item-bytes.js';
import { againstBasis, opStat, overReplaced } from './basis-mode.js';

export interface EntryIn {
  src: Buffer;
  rel: Buffer;
  st: Stat;
  destSt: Stat | undefined;
  /** A root operand itself (a directory root is not counted again). */
  isRoot: boolean;
  /** The parent directory's record. */
  record?: DirRecord | undefined;
  /** The name printed, when it is not rel. */
  display?: Buffer | undefined;
  /** A root's name in rsync's file list, when it is not rel ("." for "dir/", "/a/b" for -R's /a/b). */
  listName?: Buffer | undefined;
}

/** rsync's sender's line for a name past PATH_MAX (flist.c send_directory). */
const overflowLine = (src: Buffer, over: number): string => `filename overflows max-path len by ${over}: ${showPath(src)}`;

/** BackupPlan appends with a plain function. */
const addOp = (rc: RunContext) => (kind: OpKind, src: Buffer, rel: Buffer, st: Stat, flags: number): void => rc.sink.add(kind, src, rel, st, flags);

/**
 * Plan one non-directory entry (or a directory without -r). Returns true when the destination
 * directory's entries change (so its mtime must be restored). `descend` takes a directory reached
 * through a followed symlink (walked under -r, made under -d).
 */
export function entry(rc: RunContext, e: EntryIn, descend: (rc: RunContext, f: Frame) => Promise<void>): Promise<boolean> {
  // -vvv: what is printed while an entry is decided (its skip line, the deletions that make room for it)
  // is that entry's in rsync's generator. Not an async function itself: no extra promise per entry.
  return rc.trace ? rc.trace.deciding(showPath(e.rel), () => decideEntry(rc, e, descend)) : decideEntry(rc, e, descend);
}

async function decideEntry(rc: RunContext, e: EntryIn, descend: (rc: RunContext, f: Frame) => Promise<void>): Promise<boolean> {
  const c = rc.c;
  const { src, rel, isRoot, record, display } = e;
  let st = e.st;
  let destSt = e.destSt;
  let kind = fileType(st.mode);
  let flags = 0;

  let target: Buffer | undefined;
  // A link --copy-unsafe-links follows: its own lstat, for --remove-source-files (run/remove-source.ts).
  let linkSt: Stat | undefined;
  if (kind === 'link' && (c.copyLinks || c.copyUnsafeLinks || c.safeLinks || c.copyDirlinks)) {
    // Read once: the value judged here is the one the engine writes (or refuses, if the link changed).
    const raw = rc.source.readlink(src);
    target = raw && c.mungeLinks ? unmunge(raw) : raw;
    // rsync's "unsafe" symlink (plan/safelinks.ts), judged on the target read once for the entry:
    // --safe-links (the receiving side's) on the target as sent, unmunged under --munge-links;
    // --copy-unsafe-links (the sender's, as it lists the link, before it unmunges: flist.c
    // readlink_stat) on the link as it is.
    const unsafeListed = target !== undefined && unsafeSymlink(target, rel);
    // (-M--munge-links: the receiving side judges the munged target, absolute and so always unsafe.)
    const unsafe = target !== undefined && (c.receiverMungeLinks === true || unsafeListed);
    const unsafeAsIs = raw !== undefined && (raw === target ? unsafeListed : unsafeSymlink(raw, rel));
    const followAll = c.copyLinks || (c.copyUnsafeLinks && unsafeAsIs);
    if (!c.copyLinks && c.copyUnsafeLinks && unsafeAsIs) unsafeCopied(rc, src, rel, raw);
    // The referent of the target judged above, not whatever the link holds by now: the engine opens
    // the link and must find this very file behind it (dev/ino), or reports it changed. The kernel
    // follows the link as it is (munged or not), as rsync's stat of it does.
    const referent = raw === undefined ? src : raw[0] === 0x2f ? raw : joinPath(dirName(src), raw);
    // -k: a link to a directory is that directory (any other link stays a link).
    const followed = followAll || c.copyDirlinks ? rc.source.follow(referent) : undefined;
    const followDir = c.copyDirlinks && followed !== undefined && fileType(followed.mode) === 'dir';
    if (followAll || followDir) {
      if (!followed) {
        // An rprintf line in rsync's flist.c: no program name, no errno. (A path past PATH_MAX is one the
        // node engine cannot stat: see below.)
        const over = anchorOverflow(src);
        rc.tally.xferError(src, over > 0 ? overflowLine(src, over) : `symlink has no referent: "${showPath(absolutePath(src))}"`, true);
        return false;
      }
      if (!c.copyLinks && c.removeSourceFiles) linkSt = st;
      st = withChmod(rc, followed);
      kind = fileType(st.mode);
      flags |= OpFlag.FollowSource;
      // A followed link to a directory is that directory in rsync's list ("link/" opens through it),
      // judged as any directory (decide): without -d (which -r and --files-from bring) it is skipped, with
      // the line below. Except a named one only --copy-unsafe-links follows: rsync's sender judged the
      // name by its lstat (a symlink: not skipped) before its readlink_stat read through it, so it is
      // listed as a directory even without -d.
      const namedUnsafe = isRoot && !c.copyLinks && !followDir;
      if (kind === 'dir' && (namedUnsafe || !('skip' in decide(st, c)))) {
        // Its path becomes an anchor the engines resolve through the link in one call: one past PATH_MAX
        // cannot be followed. rsync's sender stops at a name that long (with this line, exit 23), whatever
        // it is; arsync copies real directories at any depth and fails only such a link.
        const over = anchorOverflow(src);
        if (over > 0) {
          rc.tally.xferError(src, overflowLine(src, over), true);
          return false;
        }
        const through = Buffer.concat([src, Buffer.from('/')]);
        rc.anchors.add(through);
        const f = dirFrame(rc, through, rel, st, destSt, undefined, undefined);
        if (f) await descend(rc, f);
        return true;
      }
    } else if (c.safeLinks && c.links && unsafe && !leftAlone(destSt, rc.spec.check)) {
      // (--safe-links is the generator's rule for the links it makes: without -l a link is a non-regular file
      // it skips, with that line, whatever it points to.)
      // rsync's sender lists the link and its generator (the receiving side) passes it by: it counts in
      // --stats' "Number of files" and in the total size (the target's length). The generator's line
      // comes under its own --info=name or --info=symsafe.
      rc.tally.addListed({ link: 1 }, st.size);
      unsafeLinkLine(rc, rel, target);
      return false;
    }
  }

  // --fake-super sending: a fake symlink is a file holding its target; the op carries the target read here.
  if (kind === 'link' && c.fakeSuper && target === undefined) target = rc.source.readlink(src);
  // --iconv: the op carries the target read here and what it converts to (model/ops.ts targetParts).
  if (kind === 'link' && rc.charsets) {
    const raw = target ?? rc.source.readlink(src);
    target = raw && convertedTarget(rc, src, rel, raw);
    if (raw && !target) return false;
  }
  // -M--munge-links: the receiving side writes the target behind "/rsyncd-munged/"; the op carries the
  // target read here and the munged one (model/ops.ts targetParts), so the destination's link is
  // compared with what is written and the lines show what was listed, as rsync's generator does.
  if (kind === 'link' && c.receiverMungeLinks) {
    const read = target ?? rc.source.readlink(src);
    const listed = read && target === undefined && c.mungeLinks ? unmunge(read) : read;
    if (listed) {
      const parts = targetParts(listed);
      target = Buffer.concat([parts.judged, Buffer.alloc(1), munge(parts.written)]);
    }
  }
  // --copy-devices: a device is sent as a file of its contents; --write-devices: a device target
  // takes a file's data in its place (rsync compares it as a file of the device's size).
  if (c.copyDevices && kind === 'dev') {
    st = deviceAsSource(st);
    kind = 'reg';
    flags |= OpFlag.Device;
  }
  if (c.writeDevices && kind === 'reg' && destSt && isDevice(destSt)) destSt = deviceAsTarget(destSt);

  const d = decide(st, c);
  const totals = rc.tally.totals;
  // A non-regular entry --existing or --ignore-existing leaves alone gets their line, not the nonreg one.
  if ('skip' in d && !(d.skip === NONREG_SKIP && leftAlone(destSt, rc.spec.check))) {
    // A non-regular entry the options do not keep is still in rsync's file list (its receiver skips it),
    // so --stats' "Number of files" and the total size count it, a symlink with its target's length.
    if (d.skip === NONREG_SKIP) {
      totals.listed[kind]++;
      if (kind === 'link') totals.totalSize += st.size;
    }
    // rsync names a skipped directory bare, as the file list has it ("." for "dir/"); other skips quoted.
    // Its --info=nonreg (on by default, off under -q) says it skipped a special file.
    // (The receiver's generator prints it: its own --info.)
    const shown = d.skip === NONREG_SKIP ? receiverOutput(c).info.NONREG > 0 : !c.quiet;
    if (shown && !c.json) rc.reporter.print(kind === 'dir' ? `${d.skip} ${showPath(e.listName ?? display ?? rel)}` : `${d.skip} "${showPath(display ?? rel)}"`);
    return false;
  }
  if (!isRoot || kind !== 'dir') totals.listed[kind]++;
  if (kind === 'reg' || kind === 'link') totals.totalSize += st.size;
  if (kind === 'reg') {
    const over = c.maxSize !== undefined && st.size > c.maxSize;
    if (over || (c.minSize !== undefined && st.size < c.minSize)) {
      sizeSkipLine(rc, rel, display, over);
      return false;
    }
  }

  // -H: the members of a group of regular files other than its leader wait for the end of the walk,
  // where they are linked to it (rsync's choice of leader, hardlinks.ts). Devices, FIFOs, sockets and
  // symlinks are grouped too, as rsync does on Linux, but linked where the walk meets them.
  const linked = c.hardLinks && kind !== 'dir' && (st.nlink > 1 || rc.hardLinks.holds(st));
  if (linked && kind !== 'reg') {
    const m = { src, rel, st, destSt, record, flags, display, ...(target ? { target } : {}), ...(linkSt ? { linkSt } : {}) };
    const changed = await planNonRegularMember(rc, m, kind);
    if (changed) rc.dirs.touch(record);
    return false;
  }
  if (linked) {
    const m: Member = { src, rel, st, destSt, record, flags, display, ...(target ? { target } : {}), ...(linkSt ? { linkSt } : {}) };
    const planned = rc.hardLinks.leaderOf(m);
    if (planned?.kept && destSt && destSt.ino === planned.kept.ino && destSt.dev === planned.kept.dev) {
      // Already linked to a leader the walk planned and kept: only its line, at its place (rsync's order).
      linkMember(rc, planned.leader, planned.kept, m, kind);
      return false;
    }
    if (planned && finishedAtPlace(planned)) {
      // rsync's generator finished the leader itself (a --*-dest twin), so this one is done at its place.
      if (leftToTwins(planned.leader, planned.changed ?? true, rc.alt)) return planMember(rc, m, kind, true);
      linkMember(rc, planned.leader, planned.kept, m, kind);
      return false;
    }
    rc.hardLinks.add(m);
    // rsync sends its leader at the leader's place in the list, so its line comes in walk order: the
    // first member the destination (or a --*-dest directory) has is that leader (an earlier one would
    // have been planned already). When none has one, the last member leads: which one that is is known
    // only after the walk (and a member that vanished meanwhile is left out there).
    if (!rc.hardLinks.leaderOf(m) && hasBasis(m, rc.alt)) {
      const changed = await planMember(rc, m, kind, true);
      // Skipped, it leads nothing: a later member the destination has leads in its place, or else
      // the last one left (finishHardLinks), as rsync's generator does.
      if (m.skipped) return false;
      // Matched in --compare-dest, its destination file is removed: nothing is kept to link to.
      rc.hardLinks.lead(m, m.fromTwin && !changed ? undefined : keptEntry(c, kind, changed, destSt, rc.alt), changed);
      return changed;
    }
    return false;
  }
  const m: Member = { src, rel, st, destSt, record, flags, display };
  if (kind === 'link' && target) m.target = target;
  if (linkSt) m.linkSt = linkSt;
  return planMember(rc, m, kind);
}

/**
 * --safe-links: the generator's line for an unsafe symlink it passes by (target as listed), under its
 * own --info=name or --info=symsafe.
 */
export function unsafeLinkLine(rc: RunContext, rel: Buffer, target: Buffer | undefined): void {
  const c = rc.c;
  const shown = receiverOutput(c).info;
  if (!(shown.NAME > 0 || shown.SYMSAFE > 0) || c.json) return;
  const said = target && c.receiverMungeLinks ? munge(target) : target;
  const line = `ignoring unsafe symlink "${showPath(rel)}" -> "${showPath(said ?? Buffer.alloc(0))}"`;
  rc.reporter.print(line);
  // The receiving side's line reaches rsync's sender as a message (MSG_INFO): the byte figures count it.
  rc.tally.totals.messages = (rc.tally.totals.messages ?? 0) + 4 + Buffer.byteLength(line) + 1;
}

/**
 * Decide and queue one non-directory entry whose source and destination stats are known. `syncCompare`:
 * a -c compare must be known now (a hard-link leader), not from the op's outcome.
 */
export async function planMember(rc: RunContext, m: Member, kind: FileType, syncCompare = false): Promise<boolean> {
  const c = rc.c;
  if (kind === 'reg' && !c.dryRun && rc.sharedInodes.stale(m.destSt)) {
    // Another name of this destination inode got its attributes in this run: decide from what it is now.
    await rc.sink.flush();
    await rc.sink.drain();
    m.destSt = rc.dest.stat(m.rel);
  }
  const { src, rel, st, destSt } = m;
  const flags = m.flags;
  // Symlink targets are compared only when both sides are links.
  let linkDiffers = false;
  let suffix = '';
  let target: Buffer | undefined;
  if (kind === 'link') {
    target = m.target ?? rc.source.readlink(src);
    if (target && c.mungeLinks && m.target === undefined) target = unmunge(target);
    // --iconv: printed as the sender has it, compared as the destination gets it.
    const parts = target && targetParts(target);
    suffix = ` -> ${showPath(parts ? parts.judged : Buffer.alloc(0))}`;
    if (destSt && fileType(destSt.mode) === 'link') {
      const there = rc.dest.readlink(rel);
      linkDiffers = !parts || !there || !parts.written.equals(there);
    }
  }
  // --ignore-existing / --existing / -u decide first, as in rsync.
  const verdict = withXattrs(rc, quickCheck(st, destSt, rc.spec.check, linkDiffers), src, rel, st, destSt);
  if (verdict.action === 'skip') {
    skipLine(rc, m, kind, verdict.why, linkDiffers);
    m.skipped = true;
    return false;
  }
  if (verdict.action === 'none') {
    // --link-dest / --compare-dest: an exact twin acts on a file already up to date too (rsync's
    // try_dests_reg comes before the destination's quick check): the file is linked to the twin, or
    // removed (alt-entry.ts).
    if (kind === 'reg' && rc.alt.any && (c.linkDest.length || c.compareDest.length) && !c.copyDest.length && destSt && fileType(destSt.mode) === 'reg') {
      const done = await tryAltDirs(rc, m, kind, rc.lines.lineFor(m.display ?? rel, src, st, kind, suffix), target, queueCopy, true);
      if (done !== undefined) return done;
    }
    rc.items.unchanged(rc.lists, rc.tally.listedCount());
    // --fake-super receiving: a file left as a run without it made it (a set-id bit on disk, no owner
    // access) is put in rsync's form and record, with no line, as rsync's receiver does.
    if (c.amRoot === -1 && c.perms && !c.dryRun && kind === 'reg' && destSt && fakeDiskStale(st, destSt)) rc.sink.add(OpKind.Attrs, src, rel, st);
    // The everyday case of a re-sync: decided without building any output for it.
    if (rc.lines.all) rc.lines.emit(kind, verdict, rc.lines.lineFor(m.display ?? rel, src, st, kind, suffix));
    partialUsed(rc, kind, src, rel, st);
    removeSource(rc, m, kind);
    return false;
  }
  // A pull's file the destination had when the pull checked it, changed since (before the local half
  // got to it): rsync's generator judged it then and asked for nothing, and leaves it as it now is; no
  // data of it was fetched.
  if ((verdict.action === 'transfer' || verdict.action === 'compare') && kind === 'reg' && rc.source.unfetched?.(src)) return false;
  // --append: a changed file whose target is not shorter is left as it is; a hard-linked one leaves its
  // group, as a member the other skips leaves it (rsync's handle_skipped_hlink).
  if (verdict.action === 'transfer' && appendSkips(c, st, destSt)) {
    m.skipped = true;
    return false;
  }
  const line = rc.lines.lineFor(m.display ?? rel, src, st, kind, suffix);
  if (c.append && kind === 'reg' && verdict.action === 'transfer' && destSt && fileType(destSt.mode) === 'reg') {
    rc.lines.appended(line, destSt.size);
    // rsync sends only the tail: the kept bytes are not literal data.
    rc.tally.totals.appendKept = (rc.tally.totals.appendKept ?? 0) + destSt.size;
  }

  // A directory in the way goes first (rsync's delete_item before it looks for a --*-dest twin), or the
  // entry is not made.
  // A symlink, device or special file is looked for in the --*-dest directories only where the
  // destination has nothing: rsync's generator calls try_dests_non only when its stat failed, so over an
  // entry of any type (a directory too) it makes the entry anew, never from a twin.
  const twinnable = kind === 'reg' || destSt === undefined;
  if (!(await canMakeWay(rc, m, kind))) return false;
  // --compare-dest / --copy-dest / --link-dest for an entry the destination lacks (or, for
  // --link-dest and --compare-dest, has in another version).
  if (rc.alt.any && kind !== 'dir' && twinnable && (verdict.action === 'create' || (kind === 'reg' && (c.linkDest.length || c.compareDest.length) && !c.copyDest.length))) {
    const done = await tryAltDirs(rc, m, kind, line, target, queueCopy, verdict.action === 'attrs');
    if (done !== undefined) return done;
  }
  // -y: the basis rsync would pick for a file the destination lacks (a waiting partial file comes first).
  let fuzzy: Stat | undefined;
  if (rc.fuzzy && kind === 'reg') {
    if (!destSt || fileType(destSt.mode) !== 'reg') {
      if (!rc.partials?.has(rel)) fuzzy = rc.fuzzy.choose(rel, st);
    } else if (verdict.action === 'transfer' || verdict.action === 'compare') rc.fuzzy.replacing(rel);
  }
  // Without -p, the bits of the basis rsync's receiver opens when it is not the destination's file: a
  // waiting partial file (even over the destination's), else the fuzzy match.
  if (kind === 'reg' && verdict.action !== 'attrs' && !c.dryRun) againstBasis(rc, m, rc.partials?.stat(rel) ?? fuzzy);

  if (verdict.action === 'attrs' || verdict.action === 'compare') rc.sharedInodes.note(destSt);
  if (verdict.action === 'attrs') {
    rc.items.note(rc.lists, rc.tally.listedCount(), inRootList(rc.root.current, rel, kind === 'dir'));
    rc.reporter.itemized?.();
    rc.lines.emit(kind, verdict, line);
    if (!c.dryRun) rc.sink.add(OpKind.Attrs, src, rel, st);
    partialUsed(rc, kind, src, rel, st);
    removeSource(rc, m, kind);
    return false;
  }

  const totals = rc.tally.totals;
  if (verdict.action === 'compare') {
    const searches = searchesBasis(rc, kind, destSt);
    // (A mode of its own, too: a file found equal keeps the destination's bits, a copy gets that mode.)
    if (c.dryRun || (c.backup && destSt) || syncCompare || c.removeSentOnly || c.append || searches || m.mode !== undefined) {
      // Under -n nothing may be written, a backup must only be made when the content differs, and a
      // hard-link leader must know now whether it changes (so must --remove-sent-files, which removes
      // only a file that is sent, and --no-whole-file, whose search of a differing file's basis must
      // be made before its line is printed): compare here. Otherwise the engines compare, in parallel.
      const equal = rc.dest.contentEqual(src, rel, st.size);
      // --append: different data in a target that is not shorter is left as it is.
      if (!equal && appendSkips(c, st, destSt)) {
        m.skipped = true;
        return false;
      }
      const v: Verdict = equal ? { action: 'attrs', changes: currentChanges(verdict.changes) } : { action: 'transfer', changes: { ...verdict.changes, value: true } };
      // -c's differing file under --no-whole-file: rsync's generator sends the basis' block sums and its
      // sender searches, as for a file the quick check found changed (a dry run sends nothing).
      if (!equal && searches && !c.dryRun) await searchBasis(rc, m, line, destSt!);
      rc.lines.emit(kind, v, line);
      // What rsync's generator asks for it (the byte figures): the file, or its changed attributes.
      if (!equal && !c.dryRun) rc.items.sent(rc.lists, rc.tally.listedCount(), st.size);
      else if (!equal) rc.items.created(rc.lists, rc.tally.listedCount());
      else if (anyChange(verdict.changes)) rc.items.note(rc.lists, rc.tally.listedCount(), inRootList(rc.root.current, rel, kind === 'dir'));
      else rc.items.unchanged(rc.lists, rc.tally.listedCount());
      if (!equal) {
        totals.plannedFiles++;
        totals.plannedBytes += st.size;
      }
      if (!c.dryRun) {
        if (equal) {
          if (anyChange(verdict.changes)) rc.sink.add(OpKind.Attrs, src, rel, st);
          removeSource(rc, m, kind);
        } else {
          const after = destSt ? rc.backups.beforeReplace(addOp(rc), rel, destSt) : 0;
          const o = opStat(m, st, flags | after | removeFlag(rc, m, kind));
          rc.sink.add(OpKind.File, src, rel, o.st, o.flags);
        }
        await rc.sink.maybeFlush();
      }
      return !equal;
    }
    // Whether this changes the directory is known only from the outcome (settled()).
    const at = rc.items.place(rc.lists, rc.tally.listedCount(), inRootList(rc.root.current, rel, kind === 'dir'));
    rc.sink.add(OpKind.File, src, rel, st, flags | OpFlag.Compare | removeFlag(rc, m, kind), { kind, verdict, line, record: m.record, size: st.size, slot: rc.order?.hold(), at });
    await rc.sink.maybeFlush();
    return false;
  }

  // create or transfer
  // --no-whole-file: rsync's delta search against the file being replaced, for its figures (--append
  // sends what follows the kept data, with no search, as rsync's match_sums).
  if (verdict.action === 'transfer' && searchesBasis(rc, kind, destSt)) await searchBasis(rc, m, line, destSt!);
  // A file the sender cannot open has no line in rsync (its line follows the send): run/unopenable.ts.
  // Not in a pull: there the sender is the remote one, which has sent the file already, and `st` is its
  // metadata, not a mode this process must read the staged file through.
  const silent = kind === 'reg' && !c.dryRun && rc.lines.active && !rc.lines.receiver && surelyUnreadable(st);
  return queueCopy(rc, m, kind, verdict, flags, undefined, silent ? undefined : () => rc.lines.emit(kind, verdict, line));
}

/**
 * --no-whole-file: whether a regular file sent over a regular destination file is searched against it
 * (rsync's delta search, for its figures); --append sends what follows the kept data, with no search,
 * as rsync's match_sums.
 */
function searchesBasis(rc: RunContext, kind: FileType, destSt: Stat | undefined): boolean {
  return rc.tally.totals.delta !== undefined && rc.c.localDelta !== undefined && !rc.c.append && kind === 'reg' && destSt !== undefined && fileType(destSt.mode) === 'reg';
}

/** The delta search of `m`'s source against its destination basis `destSt` (run/local-delta.ts), counted on `line`. */
async function searchBasis(rc: RunContext, m: Member, line: Line, destSt: Stat): Promise<void> {
  const c = rc.c;
  const blockSize = c.localDelta!.blockSize;
  rc.lines.summed(line, blockSumBytes(destSt.size, blockSize));
  const read = await searchDelta(rc.tally.totals.delta!, m.src, m.st, rc.anchors.of(m.src), joinPath(rc.plan.destRoot, m.rel), destSt, {
    blockSize,
    follow: c.copyLinks || c.copyUnsafeLinks,
    inplace: c.inplace,
    seen: rc.trace ? (d) => rc.trace!.delta(showPath(m.display ?? m.rel), d) : undefined,
    searched: (s) => {
      rc.lines.searched(line, s.tokens);
      // The sums and tokens go into the stream with the file's request (rc.items.sent, next).
      rc.items.searched(s);
    },
  });
  // A file that could not be read as the walk saw it is counted as sent whole: what rsync would have
  // sent for it is not known, so the byte figures stay plain (run/stream-totals.ts).
  if (!read) rc.tally.totals.streamUnknown = true;
}

/** --partial-dir: a current file's waiting partial is removed, as rsync's generator does (rc.partials is unset under -n). */
function partialUsed(rc: RunContext, kind: FileType, src: Buffer, rel: Buffer, st: Stat): void {
  if (kind === 'reg' && rc.partials?.has(rel)) rc.sink.add(OpKind.PartialUsed, src, rel, st);
}

/**
 * Queue the op that makes `m` on the destination (a copy, a symlink, a special), from `from` when given.
 * `emit` prints its line, after the deletions that make way for it (rsync's order).
 */
export async function queueCopy(rc: RunContext, m: Member, kind: FileType, verdict: Verdict, flagsIn: number, from?: Twin, emit?: () => void): Promise<boolean> {
  const c = rc.c;
  const { src, rel, st, destSt } = m;
  const totals = rc.tally.totals;
  let flags = flagsIn;
  if ((!destSt || verdict.action === 'create') && !m.hasTwin) totals.created[kind]++;
  if (kind === 'reg') {
    totals.plannedFiles++;
    totals.plannedBytes += st.size;
  } else rc.reporter.itemized?.();
  // A dry run's generator asks for no data: only the index and flags go to rsync's sender. An entry made
  // from a --*-dest twin is rsync's generator's own work (run/alt-entry.ts counts what it tells its
  // sender); a file sent against a twin as its basis names the basis' type.
  const basis = m.hasTwin === true && kind === 'reg';
  if (!m.fromTwin) {
    if (kind === 'reg' && !c.dryRun) rc.items.sent(rc.lists, rc.tally.listedCount(), st.size, basis);
    else rc.items.created(rc.lists, rc.tally.listedCount(), basis);
  }
  if (destSt && !c.backup && (destSt.mode & S_IFMT) === S_IFDIR && kind !== 'dir') {
    // Under -n the deletions are only listed (no op is queued for them).
    const w = new BatchWriter(1024);
    removeForReplace(rc, rel, destSt, w, kind);
    if (!c.dryRun) {
      await rc.sink.flush();
      rc.sink.now(w);
    }
  }
  const op = kind === 'reg' ? OpKind.File : kind === 'link' ? OpKind.Symlink : OpKind.Special;
  // rsync's generator itemizes a symlink, FIFO, socket or device only once atomic_create made it
  // (generator.c recv_generator): its line waits for the op's outcome (settled()), and is left out if the
  // op failed. (A file's line is its sender's, printed before the receiver writes it; under -n nothing is
  // made.)
  const made = emit && op !== OpKind.File && !from && !c.dryRun && rc.lines.active ? madeLine(rc, rel, emit) : undefined;
  if (!made) emit?.();
  if (c.dryRun) return true;
  // A big file goes alone so that it does not hold up a batch of small ones (its backup goes with it).
  if (kind === 'reg' && st.size >= BATCH_BYTES) await rc.sink.flush();
  if (destSt && c.backup) flags |= rc.backups.beforeReplace(addOp(rc), rel, destSt);
  if (!from) flags |= removeFlag(rc, m, kind);
  // Without -p a device or FIFO takes the bits of the entry it replaces (rsync's generator makes it).
  if (op === OpKind.Special) overReplaced(rc, m);
  // A copy of a --copy-dest twin is rsync's generator's own: no --progress lines (sink.ts OpSink.add).
  const shown = !m.fromTwin;
  const o = opStat(m, st, flags);
  if (from) addBasis(rc, op, from, kind, { op, src, rel, st: o.st, flags: o.flags }, shown);
  else rc.sink.add(op, src, rel, o.st, o.flags, made && { kind, verdict, line: NO_LINE, size: 0, rel, ...made }, m.target, shown);
  if (from && c.removeSourceFiles) removeSource(rc, m, kind);
  await rc.sink.maybeFlush();
  return true;
}

/**
 * An op's outcome, for what only the outcome could tell: a basis file that changed under its op (the
 * copy from the source is queued instead), --progress's line, and what -c found (equal content, or sent).
 */
export function settled(rc: RunContext, p: Pending, o: number): void {
  const fb = p.fallback;
  const totals = rc.tally.totals;
  // -c: what the compare found decides the entry's line (and whether it counts as sent).
  const compared = (): void => {
    if (p.verdict.action !== 'compare' || o === Outcome.Failed || o === Outcome.NotRun) return;
    const changes = p.verdict.changes;
    const v: Verdict = o === Outcome.Equal ? { action: 'attrs', changes: currentChanges(changes) } : { action: 'transfer', changes: { ...changes, value: true } };
    rc.lines.emit(p.kind, v, p.line);
    if (p.at) {
      // The byte figures: counted at the file's place in the list.
      const at = p.at;
      if (o === Outcome.Done) rc.items.at(at, () => rc.items.sent(rc.lists, 0, p.size));
      else if (anyChange(changes)) rc.items.at(at, () => rc.items.note(rc.lists, 0));
      else {
        rc.items.at(at, () => rc.items.unchanged(rc.lists, 0));
        // An op that changed nothing, as a no-op's figures allow (stream-totals.ts quiet).
        totals.unchangedOps = (totals.unchangedOps ?? 0) + 1;
      }
    }
    if (o === Outcome.Done) {
      totals.plannedFiles++;
      totals.plannedBytes += p.size;
      rc.dirs.touch(p.record);
    }
  };
  // A symlink, FIFO, socket or device: its line only if the op made it (queueCopy).
  const made = p.made;
  const lines = made ? (): void => (madeBy(o) ? made() : p.unmade?.()) : compared;
  // --progress: the file's last line (or none, when it failed or never ran), after its -c line.
  settleLine(rc, p, o, lines);
  // The fallback's backup was made with the basis op (a failed backup is never parked): no gate again.
  if (o === Outcome.Failed && fb && rc.alt.unpark(fb.basis)) rc.sink.add(fb.op, fb.src, fb.rel, fb.st, fb.flags & ~OpFlag.AfterBackup);
  if (o === Outcome.Failed || o === Outcome.NotRun) {
    if (p.eventName !== undefined) rc.events?.fileFailed(p.eventName);
    if (p.eventName !== undefined) rc.trace?.notPlaced(p.eventName);
    return;
  }
  if (p.temp !== undefined && p.eventName !== undefined) rc.trace?.placedAs(p.eventName, p.temp);
  // --info=progress2: a file sent (not one -c found equal) ends with the line's counts.
  if (p.ends && o === Outcome.Done) rc.reporter.fileEnded?.(p.size);
  if (p.removed !== undefined) {
    if (rc.sourceRemoved) rc.sourceRemoved(p.removed);
    else rc.reporter.print(`sender removed ${showPath(p.removed)}`);
  }
  // After the -c case above, which may itself have deferred the entry it reports.
  if (p.eventName !== undefined) rc.events?.fileDone(p.eventName);
}

/**
 * -H for a device, FIFO, socket or symlink: the first member of its inode is planned where the walk
 * meets it, each later one is linked to it at its own place (rsync's order: its lines come in list
 * order, not after the transfer). The links themselves wait until every file exists.
 */
export async function planNonRegularMember(rc: RunContext, m: Member, kind: FileType): Promise<boolean> {
  const planned = rc.hardLinks.leaderOf(m);
  if (!planned) {
    const before = m.destSt;
    const changed = await planMember(rc, m, kind, true);
    // Skipped (rsync drops it from its group): the next member met is planned as the first.
    if (!m.skipped) rc.hardLinks.lead(m, changed ? undefined : before);
    return changed;
  }
  linkMember(rc, planned.leader, planned.kept, m, kind);
  return false;
}
