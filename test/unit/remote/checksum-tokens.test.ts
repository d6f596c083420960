// src/remote/checksum.ts and src/remote/tokens.ts: the rolling checksum against rsync's own formula
// (four bytes a step, bytes as signed chars), the seeded MD5 block sum against its definition, and the
// plain token stream both ways, including the limits a hostile sender could break.

import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CHECKSUMS, checksum1, strong } from '../../../src/remote/checksum.js';
import { Conn, NOT_YET } from '../../../src/remote/conn.js';
import { CHUNK_SIZE, PlainTokenReader, PlainTokenWriter, type Token, type TokenWriter } from '../../../src/remote/tokens.js';
import { ProtocolError } from '../../../src/remote/wire.js';

/** rsync's get_checksum1 as its source writes it: four bytes a step, then the rest one by one. */
function rsyncChecksum1(b: Buffer): number {
  const s = (i: number): number => (b[i]! << 24) >> 24;
  let s1 = 0;
  let s2 = 0;
  let i = 0;
  for (; i < b.length - 4; i += 4) {
    s2 = (s2 + 4 * (s1 + s(i)) + 3 * s(i + 1) + 2 * s(i + 2) + s(i + 3)) | 0;
    s1 = (s1 + s(i) + s(i + 1) + s(i + 2) + s(i + 3)) | 0;
  }
  for (; i < b.length; i++) {
    s1 = (s1 + s(i)) | 0;
    s2 = (s2 + s1) | 0;
  }
  return ((s1 & 0xffff) + (s2 << 16)) >>> 0;
}

describe('checksum1', () => {
  it('matches rsync formula on every length, high bytes included', () => {
    for (let n = 0; n < 70; n++) {
      const b = Buffer.alloc(n, 0).map((_, i) => (i * 97 + n * 31) & 0xff);
      expect(checksum1(Buffer.from(b))).toBe(rsyncChecksum1(Buffer.from(b)));
    }
    const big = Buffer.alloc(700_000, 0xff);
    expect(checksum1(big)).toBe(rsyncChecksum1(big));
  });
  it('reads bytes as signed chars', () => {
    // One byte 0x80 is -128: s1 = s2 = -128.
    expect(checksum1(Buffer.from([0x80]))).toBe(((-128 & 0xffff) + (-128 << 16)) >>> 0);
  });
  it('sums a window of a larger buffer', () => {
    const b = Buffer.from('0123456789abcdef');
    expect(checksum1(b, 4, 12)).toBe(checksum1(b.subarray(4, 12)));
  });
});

describe('strong sums', () => {
  it('offers md5, seeds blocks first and whole files never', () => {
    expect(CHECKSUMS).toContain('md5');
    const md5 = strong('md5');
    const data = Buffer.from('block of data');
    const seeded = createHash('md5').update(Buffer.from([0x78, 0x56, 0x34, 0x12])).update(data).digest();
    expect(md5.block(data, 0x12345678)).toEqual(seeded);
    expect(md5.block(data, 0)).toEqual(createHash('md5').update(data).digest());
    const f = md5.file();
    f.update(data);
    expect(f.digest()).toEqual(createHash('md5').update(data).digest());
    expect(() => strong('nope')).toThrow();
  });
});

function pipe(): { conn: Conn; input: PassThrough } {
  const input = new PassThrough();
  return { input, conn: new Conn(input, new PassThrough(), () => {}) };
}

async function readAll(r: PlainTokenReader): Promise<Token[]> {
  const out: Token[] = [];
  for (;;) {
    const t = await r.next();
    out.push(t);
    if (t.kind === 'end') return out;
  }
}

describe('plain tokens', () => {
  it('round-trips literals in CHUNK_SIZE pieces, matches and the end', async () => {
    const sent: Buffer[] = [];
    const w: TokenWriter = new PlainTokenWriter((b) => sent.push(Buffer.from(b)));
    const lit = Buffer.alloc(CHUNK_SIZE + 5, 7);
    w.literal(lit);
    w.match(3, Buffer.alloc(0));
    w.end();
    const wire = Buffer.concat(sent);
    expect(wire.readInt32LE(0)).toBe(CHUNK_SIZE);
    expect(wire.readInt32LE(wire.length - 8)).toBe(-4);
    expect(wire.readInt32LE(wire.length - 4)).toBe(0);
    const { conn, input } = pipe();
    input.end(wire);
    const toks = await readAll(new PlainTokenReader(conn, 4));
    expect(toks.map((t) => t.kind)).toEqual(['literal', 'literal', 'match', 'end']);
    expect(Buffer.concat(toks.flatMap((t) => (t.kind === 'literal' ? [t.data] : [])))).toEqual(lit);
  });
  it('reads a literal run longer than CHUNK_SIZE a chunk at a time', async () => {
    const { conn, input } = pipe();
    const n = CHUNK_SIZE * 2 + 1;
    const len = Buffer.alloc(4);
    len.writeInt32LE(n);
    input.end(Buffer.concat([len, Buffer.alloc(n, 1), Buffer.alloc(4)]));
    const toks = await readAll(new PlainTokenReader(conn, 0));
    expect(toks.map((t) => (t.kind === 'literal' ? t.data.length : t.kind))).toEqual([CHUNK_SIZE, CHUNK_SIZE, 1, 'end']);
  });
  it('poll takes what has arrived and nothing more; next goes on from there', async () => {
    const { conn, input } = pipe();
    const r = new PlainTokenReader(conn, 8);
    const head = Buffer.alloc(4);
    head.writeInt32LE(6);
    const refs = Buffer.alloc(8);
    refs.writeInt32LE(-3, 0);
    refs.writeInt32LE(-4, 4);
    // Nothing here yet: nothing taken.
    expect(r.poll()).toBeUndefined();
    input.write(Buffer.concat([head, Buffer.from('abc')]));
    await new Promise((ok) => setImmediate(ok));
    // The run's length has come, its bytes only in part: the length is taken, the bytes wait.
    expect(r.poll()).toBeUndefined();
    const rest = r.next();
    input.write(Buffer.concat([Buffer.from('def'), refs]));
    const lit = await rest;
    expect(lit.kind === 'literal' && lit.data.toString()).toBe('abcdef');
    // Blocks 2 and 3 in a row, already here: one token, without a wait.
    expect(r.poll()).toEqual({ kind: 'match', block: 2, blocks: 2 });
    expect(r.poll()).toBeUndefined();
    input.end(Buffer.alloc(4));
    expect(await r.next()).toEqual({ kind: 'end' });
  });
  it('readNow gives NOT_YET and consumes nothing when the bytes are short', async () => {
    const { conn, input } = pipe();
    input.write(Buffer.from([1, 2, 3]));
    await new Promise((ok) => setImmediate(ok));
    expect(conn.readNow((c) => c.int32())).toBe(NOT_YET);
    expect(conn.readNow((c) => c.byte())).toBe(1);
    input.end(Buffer.from([4, 5]));
    expect(await conn.read((c) => c.int32())).toBe(0x05040302);
  });
  it('refuses a block reference beyond the basis', async () => {
    const { conn, input } = pipe();
    const b = Buffer.alloc(4);
    b.writeInt32LE(-3);
    input.end(b);
    await expect(new PlainTokenReader(conn, 2).next()).rejects.toBeInstanceOf(ProtocolError);
  });
});
