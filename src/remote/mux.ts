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
  private parts: Buffer[] = [];
  private size = 0;
  /** Bytes needed before the next frame can be complete (a header, or a header and its payload). */
  private want = 4;

  push(chunk: Buffer): Frame[] {
    this.parts.push(chunk);
    this.size += chunk.length;
    // Joined only once a whole frame is here: a large frame arriving in small pieces costs one copy.
    if (this.size < this.want) return [];
    const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    const frames: Frame[] = [];
    let pos = 0;
    this.want = 4;
    while (all.length - pos >= 4) {
      const head = all.readUInt32LE(pos);
      const tag = (head >>> 24) - MPLEX_BASE;
      const len = head & MAX_FRAME;
      if (tag < 0) throw new ProtocolError(`unexpected tag ${tag} [client]`, Exit.StreamIO);
      if (all.length - pos - 4 < len) {
        this.want = 4 + len;
        break;
      }
      frames.push({ tag, payload: all.subarray(pos + 4, pos + 4 + len) });
      pos += 4 + len;
    }
    const rest = all.subarray(pos);
    this.parts = rest.length ? [rest] : [];
    this.size = rest.length;
    return frames;
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
