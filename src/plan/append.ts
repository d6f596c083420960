// --append's rule in the planner (rsync's recv_generator): after the quick check, a file whose data
// differs is left alone when the destination already holds a regular file at least as long as the
// source; a shorter one gets only the rest appended (the engines keep its bytes).

import type { Config } from '../model/config.js';
import { S_IFMT, S_IFREG, type Stat } from '../model/stat.js';

/** Whether --append leaves this changed regular file as it is (no transfer, no output line). */
export function appendSkips(c: Config, st: Stat, destSt: Stat | undefined): boolean {
  return c.append && destSt !== undefined && (destSt.mode & S_IFMT) === S_IFREG && (st.mode & S_IFMT) === S_IFREG && destSt.size >= st.size;
}
