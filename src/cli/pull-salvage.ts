// A pull cut short (a signal, --timeout, --stop-at, a broken connection, the far side's fatal error).
// rsync's receiver places each file as soon as it is verified, so an interrupted rsync keeps the files it
// finished, and with --partial the received part of the file in progress (its cleanup.c _exit_cleanup).
// A pull stages every file first and places them after the session (cli/pull.ts), so without this an
// interruption threw away everything received. Here the staging tree is trimmed to what came whole and
// the ordinary local half is run over it, with the options that would act beyond those files turned off:
// every rule of the placement (temp file and rename, no symlink followed, backups, attributes) is still
// the engines' own.

import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { Config } from '../model/config.js';
import type { RemoteEntry } from '../remote/flist.js';
import type { PullProgress } from '../remote/pull.js';
import type { Stage } from './pull-stage.js';
import type { PullDest } from './pull-dest.js';
import type { PullPartialDir } from './pull-partial.js';
import { isDir, isReg } from '../remote/flist.js';
import { S_IFMT, S_IFREG } from '../model/stat.js';

/**
 * Whether a pull with these options may place what it received when cut short: not under -n (nothing is
 * received).
 */
export function salvageable(c: Config): boolean {
  return !c.dryRun;
}

/**
 * Trims the staging tree to what may be placed: every fetched file that did not arrive whole and verified
 * is discarded (Stage.discard: the destination's own file stands for it, so the local half leaves it as
 * it is), except the file in progress when rsync's receiver would have left something of it:
 * - with --inplace, rsync has written the destination's file itself: what came of it, over the start of
 *   the destination's file (the rest of that stays), with the time it was written and the destination's
 *   mode and owner (a new file: 0600, ours), which the local half's --inplace writes in place;
 * - with --partial (no --partial-dir), once literal data of it came (rsync's cleanup_got_literal): its
 *   received prefix, with the sender's mode and owner and a modification time of 0 seconds (rsync's
 *   cleanup.c: an old time so that -u does not take it for a finished file; rsync zeroes the seconds
 *   only, so the sender's nanoseconds stay), over the destination's file;
 * - with --partial-dir, on the same condition: the prefix into the partial dir, with the sender's mode
 *   and owner and the time it was written (cli/pull-partial.ts); the destination's file is left.
 * The next pull uses what was kept as its basis. A file that arrived whole uses up the partial file
 * waiting for it. The directories then take their times as rsync's generator has left them (dirTimes).
 * Returns whether anything is to be placed (no salvage otherwise), and what to do once it is (the part
 * kept in the partial dir goes where the local half has made the directories).
 */
