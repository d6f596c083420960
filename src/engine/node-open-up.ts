// The node engine's twin of native ops.h parent_open_up: not acting as root, rsync makes a directory of
// ours that lacks owner write writable before it deletes (or backs up) inside it, so a read-only tree,
// such as a module cache, goes whole. An op inside a directory whose contents go (OpFlag.OwnerWrite) that
// met EACCES runs again with its held parent opened up. That directory is on its way out: as in rsync, it
// keeps owner write if something in it stays (a backup, a failure); a kept directory's ops are never
// flagged.

import { fsImpl } from './node-fs.js';

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
