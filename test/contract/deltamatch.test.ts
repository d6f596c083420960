// The sender's delta search, implemented twice (native/deltamatch.c through src/remote/match-native.ts,
// and src/remote/match.ts in TypeScript), held together: on random files and their edited copies, every
// strong sum kind, short and full strong sums, --inplace or not, block lengths from tiny to large, the
// two send the same tokens (the same literal pieces, the same block indices in the same order) and
// count the same literal and matched bytes.

import { describe, expect, it } from 'vitest';
import { bytes as random } from '../helpers/differential.js';
import { checksum1Js } from '../../src/remote/checksum.js';
import { matchFile, type BlockSums, type ReadAt } from '../../src/remote/match.js';
import { matchFileNative } from '../../src/remote/match-native.js';
import type { TokenWriter } from '../../src/remote/tokens.js';
import { addonOrReason } from './engines.js';

const addon = addonOrReason();

interface Case {
  basis: Buffer;
  file: Buffer;
  blength: number;
  s2length: number;
  kind: number;
  seed: number;
  inplace: boolean;
}

function sumsOf(a: Exclude<typeof addon, string>, c: Case): BlockSums {
  const count = Math.ceil(c.basis.length / c.blength);
  const sum1 = new Uint32Array(count);
  const sum2 = Buffer.alloc(count * c.s2length);
  for (let i = 0; i < count; i++) {
    const block = c.basis.subarray(i * c.blength, Math.min(c.basis.length, (i + 1) * c.blength));
    sum1[i] = checksum1Js(block);
    a.sumBlock(c.kind, block, c.seed).copy(sum2, i * c.s2length, 0, c.s2length);
  }
  return { head: { count, blength: c.blength, s2length: c.s2length, remainder: c.basis.length % c.blength }, sum1, sum2 };
}

/** A writer that records the tokens; with `runs`, it takes matched ranges as the plain writer does. */
function recorder(runs: boolean): { w: TokenWriter; tokens: (string | number)[] } {
  const tokens: (string | number)[] = [];
  const w: TokenWriter = {
    literal: (d) => void tokens.push(d.toString('hex')),
    match: (i, d) => {
      tokens.push(i);
      tokens.push(`len ${d.length}`);
    },
    end: () => void tokens.push('end'),
  };
  if (runs) {
    w.matchRun = (first, n) => {
      for (let j = 0; j < n; j++) tokens.push(first + j);
    };
  }
  return { w, tokens };
}

const noHash = { update: () => undefined, digest: () => Buffer.alloc(0) };
const reader =
  (f: Buffer): ReadAt =>
  (buf, off, len, pos) => {
    const n = Math.max(0, Math.min(len, f.length - pos));
    f.copy(buf, off, pos, pos + n);
    return n;
  };

/** Both searches' tokens and figures (the C one twice: per-block matches and matched runs). */
async function both(a: Exclude<typeof addon, string>, c: Case) {
  const sums = sumsOf(a, c);
  const ts = recorder(false);
  const tsRes = await matchFile(sums, c.file.length, reader(c.file), noHash, (b) => a.sumBlock(c.kind, b, c.seed), ts.w, c.inplace);
  const nm = { sumMatcher: a.sumMatcher, sumMatchRun: a.sumMatchRun };
  const cb = recorder(false);
  const cRes = await matchFileNative(nm, c.kind, c.seed, sums, c.file.length, reader(c.file), noHash, cb.w, c.inplace, () => undefined, { buf: Buffer.alloc(0) });
  const cr = recorder(true);
  await matchFileNative(nm, c.kind, c.seed, sums, c.file.length, reader(c.file), noHash, cr.w, c.inplace, () => undefined, { buf: Buffer.alloc(0) });
  return { ts: ts.tokens, c: cb.tokens, tsRes, cRes, runs: cr.tokens.join(','), tsNoLen: ts.tokens.filter((t) => !String(t).startsWith('len ')).join(',') };
}

/** The file edited: some pieces replaced, one inserted, one cut. */
function edit(basis: Buffer, seed: number, alphabet = 256): Buffer {
  let f = Buffer.from(basis);
  let x = seed;
  const next = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % Math.max(1, n);
  };
  for (let e = 0; e < 4; e++) {
    const at = next(f.length);
    random(1 + next(300), seed * 7 + e, alphabet).copy(f, at);
  }
  const ins = next(f.length);
  f = Buffer.concat([f.subarray(0, ins), random(next(500), seed + 99, alphabet), f.subarray(ins)]);
  const cut = next(f.length);
  return Buffer.concat([f.subarray(0, cut), f.subarray(Math.min(f.length, cut + next(400)))]);
}

