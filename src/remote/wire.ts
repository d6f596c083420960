// rsync's wire encodings (protocol 30 and later): little-endian int32, the varint and varlong forms
// whose first byte's leading one-bits count the bytes that follow, and the short-length "vstring".
// Decoding is synchronous over a buffer that may end early: a read past the end throws `Short`, and
// the caller retries once more bytes have arrived, so a decoder never sees half a value. Every read
// is bounded; a value rsync itself would refuse is a ProtocolError with rsync's exit code.

import { Exit } from '../util/errors.js';

/** Not enough bytes buffered yet: retry the whole unit once more have arrived. */
export class Short extends Error {
  constructor() {
    super('short read');
  }
}
const SHORT = new Short();

/** The peer sent something rsync would refuse; `code` is the exit code rsync uses for it. */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly code: number = Exit.StreamIO,
  ) {
    super(message);
  }
}

/**
 * How many bytes follow a varint's first byte: its leading one-bits, at most 6 (rsync's
 * int_byte_extra table, indexed by the byte's top six bits).
 */
export function extraBytes(first: number): number {
  let n = 0;
  for (let bit = 0x80; n < 6 && first & bit; bit >>= 1) n++;
  return n;
}

/** Below this many bytes a JavaScript loop copies faster than `Buffer.copy`, whose call into C++ costs more than a short name's bytes. */
const SHORT_COPY = 64;

/** `n` bytes of `from` at `pos` into `to` at `at` (the file list copies two pieces of every name this way). */
export function copyBytes(from: Buffer, pos: number, to: Buffer, at: number, n: number): void {
  if (n >= SHORT_COPY) from.copy(to, at, pos, pos + n);
  else for (let i = 0; i < n; i++) to[at + i] = from[pos + i]!;
}

/** A read position in a buffer of received bytes. */
export class Cursor {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
  ) {}

  get left(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw SHORT;
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** The next n bytes copied into `to` at `at` (no view made: the file list's names take this once per entry). */
  copyTo(to: Buffer, at: number, n: number): void {
    this.need(n);
    copyBytes(this.buf, this.pos, to, at, n);
    this.pos += n;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** rsync's read_varint: a signed 32-bit value in 1 to 5 bytes. */
  varint(): number {
    const first = this.byte();
    const extra = extraBytes(first);
    if (extra === 0) return first;
    if (extra >= 5) throw new ProtocolError('Overflow in read_varint()');
    this.need(extra);
    // The bytes that follow are the low end, the first byte's free bits above them (read_varint's
    // union), composed in place: a list of 80,000 entries decodes several per entry.
    const buf = this.buf;
    let v = 0;
    for (let i = 0; i < extra; i++) v |= buf[this.pos + i]! << (8 * i);
    if (extra < 4) v |= (first & ((1 << (8 - extra)) - 1)) << (8 * extra);
    this.pos += extra;
    return v | 0;
  }

  /** rsync's read_varint bounded to [lo, hi], as its read_varint_bounded checks. */
  varintIn(lo: number, hi: number, what: string): number {
    const v = this.varint();
    if (v < lo || v > hi) throw new ProtocolError(`wire value ${what} out of range: ${v} not in [${lo},${hi}]`, Exit.Protocol);
    return v;
  }

  /**
   * rsync's read_varlong: a signed 64-bit value of at least `min` bytes. Returned as a number; a value
   * beyond 2^53 (no real size or time) is refused rather than rounded.
   */
  varlong(min: number): number {
    this.need(min);
    const first = this.buf[this.pos]!;
    const extra = extraBytes(first);
    if (min + extra > 9) throw new ProtocolError('Overflow in read_varlong()');
    this.need(min + extra);
    // read_varlong's 9-byte union, little-endian: the min-1 bytes after the first, the extra bytes,
    // then the first byte's free bits (a ninth byte falls outside the 64-bit value). Composed as two
    // 32-bit halves, without a buffer or a BigInt per value.
    const buf = this.buf;
    const at = this.pos;
    const n = min + extra - 1;
    const top = extra ? first & ((1 << (8 - extra)) - 1) : first;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 8 && i <= n; i++) {
      const byte = i < n ? buf[at + 1 + i]! : top;
      if (i < 4) lo |= byte << (8 * i);
      else hi |= byte << (8 * (i - 4));
    }
    this.pos += min + extra;
    lo >>>= 0;
    // Beyond 2^53 either way (MIN_SAFE_INTEGER is -(2^53 - 1)): refused.
    if (hi > 0x1fffff || hi < -0x200000 || (hi === -0x200000 && lo === 0)) {
      throw new ProtocolError(`Integer overflow: ${(BigInt(hi) << 32n) + BigInt(lo)} does not fit`, Exit.Unsupported);
    }
    return hi * 0x100000000 + lo;
  }

  /** rsync's read_vstring: one length byte, or two when the first has its top bit set. */
  vstring(max: number): Buffer {
    let len = this.byte();
    if (len & 0x80) len = (len & 0x7f) * 0x100 + this.byte();
    if (len >= max) throw new ProtocolError(`over-long vstring received (${len} > ${max - 1})`, Exit.Protocol);
    return this.bytes(len);
  }
}

/** Encoders: each returns the bytes rsync's write_* function would send. */
export function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v | 0, 0);
  return b;
}

