import { describe, expect, it } from 'vitest';
import { roleOf } from '../../../src/plan/overlay.js';

describe('roleOf (rsync flist_sort_and_clean duplicate rule)', () => {
  it('the first occurrence wins among non-directories', () => {
    expect(roleOf({ root: 0, dir: false }, [{ root: 1, dir: false }])).toBe('owner');
    expect(roleOf({ root: 1, dir: false }, [{ root: 0, dir: false }])).toBe('skip');
  });

  it('a directory beats a non-directory wherever it comes', () => {
    expect(roleOf({ root: 0, dir: false }, [{ root: 2, dir: true }])).toBe('skip');
    expect(roleOf({ root: 2, dir: true }, [{ root: 0, dir: false }])).toBe('owner');
  });

  it('directories merge under the first one', () => {
    expect(roleOf({ root: 1, dir: true }, [{ root: 0, dir: false }, { root: 2, dir: true }])).toBe('owner');
    expect(roleOf({ root: 2, dir: true }, [{ root: 0, dir: false }, { root: 1, dir: true }])).toBe('merged');
  });
});
