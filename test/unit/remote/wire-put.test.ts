// The in-place encoders (putVarint/putVarlong, which the buffered writers use) against rsync's rule
// written out the plain way with a BigInt, over values of every length and sign, and read back.

import { expect, it } from 'vitest';
import { Cursor, putVarint, putVarlong, varint, varlong } from '../../../src/remote/wire.js';

/** rsync's write_varlong, byte by byte from a 64-bit little-endian value. */
function reference(v: bigint, min: number): Buffer {
  const b = Buffer.alloc(9);
  b.writeBigInt64LE(v, 1);
  let cnt = 8;
  while (cnt > min && b[cnt] === 0) cnt--;
  const bit = 1 << (7 - cnt + min);
  if (b[cnt]! >= bit) {
    cnt++;
    b[0] = ~(bit - 1) & 0xff;
  } else if (cnt > min) b[0] = (b[cnt]! | ~(bit * 2 - 1)) & 0xff;
  else b[0] = b[cnt]!;
  return b.subarray(0, cnt);
}

const values = [0, 1, 0x7f, 0x80, 0xff, 0x3fff, 0x4000, 0xffff, 0x1fffff, 0x200000, 0xffffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 2 ** 40 + 5, 2 ** 53 - 1, -1, -2, -(2 ** 31), -(2 ** 40)];

it.each([3, 4])('putVarlong writes what rsync writes and reads back (min %i)', (min) => {
  for (const v of values) {
    const to = Buffer.alloc(12, 0xaa);
    const n = putVarlong(to, 2, v, min);
    expect(to.subarray(2, 2 + n)).toEqual(reference(BigInt(v), min));
    expect(to[0]).toBe(0xaa);
    expect(varlong(v, min)).toEqual(reference(BigInt(v), min));
    expect(new Cursor(to, 2).varlong(min)).toBe(v);
  }
});

it('putVarint writes the 32-bit form and reads back', () => {
  for (const v of values.filter((x) => x === (x | 0))) {
    const to = Buffer.alloc(8, 0xaa);
    const n = putVarint(to, 1, v);
    expect(to.subarray(1, 1 + n)).toEqual(varint(v));
    expect(new Cursor(to, 1).varint()).toBe(v);
  }
});
