// run/wire-bytes.ts: the sizes of rsync's protocol stream for a local copy, checked against the figures
// rsync 3.5 prints for %b (measured on this machine: a whole file costs its data plus 39 bytes plus 4 per
// 32 KiB piece with the default xxh128 transfer checksum; the e2e test out-format-bytes runs rsync itself).

import { describe, expect, it } from 'vitest';
import { TokenBytes, deltaWireBytes, literalTokenBytes, ndxLength, wholeFileWireBytes, xferSumLength } from '../../../src/run/wire-bytes.js';

const p32 = { protocol: 32, sumLength: 16 };

describe('wire-bytes', () => {
  it('a whole file: rsync 3.5\'s %b for the sizes around a token piece', () => {
    expect([0, 1, 32767, 32768, 32769, 1048576].map((n) => wholeFileWireBytes(n, p32))).toEqual([39, 44, 32810, 32811, 32816, 1048743]);
  });

  it('the transfer checksum\'s length by --checksum-choice name', () => {
    expect(['xxh128', 'md5', 'md4', 'auto', undefined, 'xxh64', 'xxhash', 'xxh3', 'sha1', 'none'].map(xferSumLength)).toEqual([16, 16, 16, 16, 16, 8, 8, 8, 20, 1]);
    expect(wholeFileWireBytes(1, { protocol: 32, sumLength: xferSumLength('none') })).toBe(29);
    expect(wholeFileWireBytes(1, { protocol: 32, sumLength: xferSumLength('sha1') })).toBe(48);
  });

  it('index steps: one byte for 1-253, then 0xFE and two bytes, then five; an int before protocol 30', () => {
    expect([1, 253, 254, 0x7fff, 0x8000, 0, -3].map((s) => ndxLength(s))).toEqual([1, 1, 3, 3, 5, 3, 5]);
    expect(ndxLength(1, 29)).toBe(4);
    expect(wholeFileWireBytes(1, { protocol: 29, sumLength: 16 })).toBe(47);
    expect(wholeFileWireBytes(3, p32, 299)).toBe(48);
  });

  it('literal tokens: a 4-byte length per piece of at most 32 KiB and the end token', () => {
    expect(literalTokenBytes(0)).toBe(4);
    expect(literalTokenBytes(65536)).toBe(65536 + 8 + 4);
    expect(literalTokenBytes(65537)).toBe(65537 + 12 + 4);
  });

  it('a delta\'s tokens are counted as the writer passes them on', () => {
    const seen: string[] = [];
    const t = new TokenBytes({ literal: (d) => seen.push(`L${d.length}`), match: (j) => seen.push(`M${j}`), end: () => seen.push('E') });
    t.literal(Buffer.alloc(40000));
    t.match(0, Buffer.alloc(700));
    t.match(1, Buffer.alloc(700));
    t.end();
    expect(seen).toEqual(['L40000', 'M0', 'M1', 'E']);
    expect(t.bytes).toBe(40000 + 8 + 4 + 4 + 4);
    expect(deltaWireBytes(t.bytes, p32)).toBe(1 + 2 + 16 + t.bytes + 16);
    // The writes for the byte figures' frames: a literal run in 32 KiB pieces, the 4-byte tokens as one run.
    expect(t.writes).toEqual([32768, 40000 - 32768, -3]);
  });

  it('keeps a literal run between matches apart from the token runs around it', () => {
    const t = new TokenBytes({ literal: () => {}, match: () => {}, end: () => {} });
    t.match(0, Buffer.alloc(10));
    t.literal(Buffer.alloc(5));
    t.match(3, Buffer.alloc(10));
    t.match(4, Buffer.alloc(10));
    t.end();
    expect(t.writes).toEqual([-1, 5, -3]);
  });
});
