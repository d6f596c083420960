// src/util/errors.ts: Node-shaped fs errors, and rsync's wording for a refused extended attribute.

import { describe, expect, it } from 'vitest';
import { ERRNO, attrRefusedMessage, fsError } from '../../../src/util/errors.js';

describe('fsError', () => {
  it('reads like Node: code, description, syscall, paths', () => {
    const e = fsError(ERRNO.ENODATA, 'read', '/src/f');
    expect(e.message).toBe("ENODATA: no data available, read '/src/f'");
    expect(e.code).toBe('ENODATA');
    expect(e.errno).toBe(-ERRNO.ENODATA);
  });
});

describe('attrRefusedMessage', () => {
  it("uses rsync's form and glibc's strerror text", () => {
    expect(attrRefusedMessage(ERRNO.EOPNOTSUPP, 'setxattr', '/dst/f', Buffer.from('user.a'))).toBe(
      'setxattr("/dst/f","user.a") failed: Operation not supported (95)',
    );
    expect(attrRefusedMessage(ERRNO.ENOSPC, 'setxattr', '/dst/f', Buffer.from('user.big'))).toBe(
      'setxattr("/dst/f","user.big") failed: No space left on device (28)',
    );
  });

  it('escapes control bytes in the attribute name and takes a plain Uint8Array (after a worker hop)', () => {
    const name = new Uint8Array([...Buffer.from('user.a'), 0x0a, 0x62]);
    expect(attrRefusedMessage(ERRNO.EPERM, 'removexattr', '/d', name)).toBe(
      'removexattr("/d","user.a\\#012b") failed: Operation not permitted (1)',
    );
  });

  it("falls back to Node's description for other errnos", () => {
    expect(attrRefusedMessage(ERRNO.ENOENT, 'setxattr', '/d', Buffer.from('user.a'))).toBe(
      'setxattr("/d","user.a") failed: no such file or directory (2)',
    );
  });
});
