// remote/flist.ts: the receiver's sort and its clearing of duplicate names (a directory kept over a
// non-directory, else the first sent), and cleanName's fast path for names that need no cleaning.

import { expect, it } from 'vitest';
import { cleanName, sortAndClean, type RemoteEntry } from '../../../src/remote/flist.js';

const e = (name: string, dir = false, tag = 0): RemoteEntry => ({ name: Buffer.from(name), mode: dir ? 0o040755 : 0o100644, size: tag, mtime: 0, mtimeNsec: 0, topDir: false });
const show = (l: (RemoteEntry | undefined)[]): string[] => l.map((x) => (x ? `${x.name.toString()}${x.mode & 0o040000 ? '/' : ''}#${x.size}` : '-'));

it('sorts as rsync and keeps every entry when no name repeats', () => {
  expect(show(sortAndClean([e('b'), e('a', true), e('a/x'), e('.', true), e('c')]))).toEqual(['./#0', 'b#0', 'c#0', 'a/#0', 'a/x#0']);
});

it('clears duplicates in place: a directory over a file, else the first sent', () => {
  expect(show(sortAndClean([e('x', false, 1), e('x', true, 2), e('x', true, 3)]))).toEqual(['-', 'x/#2', '-']);
  expect(show(sortAndClean([e('y', false, 1), e('y', false, 2)]))).toEqual(['y#1', '-']);
});

it('returns a clean name as received, and cleans or refuses the others', () => {
  const raw = Buffer.from('a/b.c/d');
  expect(cleanName(raw, false)).toBe(raw);
  expect(cleanName(Buffer.from('a//b/./c/'), false).toString()).toBe('a/b/c');
  expect(cleanName(Buffer.from('.'), false).toString()).toBe('.');
  expect(cleanName(Buffer.from('.hidden/..x'), false).toString()).toBe('.hidden/..x');
  expect(() => cleanName(Buffer.from('a/../b'), false)).toThrow(/unsafe pathname/);
  expect(() => cleanName(Buffer.from('a\0b'), false)).toThrow(/unsafe pathname/);
  expect(() => cleanName(Buffer.from('/etc'), false)).toThrow(/unsafe pathname/);
});
