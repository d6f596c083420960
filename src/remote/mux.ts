// rsync's multiplexed stream: after the handshake every frame carries a 4-byte little-endian header
// whose top byte is the message tag plus MPLEX_BASE (7) and whose low 24 bits are the payload length.
// Tag 0 is the data stream; the others are the peer's log lines, errors and control messages. This
// module splits frames and builds them; what a message means is the session's business.

import { Exit } from '../util/errors.js';
import { ProtocolError } from './wire.js';

const MPLEX_BASE = 7;
/** rsync sends frames of at most its I/O buffer; a larger length is garbage (it also caps it). */
export const MAX_FRAME = 0xffffff;

/** The message tags rsync 3.x sends (rsync.h's enum msgcode). */
export const Msg = {
  Data: 0,
  ErrorXfer: 1,
  Info: 2,
  Error: 3,
  Warning: 4,
  ErrorSocket: 5,
  Log: 6,
  Client: 7,
  ErrorUtf8: 8,
  Redo: 9,
  Stats: 10,
  IoError: 22,
  IoTimeout: 33,
  Noop: 42,
  ErrorExit: 86,
  Success: 100,
  Deleted: 101,
  NoSend: 102,
} as const;

export interface Frame {
  tag: number;
  payload: Buffer;
}

/**
 * Takes the raw bytes as they arrive and hands back whole frames. A frame's payload is only handed
 * out once all of it is here, so no consumer ever sees half a message.
 */
export class Demux {
  /** Bytes not yet handed out, as the chunks (or their tails) they arrived in. */
  private parts: Buffer[] = [];
  private size = 0;
  /** Bytes needed before the next frame can be complete (a header, or a header and its payload). */
  private want = 4;

  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    this.split(chunk, (tag, pieces) => frames.push({ tag, payload: pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces) }));
    return frames;
  }

  /**
   * As push, but each whole frame is handed to `frame` as the pieces of the chunks its payload arrived
   * in, views not joined: a data stream copies them on anyway (conn.ts), and joining the chunks a
   * frame straddles copied half of a pull's bytes once more (608 MB of the Linux tree's 1.3 GB).
   */
  split(chunk: Buffer, frame: (tag: number, pieces: Buffer[]) => void): void {
    this.parts.push(chunk);
    this.size += chunk.length;
    if (this.size < this.want) return;
    this.want = 4;
    while (this.size >= 4) {
      const head = this.header();
      const tag = (head >>> 24) - MPLEX_BASE;
      const len = head & MAX_FRAME;
      if (tag < 0) throw new ProtocolError(`unexpected tag ${tag} [client]`, Exit.StreamIO);
      if (this.size - 4 < len) {
        this.want = 4 + len;
        break;
      }
      this.take(4);
      frame(tag, this.take(len));
    }
  }

  /** The next frame's header (size >= 4), which may straddle chunks. */
  private header(): number {
    const first = this.parts[0]!;
    if (first.length >= 4) return first.readUInt32LE(0);
    const b = Buffer.alloc(4);
    let at = 0;
    for (const p of this.parts) {
      at += p.copy(b, at, 0, Math.min(p.length, 4 - at));
      if (at === 4) break;
    }
    return b.readUInt32LE(0);
  }

  /** The first `n` bytes (n <= size), removed, as views of the chunks that hold them. */
  private take(n: number): Buffer[] {
    const out: Buffer[] = [];
    this.size -= n;
    while (n > 0) {
      const p = this.parts[0]!;
      if (p.length <= n) {
        out.push(p);
        this.parts.shift();
        n -= p.length;
      } else {
        out.push(p.subarray(0, n));
        this.parts[0] = p.subarray(n);
        n = 0;
      }
    }
    return out;
  }

  /** Bytes of an incomplete frame still waiting for the rest. */
  get buffered(): number {
    return this.size;
  }
}

/** One frame: header and payload. Data longer than a frame's limit is split by `dataFrames`. */
export function frame(tag: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  putFrameHead(head, 0, tag, payload.length);
  return Buffer.concat([head, payload]);
}

/** Writes a frame's 4-byte header at `at` (for writers that build frames in place). */
export function putFrameHead(to: Buffer, at: number, tag: number, length: number): void {
  if (length > MAX_FRAME) throw new Error(`frame of ${length} bytes`);
  to.writeUInt32LE((((tag + MPLEX_BASE) << 24) | length) >>> 0, at);
}

/** Data for the multiplexed stream, in frames no longer than rsync's own I/O buffer sends. */
export function dataFrames(data: Buffer, max = 32 * 1024): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += max) out.push(frame(Msg.Data, data.subarray(at, at + max)));
  return out;
}
