import { describe, expect, it } from 'vitest';
import { unsafeSymlink } from '../../../src/plan/safelinks.js';

const unsafe = (target: string, at: string): boolean => unsafeSymlink(Buffer.from(target), Buffer.from(at));

describe('unsafeSymlink (rsync util1.c rules)', () => {
  it('absolute and empty targets are unsafe', () => {
    expect(unsafe('/etc/passwd', 'a')).toBe(true);
    expect(unsafe('', 'a')).toBe(true);
  });

  it('a ".." after a named component is unsafe even when it stays inside', () => {
    expect(unsafe('a/a/a/../../../x', 'l')).toBe(true);
    expect(unsafe('a/../b', 'd/l')).toBe(true);
    expect(unsafe('x/..', 'd/l')).toBe(true);
  });

  it('leading ".." components count against the link\'s depth', () => {
    expect(unsafe('../x', 'a/l')).toBe(false);
    expect(unsafe('../x', 'l')).toBe(true);
    expect(unsafe('..//../x', 'a/b/l')).toBe(false);
    expect(unsafe('../../../x', 'a/b/l')).toBe(true);
    expect(unsafe('./x//f', 'l')).toBe(false);
    expect(unsafe('..', 'a/l')).toBe(false);
    expect(unsafe('..', 'l')).toBe(true);
  });
});
