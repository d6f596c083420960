// src/remote/deflate-tokens.ts (through src/remote/token-codec.ts): rsync's compressed token stream
// both ways: what the writer sends, the reader rebuilds, across files of one session, for zlib (matched
// blocks in the dictionary) and zlibx, at protocols 30 and 31; the bytes on the wire against the format
// (frames, flags, the dropped sync tail); and a decoder that refuses what rsync refuses.

import { inflateRawSync } from 'node:zlib';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Conn } from '../../../src/remote/conn.js';
import { Flag, MAX_DATA_COUNT } from '../../../src/remote/deflate-tokens.js';
import { tokenCodec } from '../../../src/remote/token-codec.js';
import type { Compression } from '../../../src/remote/compress.js';
import type { Token } from '../../../src/remote/tokens.js';
import { ProtocolError } from '../../../src/remote/wire.js';
import { rng } from '../../helpers/token-capture.js';

/** Text-like bytes (compress well) or noise (do not). */
function bytes(r: () => number, n: number, text: boolean): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = text ? 97 + Math.floor(r() * 6) : Math.floor(r() * 256);
  return b;
}

type Op = { kind: 'literal'; data: Buffer } | { kind: 'match'; block: number };
interface FileCase {
  basis: Buffer;
  blockLen: number;
  ops: Op[];
}

function blockOf(f: FileCase, i: number): Buffer {
  return f.basis.subarray(i * f.blockLen, Math.min(f.basis.length, (i + 1) * f.blockLen));
}

function expected(f: FileCase): Buffer {
  return Buffer.concat(f.ops.map((o) => (o.kind === 'literal' ? o.data : blockOf(f, o.block))));
}

function randomFile(r: () => number, blockLen: number): FileCase {
  const blocks = Math.floor(r() * 40);
  const basis = bytes(r, blocks * blockLen - (blocks ? Math.floor(r() * blockLen) : 0), r() < 0.7);
  const ops: Op[] = [];
  const n = Math.floor(r() * 30);
  let next = 0;
  for (let i = 0; i < n; i++) {
    if (blocks && r() < 0.55) {
      // Mostly consecutive runs, sometimes jumps near and far.
      const block = r() < 0.7 ? next % blocks : Math.floor(r() * blocks);
      ops.push({ kind: 'match', block });
      next = block + 1;
    } else ops.push({ kind: 'literal', data: bytes(r, Math.floor(r() * (r() < 0.1 ? 100_000 : 3000)) + 1, r() < 0.6) });
  }
  return { basis, blockLen, ops };
}

function encode(files: FileCase[], name: Compression, protocol: number, level = 6): Buffer {
  const codec = tokenCodec({ name, level }, protocol);
  const out: Buffer[] = [];
  for (const f of files) {
    const w = codec.writer((b) => out.push(Buffer.from(b)));
    for (const o of f.ops) {
      if (o.kind === 'literal') w.literal(o.data);
      else w.match(o.block, blockOf(f, o.block));
    }
    w.end();
  }
  codec.close();
  return Buffer.concat(out);
}

function conn(wire: Buffer): Conn {
  const input = new PassThrough();
  input.end(wire);
  return new Conn(input, new PassThrough(), () => {});
}

/** Reads `files` files' tokens, copying matched blocks from each basis as a receiver does. */
export async function decode(wire: Buffer, bases: { basis: Buffer; blockLen: number }[], name: Compression, protocol: number): Promise<Buffer[]> {
  const c = conn(wire);
  const codec = tokenCodec({ name, level: 6 }, protocol);
  const got: Buffer[] = [];
  try {
    for (const b of bases) {
      const blocks = Math.ceil(b.basis.length / b.blockLen);
      const rd = codec.reader(c, blocks);
      const parts: Buffer[] = [];
      for (;;) {
        const t: Token = await rd.next();
        if (t.kind === 'end') break;
        if (t.kind === 'literal') parts.push(t.data);
        else {
          const data = b.basis.subarray(t.block * b.blockLen, Math.min(b.basis.length, (t.block + 1) * b.blockLen));
          rd.matched(data);
          parts.push(data);
        }
      }
      got.push(Buffer.concat(parts));
    }
  } finally {
    codec.close();
  }
  return got;
}