export function trimForSalvage(
  c: Config,
  stage: Stage,
  dest: PullDest,
  partialDir: PullPartialDir | undefined,
  entries: (RemoteEntry | undefined)[],
  fetched: readonly number[],
  progress: PullProgress,
  /** -X: the entries whose abbreviated xattr values were asked for and never came. */
  owed: readonly number[] = [],
  /** -A: puts an entry's ACL from the list on a file (the part kept in the partial dir). */
  aclOn?: (e: RemoteEntry, path: Buffer) => void,
): { place: boolean; after?: () => void } {
  // An entry placed without values the sender still owed would lose those xattrs (the local half gives
  // the destination the staged entry's): a file of them is left as the destination has it; any other
  // entry, which the stage cannot leave out, keeps the whole salvage from running.
  const fetchedSet = new Set(fetched);
  for (const ndx of owed) {
    const e = entries[ndx];
    if (!e) continue;
    if (!isReg(e.mode)) return { place: false };
    if (!fetchedSet.has(ndx)) stage.discard(e, entries);
  }
  const current = progress.current;
  // The part of the file in progress that came but waits to be written goes down first.
  current?.flush?.();
  let kept = false;
  let after: (() => void) | undefined;
  const unfinished = new Set<string>();
  const changed = new Set<string>();
  for (const ndx of fetched) {
    const e = entries[ndx];
    if (!e) continue;
    const rel = e.name.toString('latin1');
    if (progress.verified.has(ndx)) {
      // (--delay-updates: the finished file takes its place in the partial dir.)
      if (!c.delayUpdates) partialDir?.consumed(rel);
      // Placed at a temp name and renamed, or in place (which changes the directory only for a new file).
      if (!c.inplace || dest.lstat(rel)?.isFile() !== true) changed.add(parentOf(rel));
      continue;
    }
    unfinished.add(parentOf(rel));
    if (ndx === current?.ndx) {
      // rsync's receiver made its temp file beside it (in place: only a new file changes the directory).
      if (!c.inplace || dest.lstat(rel)?.isFile() !== true) changed.add(parentOf(rel));
      if (c.inplace && keepInplace(stage, dest, e)) {
        kept = true;
        continue;
      }
      if (!c.inplace && c.partial && current.gotLiteral()) {
        if (c.partialDir === undefined && keepPartial(stage, e)) {
          kept = true;
          continue;
        }
        // Out of the tree (the local half would place it) into its holder, to be kept once the local
        // half has made the directories it goes into.
        const path = stage.path(rel);
        const meta = stage.meta.get(path);
        const aside = Buffer.from(`${nodePath.dirname(stage.path('.'))}/partial`, 'latin1');
        if (partialDir && meta && e.hlinkGroup === undefined && moved(Buffer.from(path, 'latin1'), aside)) {
          after = () => {
            partialDir.keep(rel, aside, meta, aclOn && ((at) => aclOn(e, at)));
          };
          kept = true;
        }
      }
    }
    stage.discard(e, entries);
  }
  const place = kept || progress.verified.size > 0;
  if (place) dirTimes(c, stage, dest, entries, unfinished, changed);
  return { place, ...(after ? { after } : {}) };
}

/** `from` renamed to `to` when it is a regular file with something in it. */
function moved(from: Buffer, to: Buffer): boolean {
  try {
    const st = fs.lstatSync(from);
    if (!st.isFile() || st.size === 0) return false;
    fs.renameSync(from, to);
    return true;
  } catch {
    return false;
  }
}

/**
 * The directories' times as an interrupted rsync leaves them. Its generator gives each directory the
 * sender's times when it makes or reaches it, and again once every file of it is done (its
 * touch_up_dirs, per directory as incremental recursion finishes each, in the list's order); a directory
 * not finished keeps the time its last change gave it. So a directory from the first one with a file
 * that did not arrive whole (in the list's order) on keeps the sender's times only when nothing was made
 * in it since: no file placed, no temp file of the file in progress, no entry the destination lacked.
 * The others take the time of now.
 */
function dirTimes(c: Config, stage: Stage, dest: PullDest, entries: (RemoteEntry | undefined)[], unfinished: Set<string>, changed: Set<string>): void {
  if (!c.times || c.omitDirTimes || unfinished.size === 0) return;
  // The directories, in the list's order, from the first unfinished one on; all of them without
  // incremental recursion (rsync's without it, under --delay-updates say, touches them up only at the end).
  const dirs: string[] = [];
  let open = !c.incRecursive;
  for (const e of entries) {
    if (!e || !isDir(e.mode)) continue;
    const rel = e.name.toString('latin1');
    if (!open && unfinished.has(rel)) open = true;
    if (open) dirs.push(rel);
  }
  if (!dirs.length) return;
  const late = new Set(dirs);
  // Entries the generator made in a late directory: any the destination did not have.
  for (const e of entries) {
    if (!e || isReg(e.mode)) continue;
    const rel = e.name.toString('latin1');
    if (rel === '.') continue;
    const parent = parentOf(rel);
    if (!late.has(parent) || changed.has(parent)) continue;
    const st = dest.entry(rel);
    if (!st || (st.mode & S_IFMT) !== (e.mode & S_IFMT)) changed.add(parent);
  }
  const now = Date.now();
  for (const rel of dirs) {
    if (!changed.has(rel)) continue;
    const m = stage.meta.get(stage.path(rel));
    if (m) stage.meta.set(stage.path(rel), { ...m, mtimeSec: Math.floor(now / 1000), mtimeNsec: (now % 1000) * 1_000_000 });
  }
}

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? '.' : rel.slice(0, slash);
}

