// A push's block sums decoded as they arrive (src/remote/match.ts, SumsReader and receiveSums): the far
// side's generator writes them while it reads its basis, so they come in pieces that split records
// anywhere. Whatever the pieces, the sums are the ones sent, only whole records are taken, and the bytes
// after the last record are left for the next read.

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Conn } from '../../../src/remote/conn.js';
import { SumsReader, receiveSums, type SumHead } from '../../../src/remote/match.js';
import { Cursor, Short } from '../../../src/remote/wire.js';

/** count records of a 4-byte weak sum and s2 strong bytes, each byte derived from its place. */
function records(count: number, s2: number): { wire: Buffer; sum1: Uint32Array; sum2: Buffer } {
  const sum1 = new Uint32Array(count);
  const sum2 = Buffer.alloc(count * s2);
  const wire = Buffer.alloc(count * (4 + s2));
  for (let i = 0; i < count; i++) {
    sum1[i] = (Math.imul(i + 1, 0x9e3779b1) ^ 0x80000000) >>> 0;
    wire.writeUInt32LE(sum1[i]!, i * (4 + s2));
    for (let j = 0; j < s2; j++) {
      sum2[i * s2 + j] = (i * 31 + j * 7) & 0xff;
      wire[i * (4 + s2) + 4 + j] = sum2[i * s2 + j]!;
    }
  }
  return { wire, sum1, sum2 };
}

const head = (count: number, s2: number): SumHead => ({ count, blength: 700, s2length: s2, remainder: 0 });

describe('SumsReader', () => {
  it('asks for more until one whole record is there, and takes only whole records', () => {
    const { wire } = records(3, 16);
    const r = new SumsReader(head(3, 16));
    expect(() => r.take(new Cursor(wire.subarray(0, 19)))).toThrow(Short);
    const c = new Cursor(wire.subarray(0, 50));
    r.take(c);
    expect(c.pos).toBe(40);
    expect(r.done).toBe(false);
    r.take(new Cursor(wire.subarray(40)));
    expect(r.done).toBe(true);
  });

  it('never reads past the last record', () => {
    const { wire, sum1 } = records(2, 2);
    const r = new SumsReader(head(2, 2));
    const c = new Cursor(Buffer.concat([wire, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8])]));
    r.take(c);
    expect(r.done).toBe(true);
    expect(c.pos).toBe(wire.length);
    expect(r.sums.sum1).toEqual(sum1);
  });

  for (const s2 of [2, 16, 64]) {
    it(`gives the sums sent when they arrive in uneven pieces (strong sums of ${s2} bytes)`, async () => {
      const count = 5000;
      const { wire, sum1, sum2 } = records(count, s2);
      const tail = Buffer.from('next');
      const input = new PassThrough();
      const conn = new Conn(input, new PassThrough(), () => {});
      const got = receiveSums(conn, head(count, s2));
      // Pieces of 1 to 4,099 bytes, one per turn of the event loop, the last followed by what comes next.
      const all = Buffer.concat([wire, tail]);
      for (let at = 0, k = 0; at < all.length; k++) {
        const n = 1 + ((k * 2_654_435_761) >>> 0) % 4099;
        input.write(all.subarray(at, at + n));
        at += n;
        await new Promise((r) => setImmediate(r));
      }
      const sums = await got;
      expect(sums.sum1).toEqual(sum1);
      expect(sums.sum2.equals(sum2)).toBe(true);
      expect((await conn.read((c) => c.bytes(tail.length))).toString()).toBe('next');
    });
  }
});
