import { describe, expect, it } from 'vitest';
import { baseName, dirName, escapeName, joinPath, outputBytes, setEightBitOutput } from '../../../src/util/names.js';
import { fsError } from '../../../src/util/errors.js';

describe('names', () => {
  it('escapes control bytes and invalid UTF-8 like rsync, keeps valid UTF-8', () => {
    expect(escapeName(Buffer.from('a\nb\tc\x1b\x7f'))).toBe('a\\#012b\tc\\#033\x7f');
    expect(escapeName(Buffer.from([0x61, 0xff, 0x62]))).toBe('a\\#377b');
    expect(escapeName(Buffer.from('é€😀'))).toBe('é€😀');
    expect(escapeName(Buffer.from([0xc3]))).toBe('\\#303');
  });

  it('escapes the backslash of a literal \\#ddd in a name, as rsync does', () => {
    expect(escapeName(Buffer.from('back\\#123'))).toBe('back\\#134#123');
    expect(escapeName(Buffer.from('a\\#12b\\x'))).toBe('a\\#12b\\x');
  });

  it('-8 prints bytes that are not UTF-8 as they are (through outputBytes), control bytes still escaped', () => {
    setEightBitOutput(true);
    try {
      const shown = escapeName(Buffer.from([0x61, 0xff, 0x0a, 0xc3, 0xa9]));
      expect(shown).not.toContain('#377');
      expect(shown).toContain('\\#012');
      expect(outputBytes(`${shown}\n`)).toEqual(Buffer.from([0x61, 0xff, 0x5c, 0x23, 0x30, 0x31, 0x32, 0xc3, 0xa9, 0x0a]));
      expect(outputBytes('plain \u{1f600}')).toBe('plain \u{1f600}');
    } finally {
      setEightBitOutput(false);
    }
    expect(escapeName(Buffer.from([0xff]))).toBe('\\#377');
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
