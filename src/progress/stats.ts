// rsync's closing lines: the -v summary ("sent … received … total size is … speedup is …") and the
// --stats block. A local copy has no protocol: where the run could work out the bytes rsync's two
// processes would have sent each other (run/stream-totals.ts, RunTotals.stream) those are printed;
// otherwise "sent" counts the file data arsync wrote and "received" is 0. The other lines keep rsync's
// meaning. Under -n the transferred figures are what would have been sent, and rsync's "(DRY RUN)"
// marker ends the summary.

import { Counter } from '../model/ops.js';
import type { RunTotals } from '../model/run-totals.js';
import { bigDnum, commaNum, humanNum } from './numbers.js';

type Counts = RunTotals['listed'];
const total = (c: Counts): number => c.reg + c.dir + c.link + c.dev + c.special;

/**
 * A local copy's literal data: every byte written, unless --no-whole-file's delta search looked at some
 * files (then theirs is what the search left literal; files sent with no basis are literal whole).
 */
export function literalData(t: RunTotals, bytes: number): number {
  const d = t.delta;
  // --append sends each file's tail: what the destination kept is not literal data.
  const sent = Math.max(0, bytes - (t.appendKept ?? 0));
  return d ? Math.max(0, sent - d.searched) + d.literal : sent;
}

/**
 * The lines, with numbers printed at rsync's -h level `human` (1, commas, is rsync's default). `has`: the
 * count lines an older --protocol's rsync prints (plan/old-protocol.ts statsCountLines). `seconds`: what
 * the rate divides by (`rsyncSeconds`).
 */
export function statsLines(t: RunTotals, seconds: number, full: boolean, dryRun = false, human = 1, has = { created: true, deleted: true }): string[] {
  const n = (v: number): string => humanNum(v, human);
  const count = (v: number): string => commaNum(v, human);
  const breakdown = (c: Counts): string => {
    const parts = (Object.keys(c) as (keyof Counts)[]).filter((k) => c[k] > 0).map((k) => `${k}: ${count(c[k])}`);
    return parts.length ? ` (${parts.join(', ')})` : '';
  };
  // What rsync's client is told of the deletions (RunTotals.unsaidDeleted).
  const u = t.unsaidDeleted;
  const deleted: Counts = u ? { reg: t.deleted.reg - u.reg, dir: t.deleted.dir - u.dir, link: t.deleted.link - u.link, dev: t.deleted.dev - u.dev, special: t.deleted.special - u.special } : t.deleted;
  // Files copied from a --*-dest twin are rsync's generator's own copies, not transferred.
  const local = t.localCopies ?? { files: 0, bytes: 0 };
  const bytes = Math.max(0, (dryRun ? t.plannedBytes : Number(Atomics.load(t.counters, Counter.Bytes))) - local.bytes);
  const files = Math.max(0, (dryRun ? t.plannedFiles : Number(Atomics.load(t.counters, Counter.Files))) - local.files) + (t.redo?.files ?? 0);
  const secs = Math.max(seconds, 0.001);
  const lines: string[] = [];
  const w = t.wire;
  const s = t.stream;
  if (full && w) {
    // A pull: the data came over the wire, as the protocol counted it.
    lines.push(
      '',
      `Number of files: ${count(total(t.listed))}${breakdown(t.listed)}`,
      ...(has.created ? [`Number of created files: ${count(total(t.created))}${breakdown(t.created)}`] : []),
      ...(has.deleted ? [`Number of deleted files: ${count(total(deleted))}${breakdown(deleted)}`] : []),
      `Number of regular files transferred: ${count(files)}`,
      `Total file size: ${n(t.totalSize)} bytes`,
      `Total transferred file size: ${n(bytes)} bytes`,
      `Literal data: ${n(w.literal)} bytes`,
      `Matched data: ${n(w.matched)} bytes`,
      `File list size: ${count(w.listBytes)}`,
      // rsync prints the times only when it has them: a sender's build time is at least 1 ms, and
      // after an empty list the sender leaves without sending its figures.
      ...(w.buildMs
        ? [
            `File list generation time: ${bigDnum(w.buildMs / 1000, Math.min(human, 1), 3)} seconds`,
            `File list transfer time: ${bigDnum(w.xferMs / 1000, Math.min(human, 1), 3)} seconds`,
          ]
        : []),
      `Total bytes sent: ${n(w.sent)}`,
      `Total bytes received: ${n(w.received)}`,
    );
  } else if (full) {
    lines.push(
      '',
      `Number of files: ${count(total(t.listed))}${breakdown(t.listed)}`,
      ...(has.created ? [`Number of created files: ${count(total(t.created))}${breakdown(t.created)}`] : []),
      ...(has.deleted ? [`Number of deleted files: ${count(total(deleted))}${breakdown(deleted)}`] : []),
      `Number of regular files transferred: ${count(files)}`,
      `Total file size: ${n(t.totalSize)} bytes`,
      `Total transferred file size: ${n(bytes + (t.redo?.transferred ?? 0))} bytes`,
      // A dry run sends no data: rsync's literal data is 0 while its transferred size counts the files.
      `Literal data: ${n(dryRun ? 0 : literalData(t, bytes) + (t.redo?.literal ?? 0))} bytes`,
      `Matched data: ${n(t.delta?.matched ?? 0)} bytes`,
      `File list size: ${count(s?.listBytes ?? 0)}`,
      `File list generation time: ${bigDnum(t.fileListMs / 1000, Math.min(human, 1), 3)} seconds`,
      `File list transfer time: 0.000 seconds`,
      `Total bytes sent: ${n(s ? s.sent : bytes)}`,
      `Total bytes received: ${n(s?.received ?? 0)}`,
    );
  }
  if (w) lines.push(...summaryLines(w.sent, w.received, t.totalSize, secs, human, dryRun));
  else if (s) lines.push(...summaryLines(s.sent, s.received, t.totalSize, secs, human, dryRun));
  else lines.push(...summaryLines(dryRun ? 0 : bytes, 0, t.totalSize, secs, human, dryRun));
  return lines;
}