describe.skipIf(typeof addon === 'string')('the delta search: C and TypeScript send the same tokens', () => {
  const a = addon as Exclude<typeof addon, string>;

  it('on random files and edited copies: every kind, block lengths, short sums, --inplace', async () => {
    let n = 0;
    for (const kind of [0, 1, 2, 3]) {
      for (const blength of [1, 7, 64, 700, 2048]) {
        for (const [s2length, alphabet] of [
          [kind === 1 || kind === 2 ? 8 : 16, 256],
          [2, 256],
          [1, 3],
        ] as const) {
          for (const inplace of [false, true]) {
            const seed = ++n;
            const basis = random(blength * (3 + (seed % 40)) + (seed % blength), seed, alphabet);
            const file = edit(basis, seed, alphabet);
            const r = await both(a, { basis, file, blength, s2length, kind, seed: seed % 3 === 0 ? 0 : seed * 2654435761, inplace });
            const what = `kind ${kind} blength ${blength} s2length ${s2length} inplace ${inplace}`;
            expect(r.c, what).toEqual(r.ts);
            expect(r.runs, what).toBe(r.tsNoLen);
            expect(r.cRes, what).toEqual(r.tsRes);
          }
        }
      }
    }
  });

  it('the edge cases: changes at the start and the end, a last short block, one block repeated, a basis larger than the file, a file shorter than a block', async () => {
    const blength = 700;
    const basis = random(blength * 50 + 123, 5);
    const repeated = Buffer.concat(Array.from({ length: 64 }, () => random(blength, 77)));
    const cases: [string, Buffer, Buffer][] = [
      ['identical', basis, Buffer.from(basis)],
      ['start changed', basis, Buffer.concat([random(50, 6), basis.subarray(50)])],
      ['end changed', basis, Buffer.concat([basis.subarray(0, basis.length - 50), random(50, 7)])],
      ['last short block only', basis, basis.subarray(blength * 50)],
      ['cut to a multiple of the block', basis, basis.subarray(0, blength * 20)],
      ['basis larger than the file', basis, basis.subarray(blength * 10 + 3, blength * 20)],
      ['shorter than a block', basis, basis.subarray(100, 400)],
      ['one byte', basis, basis.subarray(0, 1)],
      ['one block repeated', repeated, Buffer.concat([repeated, repeated.subarray(0, 1000)])],
      ['one block repeated, changed', repeated, Buffer.concat([repeated.subarray(0, 5000), random(20, 8), repeated.subarray(3000)])],
      ['blocks reordered', basis, Buffer.concat(Array.from({ length: 50 }, (_, i) => basis.subarray(((i * 17) % 50) * blength, (((i * 17) % 50) + 1) * blength)))],
      ['all new', basis, random(basis.length * 2, 9)],
      // In place, blocks of zeros found ahead of their own offset move the match on to it (rsync's realignment).
      ['zeros shifted', Buffer.concat([random(3000, 10), Buffer.alloc(blength * 8), random(2000, 11)]), Buffer.concat([random(3000, 10).subarray(0, 2500), Buffer.alloc(blength * 9), random(2000, 11)])],
      ['zeros everywhere', Buffer.alloc(blength * 20 + 5), Buffer.concat([Buffer.alloc(blength * 3 + 100), random(10, 12), Buffer.alloc(blength * 15)])],
    ];
    for (const [what, b, file] of cases) {
      for (const inplace of [false, true]) {
        const r = await both(a, { basis: b, file, blength, s2length: 16, kind: 3, seed: 12345, inplace });
        expect(r.c, what).toEqual(r.ts);
        expect(r.runs, what).toBe(r.tsNoLen);
        expect(r.cRes, `${what} inplace ${inplace}`).toEqual(r.tsRes);
      }
    }
  });

  it('across many calls: a file of several MiB and thousands of separate matches', async () => {
    const blength = 64;
    const basis = random(3 << 20, 11);
    const blocks = basis.length / blength;
    // Every other block, shuffled: each match is a range of its own, far more than one call's events.
    const parts: Buffer[] = [];
    for (let i = 0; i < blocks / 2; i++) {
      const j = (i * 7919) % blocks;
      parts.push(basis.subarray(j * blength, (j + 1) * blength));
      if (i % 3 === 0) parts.push(random(10, i));
    }
    const file = Buffer.concat(parts);
    const r = await both(a, { basis, file, blength, s2length: 8, kind: 2, seed: 1, inplace: false });
    expect(r.c).toEqual(r.ts);
    expect(r.cRes).toEqual(r.tsRes);
    expect(r.cRes.matched).toBeGreaterThan(file.length / 2);
  });
});
