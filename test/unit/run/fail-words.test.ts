import { describe, expect, it } from 'vitest';
import type { Op } from '../../../src/engine/batch.js';
import { FailWords } from '../../../src/run/fail-words.js';
import { OpFlag, OpKind } from '../../../src/model/ops.js';
import { ERRNO } from '../../../src/util/errors.js';
import { errnoSuffix, strerror } from '../../../src/util/strerror.js';

const stat = { mode: 0o100644, uid: 0, gid: 0, size: 0, mtimeSec: 0, mtimeNsec: 0, ino: 0, dev: 0, rdev: 0, nlink: 1, blocks: 0 };
const op = (kind: OpKind, src = '/src/x', dst = 'd/x', extra: Partial<Op> = {}): Op => ({
  kind,
  flags: 0,
  src: Buffer.from(src),
  dst: Buffer.from(dst),
  stat,
  anchor: 0,
  ...extra,
});
const words = new FailWords(Buffer.from('/dst'));
const dest = (errno: number, syscall: string, path = 'd/x', more = {}) => ({ index: 0, errno, syscall, path: Buffer.from(path), onDest: true, ...more });
const source = (errno: number, syscall: string, path = '/src/x') => ({ index: 0, errno, syscall, path: Buffer.from(path), onDest: false });

describe('strerror', () => {
  it("gives glibc's texts, and glibc's words past the table", () => {
    expect(strerror(ERRNO.EACCES)).toBe('Permission denied');
    expect(strerror(-ERRNO.ENOSPC)).toBe('No space left on device');
    expect(strerror(ERRNO.EOPNOTSUPP)).toBe('Operation not supported');
    expect(strerror(41)).toBe('Unknown error 41');
    expect(strerror(4000)).toBe('Unknown error 4000');
    expect(errnoSuffix(ERRNO.ENOENT)).toBe('No such file or directory (2)');
  });
});

