// A file sent whole (whole-send.ts) puts on the wire exactly what match.ts's search sends for a request
// without block sums — the same tokens in the same sizes, the same whole-file hash, the same shrunk-file
// rule (zeros, `short`) — in data frames of at most 32 KiB + 4 bytes (FrameOut.reserve).

import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import type { Conn } from '../../../src/remote/conn.js';
import { FrameOut } from '../../../src/remote/frame-out.js';
import { matchFile, type ReadAt } from '../../../src/remote/match.js';
import { Msg } from '../../../src/remote/mux.js';
import { PlainTokenWriter } from '../../../src/remote/tokens.js';
import { sendWhole } from '../../../src/remote/whole-send.js';

/** rsync's MPLEX_BASE: a frame's tag byte is the message number plus it. */
const MPLEX_BASE = 7;

const reader = (file: Buffer, shrinkTo = file.length): ReadAt => (buf, off, len, pos) => (pos >= shrinkTo ? 0 : file.copy(buf, off, pos, Math.min(shrinkTo, pos + len)));

/** The frames a FrameOut writes, checked one by one, and their data joined. */
function framesOf(chunks: Buffer[]): { data: Buffer; longest: number } {
  const all = Buffer.concat(chunks);
  const data: Buffer[] = [];
  let longest = 0;
  for (let at = 0; at < all.length; ) {
    const head = all.readUInt32LE(at);
    expect(head >>> 24).toBe(MPLEX_BASE + Msg.Data);
    const len = head & 0xffffff;
    longest = Math.max(longest, len);
    data.push(all.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return { data: Buffer.concat(data), longest };
}

function capture(): { out: FrameOut; written: Buffer[] } {
  const written: Buffer[] = [];
  const conn = { writeFramed: (b: Buffer, done?: () => void) => (written.push(Buffer.from(b)), done?.()) } as unknown as Conn;
  return { out: new FrameOut(conn), written };
}

const md5 = () => {
  const h = createHash('md5');
  return { update: (b: Buffer) => void h.update(b), digest: () => h.digest() };
};

it.each([0, 1, 5000, 32 * 1024, 32 * 1024 + 1, 300_000, 1 << 20])('%i bytes: the tokens, frames and hash of the search without sums', async (size) => {
  const file = Buffer.from(Array.from({ length: size }, (_, i) => (i * 131 + (i >> 9)) & 0xff));
  const head = { count: 0, blength: 0, s2length: 0, remainder: 0 };

  const a = capture();
  a.out.push(Buffer.from('before'));
  const ha = md5();
  const sentA: number[] = [];
  const ra = await sendWhole(a.out, size, reader(file), ha, (n) => void sentA.push(n));
  a.out.push(Buffer.from('after'));
  a.out.flush();

  const b = capture();
  b.out.push(Buffer.from('before'));
  const hb = md5();
  const sentB: number[] = [];
  const rb = await matchFile({ head, sum1: new Uint32Array(0), sum2: Buffer.alloc(0) }, size, reader(file), hb, () => Buffer.alloc(0), new PlainTokenWriter(b.out.push), false, (n) => void sentB.push(n));
  b.out.push(Buffer.from('after'));
  b.out.flush();

  const fa = framesOf(a.written);
  expect(fa.data.equals(framesOf(b.written).data)).toBe(true);
  expect(fa.longest).toBeLessThanOrEqual(32 * 1024 + 4);
  expect(ra).toEqual(rb);
  expect(ra).toEqual({ literal: size, matched: 0, short: false });
  expect(ha.digest().equals(hb.digest())).toBe(true);
  expect(sentA).toEqual(sentB.filter((n) => n > 0));
});

it('a file that shrank while it was read: zeros to its listed length, short, as the search sends it', async () => {
  const size = 100_000;
  const file = Buffer.alloc(size, 7);
  const a = capture();
  const ha = md5();
  const ra = await sendWhole(a.out, size, reader(file, 40_000), ha, () => undefined);
  a.out.flush();
  const b = capture();
  const hb = md5();
  const rb = await matchFile({ head: { count: 0, blength: 0, s2length: 0, remainder: 0 }, sum1: new Uint32Array(0), sum2: Buffer.alloc(0) }, size, reader(file, 40_000), hb, () => Buffer.alloc(0), new PlainTokenWriter(b.out.push), false);
  b.out.flush();
  expect(ra).toEqual({ literal: size, matched: 0, short: true });
  expect(rb.short).toBe(true);
  expect(framesOf(a.written).data.equals(framesOf(b.written).data)).toBe(true);
  expect(ha.digest().equals(hb.digest())).toBe(true);
});
