// MuxCounter: rsync's 64 KiB multiplexed output buffer, counted: a frame header per flush, a frame cut
// before a write that does not fit (io.c write_buf), nothing for an empty flush.

import { describe, expect, it } from 'vitest';
import { MuxCounter } from '../../../src/run/stream-out.js';

describe('MuxCounter', () => {
  it('counts a flushed frame with its 4-byte header, and an empty flush as nothing', () => {
    const m = new MuxCounter();
    m.flush();
    expect(m.written).toBe(0);
    m.u8(1);
    m.int32(7);
    m.varint(300);
    expect(m.length).toBe(1 + 4 + 2);
    m.flush();
    expect(m.written).toBe(4 + 7);
  });

  it('cuts a frame before the write that would overflow the buffer, never inside it', () => {
    const m = new MuxCounter();
    const piece = Buffer.alloc(1000);
    for (let i = 0; i < 65; i++) m.bytes(piece);
    // 65 pieces fit (4 + 65,000 <= 65,536); the 66th starts the next frame.
    expect(m.written).toBe(0);
    m.bytes(piece);
    expect(m.written).toBe(4 + 65_000);
    m.flush();
    expect(m.written).toBe(4 + 65_000 + 4 + 1000);
  });

  it('sizes varints and varlongs as rsync writes them', () => {
    const m = new MuxCounter();
    m.varint(0);
    m.varint(127);
    m.varlong(1_700_000_000, 4);
    m.bytesFrom(Buffer.from('abcdef'), 2);
    // 1,700,000,000 is 0x6553f100: its top byte is below the marker bit, so four bytes carry it.
    expect(m.length).toBe(1 + 1 + 4 + 4);
  });
});
