// --bwlimit on a connection to a remote rsync: what this side writes to the peer leaves at no more than
// the rate, as every rsync process's writes do (io.c's sleep_for_bwlimit). A push writes the file data
// here, so without this the limit would hold only for the little the far side writes back. A Writable
// in front of the real output: each chunk goes out in pieces of rate/8 bytes, charged by the meter's
// rule (util/rate-rule.ts, the engines' rule too), waiting whenever the meter runs ahead. While it
// waits, the pacer's own buffer fills, and the session's backpressure (Conn.drained) waits with it.

import { Writable } from 'node:stream';
import { SLACK_NS, meterAdvance, pieceFor } from '../util/rate-rule.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `out` behind a rate limit of `rate` bytes a second; errors of `out` end the pacer too. */
export function pacedOutput(out: Writable, rate: number): Writable {
  const bigRate = BigInt(rate);
  let next = 0n;
  const drained = (): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        out.off('drain', done);
        out.off('close', done);
        resolve();
      };
      out.on('drain', done);
      out.on('close', done);
    });
  const pacer = new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _enc, cb): void {
      void (async () => {
        const step = pieceFor(rate, chunk.length);
        for (let at = 0; at < chunk.length && !out.destroyed; at += step) {
          const piece = chunk.subarray(at, at + step);
          const now = process.hrtime.bigint();
          next = meterAdvance(next, now, piece.length, bigRate);
          if (!out.write(piece)) await drained();
          const ahead = next - process.hrtime.bigint();
          if (ahead > SLACK_NS) await sleep(Number(ahead / 1_000_000n));
        }
        cb();
      })().catch(cb);
    },
    final(cb): void {
      out.end(cb);
    },
    destroy(err, cb): void {
      out.destroy();
      cb(err);
    },
  });
  out.on('error', (e) => pacer.destroy(e));
  return pacer;
}
