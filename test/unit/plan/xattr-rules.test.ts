// The x-rules of a run (src/plan/xattr-rules.ts): which rules are xattr rules, each side's view of them
// (first match decides; "s" and "r" rules only on their side; --delete-excluded makes an unqualified
// rule the sender's), and the bits the engines take (native/xfilter.h), which must say the same.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FilterList } from '../../../src/plan/filter.js';
import { XR, XV_GEN, XVIEW_MAX, engineRules, xattrExcluded, xattrRules, xattrView } from '../../../src/plan/xattr-rules.js';
import type { FilterItem } from '../../../src/model/config.js';
import type { PatternRule } from '../../../src/plan/filter-rules.js';

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

/** A tree of merge files under a fresh directory. */
const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-xrules-'));
  made.push(root);
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
  return root;
}
const list = (fs: string[]): FilterList => FilterList.fromOptions(fs.map((value): FilterItem => ({ kind: 'filter', value })));
const patterns = (r: readonly PatternRule[] | null): string[] | null => r && r.map((x) => `${x.flags & 1 ? '+' : '-'}${x.pattern}`);

describe('FilterScope.xattrRules', () => {
  it("is null where no per-directory file adds an x-rule, else the list check_filter walks (each dir-merge's rules where it stands)", () => {
    const root = tree({ '.m': '- *.o\n', 'a/.m': '-x user.a\n+x user.k\n', 'a/b/.m': '-x user.b\n', 'c/.m': '-xr user.r\n-xs user.s\n' });
    const l = list(['-x user.first', ': .m', '+x user.last']);
    const top = l.root('sender', root).enterDir('');
    expect(top.xattrRules()).toBeNull();
    const a = top.enterDir('a');
    expect(patterns(a.xattrRules())).toEqual(['-user.first', '-user.a', '+user.k', '+user.last']);
    // A subdirectory's own rules first, then the inherited ones.
    expect(patterns(a.enterDir('a/b').xattrRules())).toEqual(['-user.first', '-user.b', '-user.a', '+user.k', '+user.last']);
    // Each side meets only its own rules and the unqualified ones.
    expect(patterns(top.enterDir('c').xattrRules())).toEqual(['-user.first', '-user.s', '+user.last']);
    expect(patterns(l.root('receiver', root).enterDir('').enterDir('c').xattrRules())).toEqual(['-user.first', '-user.r', '+user.last']);
  });

  it('n: a subdirectory does not inherit', () => {
    const root = tree({ '.m': '-x user.a\n', 'd/.m': '- x\n' });
    const top = list([':n .m']).root('sender', root).enterDir('');
    expect(patterns(top.xattrRules())).toEqual(['-user.a']);
    expect(top.enterDir('d').xattrRules()).toBeNull();
  });
});

describe('xattrView', () => {
  const r = (fs: string[]): PatternRule[] => rules(fs);
  it('encodes each rule as its XR bits and its pattern with a NUL, the generator view after XV_GEN', () => {
    expect(xattrView(null, null, r(['-x user.a']))).toBeUndefined();
    const send = xattrView(r(['-x /user.a', '+x user.*']), null, []);
    expect([...send!]).toEqual([0, ...Buffer.from('user.a'), 0, XR.INCLUDE | XR.WILD, ...Buffer.from('user.*'), 0]);
    // No sending view of its own: the command line's rules stand in it.
    const gen = xattrView(null, r(['-xr user.g']), r(['-x user.a']));
    expect([...gen!]).toEqual([0, ...Buffer.from('user.a'), 0, XV_GEN, XR.RECEIVER, ...Buffer.from('user.g'), 0]);
    expect([...xattrView([], [], [])!]).toEqual([XV_GEN]);
  });

  it('refuses views past the u16 the op header counts them in', () => {
    const many = r(Array.from({ length: 7000 }, (_, i) => `-x user.${String(i).padStart(4, '0')}`));
    expect(() => xattrView(many, null, [])).toThrow(new RegExp(`at most ${XVIEW_MAX}`));
  });
});
