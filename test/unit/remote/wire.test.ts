// src/remote/wire.ts and mux.ts: rsync's integer encodings and frames, checked against bytes a real
// rsync 3.5 sent (captured from a session through a recording remote shell) and by round trips.

import { describe, expect, it } from 'vitest';
import { Cursor, ProtocolError, Short, copyBytes, extraBytes, int32, varint, varlong, vstring } from '../../../src/remote/wire.js';
import { Demux, Msg, dataFrames, frame } from '../../../src/remote/mux.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');

describe('varint', () => {
  // Each pair: a value and the bytes rsync 3.5 wrote for it in a captured session.
  const seen: [number, string][] = [
    [0x1ff, '81 ff'], // compat flags of a server asked for incremental recursion
    [0x1fe, '81 fe'], // ... and without it
    [0x2019, 'a0 19'], // file-list flags: TOP_DIR | SAME_UID | SAME_GID | MOD_NSEC
    [0x2098, 'a0 98'],
    [712698297, 'f0 b9 e9 7a 2a'], // a modification time's nanoseconds
    [0, '00'],
    [0x7f, '7f'],
  ];
  it.each(seen)("encodes %i as rsync does", (v, bytes) => {
    expect(varint(v).toString('hex')).toBe(hex(bytes).toString('hex'));
    expect(new Cursor(hex(bytes)).varint()).toBe(v);
  });

  it('round-trips the whole int32 range', () => {
    const values = [1, 0x80, 0xff, 0x100, 0x3fff, 0x4000, 0x1fffff, 0x200000, 0x0fffffff, 0x10000000, 0x7fffffff, -1, -2, -0x80000000];
    for (let i = 0; i < 2000; i++) values.push((Math.random() * 2 ** 32) | 0);
    for (const v of values) {
      const b = varint(v);
      const c = new Cursor(b);
      expect(c.varint()).toBe(v);
      expect(c.left).toBe(0);
      expect(b.length).toBe(1 + extraBytes(b[0]!));
    }
  });

  it('refuses a first byte that announces more than four more bytes', () => {
    expect(() => new Cursor(hex('f8 00 00 00 00 00')).varint()).toThrow(ProtocolError);
  });

  it('throws Short, consuming nothing visible, when the bytes have not all arrived', () => {
    expect(() => new Cursor(hex('f0 b9 e9')).varint()).toThrow(Short);
    expect(() => new Cursor(Buffer.alloc(0)).varint()).toThrow(Short);
  });
});

describe('varlong', () => {
  const seen: [number, number, string][] = [
    [4096, 3, '00 00 10'], // a directory's size
    [6, 3, '00 06 00'],
    [1, 3, '00 01 00'],
    [0x6b0db937, 4, '6b 37 b9 0d'], // a modification time
  ];
  it.each(seen)('encodes %i (min %i bytes) as rsync does', (v, min, bytes) => {
    expect(varlong(v, min).toString('hex')).toBe(hex(bytes).toString('hex'));
    expect(new Cursor(hex(bytes)).varlong(min)).toBe(v);
  });

  it('round-trips sizes and times, negative times included', () => {
    const values = [0, 1, 0xff, 0xffff, 0xffffff, 2 ** 32, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER, -1, -86400, -(2 ** 40)];
    for (let i = 0; i < 2000; i++) values.push(Math.floor((Math.random() - 0.3) * 2 ** (8 + Math.floor(Math.random() * 45))));
    for (const min of [3, 4]) {
      for (const v of values) {
        const c = new Cursor(varlong(v, min));
        expect(c.varlong(min)).toBe(v);
        expect(c.left).toBe(0);
      }
    }
  });

  it('refuses a value no size or time can have rather than rounding it', () => {
    const big = Buffer.alloc(9);
    big.writeBigInt64LE(2n ** 60n, 1);
    big[0] = 0xfe; // 6 more bytes after the 3: a 9-byte value
    expect(() => new Cursor(Buffer.concat([big, Buffer.alloc(4)])).varlong(3)).toThrow(ProtocolError);
  });
});

describe('varint and varlong against read_varint/read_varlong taken literally', () => {
  /** rsync's unions: the bytes gathered in a zeroed buffer, then read as one little-endian integer. */
  const refVarint = (b: Buffer): number => {
    const extra = extraBytes(b[0]!);
    if (extra === 0) return b[0]!;
    const u = Buffer.alloc(5);
    b.copy(u, 0, 1, 1 + extra);
    u[extra] = b[0]! & ((1 << (8 - extra)) - 1);
    return u.readInt32LE(0);
  };
  const refVarlong = (b: Buffer, min: number): bigint => {
    const extra = extraBytes(b[0]!);
    const u = Buffer.alloc(9);
    b.copy(u, 0, 1, min);
    b.copy(u, min - 1, min, min + extra);
    u[min + extra - 1] = extra ? b[0]! & ((1 << (8 - extra)) - 1) : b[0]!;
    return u.readBigInt64LE(0);
  };
  it('decode every first byte with random following bytes as the unions do', () => {
    let x = 12345;
    const rnd = (): number => ((x = (x * 1103515245 + 12345) & 0x7fffffff) >> 8) & 0xff;
    for (let first = 0; first < 256; first++) {
      for (let k = 0; k < 20; k++) {
        const b = Buffer.from([first, ...Array.from({ length: 9 }, rnd)]);
        if (extraBytes(first) < 5) expect(new Cursor(b).varint(), `varint ${b.toString('hex')}`).toBe(refVarint(b));
        for (const min of [3, 4]) {
          if (min + extraBytes(first) > 9) continue;
          const want = refVarlong(b, min);
          if (want > BigInt(Number.MAX_SAFE_INTEGER) || want < BigInt(Number.MIN_SAFE_INTEGER)) {
            expect(() => new Cursor(b).varlong(min)).toThrow(ProtocolError);
          } else expect(new Cursor(b).varlong(min), `varlong ${b.toString('hex')} min ${min}`).toBe(Number(want));
        }
      }
    }
  });
});

