import { describe, expect, it } from 'vitest';
import { baseName, dirName, escapeName, joinPath } from '../../../src/util/names.js';
import { fsError } from '../../../src/util/errors.js';

describe('names', () => {
  it('escapes control bytes and invalid UTF-8 like rsync, keeps valid UTF-8', () => {
    expect(escapeName(Buffer.from('a\nb\tc'))).toBe('a\\#012b\\#011c');
    expect(escapeName(Buffer.from([0x61, 0xff, 0x62]))).toBe('a\\#377b');
    expect(escapeName(Buffer.from('é€😀'))).toBe('é€😀');
    expect(escapeName(Buffer.from([0xc3]))).toBe('\\#303');
  });

  it('joins and splits byte paths', () => {
    expect(joinPath(Buffer.from('a/'), Buffer.from('b')).toString()).toBe('a/b');
    expect(joinPath(Buffer.from(''), Buffer.from('b')).toString()).toBe('b');
    expect(baseName(Buffer.from('/x/y//')).toString()).toBe('y');
    expect(dirName(Buffer.from('/x/y')).toString()).toBe('/x');
    expect(dirName(Buffer.from('/y')).toString()).toBe('/');
    expect(dirName(Buffer.from('y')).toString()).toBe('');
  });
});

describe('fsError', () => {
  it("looks exactly like Node's fs errors", () => {
    const e = fsError(2, 'open', 'a', 'b');
    expect(e.message).toBe("ENOENT: no such file or directory, open 'a' -> 'b'");
    expect([e.code, e.errno, e.syscall, e.path, e.dest]).toEqual(['ENOENT', -2, 'open', 'a', 'b']);
    expect(fsError(28, 'write', '/d/f').message).toBe("ENOSPC: no space left on device, write '/d/f'");
  });
});