describe('deflated tokens, writer to reader', () => {
  for (const name of ['zlib', 'zlibx'] as const) {
    for (const protocol of [30, 31]) {
      it(`rebuilds every file of a session (${name}, protocol ${protocol})`, async () => {
        const r = rng(name === 'zlib' ? 7 + protocol : 99 + protocol);
        const files = Array.from({ length: 12 }, (_, i) => randomFile(r, i % 3 === 0 ? 700 : i % 3 === 1 ? 2048 : 70_000));
        const wire = encode(files, name, protocol);
        const got = await decode(wire, files, name, protocol);
        expect(got.map((b) => b.length)).toEqual(files.map((f) => expected(f).length));
        for (let i = 0; i < files.length; i++) expect(got[i]!.equals(expected(files[i]!))).toBe(true);
      });
    }
  }

  it('with zlib, literal data repeating a matched block costs less than with zlibx (the dictionary holds the block)', () => {
    const r = rng(5);
    const basis = bytes(r, 8192, false);
    const f: FileCase = { basis, blockLen: 8192, ops: [{ kind: 'match', block: 0 }, { kind: 'literal', data: Buffer.from(basis) }] };
    const zlib = encode([f], 'zlib', 31);
    const zlibx = encode([f], 'zlibx', 31);
    expect(zlib.length).toBeLessThan(200);
    expect(zlibx.length).toBeGreaterThan(8192);
  });

  it('a block longer than a stored block (64 KiB) enters the dictionary whole at protocol 31, its first 64 KiB again and again at 30 (the 32 KiB window then holds other bytes)', async () => {
    const r = rng(11);
    const basis = bytes(r, 200_000, false);
    const ops: Op[] = [{ kind: 'match', block: 0 }, { kind: 'literal', data: basis.subarray(185_000, 195_000) }];
    for (const protocol of [30, 31]) {
      const f: FileCase = { basis, blockLen: 200_000, ops };
      const wire = encode([f], 'zlib', protocol);
      // Both ends agree on the history, whatever it is: the data comes back.
      expect((await decode(wire, [f], 'zlib', protocol))[0]!.equals(expected(f))).toBe(true);
      // At 31 the tail of the block is in the history (the literal is found there), at 30 it is not.
      if (protocol === 31) expect(wire.length).toBeLessThan(1000);
      else expect(wire.length).toBeGreaterThan(10_000);
    }
  });
});

describe('deflated tokens on the wire', () => {
  /** Splits one file's bytes into frames and flags. */
  function parse(wire: Buffer): { deflated: Buffer[]; flags: number[] } {
    const deflated: Buffer[] = [];
    const flags: number[] = [];
    let run: Buffer[] = [];
    for (let i = 0; i < wire.length; ) {
      const f = wire[i]!;
      if ((f & 0xc0) === Flag.Data) {
        const n = ((f & 0x3f) << 8) + wire[i + 1]!;
        expect(n).toBeLessThanOrEqual(MAX_DATA_COUNT);
        run.push(wire.subarray(i + 2, i + 2 + n));
        i += 2 + n;
        continue;
      }
      if (run.length) deflated.push(Buffer.concat(run));
      run = [];
      flags.push(f);
      i += f === Flag.TokenLong || f === Flag.TokenRunLong ? 5 : 1;
      if (f === Flag.TokenRunLong || (f & 0xc0) === Flag.TokenRunRel) i += 2;
    }
    return { deflated, flags };
  }

  it('frames deflate data of at most 16383 bytes whose sync tail was dropped; blocks as relative runs', () => {
    const r = rng(3);
    const lit = bytes(r, 300_000, false);
    const basis = bytes(r, 10 * 1024, true);
    const f: FileCase = {
      basis,
      blockLen: 1024,
      ops: [{ kind: 'literal', data: lit }, ...[2, 3, 4, 5].map((block) => ({ kind: 'match' as const, block })), { kind: 'literal', data: Buffer.from('tail') }, { kind: 'match', block: 1 }],
    };
    const wire = encode([f], 'zlibx', 31);
    const { deflated, flags } = parse(wire);
    // The literal, the run 2..5 (relative 2 from 0, three more), 'tail', block 1 (absolute), the end.
    expect(flags).toEqual([Flag.TokenRunRel + 2, Flag.TokenLong, Flag.End]);
    expect(wire.subarray(wire.length - 6, wire.length - 1).equals(Buffer.from([Flag.TokenLong, 1, 0, 0, 0]))).toBe(true);
    // Each stretch, with 00 00 ff ff put back, is a raw deflate stream Node's zlib inflates.
    const tail = Buffer.from([0, 0, 0xff, 0xff]);
    const texts = deflated.map((d) => inflateRawSync(Buffer.concat([d, tail]), { finishFlush: 2 }));
    expect(texts[0]!.equals(lit)).toBe(true);
  });

  it('a run is cut before 65536 blocks', () => {
    const blocks = 70_000;
    const f: FileCase = { basis: Buffer.alloc(blocks), blockLen: 1, ops: Array.from({ length: blocks }, (_, block) => ({ kind: 'match' as const, block })) };
    const { flags } = parse(encode([f], 'zlibx', 31));
    expect(flags).toEqual([Flag.TokenRunRel + 0, Flag.TokenRunRel + 1, Flag.End]);
  });
});

