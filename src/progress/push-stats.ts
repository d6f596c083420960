// rsync's closing lines for a push, as its sending client prints them (main.c output_summary): the
// --stats block from the sender's own counts and the receiver's deletion counts, then the -v summary
// with the bytes this side wrote and read on the connection.

import { bigDnum, commaNum, humanNum } from './numbers.js';
import { summaryLines } from './stats.js';

interface Counts {
  reg: number;
  dir: number;
  link: number;
  dev: number;
  special: number;
}

export interface PushTotals {
  listed: Counts;
  created: Counts;
  deleted: Counts;
  totalSize: number;
  transferredFiles: number;
  transferredSize: number;
  literal: number;
  matched: number;
  flistSize: number;
  flistBuildMs: number;
  sent: number;
  received: number;
}

/** `has`: the count lines the session's protocol prints (plan/old-protocol.ts statsCountLines). */
export function pushStatsLines(t: PushTotals, secs: number, full: boolean, human: number, dryRun: boolean, has = { created: true, deleted: true }): string[] {
  const n = (v: number): string => humanNum(v, human);
  const count = (v: number): string => commaNum(v, human);
  const sum = (c: Counts): number => c.reg + c.dir + c.link + c.dev + c.special;
  const breakdown = (c: Counts): string => {
    const parts = (Object.keys(c) as (keyof Counts)[]).filter((k) => c[k] > 0).map((k) => `${k}: ${count(c[k])}`);
    return parts.length ? ` (${parts.join(', ')})` : '';
  };
  const lines: string[] = [];
  if (full) {
    lines.push(
      '',
      `Number of files: ${count(sum(t.listed))}${breakdown(t.listed)}`,
      ...(has.created ? [`Number of created files: ${count(sum(t.created))}${breakdown(t.created)}`] : []),
      ...(has.deleted ? [`Number of deleted files: ${count(sum(t.deleted))}${breakdown(t.deleted)}`] : []),
      `Number of regular files transferred: ${count(t.transferredFiles)}`,
      `Total file size: ${n(t.totalSize)} bytes`,
      `Total transferred file size: ${n(t.transferredSize)} bytes`,
      `Literal data: ${n(t.literal)} bytes`,
      `Matched data: ${n(t.matched)} bytes`,
      `File list size: ${count(t.flistSize)}`,
      `File list generation time: ${bigDnum(t.flistBuildMs / 1000, Math.min(human, 1), 3)} seconds`,
      `File list transfer time: ${bigDnum(0, Math.min(human, 1), 3)} seconds`,
      `Total bytes sent: ${n(t.sent)}`,
      `Total bytes received: ${n(t.received)}`,
    );
  }
  lines.push(...summaryLines(t.sent, t.received, t.totalSize, secs, human, dryRun));
  return lines;
}
