// The compressed token reader (src/remote/deflate-tokens.ts) fed random and mutated streams: it must
// end every stream with tokens or a ProtocolError (never another exception, never a hang), refer only
// to blocks the basis has, and never hand out more literal data than the stream's deflated bytes can
// hold (deflate's largest ratio is under 1032 to 1) in pieces of at most CHUNK_SIZE.

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Conn } from '../../../src/remote/conn.js';
import { tokenCodec } from '../../../src/remote/token-codec.js';
import { CHUNK_SIZE } from '../../../src/remote/tokens.js';
import { ProtocolError } from '../../../src/remote/wire.js';
import { rng } from '../../helpers/token-capture.js';

const BLOCKS = 40;
const BLOCK_LEN = 700;
const basis = Buffer.from(Array.from({ length: BLOCKS * BLOCK_LEN }, (_, i) => (i * 31) & 0xff));

/** A valid session of a few files, written by arsync's writer. */
function validStream(r: () => number, name: 'zlib' | 'zlibx'): Buffer {
  const codec = tokenCodec({ name, level: 6 }, 31);
  const out: Buffer[] = [];
  for (let f = 0; f < 3; f++) {
    const w = codec.writer((b) => out.push(Buffer.from(b)));
    for (let i = 0; i < 12; i++) {
      if (r() < 0.5) {
        const block = Math.floor(r() * BLOCKS);
        w.match(block, basis.subarray(block * BLOCK_LEN, (block + 1) * BLOCK_LEN));
      } else {
        const n = Math.floor(r() * 5000) + 1;
        w.literal(Buffer.from(Array.from({ length: n }, () => (r() < 0.7 ? 97 : Math.floor(r() * 256)))));
      }
    }
    w.end();
  }
  codec.close();
  return Buffer.concat(out);
}

/** Reads files until the stream ends; returns how it ended. */
async function consume(wire: Buffer, name: 'zlib' | 'zlibx'): Promise<'ok' | 'refused'> {
  const input = new PassThrough();
  input.end(wire);
  const conn = new Conn(input, new PassThrough(), () => {});
  const codec = tokenCodec({ name, level: 6 }, 31);
  let literal = 0;
  try {
    while (!conn.atEnd) {
      const rd = codec.reader(conn, BLOCKS);
      for (;;) {
        const t = await rd.next();
        if (t.kind === 'end') break;
        if (t.kind === 'literal') {
          expect(t.data.length).toBeLessThanOrEqual(CHUNK_SIZE);
          literal += t.data.length;
          expect(literal).toBeLessThanOrEqual(1032 * wire.length + 64);
        } else {
          expect(t.block).toBeGreaterThanOrEqual(0);
          expect(t.block).toBeLessThan(BLOCKS);
          rd.matched(basis.subarray(t.block * BLOCK_LEN, (t.block + 1) * BLOCK_LEN));
        }
      }
    }
    return 'ok';
  } catch (e) {
    if (e instanceof ProtocolError) return 'refused';
    throw e;
  } finally {
    codec.close();
  }
}

function mutate(r: () => number, b: Buffer): Buffer {
  const out = Buffer.from(b);
  switch (Math.floor(r() * 4)) {
    case 0: // flip a few bytes
      for (let i = 0; i < 1 + Math.floor(r() * 4); i++) out[Math.floor(r() * out.length)] = Math.floor(r() * 256);
      return out;
    case 1: // cut short
      return out.subarray(0, Math.floor(r() * out.length));
    case 2: {
      // insert random bytes
      const at = Math.floor(r() * out.length);
      const junk = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256)));
      return Buffer.concat([out.subarray(0, at), junk, out.subarray(at)]);
    }
    default: {
      // repeat a slice
      const a = Math.floor(r() * out.length);
      const n = Math.floor(r() * 200);
      return Buffer.concat([out.subarray(0, a + n), out.subarray(a)]);
    }
  }
}

describe('compressed token reader, fuzzed', () => {
  for (const name of ['zlib', 'zlibx'] as const) {
    it(`${name}: valid streams are read whole; mutated and random ones end in tokens or a ProtocolError`, async () => {
      const r = rng(name === 'zlib' ? 2024 : 2026);
      const seeds = Array.from({ length: 6 }, () => validStream(r, name));
      for (const s of seeds) expect(await consume(s, name)).toBe('ok');
      const outcomes = { ok: 0, refused: 0 };
      for (let i = 0; i < 400; i++) {
        const wire = i % 4 === 3 ? Buffer.from(Array.from({ length: Math.floor(r() * 300) }, () => Math.floor(r() * 256))) : mutate(r, seeds[i % seeds.length]!);
        outcomes[await consume(wire, name)]++;
      }
      // Most damage is noticed; some (a flipped literal byte, a cut at a file's end) is not the reader's to see.
      expect(outcomes.refused).toBeGreaterThan(200);
    }, 120_000);
  }
});
