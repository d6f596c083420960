// src/progress/stats.ts: rsync's closing lines, the -v summary and the --stats block.

import { describe, expect, it } from 'vitest';
import { Counter, COUNTER_SLOTS } from '../../../src/model/ops.js';
import { rsyncSeconds, statsLines } from '../../../src/progress/stats.js';

type Totals = Parameters<typeof statsLines>[0];
const zero = () => ({ reg: 0, dir: 0, link: 0, dev: 0, special: 0 });

/** Totals of a run that wrote `bytes` bytes in `files` files. */
function totals(bytes: number, files: number, o: Partial<Totals> = {}): Totals {
  const counters = new BigInt64Array(new SharedArrayBuffer(8 * COUNTER_SLOTS));
  counters[Counter.Bytes] = BigInt(bytes);
  counters[Counter.Files] = BigInt(files);
  return {
    listed: { ...zero(), reg: 3, dir: 2, link: 1 },
    created: { ...zero(), reg: 3, dir: 1 },
    deleted: zero(),
    totalSize: 2_000_000,
    plannedBytes: 0,
    plannedFiles: 0,
    ioErrors: 0,
    vanished: 0,
    deleteSkipped: 0,
    aborted: false,
    fileListMs: 1234,
    counters,
    threads: 0,
    errors: [],
    ...o,
  };
}

describe('rsyncSeconds', () => {
  it("rsync's divisor: half a second plus the whole-second clock ticks between start and end", () => {
    expect(rsyncSeconds(10_000, 10_999)).toBe(0.5);
    expect(rsyncSeconds(10_999, 11_001)).toBe(1.5);
    expect(rsyncSeconds(10_000, 13_400)).toBe(3.5);
  });
});

describe('statsLines', () => {
  it('-v: the summary, with the rate over the seconds given and the speedup', () => {
    expect(statsLines(totals(1_000_000, 3), 2, false)).toEqual([
      '',
      'sent 1,000,000 bytes  received 0 bytes  500,000.00 bytes/sec',
      'total size is 2,000,000  speedup is 2.00',
    ]);
  });

  it('--stats: the full block, types listed only when there are some', () => {
    expect(statsLines(totals(1_000_000, 3), 2, true)).toEqual([
      '',
      'Number of files: 6 (reg: 3, dir: 2, link: 1)',
      'Number of created files: 4 (reg: 3, dir: 1)',
      'Number of deleted files: 0',
      'Number of regular files transferred: 3',
      'Total file size: 2,000,000 bytes',
      'Total transferred file size: 1,000,000 bytes',
      'Literal data: 1,000,000 bytes',
      'Matched data: 0 bytes',
      'File list size: 0',
      'File list generation time: 1.234 seconds',
      'File list transfer time: 0.000 seconds',
      'Total bytes sent: 1,000,000',
      'Total bytes received: 0',
      '',
      'sent 1,000,000 bytes  received 0 bytes  500,000.00 bytes/sec',
      'total size is 2,000,000  speedup is 2.00',
    ]);
  });

  it('-n: what would have been sent, nothing sent, and (DRY RUN)', () => {
    const lines = statsLines(totals(0, 0, { plannedBytes: 5000, plannedFiles: 2 }), 1, true, true);
    expect(lines).toContain('Number of regular files transferred: 2');
    expect(lines).toContain('Total transferred file size: 5,000 bytes');
    expect(lines.slice(-2)).toEqual(['sent 0 bytes  received 0 bytes  0.00 bytes/sec', 'total size is 2,000,000  speedup is 2,000,000.00 (DRY RUN)']);
  });

  it('nothing sent: the speedup is the total size; a divisor of 0 counts as a millisecond', () => {
    expect(statsLines(totals(0, 0, { totalSize: 10 }), 0, false)).toEqual(['', 'sent 0 bytes  received 0 bytes  0.00 bytes/sec', 'total size is 10  speedup is 10.00']);
    expect(statsLines(totals(1, 1, { totalSize: 1 }), 0, false)[1]).toBe('sent 1 bytes  received 0 bytes  1,000.00 bytes/sec');
  });

  it("-h levels: sizes get units, counts and times never do", () => {
    const t = totals(3_000_000, 1, { listed: { ...zero(), reg: 1234 }, fileListMs: 1_500_000 });
    const h = statsLines(t, 1, true, false, 2);
    expect(h).toContain('Number of files: 1,234 (reg: 1,234)');
    expect(h).toContain('Total file size: 2.00M bytes');
    expect(h).toContain('File list generation time: 1,500.000 seconds');
    expect(h.at(-2)).toBe('sent 3.00M bytes  received 0 bytes  3.00M bytes/sec');
    expect(h.at(-1)).toBe('total size is 2.00M  speedup is 0.67');
    const plain = statsLines(t, 1, true, false, 0);
    expect(plain).toContain('Number of files: 1234 (reg: 1234)');
    expect(plain.at(-2)).toBe('sent 3000000 bytes  received 0 bytes  3000000.00 bytes/sec');
  });
});
