// rsync's transfer checksums, implemented twice (native/checksum.c and src/remote/checksum.ts), held
// together: checksum1, the MD5 block and file sums and a span's block sums in one call agree on random buffers, seeds and lengths
// (and a basis file's, read in C, with sumBlocks over its bytes); the
// C rolling scan stops where rolling the TypeScript sum one byte at a time finds a candidate; and every
// file sum (xxh128, xxh3, xxh64, md5) equals what rsync 3.5 itself computes for the same bytes (its
// --out-format=%C under -c), with RFC 1321's MD5 vectors besides.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytes as random } from '../helpers/differential.js';
import { checksum1Js, jsMd5 } from '../../src/remote/checksum.js';
import { scanBit, scanFilter } from '../../src/remote/match.js';
import { addonOrReason } from './engines.js';

const addon = addonOrReason();
const KIND = { md5: 0, xxh64: 1, xxh3: 2, xxh128: 3 } as const;

describe.skipIf(typeof addon === 'string')('the transfer checksums: C and TypeScript agree', () => {
  const a = addon as Exclude<typeof addon, string>;

  it('checksum1 (signed bytes) on random buffers', () => {
    for (let i = 0; i < 200; i++) {
      const b = random(i * 37 + (i % 7), i + 1);
      expect(a.sumChecksum1(b), `length ${b.length}`).toBe(checksum1Js(b));
    }
    // Bytes above 0x7f are negative to rsync: all 0xff is the case that tells signed from unsigned.
    expect(a.sumChecksum1(Buffer.alloc(1000, 0xff))).toBe(checksum1Js(Buffer.alloc(1000, 0xff)));
  });

  it('checksum1 by every variant this CPU runs (plain, SSE2, AVX2): each length and start around the vector spans', () => {
    const data = random(70_000, 42);
    const extremes = [Buffer.alloc(4096, 0xff), Buffer.alloc(4096, 0x80), Buffer.alloc(4096, 0x7f), Buffer.alloc(131072, 0xff)];
    const cases: Buffer[] = [...extremes];
    for (let len = 0; len <= 130; len++) cases.push(data.subarray(len % 37, (len % 37) + len));
    for (const len of [1023, 1024, 1025, 32768, 65536 + 7]) cases.push(data.subarray(3, 3 + len));
    const variants = a.sumChecksum1Variants(Buffer.alloc(1));
    // The plain loop and SSE2's everywhere on x86-64; AVX2's where the CPU has it (this machine's does).
    expect(variants.length).toBeGreaterThanOrEqual(2);
    for (const b of cases) {
      const want = checksum1Js(b);
      const got = a.sumChecksum1Variants(b);
      expect(got, `length ${b.length}`).toEqual(got.map(() => want));
      expect(a.sumChecksum1(b), `length ${b.length}`).toBe(want);
    }
  });

  it('MD5 block sums with and without a seed, and MD5 file sums fed in pieces', () => {
    for (let i = 0; i < 100; i++) {
      const b = random(i * 131, i + 7);
      const seed = i % 3 === 0 ? 0 : (i * 2654435761) >>> 0;
      expect(a.sumBlock(KIND.md5, b, seed).toString('hex')).toBe(jsMd5().block(b, seed).toString('hex'));
      const h = a.sumHasher(KIND.md5);
      const js = jsMd5().file();
      for (let at = 0; at < b.length; at += 1 + (i % 97)) {
        a.sumHasherUpdate(h, b.subarray(at, at + 1 + (i % 97)));
        js.update(b.subarray(at, at + 1 + (i % 97)));
      }
      expect(a.sumHasherDigest(h).toString('hex')).toBe(js.digest().toString('hex'));
    }
  });

  it("a span's block sums in one call (sumBlocks) equal them block by block, every kind, short last block included", () => {
    for (const kind of Object.values(KIND)) {
      for (let i = 0; i < 30; i++) {
        const blength = 1 + ((i * 97) % 1500);
        const b = random(i * 1013 + (i % 5), i + 3);
        const s2length = [2, 8, kind === KIND.md5 || kind === KIND.xxh128 ? 16 : 8][i % 3]!;
        const seed = i % 2 ? (i * 2654435761) >>> 0 : 0;
        const per = 4 + s2length;
        const count = Math.ceil(b.length / blength);
        const got = Buffer.alloc(3 + count * per, 0xee);
        expect(a.sumBlocks!(kind, b, blength, s2length, seed, got, 3)).toBe(count);
        const want = Buffer.alloc(3 + count * per, 0xee);
        for (let k = 0; k < count; k++) {
          const block = b.subarray(k * blength, (k + 1) * blength);
          want.writeInt32LE(checksum1Js(block) | 0, 3 + k * per);
          const strong = kind === KIND.md5 ? jsMd5().block(block, seed) : a.sumBlock(kind, block, seed);
          strong.copy(want, 3 + k * per + 4, 0, s2length);
        }
        expect(got.toString('hex'), `kind ${kind}, ${b.length} bytes in blocks of ${blength}`).toBe(want.toString('hex'));
      }
    }
    // An out buffer too short for the sums is refused, never written past.
    expect(() => a.sumBlocks!(KIND.md5, Buffer.alloc(100), 10, 2, 0, Buffer.alloc(59), 0)).toThrow(/too short/);
    // The TypeScript version (no addon) gives the same for MD5.
    const b = random(5000, 9);
    const js = Buffer.alloc(8 * 6);
    const c = Buffer.alloc(8 * 6);
    expect(jsMd5().blocks(b, 1000, 4, 77, js, 0)).toBe(5);
    a.sumBlocks!(KIND.md5, b, 1000, 4, 77, c, 0);
    expect(js.toString('hex')).toBe(c.toString('hex'));
  });

  it("a basis file's block sums read in C (sumFileBlocks: two threads past 8 MiB) equal sumBlocks over its bytes, zeros past a shrunk end", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-basissum-'));
    try {
      // 9 MiB and a bit: two threads, each over several 1 MiB reads; blocks of 700 cross every read's edge.
      const big = random(9 * 1024 * 1024 + 123, 41);
      const small = random(5000, 42);
      const cases: [Buffer, number, number][] = [
        [big, 700, big.length],
        [big, 32768, big.length],
        [small, 1000, small.length],
        // The file is shorter than the size it had when it was listed: the rest reads as zeros.
        [small, 1000, small.length + 2500],
        [Buffer.alloc(0), 700, 0],
      ];
      for (const [i, [data, blength, size]] of cases.entries()) {
        const file = path.join(dir, `f${i}`);
        fs.writeFileSync(file, data);
        const whole = Buffer.concat([data, Buffer.alloc(size - data.length)]);
        for (const kind of Object.values(KIND)) {
          const s2length = kind === KIND.xxh64 || kind === KIND.xxh3 ? 8 : 16;
          const count = Math.ceil(size / blength);
          const want = Buffer.alloc(count * (4 + s2length));
          a.sumBlocks!(kind, whole, blength, s2length, 4242, want, 0);
          const got = Buffer.alloc(count * (4 + s2length), 0xee);
          const fd = fs.openSync(file, 'r');
          try {
            expect(a.sumFileBlocks!(kind, fd, size, blength, s2length, 4242, got)).toBe(count);
          } finally {
            fs.closeSync(fd);
          }
          expect(got.equals(want), `kind ${kind}, ${size} bytes in blocks of ${blength}`).toBe(true);
        }
      }
      // A read that fails comes back as -errno (a directory: EISDIR), and a short out buffer is refused.
      const dfd = fs.openSync(dir, 'r');
      try {
        expect(a.sumFileBlocks!(KIND.xxh128, dfd, 100, 10, 2, 0, Buffer.alloc(60))).toBe(-21);
        expect(() => a.sumFileBlocks!(KIND.xxh128, dfd, 100, 10, 2, 0, Buffer.alloc(59))).toThrow(/too short/);
      } finally {
        fs.closeSync(dfd);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("MD5 gives RFC 1321's test vectors", () => {
    const vectors: [string, string][] = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a'],
    ];
    for (const [text, hex] of vectors) expect(a.sumBlock(KIND.md5, Buffer.from(text), 0).toString('hex')).toBe(hex);
  });

  it('every file sum is the one rsync 3.5 computes for the same bytes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-sums-'));
    try {
      const sizes = [0, 1, 3, 63, 64, 65, 240, 1000, 100_000];
      for (const [i, n] of sizes.entries()) fs.writeFileSync(path.join(dir, `f${i}`), random(n, i + 99));
      for (const name of ['xxh128', 'xxh3', 'xxh64', 'md5'] as const) {
        const r = spawnSync('rsync', ['-n', '-c', `--cc=${name}`, '--out-format=%C %n', ...sizes.map((_, i) => path.join(dir, `f${i}`)), path.join(dir, 'nowhere/')], { encoding: 'latin1' });
        expect(r.status, r.stderr).toBe(0);
        const theirs = new Map(r.stdout.trim().split('\n').map((l) => [l.split(' ')[1]!, l.split(' ')[0]!]));
        for (const i of sizes.keys()) {
          const h = a.sumHasher(KIND[name]);
          a.sumHasherUpdate(h, fs.readFileSync(path.join(dir, `f${i}`)));
          const d = a.sumHasherDigest(h);
          // rsync prints the xxhash sums as numbers (the little-endian bytes reversed), MD5 as bytes.
          const shown = name === 'md5' ? d.toString('hex') : Buffer.from(d).reverse().toString('hex');
          expect(shown, `${name} of ${sizes[i]} bytes`).toBe(theirs.get(`f${i}`));
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the rolling scan stops where the TypeScript rolling sum first hits the filter', () => {
    const data = random(50_000, 5);
    const k = 700;
    const filter = new Uint8Array(8192);
    // Mark the sums of a few windows: the scan must stop at the first of them (or an earlier collision).
    const marked = [40_000, 12_345, 31_000];
    for (const at of marked) {
      const s = checksum1Js(data, at, at + k);
      const bit = (s ^ (s >>> 16)) & 0xffff;
      filter[bit >> 3]! |= 1 << (bit & 7);
    }
    const hit = (s: number): boolean => {
      const bit = (s ^ (s >>> 16)) & 0xffff;
      return (filter[bit >> 3]! & (1 << (bit & 7))) !== 0;
    };
    let expected = -1;
    for (let off = 100; off < data.length - k; off++) {
      if (hit(checksum1Js(data, off, off + k))) {
        expected = off;
        break;
      }
    }
    expect(expected).toBeGreaterThan(0);
    expect(expected).toBeLessThanOrEqual(12_345);
    const first = checksum1Js(data, 100, 100 + k);
    const state = new Int32Array([(first & 0xffff) | 0, first >>> 16]);
    const at = a.sumRollScan(data, 0, 100, data.length - k, k, state, filter);
    expect(at).toBe(expected);
    expect((((state[0]! & 0xffff) | (state[1]! << 16)) >>> 0)).toBe(checksum1Js(data, at, at + k));
  });

  it.each([8192, 1 << 21])('rollScan stops where match.ts scanBit says, with a filter of %i bytes', (bytes) => {
    const data = Buffer.from(Array.from({ length: 60_000 }, (_, i) => (i * 2654435761) >>> 13 & 0xff));
    const k = 700;
    // A filter from the sums of windows every 17 bytes (block sums, as scanFilter marks them), either size.
    const sums = Uint32Array.from({ length: 3000 }, (_, j) => checksum1Js(data, 100 + j * 17, 100 + j * 17 + k));
    const filter = new Uint8Array(bytes);
    for (const s of sums) {
      const bit = scanBit(s, bytes);
      filter[bit >> 3]! |= 1 << (bit & 7);
    }
    // What match.ts hands the scan for this many blocks: the wide filter.
    expect(scanFilter(sums).length).toBe(1 << 21);
    const hit = (s: number): boolean => {
      const bit = scanBit(s, bytes);
      return (filter[bit >> 3]! & (1 << (bit & 7))) !== 0;
    };
    // Scan from several starts: each stop is the first offset whose sum's bit is set.
    for (const from of [5, 101, 118, 20_000, 55_000]) {
      let expected = data.length - k;
      for (let off = from; off < data.length - k; off++) {
        if (hit(checksum1Js(data, off, off + k))) {
          expected = off;
          break;
        }
      }
      const first = checksum1Js(data, from, from + k);
      const state = new Int32Array([(first & 0xffff) | 0, first >>> 16]);
      expect(a.sumRollScan(data, 0, from, data.length - k, k, state, filter)).toBe(expected);
    }
  });
});
