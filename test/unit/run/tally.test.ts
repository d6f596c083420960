import { describe, expect, it } from 'vitest';
import { Exit, ERRNO } from '../../../src/util/errors.js';
import { exitCode, Tally } from '../../../src/run/tally.js';

const base = { aborted: false, ioErrors: 0, deleteSkipped: 0, vanished: 0 };

describe('exitCode', () => {
  it("follows rsync's precedence: signal, I/O error, --max-delete, vanished", () => {
    expect(exitCode(base, false, 0)).toBe(Exit.Ok);
    expect(exitCode({ ...base, vanished: 1 }, false, 0)).toBe(Exit.Vanished);
    expect(exitCode({ ...base, vanished: 1, deleteSkipped: 1 }, false, 0)).toBe(Exit.MaxDelete);
    expect(exitCode({ ...base, vanished: 1, deleteSkipped: 1, ioErrors: 1 }, false, 0)).toBe(Exit.Partial);
    expect(exitCode({ ...base, vanished: 1 }, false, 1)).toBe(Exit.Partial); // a missing operand
    expect(exitCode({ ...base, ioErrors: 1 }, true, 0)).toBe(Exit.Signal);
    expect(exitCode({ ...base, aborted: true }, false, 0)).toBe(Exit.Signal);
  });
});

describe('Tally', () => {
  it('counts a vanished source apart from I/O errors, and names destination paths under the root', () => {
    const lines: string[] = [];
    const t = new Tally((m) => lines.push(m), Buffer.from('/dst'));
    t.fail({ index: 0, errno: ERRNO.ENOENT, syscall: 'open', path: Buffer.from('/src/gone'), onDest: false });
    t.fail({ index: 1, errno: ERRNO.ESTALE, syscall: 'open', path: Buffer.from('/src/changed'), onDest: false });
    t.fail({ index: 2, errno: ERRNO.EACCES, syscall: 'open', path: Buffer.from('d/f'), onDest: true });
    t.fail({ index: 3, errno: ERRNO.ENOENT, syscall: 'rename', path: Buffer.from('d/g'), onDest: true });
    t.fail({ index: 4, errno: ERRNO.EACCES, syscall: 'open', path: Buffer.from('/src/unreadable'), onDest: false });
    expect(t.totals.vanished).toBe(2);
    // Only the source's reading errors are I/O errors (rsync's io_error, which holds --delete back); the
    // destination's are exit 23 alone.
    expect(t.totals.ioErrors).toBe(1);
    expect(t.totals.xferErrors).toBe(2);
    expect(lines[0]).toBe('file has vanished: "/src/gone"');
    expect(lines[1]).toBe('file has changed during the run, not copied: "/src/changed"');
    expect(lines[2]).toBe('[generator] open "/dst/d/f" failed: Permission denied (13)');
    expect(t.totals.errors.map((e) => e.code)).toEqual(['ENOENT', 'ESTALE', 'EACCES', 'ENOENT', 'EACCES']);
  });

  it("words a source that ended before its fstat size as rsync's sender does (an I/O error, not a vanished file)", () => {
    const lines: string[] = [];
    const t = new Tally((m) => lines.push(m), Buffer.from('/dst'));
    t.fail({ index: 0, errno: ERRNO.ENODATA, syscall: 'read', path: Buffer.from('/src/shrunk'), onDest: false });
    // The same errno elsewhere keeps its own words.
    t.fail({ index: 1, errno: ERRNO.ENODATA, syscall: 'fgetxattr', path: Buffer.from('/src/x'), onDest: false });
    expect(lines[0]).toBe('[sender] read errors mapping "/src/shrunk": No data available (61)');
    expect(lines[1]).toBe('[sender] fgetxattr "/src/x" failed: No data available (61)');
    expect(t.totals.ioErrors).toBe(2);
    expect(t.totals.vanished).toBe(0);
    expect(t.totals.errors[0]!.code).toBe('ENODATA');
  });

  it("puts rsync's words in front of the planner's own errors", () => {
    const lines: string[] = [];
    const t = new Tally((m) => lines.push(m), Buffer.from('/dst'));
    t.ioError(Buffer.from('/src/d'), ERRNO.EACCES, 'scandir', 'opendir "/src/d" failed');
    expect(lines[0]).toBe('opendir "/src/d" failed: Permission denied (13)');
    expect(t.totals.ioErrors).toBe(1);
  });

  it('adds counts listed without planning, and sums listed and deleted entries', () => {
    const t = new Tally(() => undefined, Buffer.from('/dst'));
    t.addListed({ reg: 3, link: 1 }, 100);
    t.addListed({ dir: 2, dev: 1, special: 1 }, 5);
    expect(t.totals.totalSize).toBe(105);
    expect(t.listedCount()).toBe(8);
    t.totals.deleted.reg = 2;
    t.totals.deleted.dir = 1;
    expect(t.deletedCount()).toBe(3);
  });
});
