import { describe, expect, it } from 'vitest';
import { chooseFuzzy, filenameSuffix, fuzzyDistance, type FuzzyCandidate } from '../../../src/plan/fuzzy.js';

const B = (s: string): Buffer => Buffer.from(s);
const cand = (name: string, size = 10, mtimeSec = 1): FuzzyCandidate => ({ name: B(name), shown: name, size, mtimeSec });

describe('filenameSuffix (rsync find_filename_suffix)', () => {
  it('the last significant suffix', () => {
    expect(filenameSuffix(B('archive.tar.gz')).toString()).toBe('.gz');
    expect(filenameSuffix(B('.bashrc')).toString()).toBe('');
    expect(filenameSuffix(B('noext')).toString()).toBe('');
  });
  it('skips .bak, .old, .orig and ~N~ backups, and looks past an all-digit suffix', () => {
    expect(filenameSuffix(B('a.c.bak')).toString()).toBe('.c');
    expect(filenameSuffix(B('a.c.orig')).toString()).toBe('.c');
    expect(filenameSuffix(B('a.c.~1~')).toString()).toBe('.c');
    expect(filenameSuffix(B('lib.so.6')).toString()).toBe('.so');
  });
});

describe('fuzzyDistance (rsync util1.c)', () => {
  // Values printed by rsync 3.5's --debug=FUZZY2 for these names.
  it('matches rsync', () => {
    const d = (a: string, b: string): number => fuzzyDistance(B(a), B(b), 25 << 16) + fuzzyDistance(filenameSuffix(B(a)), filenameSuffix(B(b)), 0xffff0000) * 10;
    expect(d('archive-v1.tar', 'archive-v2.tar')).toBe((1 << 16) + 1);
    expect(d('archive-old.tar', 'archive-v2.tar')).toBe((3 << 16) + 165);
  });
  it('gives up when the lengths alone are too far apart', () => {
    expect(fuzzyDistance(B('a'), B('abcdefgh'), 2 << 16)).toBe(0xffff0001);
  });
});

describe('chooseFuzzy (rsync find_fuzzy)', () => {
  it('an exact size and mtime first, then the closest name (the last of equals), empty files never', () => {
    const exact = chooseFuzzy(B('x.c'), 10, 5, [[cand('zzz', 10, 5), cand('x2.c')]]);
    expect(exact.basis?.shown).toBe('zzz');
    expect(exact.traces).toEqual(['fuzzy size/modtime match for zzz']);
    expect(chooseFuzzy(B('x.c'), 10, 5, [[cand('x2.c'), cand('x1.c')]]).basis?.shown).toBe('x1.c');
    expect(chooseFuzzy(B('x.c'), 10, 5, [[cand('x1.c')], [{ ...cand('x1.c'), shown: 'alt/x1.c' }]]).basis?.shown).toBe('alt/x1.c');
    expect(chooseFuzzy(B('x.c'), 10, 5, [[cand('x1.c', 0)]]).basis).toBeUndefined();
  });
  it('nothing beyond a distance of 25', () => {
    expect(chooseFuzzy(B('a'), 10, 5, [[cand('completely-different-name.dat')]]).basis).toBeUndefined();
  });
});
