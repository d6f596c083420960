// rsync's closing lines: the -v summary ("sent … received … total size is … speedup is …") and the
// --stats block. Local copies have no protocol, so "sent" counts the file data arsync wrote and
// "received" is 0; the other lines keep rsync's meaning.

import { Counter } from '../engine/types.js';
import type { RunTotals } from '../transfer.js';

const n = (v: number): string => Math.round(v).toLocaleString('en-US');

export function statsLines(t: RunTotals, elapsedMs: number, full: boolean): string[] {
  const bytes = Number(Atomics.load(t.counters, Counter.Bytes));
  const files = Number(Atomics.load(t.counters, Counter.Files));
  const secs = Math.max(elapsedMs / 1000, 0.001);
  const lines: string[] = [];
  if (full) {
    const l = t.listed;
    const total = l.reg + l.dir + l.link + l.dev + l.special;
    const parts = (Object.keys(l) as (keyof typeof l)[]).filter((k) => l[k] > 0).map((k) => `${k}: ${n(l[k])}`);
    lines.push(
      '',
      `Number of files: ${n(total)}${parts.length ? ` (${parts.join(', ')})` : ''}`,
      `Number of deleted files: 0`,
      `Number of regular files transferred: ${n(files)}`,
      `Total file size: ${n(t.totalSize)} bytes`,
      `Total transferred file size: ${n(bytes)} bytes`,
      `Literal data: ${n(bytes)} bytes`,
      `Matched data: 0 bytes`,
      `File list size: 0`,
      `File list generation time: ${(t.fileListMs / 1000).toFixed(3)} seconds`,
      `File list transfer time: 0.000 seconds`,
      `Total bytes sent: ${n(bytes)}`,
      `Total bytes received: 0`,
    );
  }
  const speedup = bytes > 0 ? t.totalSize / bytes : t.totalSize > 0 ? t.totalSize : 0;
  lines.push(
    '',
    `sent ${n(bytes)} bytes  received 0 bytes  ${(bytes / secs).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} bytes/sec`,
    `total size is ${n(t.totalSize)}  speedup is ${speedup.toFixed(2)}`,
  );
  return lines;
}
