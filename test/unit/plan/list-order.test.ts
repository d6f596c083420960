// rsync's file-list order for the roots of a run (plan/sources.ts listOrder): files before subdirectories
// in each directory, names as unsigned bytes, a directory before what is below it.

import { describe, expect, it } from 'vitest';
import { listOrder } from '../../../src/plan/sources.js';

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
  it('is 0 for the same name and kind, so a stable sort keeps the operands\' order', () => {
    expect(listOrder(Buffer.from('a'), false, Buffer.from('a'), false)).toBe(0);
    expect(listOrder(Buffer.alloc(0), true, Buffer.alloc(0), true)).toBe(0);
  });
});