/**
 * What the local half of a salvage changes: nothing is deleted (no --delete of any mode, no
 * --delete-missing-args: a run cut short is no ground to remove anything, and rsync's deletions after the
 * transfer never ran), no source is removed (the session that would have been told is gone), and no
 * statistics are printed (rsync's interrupted client prints none). Nor does the local half touch the
 * --partial-dir: it removes the waiting partial file of each file it finds up to date, and a file that
 * did not arrive stands as the destination's own (up to date by its own metadata), so its partial file,
 * which rsync keeps for the next run, would go. (trimForSalvage removes those of the files that arrived
 * whole, and keeps the part of the file in progress there.)
 */
export function salvageConfig(c: Config): Partial<Config> {
  // Nothing deleted, no source removed, no statistics (rsync's interrupted client prints none).
  const base: Partial<Config> = {
    deleteMode: 'none',
    deleteExcluded: false,
    missingArgs: c.missingArgs === 'delete' ? 'ignore' : c.missingArgs,
    removeSourceFiles: false,
    info: { ...c.info, STATS: 0 },
  };
  // --delay-updates: the finished files go where rsync's interrupted receiver has left them, waiting in
  // the partial dir, and none goes into place; no waiting partial file is used up either.
  if (c.delayUpdates) return { ...base, leaveDelayed: true };
  // (A second signal stopping the salvage then removes its temp file rather than keep it outside the partial dir.)
  return { ...base, ...(c.partialDir !== undefined ? { partialDir: undefined, partial: false } : {}) };
}

/** The staged part of `e` made a file of its own size and time 0; false when nothing of it is on disk. */
function keepPartial(stage: Stage, e: RemoteEntry): boolean {
  if (e.hlinkGroup !== undefined) return false;
  const path = stage.path(e.name.toString('latin1'));
  const meta = stage.meta.get(path);
  let size: number;
  try {
    const st = fs.lstatSync(Buffer.from(path, 'latin1'));
    if (!st.isFile()) return false;
    size = st.size;
  } catch {
    return false;
  }
  if (!meta || size === 0) return false;
  stage.meta.set(path, { ...meta, size, mtimeSec: 0, settled: false });
  return true;
}

/**
 * --inplace: the staged part of `e` made what rsync's receiver leaves of the destination's file: the part,
 * then the destination's bytes past it, the destination's mode and owner, the time of now. False when
 * nothing came (the file is left as it is).
 */
function keepInplace(stage: Stage, dest: PullDest, e: RemoteEntry): boolean {
  if (e.hlinkGroup !== undefined) return false;
  const rel = e.name.toString('latin1');
  const path = stage.path(rel);
  const meta = stage.meta.get(path);
  const at = Buffer.from(path, 'latin1');
  let size: number;
  try {
    const st = fs.lstatSync(at);
    if (!st.isFile()) return false;
    size = st.size;
  } catch {
    return false;
  }
  if (!meta || size === 0) return false;
  const old = dest.lstat(rel);
  const had = old?.isFile() === true;
  if (had && old.size > BigInt(size)) {
    // The destination's bytes past the part, read following no symlink (cli/pull-dest.ts).
    const from = dest.openFile(rel);
    const to = fs.openSync(at, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW);
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let pos = size; ; ) {
        const n = fs.readSync(from, buf, 0, buf.length, pos);
        if (n === 0) break;
        for (let w = 0; w < n; ) w += fs.writeSync(to, buf, w, n - w, pos + w);
        pos += n;
      }
      size = fs.fstatSync(to).size;
    } finally {
      fs.closeSync(to);
      fs.closeSync(from);
    }
  }
  const now = Date.now();
  const mode = had ? Number(old.mode) : S_IFREG | 0o600;
  const uid = had ? Number(old.uid) : (process.getuid?.() ?? meta.uid);
  const gid = had ? Number(old.gid) : (process.getgid?.() ?? meta.gid);
  stage.meta.set(path, { ...meta, mode, uid, gid, size, mtimeSec: Math.floor(now / 1000), mtimeNsec: (now % 1000) * 1_000_000, settled: false });
  return true;
}
