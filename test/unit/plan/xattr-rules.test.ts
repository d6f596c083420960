// The x-rules of a run (src/plan/xattr-rules.ts): which rules are xattr rules, each side's view of them
// (first match decides; "s" and "r" rules only on their side; --delete-excluded makes an unqualified
// rule the sender's), and the bits the engines take (native/xfilter.h), which must say the same.

import { describe, expect, it } from 'vitest';
import { FilterList } from '../../../src/plan/filter.js';
import { XR, engineRules, xattrExcluded, xattrRules } from '../../../src/plan/xattr-rules.js';
import type { FilterItem } from '../../../src/model/config.js';

const rules = (fs: string[], deleteExcluded = false) =>
  xattrRules(FilterList.fromOptions(fs.map((value): FilterItem => ({ kind: 'filter', value })), { deleteExcluded }));
const b = (s: string): Buffer => Buffer.from(s);

describe('xattrRules', () => {
  it('keeps only the rules with the x modifier, in order', () => {
    const r = rules(['- *.o', '-x user.a', '+ keep', '+x user.b*']);
    expect(r.map((x) => x.pattern)).toEqual(['user.a', 'user.b*']);
    expect(rules(['- *.o'])).toEqual([]);
    expect(xattrRules(undefined)).toEqual([]);
  });
});

describe('xattrExcluded', () => {
  it('lets the first matching rule decide, on either side for an unqualified rule', () => {
    const r = rules(['+x user.keep', '-x user.*']);
    for (const sender of [true, false]) {
      expect(xattrExcluded(r, b('user.keep'), sender)).toBe(false);
      expect(xattrExcluded(r, b('user.other'), sender)).toBe(true);
      expect(xattrExcluded(r, b('trusted.x'), sender)).toBe(false);
    }
  });

  it('applies "s" rules to the sender only and "r" rules to the receiver only', () => {
    const r = rules(['-xs user.s', '-xr user.r']);
    expect(xattrExcluded(r, b('user.s'), true)).toBe(true);
    expect(xattrExcluded(r, b('user.s'), false)).toBe(false);
    expect(xattrExcluded(r, b('user.r'), true)).toBe(false);
    expect(xattrExcluded(r, b('user.r'), false)).toBe(true);
  });

  it('turns an unqualified rule into the sender\'s under --delete-excluded', () => {
    const r = rules(['-x user.a'], true);
    expect(xattrExcluded(r, b('user.a'), true)).toBe(true);
    expect(xattrExcluded(r, b('user.a'), false)).toBe(false);
  });

  it('matches negated and wildcard patterns against the whole name', () => {
    const r = rules(['-x! user.*']);
    expect(xattrExcluded(r, b('security.selinux'), true)).toBe(true);
    expect(xattrExcluded(r, b('user.x'), true)).toBe(false);
    const w = rules(['-x user.t?p.[ab]*']);
    expect(xattrExcluded(w, b('user.tmp.a1'), true)).toBe(true);
    expect(xattrExcluded(w, b('user.tmp.c1'), true)).toBe(false);
  });
});

describe('engineRules', () => {
  it('gives each rule its pattern and the XR bits native/xfilter.c reads', () => {
    const e = engineRules(rules(['+x user.k', '-x! user.*', '-xs user.s*', '-xr /user.r']));
    expect(e.map((r) => r.pattern.toString())).toEqual(['user.k', 'user.*', 'user.s*', '/user.r']);
    expect(e.map((r) => r.bits)).toEqual([XR.INCLUDE, XR.NEGATE | XR.WILD, XR.SENDER | XR.WILD, XR.RECEIVER]);
  });
});
