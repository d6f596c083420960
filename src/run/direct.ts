// The direct path of a plain copy: a regular file the destination lacks, in a run whose options leave
// nothing to decide for it one by one, goes from the source listing to a batch without becoming a
// JavaScript object. The addon's pair cursor encodes its File op from the statx it already made
// (native/direct.c) and the walk only counts the ops and streams them to the sink. Which runs may,
// below, is the whole list of what the planner's way (run/entry.ts decideEntry → planMember →
// queueCopy) would do differently for such a file; anything on it sends every entry the planner's way.
// The engines run the ops as any other, so every safety rule of an op still holds.

import type { DirectRequest, PairListing } from '../model/listing.js';
import { notePlanned } from '../util/tiering.js';
import type { Frame, RunContext } from './context.js';
import { BATCH_BYTES } from './sink.js';
import { eachOpSize } from '../engine/batch.js';

/** Whether a run may take the direct path, decided once per run from what stays the same all along. */
const allowed = new WeakMap<RunContext, boolean>();

function runAllows(rc: RunContext): boolean {
  const c = rc.c;
  return (
    // Nothing printed, logged, traced or reported per entry (a line, an event, a --progress mark).
    !rc.lines.active &&
    !rc.trace &&
    !rc.events &&
    rc.sink.takesEncoded &&
    !c.dryRun &&
    // Entries the planner would leave out, rename, re-stat or set aside.
    !rc.filters &&
    !rc.overlay &&
    !rc.charsets &&
    c.chmod.length === 0 &&
    c.maxSize === undefined &&
    c.minSize === undefined &&
    !rc.spec.check.existing &&
    // A new file found elsewhere first (--*-dest, -y), a waiting partial file, the source removed after.
    !rc.alt.any &&
    !rc.fuzzy &&
    !rc.partials &&
    !c.removeSourceFiles
  );
}

/** What the cursor of `dir` needs to encode its new regular files, or undefined when the run may not. */
export function directRequest(rc: RunContext, dir: Frame): DirectRequest | undefined {
  let ok = allowed.get(rc);
  if (ok === undefined) {
    ok = runAllows(rc);
    allowed.set(rc, ok);
  }
  if (!ok || dir.merged) return undefined;
  // Every entry directly inside one directory has the same anchor (the longest registered prefix).
  return { rel: dir.rel, anchor: rc.anchors.ofEntryIn(dir.src), big: BATCH_BYTES, hardLinks: rc.c.hardLinks };
}

/**
 * A chunk's encoded File ops: counted as the planner counts a created file (listed, total size, created,
 * to be sent), the directory's mtime to restore, and streamed to the sink.
 */
export async function planDirect(rc: RunContext, dir: Frame, chunk: PairListing): Promise<void> {
  const d = chunk.direct;
  if (!d || d.count === 0) return;
  notePlanned(d.count);
  const t = rc.tally.totals;
  // rsync's byte figures count what each file adds to its stream (item-bytes.ts): the files in the
  // order encoded, numbered after the entries listed so far.
  if (rc.items.exchanges) {
    let listed = rc.tally.listedCount();
    eachOpSize(d.ops, (size) => rc.items.sent(rc.lists, ++listed, size));
  }
  t.listed.reg += d.count;
  t.created.reg += d.count;
  t.totalSize += d.bytes;
  t.plannedFiles += d.count;
  t.plannedBytes += d.bytes;
  rc.dirs.touch(dir.record);
  await rc.sink.addEncoded(d.ops, d.count);
}
