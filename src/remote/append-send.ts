// The sender's half of --append and --append-verify (rsync's match_sums in append mode): the receiver
// sends no block sums, only a header whose blocks cover the length it already has; that prefix is
// taken as the receiver's, and only the bytes after it go, as literal runs. --append-verify feeds the
// prefix to the whole-file checksum too, so the receiver (which hashes its own prefix) can tell a
// prefix that is not ours and ask again in the redo phase, where the file goes as a normal transfer.

import { CHUNK_SIZE, type TokenWriter } from './tokens.js';
import type { FileHasher } from './checksum.js';
import type { MatchResult, ReadAt, SumHead } from './match.js';

/** The length the receiver holds, as rsync's receive_sums computes it from the header alone. */
export function appendOffset(h: SumHead): number {
  let n = h.count * h.blength;
  if (h.remainder) n -= h.blength - h.remainder;
  return n;
}

/**
 * Sends bytes [offset, len) of the file as literal runs (offset clamped to len: a receiver that claims
 * more than the file has gets nothing of it). `verify`: the prefix is hashed first (--append-verify).
 */
export async function appendFile(
  head: SumHead,
  len: number,
  read: ReadAt,
  hash: FileHasher,
  out: TokenWriter,
  verify: boolean,
  backpressure: (sent: number) => Promise<void> | undefined = () => undefined,
): Promise<MatchResult> {
  const offset = Math.min(appendOffset(head), len);
  const res: MatchResult = { literal: 0, matched: 0, short: false };
  const buf = Buffer.allocUnsafe(CHUNK_SIZE);
  /** Bytes [at, at + n) of the file; a file that shrank reads as zeros and marks the transfer bad. */
  const piece = (at: number, n: number): Buffer => {
    let got = 0;
    while (got < n) {
      const r = read(buf, got, n - got, at + got);
      if (!r) break;
      got += r;
    }
    if (got < n) {
      res.short = true;
      buf.fill(0, got, n);
    }
    return buf.subarray(0, n);
  };
  if (verify) for (let at = 0; at < offset; at += CHUNK_SIZE) hash.update(piece(at, Math.min(CHUNK_SIZE, offset - at)));
  for (let at = offset; at < len; at += CHUNK_SIZE) {
    const data = piece(at, Math.min(CHUNK_SIZE, len - at));
    hash.update(data);
    out.literal(data);
    res.literal += data.length;
    const wait = backpressure(at + data.length);
    if (wait) await wait;
  }
  out.end();
  return res;
}
