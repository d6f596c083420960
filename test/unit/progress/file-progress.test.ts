import { afterEach, describe, expect, it, vi } from 'vitest';
import { COUNTER_SLOTS, CURRENT_SHIFT, Counter, Outcome } from '../../../src/model/ops.js';
import { FileProgress } from '../../../src/progress/file-progress.js';

function setup() {
  const counters = new BigInt64Array(new SharedArrayBuffer(8 * COUNTER_SLOTS));
  const out: string[] = [];
  let now = 1000;
  vi.spyOn(performance, 'now').mockImplementation(() => now);
  // The list has 4 entries when a file is queued and 5 when its last line is drawn: one entry after it.
  const list = { planned: 2, listed: 4, growing: false };
  const fp = new FileProgress((s) => out.push(s.toString()), counters, () => list, 1);
  const queue = fp.file.bind(fp);
  fp.file = (size: number) => {
    list.listed = 4;
    const m = queue(size);
    list.listed = 5;
    return m;
  };
  const current = (index: number, bytes: number) =>
    Atomics.store(counters, Counter.Current, (BigInt(index + 1) << BigInt(CURRENT_SHIFT)) | BigInt(bytes));
  return { fp, out, counters, current, list, advance: (ms: number) => (now += ms) };
}

const shared = (n: number) => new Uint8Array(new SharedArrayBuffer(n));
const shape = (s: string) => s.replace(/ +[\d.]+[kMG]B\/s +\d+:\d\d:\d\d/, ' RATE TIME');

afterEach(() => vi.restoreAllMocks());

describe('FileProgress (--progress)', () => {
  it('lines queued after a file wait for its last line; lines before it print at once', () => {
    const { fp, out } = setup();
    fp.line('a\n');
    const m = fp.file(10);
    fp.line('b\n');
    expect(out).toEqual(['a\n']);
    fp.settle(m, Outcome.Done);
    expect(out.map(shape)).toEqual(['a\n', '\r             10 100% RATE TIME  ', '\r             10 100% RATE TIME (xfr#1, to-chk=1/5)\n', 'b\n']);
  });

  it('the live line: drawn at the first data of the op in flight, then at most once a second; never for another op', () => {
    const { fp, out, current, advance } = setup();
    const m = fp.file(1_000_000);
    m.shared = shared(3);
    m.index = 1;
    fp.pump();
    expect(out).toEqual([]);
    current(0, 500); // another op of the batch
    fp.pump();
    expect(out).toEqual([]);
    m.batch = 7; // the slot is another batch's (Counter.Batch is 0): not this file's bytes
    current(1, 100_000);
    fp.pump();
    expect(out).toEqual([]);
    m.batch = 0;
    current(1, 100_000);
    fp.pump();
    expect(out.map(shape)).toEqual(['\r        100,000  10% RATE TIME  ']);
    current(1, 200_000);
    advance(999);
    fp.pump();
    expect(out.length).toBe(1);
    advance(1);
    fp.pump();
    expect(out[1]).toBe('\r        200,000  20%   97.66kB/s    0:00:08  ');
    expect(fp.pending).toBe(true);
    // The engine wrote the op's outcome: the last line without waiting for the batch.
    Atomics.store(m.shared, 1, Outcome.Done);
    advance(1000);
    fp.pump();
    expect(out[2]).toBe('\r      1,000,000 100%  439.45kB/s    0:00:02 (xfr#1, to-chk=1/5)\n');
    expect(fp.pending).toBe(false);
  });

  it('a failed op gets no last line, only the newline its live line lacks; a run stopped mid-file neither', () => {
    const { fp, out, current } = setup();
    const m = fp.file(1_000_000);
    m.shared = shared(1);
    m.index = 0;
    current(0, 1000);
    fp.pump();
    fp.settle(m, Outcome.Failed);
    expect(out.slice(1)).toEqual(['\n']);
    const n = fp.file(1_000_000);
    n.shared = shared(1);
    n.index = 0;
    current(0, 2000);
    fp.line('later\n');
    fp.stop();
    expect(out.slice(2).join('')).not.toMatch(/100%|xfr#|later/);
    expect(out.at(-1)).toBe('\n');
  });

  it('an empty file gets only its last line', () => {
    const { fp, out } = setup();
    fp.settle(fp.file(0), Outcome.Done);
    expect(out.map(shape)).toEqual(['\r              0 100% RATE TIME (xfr#1, to-chk=1/5)\n']);
  });

  it('the lines a settle brings (-c) go ahead of that file, after the ones already printed', () => {
    const { fp, out } = setup();
    const m = fp.file(3);
    fp.line('next\n');
    fp.settle(m, Outcome.Done, ['name\n']);
    expect(out[0]).toBe('name\n');
    expect(out.at(-1)).toBe('next\n');
  });

  it("rsync's count: the entries listed after the file (to-chk), ir-chk while the list still grows", () => {
    const { fp, out, list } = setup();
    list.growing = true;
    const a = fp.file(1);
    list.listed = 9;
    fp.settle(a, Outcome.Done);
    expect(out.at(-1)).toMatch(/\(xfr#1, ir-chk=5\/9\)\n$/);
    list.growing = false;
    const b = fp.file(1);
    list.listed = 12;
    fp.settle(b, Outcome.Done);
    expect(out.at(-1)).toMatch(/\(xfr#2, to-chk=8\/12\)\n$/);
  });

  it("rsync's rates across small files: the run's first file 0.00kB/s, the next ones from its time while they follow within 1.5 s, then anew", () => {
    const { fp, out, advance } = setup();
    const rates = () => out.splice(0).map((l) => / ([\d.]+[kMG]B\/s) +(\d+:\d\d:\d\d)/.exec(l)!.slice(1).join(' '));
    // Its first line is its last: rsync measures from that line's own bytes, so nothing moved.
    fp.settle(fp.file(5000), Outcome.Done);
    expect(rates()).toEqual(['0.00kB/s 0:00:00', '0.00kB/s 0:00:00']);
    // 1 ms later: from the first file's time, counting from 0 bytes (rsync's guess of when data began).
    advance(1);
    fp.settle(fp.file(5000), Outcome.Done);
    expect(rates()).toEqual(['4.77MB/s 0:00:00', '4.77MB/s 0:00:00']);
    // Still from the first file's time: its window was handed on, not moved.
    advance(9);
    fp.settle(fp.file(5000), Outcome.Done);
    expect(rates()).toEqual(['488.28kB/s 0:00:00', '488.28kB/s 0:00:00']);
    // More than 1.5 s after it: a fresh start, as for the run's first file.
    advance(1491);
    fp.settle(fp.file(5000), Outcome.Done);
    expect(rates()).toEqual(['0.00kB/s 0:00:00', '0.00kB/s 0:00:00']);
    // A failed file's start is not the next one's: it chains from the window, as after an end line.
    advance(2);
    fp.settle(fp.file(5000), Outcome.Failed);
    expect(out.splice(0)).toEqual([]);
    advance(2);
    fp.settle(fp.file(10_000), Outcome.Done);
    expect(rates()).toEqual(['2.38MB/s 0:00:00', '2.38MB/s 0:00:00']);
  });
});