describe('deflated token reader refuses', () => {
  async function read(wire: Buffer, blocks = 10): Promise<Token[]> {
    const codec = tokenCodec({ name: 'zlib', level: 6 }, 31);
    const rd = codec.reader(conn(wire), blocks);
    const out: Token[] = [];
    for (;;) {
      const t = await rd.next();
      out.push(t);
      if (t.kind === 'end') return out;
    }
  }

  it('a block beyond the basis, as an absolute token, a relative one and a run', async () => {
    await expect(read(Buffer.from([Flag.TokenLong, 10, 0, 0, 0, 0]))).rejects.toThrow(/invalid block reference 10/);
    await expect(read(Buffer.from([Flag.TokenRel + 10, 0]))).rejects.toThrow(/invalid block reference 10/);
    const tokens = await read(Buffer.from([Flag.TokenRunRel + 7, 2, 0, 0]));
    expect(tokens).toEqual([{ kind: 'match', block: 7 }, { kind: 'match', block: 8 }, { kind: 'match', block: 9 }, { kind: 'end' }]);
    await expect(read(Buffer.from([Flag.TokenRunRel + 7, 3, 0, 0]))).rejects.toThrow(/invalid block reference 10/);
  });

  it('a negative or zero run, a token number past rsync MAX_TOKEN_INDEX, an unknown flag', async () => {
    await expect(read(Buffer.from([Flag.TokenRunRel, 0, 0]))).rejects.toThrow(/invalid token number/);
    await expect(read(Buffer.from([Flag.TokenLong, 0xff, 0xff, 0xff, 0x7f]))).rejects.toThrow(/invalid token number/);
    await expect(read(Buffer.from([Flag.TokenLong, 0xff, 0xff, 0xff, 0xff]))).rejects.toThrow(/invalid token number/);
    await expect(read(Buffer.from([0x22, 0, 0, 0, 0]))).rejects.toThrow(/invalid flag byte 0x22/);
  });

  it('garbage deflate data, data after a final block, and a stream cut short', async () => {
    await expect(read(Buffer.from([Flag.Data, 4, 0xff, 0xff, 0xff, 0xff, 0]))).rejects.toThrow(ProtocolError);
    // A final empty stored block, then more data: rsync's inflate says Z_STREAM_END, an error.
    await expect(read(Buffer.from([Flag.Data, 5, 1, 0, 0, 0xff, 0xff, Flag.Data, 1, 0x03, 0]))).rejects.toThrow(ProtocolError);
    await expect(read(Buffer.from([Flag.Data, 5, 1, 0, 0, 0xff, 0xff, 0]))).rejects.toThrow(/lost sync/);
    await expect(read(Buffer.from([Flag.Data, 200, 1, 2]))).rejects.toThrow(/connection unexpectedly closed/);
  });
});
