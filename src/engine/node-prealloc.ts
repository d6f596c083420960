// --preallocate on the node engine: Node has no fallocate, so util-linux's fallocate(1) reserves the
// blocks of a file we hold open, reached as /proc/<our pid>/fd/<fd> (the child's own /proc/self would be
// its own). A hint, as in rsync: when it cannot be given, the data is written all the same.

import { fsImpl } from './node-fs.js';

/** Reserve `size` bytes of blocks for the open file `fd`, keeping its size (rsync's FALLOC_FL_KEEP_SIZE). */
export function preallocate(fd: number, size: bigint): void {
  if (size <= 0n) return;
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
  // Best effort: a missing fallocate(1) or a filesystem without fallocate only loses the hint.
  fsImpl.spawnSync('fallocate', ['--keep-size', '--length', String(size), `/proc/${process.pid}/fd/${fd}`], { env, stdio: 'ignore' });
}
