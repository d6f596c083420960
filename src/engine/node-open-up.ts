// The node engine's twin of native ops.h parent_open_up: not acting as root, rsync makes a directory of
// ours that lacks owner write writable before it deletes (or backs up) inside it, so a read-only tree,
// such as a module cache, goes whole. An op inside a directory whose contents go (OpFlag.OwnerWrite) that
// met EACCES runs again with its held parent opened up. That directory is on its way out: as in rsync, it
// keeps owner write if something in it stays (a backup, a failure); a kept directory's ops are never
// flagged.

import * as C from 'node:constants';
import type { Op } from './batch.js';
import { O_PATH } from './node-beneath.js';
import { closeAfter, fsImpl } from './node-fs.js';
import { S_IFLNK, S_IFMT } from '../model/stat.js';

/**
 * `retry` again with the directory `dir` (the held parent, /proc/self/fd/N) given owner write, when that
 * directory is ours and lacks it; else `failure` is thrown as it is.
 */
export function inOpenedParent<T>(dir: Buffer | string, failure: unknown, retry: () => T): T {
  const st = fsImpl.statSync(dir);
  if (!st.isDirectory() || st.mode & 0o200 || st.uid !== process.geteuid?.()) throw failure;
  try {
    fsImpl.chmodSync(dir, (st.mode & 0o7777) | 0o200);
  } catch {
    throw failure;
  }
  return retry();
}

/** `e` is the EACCES an opened-up parent may cure. */
export const deniedHere = (e: unknown): boolean => (e as NodeJS.ErrnoException).code === 'EACCES';

/**
 * Not acting as root, rsync makes an entry of ours without owner write writable before it deletes it
 * (DEL_NO_UID_WRITE, and delete_dir_contents for what is inside), whether or not the deletion then
 * happens: seen when it fails or stops (OpFlag.OwnerWriteOnly) and in the backup a deletion leaves
 * (OpFlag.DeletionBackup). Through an O_PATH descriptor of `abs` (no symlink followed), only while it is
 * still that entry (its type, ours, without owner write); a symlink has no mode. Failures are ignored:
 * the deletion reports its own outcome. native/ops.h owner_write_first is its twin.
 */
export function ownerWriteFirst(op: Op, abs: Buffer, isRoot: boolean): void {
  const type = op.stat.mode & S_IFMT;
  if (isRoot || op.stat.mode & 0o200 || op.stat.uid !== process.geteuid?.() || type === S_IFLNK) return;
  let fd: number;
  try {
    fd = fsImpl.openSync(abs, O_PATH | C.O_NOFOLLOW);
  } catch {
    return;
  }
  closeAfter(fd, () => {
    const st = fsImpl.fstatSync(fd);
    if ((st.mode & S_IFMT) !== type || st.mode & 0o200 || st.uid !== process.geteuid?.()) return;
    try {
      fsImpl.chmodSync(`/proc/self/fd/${fd}`, (st.mode & 0o7777) | 0o200);
    } catch {
      // The deletion goes ahead and reports its own outcome.
    }
  });
}