describe('int32 and vstring', () => {
  it('int32 is little-endian and signed', () => {
    expect(int32(32).toString('hex')).toBe('20000000');
    expect(new Cursor(hex('ff ff ff ff')).int32()).toBe(-1);
  });

  it("vstring: one length byte below 128, two above, and rsync's limit", () => {
    expect(vstring('md5').toString('hex')).toBe('036d6435');
    const long = 'x'.repeat(300);
    const b = vstring(long);
    expect(b.subarray(0, 2).toString('hex')).toBe('812c');
    expect(new Cursor(b).vstring(1024).toString()).toBe(long);
    expect(() => new Cursor(b).vstring(100)).toThrow(ProtocolError);
    expect(() => vstring('y'.repeat(0x8000))).toThrow(ProtocolError);
  });
});

describe('frames', () => {
  it("carry the tag plus 7 in the top byte, as rsync's MPLEX_BASE", () => {
    // A data frame of 4 bytes, as a client sends its empty filter list.
    expect(frame(Msg.Data, int32(0)).toString('hex')).toBe('0400000700000000');
    expect(frame(Msg.Info, Buffer.from('hi')).toString('hex')).toBe('0200000968' + '69');
  });

  it('come out whole however the bytes are cut', () => {
    const wire = Buffer.concat([frame(Msg.Data, Buffer.from('abc')), frame(Msg.Error, Buffer.from('oops\n')), ...dataFrames(Buffer.alloc(70000, 1))]);
    for (const cut of [1, 3, 4, 5, 7, 1000, wire.length]) {
      const d = new Demux();
      const got: { tag: number; len: number }[] = [];
      for (let at = 0; at < wire.length; at += cut) for (const f of d.push(wire.subarray(at, at + cut))) got.push({ tag: f.tag, len: f.payload.length });
      expect(got).toEqual([
        { tag: Msg.Data, len: 3 },
        { tag: Msg.Error, len: 5 },
        { tag: Msg.Data, len: 32768 },
        { tag: Msg.Data, len: 32768 },
        { tag: Msg.Data, len: 70000 - 65536 },
      ]);
      expect(d.buffered).toBe(0);
    }
  });

  it('come as the pieces they arrived in through split, a header cut across three chunks too', () => {
    const wire = Buffer.concat([frame(Msg.Data, Buffer.from('hello world')), frame(Msg.Info, Buffer.from('note\n')), frame(Msg.Data, Buffer.alloc(0))]);
    const d = new Demux();
    const got: { tag: number; pieces: string[] }[] = [];
    // The first header in 1+1+2 bytes, its payload in two pieces; the second frame whole in one chunk.
    for (const [a, b] of [[0, 1], [1, 2], [2, 10], [10, 15], [15, wire.length]] as const) {
      d.split(wire.subarray(a, b), (tag, pieces) => got.push({ tag, pieces: pieces.map((p) => p.toString()) }));
    }
    expect(got).toEqual([
      { tag: Msg.Data, pieces: ['hello ', 'world'] },
      { tag: Msg.Info, pieces: ['note\n'] },
      { tag: Msg.Data, pieces: [] },
    ]);
    expect(d.buffered).toBe(0);
  });

  it('refuse a header below the multiplex base (a peer that is not multiplexing)', () => {
    expect(() => new Demux().push(hex('00 00 00 06'))).toThrow(ProtocolError);
  });
});

describe('copyBytes and Cursor.copyTo', () => {
  // Short copies take a JavaScript loop, long ones Buffer.copy: both must land the same bytes.
  it.each([0, 1, 63, 64, 65, 300])('copies %i bytes at an offset, leaving the rest alone', (n) => {
    const from = Buffer.from(Array.from({ length: n + 7 }, (_, i) => (i * 37 + 11) & 0xff));
    const to = Buffer.alloc(n + 5, 0xaa);
    copyBytes(from, 7, to, 3, n);
    expect(to.subarray(3, 3 + n)).toEqual(from.subarray(7, 7 + n));
    expect([...to.subarray(0, 3), ...to.subarray(3 + n)]).toEqual([0xaa, 0xaa, 0xaa, 0xaa, 0xaa]);
    const c = new Cursor(from, 7);
    const to2 = Buffer.alloc(n + 5, 0xaa);
    c.copyTo(to2, 3, n);
    expect(to2).toEqual(to);
    expect(c.pos).toBe(7 + n);
  });

  it('copyTo past the buffered bytes is Short and moves nothing', () => {
    const c = new Cursor(Buffer.from([1, 2, 3]), 1);
    expect(() => c.copyTo(Buffer.alloc(8), 0, 3)).toThrow(Short);
    expect(c.pos).toBe(1);
  });
});
