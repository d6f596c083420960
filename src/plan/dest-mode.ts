// rsync's dest_mode (rsync.c) for an entry that `exists` in its sense, without -p: the source's type with
// the permission bits of the file rsync judges it against, and under -E a regular file's execute bits
// following the source's. The engines apply the same rule to the destination's own file (native/meta.c
// meta_target_mode, engine/node-meta.ts execMode); the planner applies it where that file is another one
// (a basis found elsewhere, an entry replaced) and hands the result over with OpFlag.GivenMode.

import { S_IFMT, S_IFREG } from '../model/stat.js';

/** The mode an entry of source mode `src` gets against an existing file of mode `cur` (-E: `exec`). */
export function keptMode(src: number, cur: number, exec: boolean): number {
  let m = cur & 0o7777;
  if (exec && (src & S_IFMT) === S_IFREG) {
    if (!(src & 0o111)) m &= ~0o111;
    else if (!(cur & 0o111)) m |= (m & 0o444) >> 2;
  }
  return (src & S_IFMT) | m;
}
