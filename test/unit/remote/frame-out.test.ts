// A held stretch of a sender's output (FrameOut.hold, used for a small file sent in one call): released,
// the peer gets the very frames the same bytes make unheld, also when the stretch reaches the point where
// the gathered output is written; rolled back, the frames of the output without the stretch. NdxWriter's
// rewind takes back the indexes of a dropped stretch. flushNow sends what is gathered at once, a few bytes as
// a copy of their own (the buffer refilled in place), and the payload is the same as without it.

import { expect, it } from 'vitest';
import type { Conn } from '../../../src/remote/conn.js';
import { FrameOut, FRAME_ROOM } from '../../../src/remote/frame-out.js';
import { NdxWriter } from '../../../src/remote/ndx.js';

function capture(): { out: FrameOut; written: Buffer[] } {
  const written: Buffer[] = [];
  const conn = { writeFramed: (b: Buffer, done?: () => void) => (written.push(Buffer.from(b)), done?.()) } as unknown as Conn;
  return { out: new FrameOut(conn, 4 * 1024 * 1024), written };
}

/** A file's frame fields as the push lays them out: a few bytes, a 16-byte header, then up to FRAME_ROOM. */
function piece(out: FrameOut, i: number, len: number): void {
  const a = out.reserve(3);
  out.buffer.fill(i & 0xff, a, a + 3);
  const h = out.reserve(16);
  out.buffer.fill((i + 1) & 0xff, h, h + 16);
  const d = out.reserve(len);
  out.buffer.fill((i * 7) & 0xff, d, d + len);
}

const sizes = (n: number): number[] => Array.from({ length: n }, (_, i) => [0, 1, 200, 4000, 20_000, FRAME_ROOM][i % 6]!);

it('released stretches make the frames the same pieces make unheld, across many writes', () => {
  const plain = capture();
  const held = capture();
  const list = sizes(400);
  list.forEach((len, i) => piece(plain.out, i, len));
  list.forEach((len, i) => {
    const m = held.out.hold();
    piece(held.out, i, len);
    expect(m.data).toBeLessThanOrEqual(held.out.data);
    held.out.release();
  });
  plain.out.flush();
  held.out.flush();
  expect(plain.written.length).toBeGreaterThan(10);
  expect(held.written.length).toBe(plain.written.length);
  expect(Buffer.concat(held.written).equals(Buffer.concat(plain.written))).toBe(true);
  expect(held.out.data).toBe(plain.out.data);
});

it('a rolled-back stretch leaves the frames as if it had not been, wherever it falls', () => {
  const list = sizes(300);
  for (const dropEvery of [2, 3, 7]) {
    const plain = capture();
    const held = capture();
    list.forEach((len, i) => {
      if (i % dropEvery !== 0) piece(plain.out, i, len);
      const m = held.out.hold();
      piece(held.out, i, len);
      if (i % dropEvery === 0) held.out.rollback(m);
      else held.out.release();
    });
    plain.out.flush();
    held.out.flush();
    expect(Buffer.concat(held.written).equals(Buffer.concat(plain.written))).toBe(true);
    expect(held.out.data).toBe(plain.out.data);
  }
});

/** The payload of a run of frames (each a 4-byte header with its length in the low 24 bits). */
function payload(frames: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < frames.length; at += 4 + (frames.readUInt32LE(at) & 0xffffff)) parts.push(frames.subarray(at + 4, at + 4 + (frames.readUInt32LE(at) & 0xffffff)));
  return Buffer.concat(parts);
}

it('flushNow sends what is gathered at once, small output as a copy, the payload unchanged', () => {
  const plain = capture();
  const now = capture();
  const list = sizes(120);
  list.forEach((len, i) => {
    piece(plain.out, i, len);
    piece(now.out, i, len);
    const before = now.written.length;
    const buffer = now.out.buffer;
    now.out.flushNow();
    // Every call writes what it gathered; a small piece leaves the buffer as it was.
    expect(now.written.length).toBe(before + 1);
    if (len + 19 <= 16 * 1024) expect(now.out.buffer).toBe(buffer);
  });
  plain.out.flush();
  now.out.flushNow();
  expect(now.out.data).toBe(plain.out.data);
  expect(payload(Buffer.concat(now.written)).equals(payload(Buffer.concat(plain.written)))).toBe(true);
  // Inside a held stretch nothing goes: the positions reserved must stay put.
  const m = now.out.hold();
  piece(now.out, 1, 10);
  const n = now.written.length;
  now.out.flushNow();
  expect(now.written.length).toBe(n);
  now.out.rollback(m);
});

it("NdxWriter.rewind: the next index is encoded as if the dropped ones had not been written", () => {
  const a = new NdxWriter();
  const b = new NdxWriter();
  const enc = (w: NdxWriter, n: number): number[] => [...w.encode(n)];
  expect(enc(a, 5)).toEqual(enc(b, 5));
  const prev = b.lastPositive;
  enc(b, 40_000);
  b.rewind(prev);
  expect(enc(b, 6)).toEqual(enc(a, 6));
});
