// rsync's file-list order for the roots of a run (plan/sources.ts listOrder): files before subdirectories
// in each directory, names as unsigned bytes, a directory before what is below it.

import { describe, expect, it } from 'vitest';
import { listKey, listOrder } from '../../../src/plan/sources.js';

type E = [name: string, dir: boolean];
const sorted = (entries: E[]): string[] =>
  [...entries].sort((a, b) => listOrder(Buffer.from(a[0], 'latin1'), a[1], Buffer.from(b[0], 'latin1'), b[1])).map((e) => e[0]);

describe('listOrder', () => {
  it('puts the files of a directory before its subdirectories', () => {
    expect(sorted([['sub', true], ['e', true], ['a', false], ['Z', false]])).toEqual(['Z', 'a', 'e', 'sub']);
  });
  it('compares deeper paths name by name, with the same rule at every level', () => {
    expect(sorted([['x/y/f', false], ['x/g', false], ['x/a', true], ['b', false]])).toEqual(['b', 'x/g', 'x/a', 'x/y/f']);
  });
  it('puts a directory before what is below it, and the root first', () => {
    expect(sorted([['d/e', false], ['d', true], ['', true]])).toEqual(['', 'd', 'd/e']);
  });
  it('compares names as unsigned bytes, not as UTF-16 or by locale', () => {
    expect(sorted([['\xe9', false], ['z', false], ['Z', false], ['a.b', false], ['a', false]])).toEqual(['Z', 'a', 'a.b', 'z', '\xe9']);
  });
  it('reads empty names (a doubled or trailing "/") as absent, as the sender\'s cleaned names have none', () => {
    expect(listOrder(Buffer.from('a//b'), false, Buffer.from('a/b'), false)).toBe(0);
    expect(listOrder(Buffer.from('d/'), true, Buffer.from('d'), true)).toBe(0);
    expect(sorted([['x//y', false], ['x/', true], ['x/a', false]])).toEqual(['x/', 'x/a', 'x//y']);
  });
  it('makes a directory\'s key a prefix of the keys below it, and never longer than twice the path plus 2', () => {
    const d = listKey(Buffer.from('a/bc'), true);
    const below = listKey(Buffer.from('a/bc/d'), false);
    expect(below.startsWith(d)).toBe(true);
    for (const p of ['a', 'a/b/c/d/e', '/', 'x//', '\xff/\x01']) expect(listKey(Buffer.from(p, 'latin1'), true).length).toBeLessThanOrEqual(2 * p.length + 2);
  });
  it('is 0 for the same name and kind, so a stable sort keeps the operands\' order', () => {
    expect(listOrder(Buffer.from('a'), false, Buffer.from('a'), false)).toBe(0);
    expect(listOrder(Buffer.alloc(0), true, Buffer.alloc(0), true)).toBe(0);
  });
});