/** Room for the longest varint or varlong, reused by the encoders below (single-threaded). */
const scratch = Buffer.alloc(9);

/**
 * rsync's write_varint into `to` at `at` (which has room for 5 bytes); returns how many bytes it took.
 * The one copy of the rule: varint() and the buffered writers build on it.
 */
export function putVarint(to: Buffer, at: number, v: number): number {
  const b = scratch;
  b[0] = 0;
  b.writeInt32LE(v | 0, 1);
  let cnt = 4;
  while (cnt > 1 && b[cnt] === 0) cnt--;
  const bit = 1 << (7 - cnt + 1);
  if (b[cnt]! >= bit) {
    cnt++;
    b[0] = ~(bit - 1) & 0xff;
  } else if (cnt > 1) {
    b[0] = (b[cnt]! | ~(bit * 2 - 1)) & 0xff;
  } else {
    b[0] = b[1]!;
  }
  return b.copy(to, at, 0, cnt);
}

/** rsync's write_varlong with at least `min` bytes into `to` at `at` (room for 9); returns the bytes taken. */
export function putVarlong(to: Buffer, at: number, v: number, min: number): number {
  const b = scratch;
  b[0] = 0;
  // Sizes and times up to 2^32 (nearly all) without a BigInt.
  if (v >= 0 && v <= 0xffffffff) {
    b.writeUInt32LE(v, 1);
    b.writeUInt32LE(0, 5);
  } else b.writeBigInt64LE(BigInt(v), 1);
  let cnt = 8;
  while (cnt > min && b[cnt] === 0) cnt--;
  const bit = 1 << (7 - cnt + min);
  if (b[cnt]! >= bit) {
    cnt++;
    b[0] = ~(bit - 1) & 0xff;
  } else if (cnt > min) {
    b[0] = (b[cnt]! | ~(bit * 2 - 1)) & 0xff;
  } else {
    b[0] = b[cnt]!;
  }
  return b.copy(to, at, 0, cnt);
}

/** rsync's write_varint. */
export function varint(v: number): Buffer {
  const b = Buffer.allocUnsafe(5);
  return b.subarray(0, putVarint(b, 0, v));
}

/** rsync's write_varlong with at least `min` bytes. */
export function varlong(v: number, min: number): Buffer {
  const b = Buffer.allocUnsafe(9);
  return b.subarray(0, putVarlong(b, 0, v, min));
}

/** rsync's write_vstring (at most 0x7fff bytes). */
export function vstring(s: Buffer | string): Buffer {
  const body = typeof s === 'string' ? Buffer.from(s) : s;
  if (body.length > 0x7fff) throw new ProtocolError(`attempting to send over-long vstring (${body.length} > 32767)`, Exit.Protocol);
  const head = body.length > 0x7f ? Buffer.from([(body.length >> 8) | 0x80, body.length & 0xff]) : Buffer.from([body.length]);
  return Buffer.concat([head, body]);
}