describe('FailWords: each failure as the rsync process that would meet it words it', () => {
  it("the sender's: opening, reading and listing the source, removing a sent file", () => {
    expect(words.line(source(ERRNO.EACCES, 'open'), op(OpKind.File))).toBe('[sender] send_files failed to open "/src/x": Permission denied (13)');
    expect(words.line(source(ERRNO.EIO, 'read'), op(OpKind.File))).toBe('[sender] read errors mapping "/src/x": Input/output error (5)');
    expect(words.line(source(ERRNO.EACCES, 'scandir'), undefined)).toBe('[sender] opendir "/src/x" failed: Permission denied (13)');
    expect(words.line(source(ERRNO.EACCES, 'readlink'), op(OpKind.Symlink))).toBe('[sender] readlink_stat("/src/x") failed: Permission denied (13)');
    // Named as the sender's list has it: relative to the transfer (the op's destination name), not the path.
    expect(words.line(source(ERRNO.EACCES, 'unlink', 'src/d/x'), op(OpKind.File))).toBe('[sender] sender failed to remove d/x: Permission denied (13)');
  });

  it('--inplace: a file that cannot be opened at its own name is named so (no temp file)', () => {
    const inplace = new FailWords(Buffer.from('/dst'), false, true);
    expect(inplace.line(dest(ERRNO.EACCES, 'open'), op(OpKind.File))).toBe('[receiver] open "/dst/d/x" failed: Permission denied (13)');
    expect(words.line(dest(ERRNO.EACCES, 'open'), op(OpKind.File))).toBe('[receiver] mkstemp "/dst/d/.x.XXXXXX" failed: Permission denied (13)');
  });

  it("the receiver's: the temp file, its data, its rename, a file's attributes", () => {
    expect(words.line(dest(ERRNO.EACCES, 'open'), op(OpKind.File))).toBe('[receiver] mkstemp "/dst/d/.x.XXXXXX" failed: Permission denied (13)');
    expect(words.line(dest(ERRNO.EACCES, 'open', '.hidden'), op(OpKind.File))).toBe('[receiver] mkstemp "/dst/.hidden.XXXXXX" failed: Permission denied (13)');
    expect(words.line(dest(ERRNO.ENOSPC, 'write'), op(OpKind.File))).toBe('[receiver] write failed on "/dst/d/x": No space left on device (28)');
    expect(words.line(dest(ERRNO.EXDEV, 'clone'), op(OpKind.File))).toBe('[receiver] clone "/dst/d/x" failed: Invalid cross-device link (18)');
    expect(words.line(dest(ERRNO.EACCES, 'rename'), op(OpKind.File))).toBe('[receiver] rename "/dst/d/.x.XXXXXX" -> "d/x": Permission denied (13)');
    expect(words.line(dest(ERRNO.EPERM, 'fchmod'), op(OpKind.File))).toBe('[receiver] failed to set permissions on "/dst/d/x": Operation not permitted (1)');
    expect(words.line(dest(ERRNO.EPERM, 'futimes'), op(OpKind.File))).toBe('[receiver] failed to set times on "/dst/d/x": Operation not permitted (1)');
    expect(words.line(dest(ERRNO.EPERM, 'fchown'), op(OpKind.File))).toBe('[receiver] chgrp "/dst/d/x" failed: Operation not permitted (1)');
    expect(new FailWords(Buffer.from('/dst'), true).line(dest(ERRNO.EPERM, 'lchown'), op(OpKind.Symlink))).toBe('[generator] chown "/dst/d/x" failed: Operation not permitted (1)');
  });

  it("the generator's: directories, links, devices, deletions, attributes of what it did not write", () => {
    expect(words.line(dest(ERRNO.EACCES, 'mkdir'), op(OpKind.Mkdir))).toBe('[generator] recv_generator: mkdir "/dst/d/x" failed: Permission denied (13)');
    expect(words.line(dest(ERRNO.EPERM, 'fchmod', ''), op(OpKind.DirMeta, '/src', ''))).toBe('[generator] failed to set permissions on "/dst/.": Operation not permitted (1)');
    expect(words.line(dest(ERRNO.EPERM, 'futimes'), op(OpKind.Attrs))).toBe('[generator] failed to set times on "/dst/d/x": Operation not permitted (1)');
    const target = op(OpKind.Symlink, '/src/l', 'd/x', { flags: OpFlag.Target, target: Buffer.from('a/b') });
    expect(words.line(dest(ERRNO.EACCES, 'symlink'), target)).toBe('[generator] symlink "/dst/d/x" -> "a/b" failed: Permission denied (13)');
    expect(words.line(dest(ERRNO.EACCES, 'mknod'), op(OpKind.Special))).toBe('[generator] mknod "/dst/d/x" failed: Permission denied (13)');
    expect(words.line(dest(ERRNO.EMLINK, 'link'), op(OpKind.Hardlink, 'd/leader'))).toBe('[generator] link "/dst/d/x" => d/leader failed: Too many links (31)');
    expect(words.line(dest(ERRNO.EACCES, 'unlink'), op(OpKind.Delete))).toBe('[generator] delete_file: unlink(d/x) failed: Permission denied (13)');
    expect(words.line(dest(ERRNO.ENOTEMPTY, 'rmdir'), op(OpKind.Delete))).toBe('[generator] delete_file: rmdir(d/x) failed: Directory not empty (39)');
  });

  it('a step rsync has no words for names the syscall, and a second path when there is one', () => {
    expect(words.line(dest(ERRNO.EIO, 'fsync'), op(OpKind.Attrs))).toBe('[generator] fsync "/dst/d/x" failed: Input/output error (5)');
    expect(words.line(dest(ERRNO.EXDEV, 'rename', 'd/x', { dest: Buffer.from('/bak/x') }), undefined)).toBe('[generator] rename "/dst/d/x" -> "/bak/x" failed: Invalid cross-device link (18)');
    expect(words.line(dest(ERRNO.EACCES, 'rename', 'd/x', { dest: Buffer.from('/bak/x') }), op(OpKind.Backup))).toBe('[receiver] keep_backup failed: "/dst/d/x" -> "/bak/x": Permission denied (13)');
  });
});
