// rsync's closing lines: the -v summary ("sent … received … total size is … speedup is …") and the
// --stats block. Local copies have no protocol, so "sent" counts the file data arsync wrote and
// "received" is 0; the other lines keep rsync's meaning. Under -n the transferred figures are what
// would have been sent, and rsync's "(DRY RUN)" marker ends the summary.

import { Counter } from '../model/ops.js';
import type { RunTotals } from '../model/run-totals.js';
import { bigDnum, commaNum, humanNum } from './numbers.js';

type Counts = RunTotals['listed'];
const total = (c: Counts): number => c.reg + c.dir + c.link + c.dev + c.special;

/** The lines, with numbers printed at rsync's -h level `human` (1, commas, is rsync's default). */
export function statsLines(t: RunTotals, elapsedMs: number, full: boolean, dryRun = false, human = 1): string[] {
  const n = (v: number): string => humanNum(v, human);
  const count = (v: number): string => commaNum(v, human);
  const breakdown = (c: Counts): string => {
    const parts = (Object.keys(c) as (keyof Counts)[]).filter((k) => c[k] > 0).map((k) => `${k}: ${count(c[k])}`);
    return parts.length ? ` (${parts.join(', ')})` : '';
  };
  const bytes = dryRun ? t.plannedBytes : Number(Atomics.load(t.counters, Counter.Bytes));
  const files = dryRun ? t.plannedFiles : Number(Atomics.load(t.counters, Counter.Files));
  const secs = Math.max(elapsedMs / 1000, 0.001);
  const lines: string[] = [];
  if (full) {
    lines.push(
      '',
      `Number of files: ${count(total(t.listed))}${breakdown(t.listed)}`,
      `Number of created files: ${count(total(t.created))}${breakdown(t.created)}`,
      `Number of deleted files: ${count(total(t.deleted))}${breakdown(t.deleted)}`,
      `Number of regular files transferred: ${count(files)}`,
      `Total file size: ${n(t.totalSize)} bytes`,
      `Total transferred file size: ${n(bytes)} bytes`,
      `Literal data: ${n(bytes)} bytes`,
      `Matched data: 0 bytes`,
      `File list size: 0`,
      `File list generation time: ${bigDnum(t.fileListMs / 1000, Math.min(human, 1), 3)} seconds`,
      `File list transfer time: 0.000 seconds`,
      `Total bytes sent: ${n(bytes)}`,
      `Total bytes received: 0`,
    );
  }
  const sent = dryRun ? 0 : bytes;
  const speedup = sent > 0 ? t.totalSize / sent : t.totalSize;
  lines.push(
    '',
    `sent ${n(sent)} bytes  received 0 bytes  ${bigDnum(sent / secs, human, 2)} bytes/sec`,
    `total size is ${n(t.totalSize)}  speedup is ${bigDnum(speedup, Math.min(human, 1), 2)}${dryRun ? ' (DRY RUN)' : ''}`,
  );
  return lines;
}

/** rsync's log_exit() line in --log-file when no statistics were printed (or the run failed). */
export function logTotalsLine(t: RunTotals, dryRun = false, human = 1): string {
  const sent = dryRun ? 0 : Number(Atomics.load(t.counters, Counter.Bytes));
  return `sent ${humanNum(sent, human)} bytes  received 0 bytes  total size ${humanNum(t.totalSize, human)}`;
}
