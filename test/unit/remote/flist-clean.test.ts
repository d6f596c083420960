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

it('takes a list sent in order as it is, yet still finds a file and a directory of one name apart in it', () => {
  // The order rsync's sender sends: the root, a level's files, then its directories with their contents.
  const sent = [e('.', true), e('a'), e('b'), e('x'), e('a', true, 1), e('a/y'), e('x-1', true), e('x-1/z')];
  // "x" the file sorts among the root's files; no directory "x": kept whole, in the same order.
  expect(show(sortAndClean(sent.filter((x) => x.name.toString() !== 'a' || x.mode & 0o040000)))).toEqual(['./#0', 'b#0', 'x#0', 'a/#1', 'a/y#0', 'x-1/#0', 'x-1/z#0']);
  // "a" both a file and a directory, far apart in the list: the directory kept, the file cleared.
  expect(show(sortAndClean(sent))).toEqual(['./#0', '-', 'b#0', 'x#0', 'a/#1', 'a/y#0', 'x-1/#0', 'x-1/z#0']);
  // The same name twice in a row: the first sent kept.
  expect(show(sortAndClean([e('.', true), e('a', false, 1), e('a', false, 2)]))).toEqual(['./#0', 'a#1', '-']);
});

it('gives a list in order the same answer as the same entries shuffled', () => {
  const names = ['.', 'a', 'a.b', 'a-b', 'a/c', 'a/c/d', 'a/c.d', 'b', 'b/a', 'b/a b', 'c', 'c/.x'];
  const dirs = new Set(['.', 'a', 'a/c', 'b', 'c']);
  for (let seed = 1; seed < 40; seed++) {
    let r = seed;
    const rnd = (): number => ((r = (r * 1103515245 + 12345) % 2147483648) / 2147483648);
    const list = names.map((n, i) => e(n, dirs.has(n), i)).sort(() => rnd() - 0.5);
    const slow = sortAndClean(list);
    const fast = sortAndClean(slow.filter((x): x is RemoteEntry => x !== undefined));
    expect(show(fast)).toEqual(show(slow));
  }
});

it('clears the same names as keeping the first of each name (a directory over the rest) would, on random lists with repeats', () => {
  // The rule stated plainly, as a reference: by name, the first directory sent, else the first entry sent.
  const reference = (list: RemoteEntry[]): Set<RemoteEntry> => {
    const keep = new Map<string, RemoteEntry>();
    for (const x of list) {
      const had = keep.get(x.name.toString());
      if (!had || (x.mode & 0o040000 && !(had.mode & 0o040000))) keep.set(x.name.toString(), x);
    }
    return new Set(keep.values());
  };
  const names = ['a', 'a-b', 'a/c', 'b', 'a.b', 'a/c/d'];
  for (let seed = 1; seed < 200; seed++) {
    let r = seed;
    const rnd = (n: number): number => Math.floor(((r = (r * 1103515245 + 12345) % 2147483648) / 2147483648) * n);
    const list = [e('.', true)];
    for (let i = 0; i < 9; i++) list.push(e(names[rnd(names.length)]!, rnd(2) === 0, i + 1));
    const got = sortAndClean(list);
    expect(new Set(got.filter((x) => x !== undefined))).toEqual(reference(list));
    expect(got.length).toBe(list.length);
  }
});
