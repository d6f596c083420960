// rsync's file indices on the wire (protocol 30+, io.c's write_ndx/read_ndx): NDX_DONE is one zero
// byte; any other index is a difference from the previous one of its sign — one byte for 1–253, 0xFE
// and two bytes up to 32767, else 0xFE and four bytes with the top bit set — negative ones after 0xFF.
// Each direction keeps its own previous values, so a reader and a writer are objects.

import { Exit } from '../util/errors.js';
import { Cursor, ProtocolError } from './wire.js';

export const NDX_DONE = -1;
export const NDX_FLIST_EOF = -2;
export const NDX_DEL_STATS = -3;

/** The longest index on the wire: 0xff, 0xfe and four bytes. */
export const NDX_MAX = 6;

export class NdxWriter {
  private prevPositive = -1;
  private prevNegative = 1;

  /** The last positive index written, what the next one is encoded against (for `rewind`). */
  get lastPositive(): number {
    return this.prevPositive;
  }

  /** Takes back positive indexes written since `lastPositive` answered `prev` (their bytes were dropped). */
  rewind(prev: number): void {
    this.prevPositive = prev;
  }

  encode(ndx: number): Buffer {
    const b = Buffer.allocUnsafe(NDX_MAX);
    return b.subarray(0, this.encodeInto(ndx, b, 0));
  }

  /** Writes the index's bytes (at most NDX_MAX) into `b` at `at`; returns how many. */
  encodeInto(ndx: number, b: Buffer, at: number): number {
    if (ndx === NDX_DONE) {
      b[at] = 0;
      return 1;
    }
    let w = at;
    let diff: number;
    if (ndx >= 0) {
      diff = ndx - this.prevPositive;
      this.prevPositive = ndx;
    } else {
      b[w++] = 0xff;
      ndx = -ndx;
      diff = ndx - this.prevNegative;
      this.prevNegative = ndx;
    }
    if (diff > 0 && diff < 0xfe) b[w++] = diff;
    else if (diff < 0 || diff > 0x7fff) {
      b[w++] = 0xfe;
      b[w++] = ((ndx >>> 24) | 0x80) & 0xff;
      b[w++] = ndx & 0xff;
      b[w++] = (ndx >>> 8) & 0xff;
      b[w++] = (ndx >>> 16) & 0xff;
    } else {
      b[w++] = 0xfe;
      b[w++] = (diff >> 8) & 0xff;
      b[w++] = diff & 0xff;
    }
    return w - at;
  }
}

export class NdxReader {
  private prevPositive = -1;
  private prevNegative = 1;

  /** Decodes one index; like every decoder here it changes nothing when it runs short. */
  decode(c: Cursor): number {
    let first = c.byte();
    if (first === 0) return NDX_DONE;
    const negative = first === 0xff;
    if (negative) first = c.byte();
    const prev = negative ? this.prevNegative : this.prevPositive;
    let num: number;
    if (first === 0xfe) {
      const hi = c.byte();
      const lo = c.byte();
      if (hi & 0x80) {
        const b2 = c.byte();
        const b3 = c.byte();
        num = ((hi & 0x7f) << 24) + lo + (b2 << 8) + (b3 << 16);
      } else num = (hi << 8) + lo + prev;
    } else num = first + prev;
    if (num > 0x7fffffff) throw new ProtocolError(`Invalid file index: ${num} [sender]`, Exit.Protocol);
    if (negative) this.prevNegative = num;
    else this.prevPositive = num;
    return negative ? -num : num;
  }
}
