// A file sent whole (the receiver has no basis: its request carried no block sums), uncompressed: the
// tokens match.ts would send for it (literal runs of CHUNK_SIZE, then the end), each run's length and
// the file's bytes read straight into the output's frame, so the bytes are copied once (by the read),
// with no read-ahead window and no buffer per token. The whole-file hash is fed each run in place.

import type { FileHasher } from './checksum.js';
import type { FrameOut } from './frame-out.js';
import type { MatchResult, ReadAt } from './match.js';
import { CHUNK_SIZE } from './tokens.js';

/**
 * Sends `len` bytes of `read` as literal tokens and the end token into `out`. A file that shrank while
 * it was read goes on as zeros and comes back `short` (rsync's map_ptr; the caller spoils the sum).
 * `backpressure` is told the bytes sent after each run, as match.ts tells it.
 */
export async function sendWhole(
  out: FrameOut,
  len: number,
  read: ReadAt,
  hash: FileHasher,
  backpressure: (sent: number) => Promise<void> | undefined,
): Promise<MatchResult> {
  let short = false;
  for (let at = 0; at < len; ) {
    const n = Math.min(CHUNK_SIZE, len - at);
    const p = out.reserve(4 + n);
    const buf = out.buffer;
    buf.writeInt32LE(n, p);
    const got = short ? 0 : read(buf, p + 4, n, at);
    if (got < n) {
      short = true;
      buf.fill(0, p + 4 + got, p + 4 + n);
    }
    hash.update(buf.subarray(p + 4, p + 4 + n));
    at += n;
    const wait = backpressure(at);
    if (wait) await wait;
  }
  const end = out.reserve(4);
  out.buffer.writeInt32LE(0, end);
  return { literal: len, matched: 0, short };
}
