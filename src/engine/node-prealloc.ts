// fallocate on the node engine, which Node does not have: util-linux's fallocate(1) works on a file we
// hold open, reached as /proc/<our pid>/fd/<fd> (the child's own /proc/self would be its own). For
// --preallocate (reserve the blocks first) and -S in place (punch the zero runs, as rsync's
// do_punch_hole does). Both are about allocation only: when they cannot be done, the bytes are the same.

import { fsImpl } from './node-fs.js';
import { Preserve } from '../model/ops.js';

/**
 * --preallocate (in `flags`), the twin of native temp_preallocate(): reserve `size` bytes of blocks for
 * the open file `fd`, keeping its size (rsync's FALLOC_FL_KEEP_SIZE); not under -S, whose zero runs are
 * holes that reserved blocks would fill.
 */
export function preallocate(flags: number, fd: number, size: bigint): void {
  if ((flags & (Preserve.Preallocate | Preserve.Sparse)) !== Preserve.Preallocate || size <= 0n) return;
  // Best effort: a missing fallocate(1) or a filesystem without fallocate only loses the hint.
  fallocate(['--keep-size', '--length', String(size)], fd);
}

/** -S in place (in `flags`): the zero runs of the written file `fd` become holes (fallocate --dig-holes). */
export function digHoles(flags: number, fd: number): void {
  if (flags & Preserve.Sparse) fallocate(['--dig-holes'], fd);
}

function fallocate(args: string[], fd: number): void {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
  fsImpl.spawnSync('fallocate', [...args, `/proc/${process.pid}/fd/${fd}`], { env, stdio: 'ignore' });
}
