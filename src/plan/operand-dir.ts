// The directory rsync's sender changes into before it looks at a source operand (flist.c send_file_list
// and change_pathname), whether it can, and how rsync names a path in its messages: one it cannot enter
// is its "change_dir" error for the operand, whatever --ignore/--delete-missing-args say. For a local
// copy's operands and a push's.

import * as fs from 'node:fs';

const ERRNO_ENOTDIR = 20;

/**
 * The directory rsync's sender changes into before it looks at an operand (flist.c send_file_list and
 * change_pathname): without -R the part before the last slash, the operand itself for "dir/" or "dir/."
 * ("./" and "." stay here); with -R the part before "/./". undefined: the current directory.
 */
export function operandDir(op: Buffer, relative: boolean): Buffer | undefined {
  let s = op.toString('latin1');
  if (relative) {
    const m = s.indexOf('/./');
    return m < 0 ? undefined : Buffer.from(m === 0 ? '/' : s.slice(0, m), 'latin1');
  }
  if (s === '' || s.endsWith('/')) s = s === './' ? '.' : `${s}.`;
  else if (s === '..' || s.endsWith('/..')) s = `${s}/.`;
  const at = s.lastIndexOf('/');
  return at < 0 ? undefined : Buffer.from(at === 0 ? '/' : s.slice(0, at), 'latin1');
}

/** rsync's full_fname: a relative path after the current directory, as it is (nothing resolved). */
export function fullName(p: Buffer): string {
  const s = p.toString('latin1');
  return s.startsWith('/') ? s : `${process.cwd()}/${s}`;
}

/** Why the sender could not change into `dir` (an errno), or 0: it can (rsync's chdir, following symlinks). */
export function chdirErrno(dir: Buffer): number {
  try {
    if (!fs.statSync(dir).isDirectory()) return ERRNO_ENOTDIR;
    fs.accessSync(dir, fs.constants.X_OK);
    return 0;
  } catch (err) {
    return -((err as NodeJS.ErrnoException).errno ?? -ERRNO_ENOTDIR);
  }
}

