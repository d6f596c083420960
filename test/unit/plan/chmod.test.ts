import { describe, expect, it } from 'vitest';
import { applyChmod, parseChmod } from '../../../src/plan/chmod.js';

const file = 0o100000;
const dir = 0o040000;
const perm = (mode: number): string => (mode & 0o7777).toString(8);

describe('--chmod', () => {
  it('octal, limited to dirs or files', () => {
    const r = parseChmod('D755,F644');
    expect(perm(applyChmod(dir | 0o700, r))).toBe('755');
    expect(perm(applyChmod(file | 0o777, r))).toBe('644');
  });

  it('symbolic like chmod(1)', () => {
    expect(perm(applyChmod(file | 0o644, parseChmod('u+x,go-r')))).toBe('700');
    expect(perm(applyChmod(file | 0o777, parseChmod('o=')))).toBe('770');
    expect(perm(applyChmod(dir | 0o755, parseChmod('Dg+s')))).toBe('2755');
    expect(perm(applyChmod(file | 0o644, parseChmod('a+X')))).toBe('644');
    expect(perm(applyChmod(dir | 0o644, parseChmod('a+X')))).toBe('755');
  });

  it('without a who-letter the rwx bits go through the umask, as in rsync', () => {
    expect(perm(applyChmod(dir | 0o555, parseChmod('D+w'), 0o022))).toBe('755');
    expect(perm(applyChmod(file | 0o777, parseChmod('-w'), 0o022))).toBe('577');
    expect(perm(applyChmod(file | 0o4700, parseChmod('=rw'), 0o022))).toBe('4644');
    expect(perm(applyChmod(file | 0o444, parseChmod('a+w'), 0o022))).toBe('666');
  });

  it('rejects nonsense', () => {
    expect(() => parseChmod('u+q')).toThrow(/invalid --chmod rule "u\+q"/);
    expect(() => parseChmod('Z755')).toThrow();
  });
});
