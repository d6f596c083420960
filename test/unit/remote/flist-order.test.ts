// flist-order.ts's byte-wise comparison against flist.ts's compareEntries (rsync's order made from
// each name's components): the same sign for every pair of many random names, files and directories.

import { expect, it } from 'vitest';
import { compareEntries, type RemoteEntry } from '../../../src/remote/flist.js';
import { compareNames } from '../../../src/remote/flist-order.js';

const entry = (name: Buffer, dir: boolean): RemoteEntry => ({ name, mode: dir ? 0o040755 : 0o100644, size: 0, mtime: 0, mtimeNsec: 0, topDir: false });

/** A seeded generator (mulberry32), so a failure repeats. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Names of 1 to 3 components over a few bytes that sort around "/" (".", "-", "0", a high byte). */
function names(count: number, rnd: () => number): Buffer[] {
  const alphabet = [0x2d, 0x2e, 0x30, 0x61, 0x62, 0xe9];
  const out: Buffer[] = [Buffer.from('.')];
  for (let k = 0; k < count; k++) {
    const parts: number[][] = [];
    const depth = 1 + Math.floor(rnd() * 3);
    for (let d = 0; d < depth; d++) parts.push(Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => alphabet[Math.floor(rnd() * alphabet.length)]!));
    const name = Buffer.from(parts.flatMap((p, d) => (d ? [0x2f, ...p] : p)));
    if (name.toString('latin1') !== '.') out.push(name);
  }
  return out;
}

it('orders every pair as compareEntries does', () => {
  const rnd = random(12);
  const list = names(400, rnd).flatMap((n) => [entry(n, false), entry(n, true)]);
  let checked = 0;
  for (const a of list) {
    for (const b of list) {
      const want = Math.sign(compareEntries(a, b));
      const got = Math.sign(compareNames(a.name, a.mode === 0o040755, b.name, b.mode === 0o040755));
      if (got !== want) expect({ a: a.name.toString('latin1'), aDir: a.mode === 0o040755, b: b.name.toString('latin1'), bDir: b.mode === 0o040755, got }).toEqual({ want });
      checked++;
    }
  }
  expect(checked).toBe(list.length ** 2);
});

it('sorts a directory after its files and right before its contents', () => {
  const list = [entry(Buffer.from('a/x'), false), entry(Buffer.from('a'), true), entry(Buffer.from('b'), false), entry(Buffer.from('a.c'), false), entry(Buffer.from('.'), true), entry(Buffer.from('a-b'), true)];
  list.sort((x, y) => compareNames(x.name, x.mode === 0o040755, y.name, y.mode === 0o040755));
  expect(list.map((e) => e.name.toString())).toEqual(['.', 'a.c', 'b', 'a-b', 'a', 'a/x']);
});
