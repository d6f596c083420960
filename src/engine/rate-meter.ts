// --bwlimit in the node engine: the rate meter every thread shares through two counter slots (the rate,
// and the CLOCK_MONOTONIC ns at which the data written so far is paid for), charged by the rule of
// util/rate-rule.ts (the C twin is native/meter.h; test/contract/rate-meter.test.ts holds both to it).
// The writer sleeps off what is ahead in slices, so a stop is seen promptly.
// One clock for the whole run, so the limit holds across workers, not per thread.

import { Counter } from '../model/ops.js';
import { SLACK_NS, meterAdvance, pieceFor } from '../util/rate-rule.js';

export { PIECE_DIVISOR, PIECE_MIN, SLACK_NS } from '../util/rate-rule.js';
/** The longest sleep between looks at the abort slot (METER_SLICE_NS). */
export const SLICE_MS = 100;
// Made at the first sleep, not at load: the start-up snapshot is built where SharedArrayBuffer is absent.
let sleeper: Int32Array | undefined;

/** The most a copy loop should write in one piece: rate/8 bytes (at least 512), or `def` without a limit. */
export function meterPiece(counters: BigInt64Array, def: number): number {
  return pieceFor(Number(Atomics.load(counters, Counter.BwRate)), def);
}

/** Charge n written bytes to the meter and sleep off what is ahead of the rate. */
export function meterCharge(counters: BigInt64Array, n: number): void {
  const rate = Atomics.load(counters, Counter.BwRate);
  if (rate <= 0n || n <= 0) return;
  let now = process.hrtime.bigint();
  let next = Atomics.load(counters, Counter.BwNext);
  let due: bigint;
  for (;;) {
    due = meterAdvance(next, now, n, rate);
    const seen = Atomics.compareExchange(counters, Counter.BwNext, next, due);
    if (seen === next) break;
    next = seen;
  }
  while (due - now > SLACK_NS && Atomics.load(counters, Counter.Abort) === 0n) {
    const waitMs = Math.min(SLICE_MS, Number(due - now) / 1e6);
    Atomics.wait((sleeper ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, waitMs);
    now = process.hrtime.bigint();
  }
}
