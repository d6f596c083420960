// A pull cut short (a signal, --timeout, --stop-at, a broken connection, the far side's fatal error).
// rsync's receiver places each file as soon as it is verified, so an interrupted rsync keeps the files it
// finished, and with --partial the received part of the file in progress (its cleanup.c _exit_cleanup).
// A pull stages every file first and places them after the session (cli/pull.ts), so without this an
// interruption threw away everything received. Here the staging tree is trimmed to what came whole and
// the ordinary local half is run over it, with the options that would act beyond those files turned off:
// every rule of the placement (temp file and rename, no symlink followed, backups, attributes) is still
// the engines' own.

import * as fs from 'node:fs';
import type { Config } from '../model/config.js';
import type { RemoteEntry } from '../remote/flist.js';
import type { PullProgress } from '../remote/pull.js';
import type { Stage } from './pull-stage.js';

/**
 * Whether a pull with these options may place what it received when cut short. Not under -n (nothing is
 * received), nor --delay-updates (its whole point is that the destination changes all at once, at the
 * end: rsync's interrupted receiver leaves the finished files waiting in the partial dir, the destination
 * untouched), nor -A/-X (the sender's ACLs go onto the staged entries only after the transfer, and xattr
 * values may still be owed: a salvage would place entries without them).
 */
export function salvageable(c: Config): boolean {
  return !c.dryRun && !c.delayUpdates && !c.acls && !c.xattrs;
}

/**
 * Trims the staging tree to what may be placed: every fetched file that did not arrive whole and verified
 * is discarded (Stage.discard: the destination's own file stands for it, so the local half leaves it as
 * it is), except that with --partial (no --partial-dir, no --inplace) the file in progress that got
 * literal data is kept as rsync keeps it: its received prefix, with the sender's mode and owner and a
 * modification time of 0 seconds (rsync's cleanup.c: an old time so that -u does not take it for a
 * finished file; rsync zeroes the seconds only, so the sender's nanoseconds stay), over the
 * destination's file; the next pull uses it as its basis. Returns whether anything
 * arrived (no salvage otherwise).
 */
export function trimForSalvage(
  c: Config,
  stage: Stage,
  entries: (RemoteEntry | undefined)[],
  fetched: readonly number[],
  progress: PullProgress,
): boolean {
  const current = progress.current;
  let kept = false;
  for (const ndx of fetched) {
    if (progress.verified.has(ndx)) continue;
    const e = entries[ndx];
    if (!e) continue;
    if (ndx === current?.ndx && keepsPartial(c) && current.gotLiteral() && keepPartial(stage, e)) {
      kept = true;
      continue;
    }
    stage.discard(e, entries);
  }
  return kept || progress.verified.size > 0;
}

/**
 * What the local half of a salvage changes: nothing is deleted (no --delete of any mode, no
 * --delete-missing-args: a run cut short is no ground to remove anything, and rsync's deletions after the
 * transfer never ran), no source is removed (the session that would have been told is gone), and no
 * statistics are printed (rsync's interrupted client prints none). Nor is the --partial-dir touched: the
 * local half removes the waiting partial file of each file it finds up to date, and a file that did not
 * arrive stands as the destination's own (up to date by its own metadata), so its partial file, which
 * rsync keeps for the next run, would go.
 */
export function salvageConfig(c: Config): Partial<Config> {
  return {
    deleteMode: 'none',
    deleteExcluded: false,
    missingArgs: c.missingArgs === 'delete' ? 'ignore' : c.missingArgs,
    removeSourceFiles: false,
    info: { ...c.info, STATS: 0 },
    // (A second signal stopping the salvage then removes its temp file rather than keep it outside the partial dir.)
    ...(c.partialDir !== undefined ? { partialDir: undefined, partial: false } : {}),
  };
}

/**
 * --partial's rule for the file in progress. With --partial-dir rsync puts the part into that directory,
 * which the local half does not place into (left for a later change: the part is dropped then); with
 * --inplace the local half writes in place anyway.
 */
function keepsPartial(c: Config): boolean {
  return c.partial && c.partialDir === undefined && !c.inplace;
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
