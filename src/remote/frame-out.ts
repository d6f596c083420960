// A sender's gathered output (rsync's buffered writes on a multiplexed stream): bytes are copied once,
// straight into data frames built in place in a large buffer, and go to the peer in one write when the
// buffer fills or before the session waits for the peer. Nothing handed to `push` is kept: the caller
// may reuse its buffer at once (the delta's read window does).

import type { Conn } from './conn.js';
import { Msg, putFrameHead } from './mux.js';

/** rsync's I/O buffer: the longest data frame it sends. */
const FRAME = 32 * 1024;
/** How much is gathered before it is written (fewer, larger writes to the pipe). */
const GATHER = 256 * 1024;

export class FrameOut {
  private buf = Buffer.allocUnsafe(GATHER + FRAME + 4 * (GATHER / FRAME + 2));
  private pos = 0;
  /** Where the open frame's header is (-1: none open). */
  private head = -1;

  constructor(private readonly conn: Conn) {}

  push = (b: Buffer): void => {
    for (let at = 0; at < b.length; ) {
      if (this.head < 0 || this.pos - this.head - 4 >= FRAME) {
        this.close();
        if (this.pos >= GATHER) this.flush();
        this.head = this.pos;
        this.pos += 4;
      }
      const n = Math.min(b.length - at, FRAME - (this.pos - this.head - 4));
      b.copy(this.buf, this.pos, at, at + n);
      this.pos += n;
      at += n;
    }
  };

  private close(): void {
    if (this.head >= 0) putFrameHead(this.buf, this.head, Msg.Data, this.pos - this.head - 4);
    this.head = -1;
  }

  /** Sends what is gathered; the stream keeps the buffer, so the next bytes go into a new one. */
  flush(): void {
    this.close();
    if (!this.pos) return;
    this.conn.writeFramed(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
  }
}
