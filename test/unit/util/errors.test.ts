// src/util/errors.ts: Node-shaped fs errors, rsync's exit codes and closing lines, and rsync's wording for
// a refused extended attribute.

import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRNO, Exit, FileSelectError, UsageError, attrRefusedMessage, errnoCode, errnoText, exitMessage, fsError, showPath } from '../../../src/util/errors.js';

describe('exit codes', () => {
  it("are rsync's numbers", () => {
    expect(Exit).toEqual({ Ok: 0, Usage: 1, Protocol: 2, FileSelect: 3, Unsupported: 4, FileIO: 11, StreamIO: 12, Signal: 20, Partial: 23, Vanished: 24, MaxDelete: 25, Timeout: 30 });
  });

  it("close a failed run with rsync's line for each code", () => {
    expect(exitMessage(Exit.Usage)).toBe('arsync error: syntax or usage error (code 1)');
    expect(exitMessage(Exit.FileSelect)).toBe('arsync error: errors selecting input/output files, dirs (code 3)');
    expect(exitMessage(Exit.FileIO)).toBe('arsync error: error in file IO (code 11)');
    expect(exitMessage(Exit.Signal)).toBe('arsync error: received SIGINT, SIGTERM, or SIGHUP (code 20)');
    expect(exitMessage(Exit.Partial)).toBe('arsync error: some files/attrs were not transferred (see previous errors) (code 23)');
    expect(exitMessage(Exit.Vanished)).toBe('arsync warning: some files vanished before they could be transferred (code 24)');
    expect(exitMessage(Exit.MaxDelete)).toBe('arsync error: the --max-delete limit stopped deletions (code 25)');
    expect(exitMessage(Exit.Timeout)).toBe('arsync error: timeout in data send/receive (code 30)');
    expect(exitMessage(Exit.Protocol)).toBe('arsync error: protocol incompatibility (code 2)');
    expect(exitMessage(Exit.Unsupported)).toBe('arsync error: requested action not supported (code 4)');
    expect(exitMessage(Exit.StreamIO)).toBe('arsync error: error in rsync protocol data stream (code 12)');
    // A remote shell's own failure (ssh could not connect) is rsync's "unexplained error".
    expect(exitMessage(255)).toBe('arsync error: unexplained error (code 255)');
    expect(exitMessage(14)).toBe('arsync error: error in IPC code (code 14)');
  });

  it('name their error classes for the CLI to tell apart', () => {
    expect(new UsageError('x')).toMatchObject({ name: 'UsageError', message: 'x' });
    expect(new FileSelectError('y')).toMatchObject({ name: 'FileSelectError', message: 'y' });
    expect(new UsageError('x')).toBeInstanceOf(Error);
  });
});

describe('errnoCode', () => {
  it('names positive and negative errnos, and makes up a name for one Node refuses', () => {
    expect(errnoCode(ERRNO.ENOENT)).toBe('ENOENT');
    expect(errnoCode(-ERRNO.EACCES)).toBe('EACCES');
    expect(errnoCode(0)).toBe('E0');
  });
});

describe('fsError', () => {
  it('reads like Node: code, description, syscall, paths', () => {
    const e = fsError(ERRNO.ENODATA, 'read', '/src/f');
    expect(e.message).toBe("ENODATA: no data available, read '/src/f'");
    expect(e.code).toBe('ENODATA');
    expect(e.errno).toBe(-ERRNO.ENODATA);
  });

  it('matches the error Node itself throws, with both paths for a two-path syscall', () => {
    let node: (NodeJS.ErrnoException & { dest?: string }) | undefined;
    try {
      fs.renameSync('/nonexistent/a', '/nonexistent/b');
    } catch (err) {
      node = err as NodeJS.ErrnoException & { dest?: string };
    }
    const e = fsError(ERRNO.ENOENT, 'rename', '/nonexistent/a', '/nonexistent/b');
    expect(e.message).toBe(node?.message);
    expect({ code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, dest: e.dest }).toEqual({
      code: node?.code,
      errno: node?.errno,
      syscall: node?.syscall,
      path: node?.path,
      dest: node?.dest,
    });
  });

  it('takes a negative errno too, and leaves path and dest out when not given', () => {
    const e = fsError(-ERRNO.EMFILE, 'io_uring_setup');
    expect(e.message).toBe('EMFILE: too many open files, io_uring_setup');
    expect(e.errno).toBe(-ERRNO.EMFILE);
    expect('path' in e).toBe(false);
    expect('dest' in e).toBe(false);
  });

  it("falls back to the code's own name for an errno without Node's wording", () => {
    expect(fsError(ERRNO.ERANGE, 'getxattr', 'f').message).toBe("ERANGE: erange, getxattr 'f'");
  });
});

describe('showPath', () => {
  it('escapes strings and Buffers alike', () => {
    expect(showPath('a\nb')).toBe('a\\#012b');
    expect(showPath(Buffer.from([0x61, 0xff]))).toBe('a\\#377');
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

  it("gives glibc's words for any other errno", () => {
    expect(attrRefusedMessage(ERRNO.ENOTEMPTY, 'setxattr', '/d', Buffer.from('user.a'))).toBe(
      'setxattr("/d","user.a") failed: Directory not empty (39)',
    );
  });

  it("gives glibc's words for the errnos of a file the client opens for itself", () => {
    expect(errnoText(ERRNO.ENOENT)).toBe('No such file or directory');
    expect(errnoText(ERRNO.EISDIR)).toBe('Is a directory');
  });
});
