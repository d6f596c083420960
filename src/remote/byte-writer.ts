// A growing output buffer for encoders that write many small values (the file list: several fields per
// entry): each value goes straight into one buffer instead of a Buffer of its own joined at the end.

import { putVarint, putVarlong } from './wire.js';

export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  get length(): number {
    return this.pos;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v & 0xff;
  }

  int32(v: number): void {
    this.room(4);
    this.pos = this.buf.writeInt32LE(v | 0, this.pos);
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /**
   * `b` from `start` on, without a view of it: once per entry for the file list's names, whose
   * subarray would be one more object per entry for the collector.
   */
  bytesFrom(b: Uint8Array, start: number): void {
    const n = b.length - start;
    this.room(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = start; i < b.length; i++) buf[pos++] = b[i]!;
    this.pos = pos;
  }

  varint(v: number): void {
    this.room(5);
    this.pos += putVarint(this.buf, this.pos, v);
  }

  varlong(v: number, min: number): void {
    this.room(9);
    this.pos += putVarlong(this.buf, this.pos, v, min);
  }

  /** What was written, as a buffer of its own size. */
  take(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
