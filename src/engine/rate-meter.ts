// --bwlimit in the node engine: the rate meter every thread shares through two counter slots (the rate,
// and the CLOCK_MONOTONIC ns at which the data written so far is paid for). The C twin is native/meter.h;
// test/contract/rate-meter.test.ts holds both to the same rule. Writing n bytes moves the meter's clock
// n/rate seconds on from max(clock, now) (idle time earns no credit: no burst after a slow walk), and the
// writer sleeps until that clock when it is more than SLACK ahead, in slices so a stop is seen promptly.
// One clock for the whole run, so the limit holds across workers, not per thread.

import { Counter } from '../model/ops.js';

/** Sleeps shorter than this cost more than they even out (native/meter.h METER_SLACK_NS). */
export const SLACK_NS = 10_000_000n;
/** The longest sleep between looks at the abort slot (METER_SLICE_NS). */
export const SLICE_MS = 100;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** rsync's bwlimit_writemax: a piece is 1/PIECE_DIVISOR of a second's data, at least PIECE_MIN bytes. */
export const PIECE_DIVISOR = 8;
export const PIECE_MIN = 512;

/** The most a copy loop should write in one piece: rate/8 bytes (at least 512), or `def` without a limit. */
export function meterPiece(counters: BigInt64Array, def: number): number {
  const rate = Number(Atomics.load(counters, Counter.BwRate));
  if (rate <= 0) return def;
  return Math.min(def, Math.max(PIECE_MIN, Math.floor(rate / PIECE_DIVISOR)));
}

/** Charge n written bytes to the meter and sleep off what is ahead of the rate. */
export function meterCharge(counters: BigInt64Array, n: number): void {
  const rate = Atomics.load(counters, Counter.BwRate);
  if (rate <= 0n || n <= 0) return;
  const cost = (BigInt(n) * 1_000_000_000n) / rate;
  let now = process.hrtime.bigint();
  let next = Atomics.load(counters, Counter.BwNext);
  let due: bigint;
  for (;;) {
    due = (next > now ? next : now) + cost;
    const seen = Atomics.compareExchange(counters, Counter.BwNext, next, due);
    if (seen === next) break;
    next = seen;
  }
  while (due - now > SLACK_NS && Atomics.load(counters, Counter.Abort) === 0n) {
    const waitMs = Math.min(SLICE_MS, Number(due - now) / 1e6);
    Atomics.wait(sleeper, 0, 0, waitMs);
    now = process.hrtime.bigint();
  }
}