/**
 * rsync's last two lines (after an empty one): the bytes both ways, their rate, and the speedup. `secs`
 * is the elapsed time as the rate divides by it (rsync itself uses half a second plus the whole
 * seconds that passed: see `rsyncSeconds`).
 */
export function summaryLines(sent: number, received: number, totalSize: number, secs: number, human: number, dryRun = false): string[] {
  const n = (v: number): string => humanNum(v, human);
  const moved = sent + received;
  const speedup = moved > 0 ? totalSize / moved : totalSize;
  return [
    '',
    `sent ${n(sent)} bytes  received ${n(received)} bytes  ${bigDnum(moved / Math.max(secs, 0.001), human, 2)} bytes/sec`,
    `total size is ${n(totalSize)}  speedup is ${bigDnum(speedup, Math.min(human, 1), 2)}${dryRun ? ' (DRY RUN)' : ''}`,
  ];
}

/** The time rsync divides by for its rate: 0.5 s plus the whole-second clock ticks between start and end. */
export function rsyncSeconds(startMs: number, endMs: number): number {
  return 0.5 + (Math.floor(endMs / 1000) - Math.floor(startMs / 1000));
}

/** What a client knows at the end of a remote listing, for its --stats block. */
export interface ListingStats {
  counts: Counts;
  totalSize: number;
  /** Bytes of the file list as received. */
  listBytes: number;
  buildMs: number;
  xferMs: number;
  sent: number;
  received: number;
}

/** rsync's --stats block (full) or -v summary for a listing: nothing created, deleted or transferred. */
export function listingStatsLines(s: ListingStats, secs: number, full: boolean, human: number, has = { created: true, deleted: true }): string[] {
  const n = (v: number): string => humanNum(v, human);
  const count = (v: number): string => commaNum(v, human);
  const parts = (Object.keys(s.counts) as (keyof Counts)[]).filter((k) => s.counts[k] > 0).map((k) => `${k}: ${count(s.counts[k])}`);
  const lines: string[] = [];
  if (full) {
    lines.push(
      '',
      `Number of files: ${count(total(s.counts))}${parts.length ? ` (${parts.join(', ')})` : ''}`,
      ...(has.created ? ['Number of created files: 0'] : []),
      ...(has.deleted ? ['Number of deleted files: 0'] : []),
      'Number of regular files transferred: 0',
      `Total file size: ${n(s.totalSize)} bytes`,
      'Total transferred file size: 0 bytes',
      'Literal data: 0 bytes',
      'Matched data: 0 bytes',
      `File list size: ${count(s.listBytes)}`,
      // As a pull's (above): no times when the sender sent none.
      ...(s.buildMs
        ? [
            `File list generation time: ${bigDnum(s.buildMs / 1000, Math.min(human, 1), 3)} seconds`,
            `File list transfer time: ${bigDnum(s.xferMs / 1000, Math.min(human, 1), 3)} seconds`,
          ]
        : []),
      `Total bytes sent: ${n(s.sent)}`,
      `Total bytes received: ${n(s.received)}`,
    );
  }
  lines.push(...summaryLines(s.sent, s.received, s.totalSize, secs, human));
  return lines;
}

/** rsync's log_exit() line in --log-file when no statistics were printed (or the run failed). */
export function logTotalsLine(t: RunTotals, dryRun = false, human = 1): string {
  const sent = t.stream?.sent ?? (dryRun ? 0 : Number(Atomics.load(t.counters, Counter.Bytes)));
  return `sent ${humanNum(sent, human)} bytes  received ${humanNum(t.stream?.received ?? 0, human)} bytes  total size ${humanNum(t.totalSize, human)}`;
}
