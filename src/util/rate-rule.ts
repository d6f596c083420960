// --bwlimit's rule, in one place for every TypeScript writer that keeps to it (the node engine's shared
// meter, engine/rate-meter.ts, and a connection's paced output, remote/pacer.ts; the C twin is
// native/meter.h, held to it by test/contract/rate-meter.test.ts): writing n bytes moves the meter's
// clock n/rate seconds on from max(clock, now), so idle time earns no credit (no burst after a slow
// walk), and the writer waits until that clock once it is more than SLACK ahead. Pieces are rsync's
// bwlimit_writemax: 1/PIECE_DIVISOR of a second's data, at least PIECE_MIN bytes.

/** Sleeps shorter than this cost more than they even out (native/meter.h METER_SLACK_NS). */
export const SLACK_NS = 10_000_000n;
export const PIECE_DIVISOR = 8;
export const PIECE_MIN = 512;

/** The largest piece a writer at `rate` bytes a second should write at once (`def` without a limit). */
export function pieceFor(rate: number, def: number): number {
  if (rate <= 0) return def;
  return Math.min(def, Math.max(PIECE_MIN, Math.floor(rate / PIECE_DIVISOR)));
}

/** The meter's clock (ns) once n more bytes are written at `rate` bytes a second, from `next` at `now`. */
export function meterAdvance(next: bigint, now: bigint, n: number, rate: bigint): bigint {
  return (next > now ? next : now) + (BigInt(n) * 1_000_000_000n) / rate;
}
