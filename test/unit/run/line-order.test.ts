import { describe, expect, it } from 'vitest';
import { LineOrder } from '../../../src/run/line-order.js';
import type { Reporter } from '../../../src/progress/reporter.js';

/** A reporter that records what reaches stdout, in order. */
function recorder(): { out: string[]; reporter: Reporter } {
  const out: string[] = [];
  const push = (l: string) => void out.push(l);
  const reporter = { start: async () => undefined, stop: () => undefined, print: push, item: push, info: push, error: () => undefined, warn: () => undefined } as Reporter;
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
});
