import { describe, expect, it } from 'vitest';
import { LineOrder } from '../../../src/run/line-order.js';
import type { Reporter } from '../../../src/progress/reporter.js';

/** A reporter that records what reaches stdout, in order. */
function recorder(): { out: string[]; reporter: Reporter } {
  const out: string[] = [];
  const push = (l: string) => void out.push(l);
  const reporter = { start: async () => undefined, stop: () => undefined, print: push, item: push, info: push, error: () => undefined, warn: () => undefined, draw: push } as Reporter;
  return { out, reporter };
}

describe('LineOrder', () => {
  it("-vv: sender lines wait for the end of the pass, in their order, behind the generator's lines", () => {
    const { out, reporter } = recorder();
    const o = new LineOrder(reporter, { compares: false, senderLate: true });
    o.reporter.item('a is uptodate');
    o.sender!('b');
    o.reporter.item('c is uptodate');
    o.sender!('d/');
    o.sender!('d/e');
    expect(o.hold()).toBeUndefined();
    expect(out).toEqual(['a is uptodate', 'c is uptodate']);
    o.release();
    expect(out).toEqual(['a is uptodate', 'c is uptodate', 'b', 'd/', 'd/e']);
    // After the pass a sender line is written at once.
    o.sender!('f');
    o.close();
    expect(out.slice(-1)).toEqual(['f']);
  });

  it("-v: once rsync's generator would have filled its 64 KiB buffer, the sender lines held so far go out", () => {
    const { out, reporter } = recorder();
    let generated = 0;
    const o = new LineOrder(reporter, { compares: false, senderLate: true }, () => generated);
    // Each file's request: its index, flags and checksum header (19 bytes).
    for (let i = 0; i < 3449; i++) {
      generated += 19;
      o.sender!(`f${i}`);
    }
    expect(out).toEqual([]);
    // The next request would not fit: what came before it goes out, it waits.
    generated += 19;
    o.sender!('f3449');
    expect(out.length).toBe(3449);
    expect(out[3448]).toBe('f3448');
    o.reporter.item('deleting z');
    expect(out.slice(-1)).toEqual(['deleting z']);
    o.release();
    expect(out.slice(-1)).toEqual(['f3449']);
    o.close();
  });

  it("-c -vv: a compare's sender line keeps its list place among the sender lines, whenever it is filled", () => {
    const { out, reporter } = recorder();
    const o = new LineOrder(reporter, { compares: true, senderLate: true });
    const slot = o.hold()!;
    o.sender!('second');
    o.reporter.item('x is uptodate');
    expect(out).toEqual([]);
    o.fill(slot, () => o.sender!('first'));
    expect(out).toEqual(['x is uptodate']);
    o.release();
    expect(out).toEqual(['x is uptodate', 'first', 'second']);
  });

  it('-c alone: no sender channel, lines in list order as the places fill', () => {
    const { out, reporter } = recorder();
    const o = new LineOrder(reporter, { compares: true, senderLate: false });
    expect(o.sender).toBeUndefined();
    const slot = o.hold()!;
    o.reporter.item('later');
    o.fill(slot, () => o.reporter.item('compared'));
    expect(out).toEqual(['compared', 'later']);
  });

  it('--copy-unsafe-links -v: list-time lines stream a directory at a time; other lines follow 1,000 entries later', () => {
    const { out, reporter } = recorder();
    let listed = 0;
    const o = new LineOrder(reporter, { compares: false, senderLate: false, listing: true }, undefined, () => listed);
    // A line of the generator's at entry 1: it waits until the walk has listed 1,000 entries more.
    listed = 1;
    o.reporter.print('created directory dst');
    listed = 10;
    o.listed('unsafe a1', Buffer.from('/nonexistent/a/1'));
    o.listed('unsafe a2', Buffer.from('/nonexistent/a/2'));
    // Held while its directory's lines may still come.
    expect(out).toEqual([]);
    listed = 500;
    o.listed('unsafe b1', Buffer.from('/nonexistent/b/1'));
    // Directory a is done: its lines go out (in listing order, the directory being unreadable here).
    expect(out).toEqual(['unsafe a1', 'unsafe a2']);
    listed = 1200;
    o.listed('unsafe c1', Buffer.from('/nonexistent/c/1'));
    // b's line went out, and then the generator's line, 1,000 entries past its place.
    expect(out).toEqual(['unsafe a1', 'unsafe a2', 'unsafe b1', 'created directory dst']);
    o.reporter.print('deleting x');
    o.listDone();
    expect(out).toEqual(['unsafe a1', 'unsafe a2', 'unsafe b1', 'created directory dst', 'unsafe c1', 'deleting x']);
    o.close();
  });

  it('--copy-unsafe-links -v without a listed count (or with -c): every line waits for the walk to end', () => {
    const { out, reporter } = recorder();
    const o = new LineOrder(reporter, { compares: false, senderLate: false, listing: true });
    o.reporter.print('created directory dst');
    o.listed('unsafe a1', Buffer.from('/nonexistent/a/1'));
    o.listed('unsafe b1', Buffer.from('/nonexistent/b/1'));
    expect(out).toEqual([]);
    o.listDone();
    expect(out).toEqual(['unsafe a1', 'unsafe b1', 'created directory dst']);
    o.close();
  });
});
