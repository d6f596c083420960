// rsync's --usermap/--groupmap rules (src/plan/idmap.ts): parse_name_map()'s syntax and errors, and
// recv_add_id()'s matching (first rule wins; ids, ranges, names, wildcards; unmatched ids kept).

import { describe, expect, it } from 'vitest';
import { IdMapper, parseIdMap, type NameLookup } from '../../../src/plan/idmap.js';

const db: NameLookup = {
  idOf: (n) => ({ root: 0, alice: 1000, bob: 1001, nobody: 65534 })[n],
  nameOf: (id) => ({ 0: 'root', 1000: 'alice', 1001: 'bob', 65534: 'nobody' })[id],
};
const mapper = (map: string, numeric = false, warn: (m: string) => void = () => {}) =>
  new IdMapper(parseIdMap(map, true), db, numeric, true, warn);

describe('parseIdMap', () => {
  it('reads ids, ranges, names and wildcards in order', () => {
    expect(parseIdMap('0:1,10-20:nobody,alice:bob,a*:0,:5', true)).toEqual([
      { kind: 'ids', low: 0, high: 0, to: '1' },
      { kind: 'ids', low: 10, high: 20, to: 'nobody' },
      { kind: 'name', name: 'alice', to: 'bob' },
      { kind: 'wild', name: 'a*', to: '0' },
      { kind: 'name', name: '', to: '5' },
    ]);
  });

  it("gives rsync's errors, for the last bad item first", () => {
    expect(() => parseIdMap('1234', true)).toThrow('No colon found in --usermap: 1234');
    expect(() => parseIdMap('a:', false)).toThrow('No name found after colon --groupmap: a:');
    expect(() => parseIdMap('12a:0', true)).toThrow('Invalid number in --usermap: 12a');
    expect(() => parseIdMap('1-2-3:0', true)).toThrow('Invalid number in --usermap: 1-2-3');
    expect(() => parseIdMap('5-:0', true)).toThrow('Invalid number in --usermap: 5-');
    expect(() => parseIdMap('99999999999:0', false)).toThrow('Invalid ID number: 99999999999');
    expect(() => parseIdMap('x,y', true)).toThrow('No colon found in --usermap: y');
  });
});

describe('IdMapper', () => {
  it('the first matching rule wins', () => {
    const m = mapper('1000:1,alice:2,*:3');
    expect([m.map(1000), m.map(1001), m.map(4242)]).toEqual([1, 3, 3]);
  });

  it('ranges include both ends; LOW-0 is LOW alone (rsync keeps no range then)', () => {
    const m = mapper('10-20:7,30-0:8');
    expect([m.map(9), m.map(10), m.map(20), m.map(21), m.map(30), m.map(31)]).toEqual([9, 7, 7, 21, 8, 31]);
  });

  it('names match the id\'s name here; an id without a name matches only the empty name', () => {
    const m = mapper('bob:0,:9');
    expect([m.map(1001), m.map(4242), m.map(1000)]).toEqual([0, 9, 1000]);
  });

  it('under --numeric-ids no id has a name: only ids, ranges, "" and wildcards that match "" apply', () => {
    const m = mapper('bob:0,:9', true);
    expect([m.map(1001), m.map(1000)]).toEqual([9, 9]);
  });

  it('target names resolve here; an unknown one is dropped with rsync\'s message', () => {
    const warned: string[] = [];
    const m = mapper('1000:nosuch,1000:nobody', false, (w) => warned.push(w));
    expect(m.map(1000)).toBe(65534);
    expect(warned).toEqual(['Unknown --usermap name on receiver: nosuch']);
  });

  it('aclRanges: the first range holding an id gives what map() gives, for named and nameless ids', () => {
    const named: NameLookup = { ...db, names: () => ['root', 'alice', 'bob', 'nobody'] };
    const first = (r: Uint32Array, id: number): number => {
      for (let i = 0; i < r.length; i += 3) if (id >= r[i]! && id <= r[i + 1]!) return r[i + 2]!;
      return id;
    };
    for (const [map, numeric] of [['1000:1,alice:2,*:3', false], ['10-20:7,bob:0,a*:5', false], ['b*:9,nob*:8,65534:1', false], ['bob:0,:9', true], ['*:4', true], ['1000-1001:2,alice:3', true]] as const) {
      const m = new IdMapper(parseIdMap(map, true), named, numeric, true, () => {});
      const r = m.aclRanges();
      for (const id of [0, 9, 10, 15, 20, 1000, 1001, 4242, 65534]) expect([map, id, first(r, id)]).toEqual([map, id, m.map(id)]);
    }
  });
});
