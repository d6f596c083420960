// A sender's gathered output (rsync's buffered writes on a multiplexed stream): bytes are copied once,
// straight into data frames built in place in a large buffer, and go to the peer in one write when the
// buffer fills or before the session waits for the peer. Nothing handed to `push` is kept: the caller
// may reuse its buffer at once (the delta's read window does).

import type { Conn } from './conn.js';
import { Msg, putFrameHead } from './mux.js';

/** rsync's I/O buffer: the longest data frame it sends. */
const FRAME = 32 * 1024;
/** The most one `reserve` can hold. */
export const FRAME_ROOM = FRAME + 4;
/** How much is gathered before it is written (fewer, larger writes to the pipe). */
const GATHER = 256 * 1024;
/** Written buffers kept for reuse when the caller names no backlog. */
const SPARES = 4;
/** Up to this much, `flushNow` sends a copy and keeps filling the same buffer. */
const COPY_OUT = 16 * 1024;

/** Where a FrameOut's output stood (hold), to go back to (rollback). */
export interface OutMark {
  pos: number;
  head: number;
  data: number;
}

export class FrameOut {
  // Past GATHER: the frame open when it is reached, and a held stretch's frames (`hold`).
  private buf: Buffer = Buffer.allocUnsafe(GATHER + 2 * FRAME + FRAME_ROOM + 4 * (GATHER / FRAME + 8));
  private pos = 0;
  /** Inside hold(): no flush, so what is reserved can be taken back (`rollback`). */
  private held = false;
  /** Where a held stretch began a frame with GATHER reached: release flushes what is before it (-1: nowhere). */
  private cut = -1;
  /** Where the open frame's header is (-1: none open). */
  private head = -1;
  private readonly spare: Buffer[] = [];
  /** How many written buffers are kept for reuse. */
  private readonly spares: number;

  /** Payload bytes handed in so far, frame headers left out (rsync's total_data_written: its %b). */
  data = 0;

  /**
   * `backlog`: the most output the caller lets wait for the peer. Every buffer that can be in flight
   * then is kept once written: with four kept, a fresh push (whose backlog is megabytes) dropped most
   * of them and took new ones, and the kernel faulted in every page of each new one as the file reads
   * filled it (about half of the push's page faults, measured in docs/benchmarks.md).
   */
  constructor(
    private readonly conn: Conn,
    backlog = 0,
  ) {
    this.spares = Math.max(SPARES, Math.ceil(backlog / GATHER) + 2);
  }

  push = (b: Buffer): void => {
    this.data += b.length;
    for (let at = 0; at < b.length; ) {
      if (this.head < 0 || this.pos - this.head - 4 >= FRAME) {
        this.close();
        if (this.pos >= GATHER) this.flushOrCut();
        this.head = this.pos;
        this.pos += 4;
      }
      const n = Math.min(b.length - at, FRAME - (this.pos - this.head - 4));
      b.copy(this.buf, this.pos, at, at + n);
      this.pos += n;
      at += n;
    }
  };

  /**
   * Room for `n` bytes (at most FRAME + 4) in one data frame: where they start in `buffer`, for the caller to fill at once (before anything else is pushed): a literal token's length and
   * the file's bytes read straight into place. A frame that lacks the room is closed first, so a frame
   * may hold up to FRAME + 4 bytes (rsync reads a data frame of any length up to 2^24 - 1).
   */
  reserve(n: number): number {
    this.data += n;
    if (this.head < 0 || FRAME + 4 - (this.pos - this.head - 4) < n) {
      this.close();
      if (this.pos >= GATHER) this.flushOrCut();
      this.head = this.pos;
      this.pos += 4;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /**
   * Starts a stretch that may be taken back: until `release` or `rollback` nothing is flushed (the
   * frames go on in this buffer, which has room for one more file's frame past GATHER), so the buffer
   * and the positions reserved stay put. At most one small file's bytes (FRAME_ROOM and its fields) may
   * go in a stretch. Returns where the output stood.
   */
  hold(): OutMark {
    this.held = true;
    return { pos: this.pos, head: this.head, data: this.data };
  }

  /**
   * Ends a held stretch, keeping its bytes. When it began a frame past GATHER, the frames before that
   * one go now, as `flush` would have sent them then, and the open frame moves to the next buffer.
   */
  release(): void {
    this.held = false;
    if (this.cut < 0) return;
    const cut = this.cut;
    this.cut = -1;
    const full = this.buf;
    this.conn.writeFramed(full.subarray(0, cut), () => {
      if (this.spare.length < this.spares) this.spare.push(full);
    });
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(full.length);
    full.copy(this.buf, 0, cut, this.pos);
    this.pos -= cut;
    this.head -= cut;
  }

  /** Ends a held stretch, dropping every byte pushed or reserved since `hold` gave `m`. */
  rollback(m: OutMark): void {
    this.held = false;
    this.cut = -1;
    this.pos = m.pos;
    this.head = m.head;
    this.data = m.data;
  }

  /** At a frame's start with GATHER reached: the flush, or inside a held stretch where it would have been. */
  private flushOrCut(): void {
    if (!this.held) this.flush();
    else if (this.cut < 0) this.cut = this.pos;
  }

  /** The buffer `reserve`'s positions are in (it changes with the next flush). */
  get buffer(): Buffer {
    return this.buf;
  }

  private close(): void {
    if (this.head >= 0) putFrameHead(this.buf, this.head, Msg.Data, this.pos - this.head - 4);
    this.head = -1;
  }

  /**
   * Sends what is gathered now, however little, unless a held stretch is open. A delta's tokens are a
   * few bytes each and each stands for a block the receiver must copy: gathered to GATHER they would
   * hold back hundreds of megabytes of its work. A few bytes go as a copy, so the large buffer is not
   * spent on them while the pipe is full.
   */
  flushNow(): void {
    if (this.held) return;
    this.close();
    if (!this.pos || this.pos > COPY_OUT) {
      this.flush();
      return;
    }
    this.conn.writeFramed(Buffer.from(this.buf.subarray(0, this.pos)));
    this.pos = 0;
  }

  /**
   * Sends what is gathered. The stream keeps the buffer until the pipe took it, so the next bytes go
   * into a spare one; buffers come back to the spares once written (no allocation per flush, which
   * would make the garbage collector chase external memory).
   */
  flush(): void {
    this.close();
    if (!this.pos) return;
    const full = this.buf;
    this.conn.writeFramed(full.subarray(0, this.pos), () => {
      if (this.spare.length < this.spares) this.spare.push(full);
    });
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(full.length);
    this.pos = 0;
  }
}
