// --append's sender (append-send.ts): the receiver's length from a sum header alone, and only the bytes
// past it sent as literal runs, the prefix fed to the whole-file checksum under --append-verify only.

import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { appendFile, appendOffset } from '../../../src/remote/append-send.js';
import { CHUNK_SIZE, type TokenWriter } from '../../../src/remote/tokens.js';

const file = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31) & 0xff));
const read = (buf: Buffer, off: number, len: number, pos: number): number => file.copy(buf, off, pos, Math.min(file.length, pos + len));

function sink(): { w: TokenWriter; literal: Buffer[]; ended: boolean } {
  const s = { literal: [] as Buffer[], ended: false, w: undefined as unknown as TokenWriter };
  s.w = { literal: (b) => void s.literal.push(Buffer.from(b)), match: () => expect.unreachable('no block is matched'), end: () => void (s.ended = true) };
  return s;
}

it("reads the receiver's length from the header as rsync's receive_sums", () => {
  expect(appendOffset({ count: 0, blength: 0, s2length: 0, remainder: 0 })).toBe(0);
  expect(appendOffset({ count: 3, blength: 700, s2length: 2, remainder: 0 })).toBe(2100);
  expect(appendOffset({ count: 3, blength: 700, s2length: 2, remainder: 100 })).toBe(1500);
});

it.each([false, true])('sends only what lies past the receiver (verify: %s)', async (verify) => {
  const head = { count: 43, blength: 700, s2length: 2, remainder: 300 };
  const at = appendOffset(head);
  const s = sink();
  const h = createHash('md5');
  const r = await appendFile(head, file.length, read, { update: (b) => void h.update(b), digest: () => h.digest() }, s.w, verify);
  expect(Buffer.concat(s.literal).equals(file.subarray(at))).toBe(true);
  expect(s.literal.every((b) => b.length <= CHUNK_SIZE)).toBe(true);
  expect(s.ended).toBe(true);
  expect(r).toEqual({ literal: file.length - at, matched: 0, short: false });
  const want = createHash('md5').update(verify ? file : file.subarray(at)).digest();
  expect(h.digest().equals(want)).toBe(true);
});

it('a receiver that claims more than the file has gets nothing, and a file that shrank reads as zeros', async () => {
  const s = sink();
  const r = await appendFile({ count: 1000, blength: 700, s2length: 2, remainder: 0 }, file.length, read, { update: () => undefined, digest: () => Buffer.alloc(16) }, s.w, false);
  expect(s.literal).toEqual([]);
  expect(r.literal).toBe(0);
  const t = sink();
  const shrunk = await appendFile({ count: 1, blength: 700, s2length: 2, remainder: 0 }, file.length + 50, read, { update: () => undefined, digest: () => Buffer.alloc(16) }, t.w, false);
  expect(shrunk.short).toBe(true);
  expect(Buffer.concat(t.literal).subarray(-50).equals(Buffer.alloc(50))).toBe(true);
});
