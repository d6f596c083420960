import { describe, expect, it } from 'vitest';
import { TreeDirLines, depthFirst } from '../../../src/run/tree-lines.js';

/** The rule as rsync states it: the two paths as bytes, each with a trailing "/"; the root first. */
const reference = (a: Buffer, b: Buffer): number => {
  if (!a.length || !b.length) return a.length - b.length;
  return Buffer.compare(Buffer.concat([a, Buffer.from('/')]), Buffer.concat([b, Buffer.from('/')]));
};

describe('depthFirst', () => {
  it('orders "a-b" before "a", "a" before everything under it, the root first', () => {
    const names = ['a', 'a-b', 'a/b', 'a/b/c', 'a.b', 'a0', '', 'b', 'a/', 'a//x'].map((s) => Buffer.from(s));
    const sorted = [...names].sort(depthFirst).map(String);
    expect(sorted).toEqual([...names].sort(reference).map(String));
    expect(sorted.slice(0, 4)).toEqual(['', 'a-b', 'a.b', 'a']);
  });

  it('agrees in sign with the byte compare of each path plus "/" (seeded random paths over a small alphabet)', () => {
    let seed = 7;
    const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    const alphabet = [0x2e, 0x2f, 0x2d, 0x30, 0x61, 0x62, 0xff, 0x01];
    const path = (): Buffer => Buffer.from(Array.from({ length: rnd(6) }, () => alphabet[rnd(alphabet.length)]!));
    for (let i = 0; i < 20_000; i++) {
      const a = path();
      const b = rnd(4) === 0 ? Buffer.concat([a, path()]) : path();
      expect([Math.sign(depthFirst(a, b)), String(a), String(b)]).toEqual([Math.sign(reference(a, b)), String(a), String(b)]);
    }
  });
});

describe('TreeDirLines', () => {
  it('prints each held line once, in depthFirst order, as the walk passes its place (as sorting all held lines at each step would)', () => {
    let seed = 11;
    const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    const parts = ['a', 'a-b', 'b', 'c.d', 'z'];
    const path = (): Buffer => Buffer.from(Array.from({ length: 1 + rnd(3) }, () => parts[rnd(parts.length)]!).join('/'));
    for (let round = 0; round < 200; round++) {
      const lines = new TreeDirLines();
      const printed: string[] = [];
      let held: Buffer[] = [];
      const expected: string[] = [];
      for (let step = 0; step < 30; step++) {
        const p = path();
        if (rnd(2) === 0) {
          lines.hold(p, () => printed.push(String(p)));
          held.push(p);
        } else {
          lines.upTo(p);
          const now = held.filter((h) => depthFirst(h, p) <= 0).sort(depthFirst);
          held = held.filter((h) => depthFirst(h, p) > 0);
          expected.push(...now.map(String));
        }
      }
      lines.flush();
      expected.push(...held.sort(depthFirst).map(String));
      expect(printed).toEqual(expected);
    }
  });
});
