// --preallocate on the node engine: Node has no fallocate, so util-linux's fallocate(1) reserves the
// blocks of a file we hold open, reached as /proc/<our pid>/fd/<fd> (the child's own /proc/self would be
// its own). A hint, as in rsync: when it cannot be given, the data is written all the same.

import { fsImpl } from './node-fs.js';
import { Preserve } from '../model/ops.js';

/**
 * --preallocate (in `flags`), the twin of native temp_preallocate(): reserve `size` bytes of blocks for
 * the open file `fd`, keeping its size (rsync's FALLOC_FL_KEEP_SIZE); not under -S, whose zero runs are
 * holes that reserved blocks would fill.
 */
export function preallocate(flags: number, fd: number, size: bigint): void {
  if ((flags & (Preserve.Preallocate | Preserve.Sparse)) !== Preserve.Preallocate || size <= 0n) return;
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
  // Best effort: a missing fallocate(1) or a filesystem without fallocate only loses the hint.
  fsImpl.spawnSync('fallocate', ['--keep-size', '--length', String(size), `/proc/${process.pid}/fd/${fd}`], { env, stdio: 'ignore' });
}
