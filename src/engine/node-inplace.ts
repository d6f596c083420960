// --inplace (and --append, which implies it) on the node engine: the target itself is written, no temp
// file, the twin of native file_inplace(); under -S its zero runs are punched into holes. Only a regular
// file is rewritten; anything else at the name is removed first: a FIFO must not block the open, a
// symlink must not be followed. O_NONBLOCK covers a FIFO swapped in after the lstat (it stays set: no
// effect on a regular file, and Node has no fcntl).

import * as fs from 'node:fs';
import type { Op } from './batch.js';
import type { DataCopier } from './node-data.js';
import type { Target } from './node-dest.js';
import { closeAfter, closeQuietly, codeOf, fsImpl, sysError } from './node-fs.js';
import { O_PATH } from './node-beneath.js';
import { digHoles, preallocate } from './node-prealloc.js';
import type { OpScope } from './node-scope.js';
import type { Source } from './node-source.js';
import { Counter, Preserve } from '../model/ops.js';

const C = fs.constants;

/** What the in-place write uses of its engine context. */
export interface InplaceHost {
  flags(): number;
  scope(): OpScope;
  data(): DataCopier;
  /** Forget held descriptors of `rel` and beneath (a directory removed at the name). */
  forget(rel: Buffer): void;
  /** The written file's metadata, then --fsync. */
  sealed(op: Op, fd: number, mode: number): void;
}

export function writeInPlace(h: InplaceHost, op: Op, src: Source, t: Target, mode: number): void {
  const flags = h.flags();
  const scope = h.scope();
  const data = h.data();
  scope.at(t.rel, true);
  const old = fsImpl.lstatSync(t.abs, { throwIfNoEntry: false });
  let fd = -1;
  // --write-devices: a device target takes the data itself and stays a device of its own size.
  const device = (flags & Preserve.WriteDevices) !== 0 && (old?.isCharacterDevice() || old?.isBlockDevice()) === true;
  if (device) {
    fd = fsImpl.openSync(t.abs, C.O_WRONLY | C.O_NOFOLLOW);
    const now = fsImpl.fstatSync(fd);
    if (!now.isCharacterDevice() && !now.isBlockDevice()) {
      closeQuietly(fd);
      throw sysError('ESTALE', 'fstat');
    }
  } else if (old?.isFile()) {
    // --append-verify reads back the bytes it keeps.
    const rw = (flags & Preserve.AppendVerify ? C.O_RDWR : C.O_WRONLY) | C.O_NOFOLLOW | C.O_NONBLOCK;
    try {
      fd = fsImpl.openSync(t.abs, rw);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EACCES') throw e;
      fd = openReadOnly(t.abs, rw, (flags & (Preserve.Perms | Preserve.Executability)) !== 0);
    }
    if (!fsImpl.fstatSync(fd).isFile()) {
      closeQuietly(fd);
      throw sysError('ESTALE', 'fstat');
    }
  } else if (old?.isDirectory()) {
    fsImpl.rmdirSync(t.abs);
    h.forget(t.rel);
  } else if (old) {
    fsImpl.unlinkSync(t.abs);
  }
  if (fd < 0) {
    try {
      fd = fsImpl.openSync(t.abs, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
    } catch (e) {
      // rsync's receiver tries again without O_CREAT (native file_inplace: why), and names that error.
      if ((e as NodeJS.ErrnoException).code !== 'EACCES') throw e;
      fd = fsImpl.openSync(t.abs, C.O_WRONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
      if (!fsImpl.fstatSync(fd).isFile()) {
        closeQuietly(fd);
        throw sysError('ESTALE', 'fstat');
      }
    }
  }
  // In place, only a file that grows needs more blocks (rsync's rule).
  if (!device && src.st.size > BigInt(old?.isFile() ? old.size : 0)) preallocate(flags, fd, src.st.size);
  // --append: a shorter target keeps its bytes (the planner skips one that is not shorter);
  // --append-verify writes the whole file when they are not the source's.
  const kept = flags & Preserve.Append && old?.isFile() && BigInt(old.size) < src.st.size ? old.size : 0;
  closeAfter(fd, () => {
    const from = kept && flags & Preserve.AppendVerify && !data.samePrefix(op, src, fd, t, kept) ? 0 : kept;
    data.copy(op, src, fd, t, false, from);
    // The file's whole size counts as transferred, the kept bytes too (as native/copy.c counts them:
    // rsync's total transferred size; its literal data leaves them out, progress/stats.ts).
    if (from > 0) scope.count(Counter.Bytes, BigInt(from));
    scope.at(t.rel, true);
    if (!device) {
      fsImpl.ftruncateSync(fd, data.copied);
      digHoles(flags, fd);
    }
    h.sealed(op, fd, mode);
  });
}

/**
 * rsync's way into a read-only file of ours (native open_readonly_inplace, the same steps): owner write
 * added through a held O_PATH descriptor (so a file its owner may not read either is reached too), the
 * writable one opened, the old mode back at once whatever happened; a file already owner-writable is
 * refused with EACCES, as is a name swapped in between.
 */
function openReadOnly(abs: Buffer, rw: number, perms: boolean): number {
  const cfd = fsImpl.openSync(abs, O_PATH | C.O_NOFOLLOW);
  // fchmod refuses an O_PATH descriptor; its /proc/self/fd link is the inode itself, not a name.
  const chmodHeld = (mode: number): void => fsImpl.chmodSync(`/proc/self/fd/${cfd}`, mode);
  try {
    const cst = fsImpl.fstatSync(cfd, { bigint: true });
    if (!cst.isFile() || (Number(cst.mode) & 0o200) !== 0) throw sysError('EACCES', 'open');
    const prior = Number(cst.mode) & 0o7777;
    // Not ours to change (another's file): rsync's chmod reports its own error only under -p or -E
    // (syscall.c do_chmod); otherwise its open goes on to fail, and the open's EACCES is reported.
    try {
      chmodHeld(prior | 0o200);
    } catch (e) {
      if (perms) throw sysError(codeOf(e) ?? 'EACCES', 'open');
      throw sysError('EACCES', 'open');
    }
    let fd = -1;
    let failure: unknown;
    try {
      fd = fsImpl.openSync(abs, rw);
      const fst = fsImpl.fstatSync(fd, { bigint: true });
      if (fst.dev !== cst.dev || fst.ino !== cst.ino) throw sysError('ESTALE', 'open');
    } catch (e) {
      failure = e;
    }
    // The old mode back before anything else; its failure is the one reported (rsync's order).
    try {
      chmodHeld(prior);
    } catch (e) {
      failure = e;
    }
    if (failure !== undefined) {
      if (fd >= 0) closeQuietly(fd);
      throw failure;
    }
    return fd;
  } finally {
    closeQuietly(cfd);
  }
}
