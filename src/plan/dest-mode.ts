// rsync's dest_mode (rsync.c) for an entry that `exists` in its sense, without -p: the source's type with
// the permission bits of the file rsync judges it against, and under -E a regular file's execute bits
// following the source's (model/stat.ts execMode, the rule the engines apply to the destination's own
// file). The planner applies it where that file is another one (a basis found elsewhere, an entry
// replaced) and hands the result over with OpFlag.GivenMode.

import { S_IFMT, S_IFREG, execMode } from '../model/stat.js';

/** The mode an entry of source mode `src` gets against an existing file of mode `cur` (-E: `exec`). */
export function keptMode(src: number, cur: number, exec: boolean): number {
  const bits = exec && (src & S_IFMT) === S_IFREG ? execMode(src, cur) : cur & 0o7777;
  return (src & S_IFMT) | bits;
}
