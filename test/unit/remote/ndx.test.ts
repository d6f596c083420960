// The file indexes on the wire (rsync's write_ndx/read_ndx): what NdxWriter writes, into a new Buffer or
// in place into a frame, NdxReader reads back in order — small steps, large jumps, backward steps,
// negative indexes and the end marker.

import { expect, it } from 'vitest';
import { NDX_DONE, NDX_MAX, NdxReader, NdxWriter } from '../../../src/remote/ndx.js';
import { Cursor } from '../../../src/remote/wire.js';

const SEQUENCE = [0, 1, 2, 5, 250, 253, 254, 600, 0x7fff, 0x8100, 70000, 3, NDX_DONE, 4, -101, -102, -500, 1 << 24, (1 << 30) + 7, 8, NDX_DONE];

it('reads back what was written, through encode and through encodeInto alike', () => {
  const byEncode = new NdxWriter();
  const byInto = new NdxWriter();
  const parts: Buffer[] = [];
  const frame = Buffer.alloc(SEQUENCE.length * NDX_MAX + 3, 0xaa);
  let at = 3;
  for (const ndx of SEQUENCE) {
    const b = byEncode.encode(ndx);
    expect(b.length).toBeLessThanOrEqual(NDX_MAX);
    parts.push(b);
    const n = byInto.encodeInto(ndx, frame, at);
    expect(frame.subarray(at, at + n)).toEqual(b);
    at += n;
  }
  const wire = Buffer.concat(parts);
  expect(frame.subarray(3, at)).toEqual(wire);
  expect(frame.subarray(0, 3)).toEqual(Buffer.alloc(3, 0xaa));
  const reader = new NdxReader();
  const c = new Cursor(wire);
  expect(SEQUENCE.map(() => reader.decode(c))).toEqual(SEQUENCE);
  expect(c.left).toBe(0);
});
