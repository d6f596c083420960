// rsync's file-list order, implemented twice (src/remote/flist-order.ts compareNames and
// native/flistsort.c flistOrder), held together: on generated names built from the bytes that decide the
// order ("/" and its neighbours "-", ".", "0", high bytes, the root "."), with files and directories of
// the same names, duplicates and names a hostile sender could send, the addon's order is the stable
// sort by compareNames; sortAndClean (the order and the entries it clears) gives the same list with the addon's sort handed in and without it;
// bad arguments throw instead of reading past the names.

import { afterEach, describe, expect, it } from 'vitest';
import { compareNames, useNativeOrder } from '../../src/remote/flist-order.js';
import { sortAndClean, type RemoteEntry } from '../../src/remote/flist.js';
import { addonOrReason } from './engines.js';

const addon = addonOrReason();

/** A small deterministic generator (the same names every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PIECES = ['a', 'b', 'a-b', 'a.b', 'a0', 'ab', '-', '.x', 'z', '\xff', '\x01', 'a/b', 'A', ' ', '..', 'b-'];

function names(seed: number, n: number): { name: Buffer; dir: boolean }[] {
  const r = rng(seed);
  const out: { name: Buffer; dir: boolean }[] = [];
  for (let i = 0; i < n; i++) {
    if (r() < 0.02) {
      out.push({ name: Buffer.from('.'), dir: true });
      continue;
    }
    const depth = 1 + Math.floor(r() * 4);
    const parts: string[] = [];
    for (let d = 0; d < depth; d++) parts.push(PIECES[Math.floor(r() * PIECES.length)]!);
    // Some names again (duplicates, a file and a directory of one name).
    const name = r() < 0.1 && out.length ? out[Math.floor(r() * out.length)]!.name : Buffer.from(parts.join('/'), 'latin1');
    out.push({ name, dir: r() < 0.4 });
  }
  return out;
}

describe.skipIf(typeof addon === 'string')('the file-list order: C and TypeScript agree', () => {
  const a = addon as Exclude<typeof addon, string>;
  const order = a.flistOrder!;
  const inC = (items: { name: Buffer; dir: boolean }[]): number[] => {
    const ends = new Uint32Array(items.length);
    let total = 0;
    items.forEach((t, i) => (ends[i] = total += t.name.length));
    return Array.from(order(Buffer.concat(items.map((t) => t.name)), ends, Uint8Array.from(items, (t) => (t.dir ? 1 : 0))).order);
  };
  const inTs = (items: { name: Buffer; dir: boolean }[]): number[] =>
    items.map((_, i) => i).sort((x, y) => compareNames(items[x]!.name, items[x]!.dir, items[y]!.name, items[y]!.dir));

  afterEach(() => useNativeOrder(undefined));

  it('the same indices as a stable sort by compareNames, on 40 generated lists', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const items = names(seed, 50 + seed * 25);
      expect(inC(items), `seed ${seed}`).toEqual(inTs(items));
    }
  });

  it('the empty list, one entry, and names that are only "/" or empty', () => {
    expect(inC([])).toEqual([]);
    expect(inC([{ name: Buffer.from('x'), dir: false }])).toEqual([0]);
    const odd = [
      { name: Buffer.from('/'), dir: false },
      { name: Buffer.alloc(0), dir: true },
      { name: Buffer.from('a//b'), dir: false },
      { name: Buffer.from('a/'), dir: true },
      { name: Buffer.from('a'), dir: true },
      { name: Buffer.from('.'), dir: true },
      { name: Buffer.from('.'), dir: false },
    ];
    expect(inC(odd)).toEqual(inTs(odd));
  });

  it('sortAndClean: the same list (cleared entries too) with the addon sort handed in and without it', () => {
    let cleared = 0;
    for (let seed = 41; seed <= 50; seed++) {
      const entries = names(seed, 400).map(({ name, dir }) => ({ name, mode: dir ? 0o40755 : 0o100644 }) as RemoteEntry);
      const plain = sortAndClean(entries);
      cleared += plain.filter((x) => x === undefined).length;
      let called = 0;
      useNativeOrder((n, e, d) => {
        called++;
        return order(n, e, d);
      });
      const native = sortAndClean(entries);
      useNativeOrder(undefined);
      expect(called, `seed ${seed}`).toBe(1);
      expect(native, `seed ${seed}`).toEqual(plain);
      // The same objects in the same places (an entry's index is its place in this list).
      native.forEach((x, i) => expect(x).toBe(plain[i]));
    }
    // The lists hold names sent twice and files of a directory's name: the clearing is compared too.
    expect(cleared).toBeGreaterThan(20);
  });

  it('refuses arguments that do not describe the names', () => {
    expect(() => order(Buffer.from('ab'), new Uint32Array([1, 3]), new Uint8Array(2))).toThrow(RangeError);
    expect(() => order(Buffer.from('ab'), new Uint32Array([2, 1]), new Uint8Array(2))).toThrow(RangeError);
    expect(() => order(Buffer.from('ab'), new Uint32Array([1, 2]), new Uint8Array(1))).toThrow(TypeError);
    expect(() => order(Buffer.from('ab'), new Float64Array([1, 2]) as unknown as Uint32Array, new Uint8Array(2))).toThrow(TypeError);
  });
});
