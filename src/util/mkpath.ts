// rsync's make_path for --mkpath: find the deepest directory of a path that exists, then make each
// missing one below it with a plain mkdir, in order. Not Node's recursive mkdir: libuv's loops forever
// (100% CPU, and deaf to SIGTERM since it blocks the main thread) where mkdir answers ENOENT under a
// parent that exists, as it does under /proc. With makeDir, the one place the main thread writes outside
// the engines: the destination root itself, made before any engine context can be opened beneath it.

import { mkdirSync, statSync } from 'node:fs';
import { dirName } from './names.js';

/** Make `path` and its missing parents; returns how many were made. Throws the failing mkdir's error. */
export function makePath(path: Buffer): number {
  const missing: Buffer[] = [];
  for (let p = path; p.length > 0 && !(p.length === 1 && p[0] === 0x2f); p = dirName(p)) {
    try {
      statSync(p);
      break; // exists: a non-directory makes the mkdir below fail with ENOTDIR, as in rsync
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') break;
      missing.unshift(p);
    }
  }
  for (const d of missing) mkdirSync(d);
  return missing.length;
}

/** The destination root when only its last level is missing (rsync's plain mkdir without --mkpath). */
export function makeDir(path: Buffer, mode?: number): void {
  mkdirSync(path, mode === undefined ? undefined : { mode });
}
