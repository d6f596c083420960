// The sizes rsync's multiplexed output would have on the wire, for a stream that is only counted: each
// write goes into rsync's 64 KiB output buffer (IO_BUFFER_SIZE * 2, its first 4 bytes held for the
// frame header), and a write that does not fit first sends what the buffer holds as one MSG_DATA frame
// (io.c write_buf and perform_io). The file list's encoder writes into it field by field, as rsync's
// send_file_entry calls write_buf, so frames are cut where rsync cuts them.

import { ByteWriter } from '../remote/byte-writer.js';
import { putVarint, putVarlong } from '../remote/wire.js';

/** rsync's iobuf.out.size for a multiplexed stream. */
const OUT_SIZE = 64 * 1024;
/** The MSG_DATA header each frame starts with. */
const HEADER = 4;

const scratch = Buffer.alloc(9);

export class MuxCounter extends ByteWriter {
  /** Bytes in the buffer, the header's room included. */
  private held = HEADER;
  /** Bytes written to the wire so far (frames with their headers). */
  written = 0;

  constructor() {
    super(16);
  }

  /** One write_buf() of `n` bytes. */
  put(n: number): void {
    if (this.held + n > OUT_SIZE) this.flush();
    this.held += n;
  }

  /** What rsync's io_flush(), or a wait for input with output held, sends: the held data as one frame. */
  flush(): void {
    if (this.held > HEADER) this.written += this.held;
    this.held = HEADER;
  }

  /** The counter's state into `s` ([held, written]), for a counter in C to go on from (native/flistenc.c). */
  saveState(s: Float64Array): void {
    s[0] = this.held;
    s[1] = this.written;
  }

  /** The state a counter in C left in `s`. */
  loadState(s: Float64Array): void {
    this.held = s[0]!;
    this.written = s[1]!;
  }

  /** Bytes on the wire once the held data is sent: `length` with the held frame's header. */
  get raw(): number {
    return this.written + (this.held > HEADER ? this.held : 0);
  }

  override get length(): number {
    return this.written + this.held - HEADER;
  }

  override u8(_v: number): void {
    this.put(1);
  }

  override int32(_v: number): void {
    this.put(4);
  }

  override bytes(b: Uint8Array): void {
    this.put(b.length);
  }

  override bytesFrom(b: Uint8Array, start: number): void {
    this.put(b.length - start);
  }

  override varint(v: number): void {
    this.put(putVarint(scratch, 0, v));
  }

  override varlong(v: number, min: number): void {
    this.put(putVarlong(scratch, 0, v, min));
  }

  override take(): Buffer {
    throw new Error('MuxCounter counts bytes and keeps none');
  }
}
