// A pull's destination settled once the file list is in and before anything is asked for, as rsync's
// receiver settles it (main.c get_local_name): a destination it cannot know is exit 3, one it must make
// and cannot is exit 11, and either way no file is fetched. The local half (run/dest-root.ts) then finds
// the directory made and only says so ("created directory ..."), at rsync's place in the output.
//
// Only the plain cases are settled here: a destination that is or must become a directory, without
// --mkpath, -n or --delete-missing-args' entries. Everything else (one file onto a new name, a parent
// --mkpath makes) is left to the local half, whose rules then judge it after the fetch.

import * as fs from 'node:fs';
import type { Config } from '../model/config.js';
import type { RemoteEntry } from '../remote/flist.js';
import { destMkdirFailure } from '../run/dest-root.js';
import { destStatFailure } from '../plan/sources.js';
import { ERRNO, Exit } from '../util/errors.js';

/** The destination made (`made`), already there or left to the local half (`made: false`), or refused with rsync's line and code. */
export type DestSettled = { made: boolean } | { message: string; code: number };

export function settleDest(c: Config, entries: readonly (RemoteEntry | undefined)[]): DestSettled {
  if (c.dryRun || c.mkpath || c.listOnly) return { made: false };
  // The entries are counted, not copied (the list may be long).
  let listed = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e === undefined) continue;
    if (e.mode === 0) return { made: false };
    listed++;
  }
  if (listed === 0) return { made: false };
  try {
    fs.statSync(c.dest);
    return { made: false };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'ENOENT') return { message: destStatFailure(c.dest, e.errno ?? ERRNO.EIO), code: Exit.FileSelect };
  }
  // rsync's get_local_name makes a directory for a list of more than one entry, or for a name with a
  // trailing slash; one entry onto a new name takes that name (the local half's to judge).
  if (listed === 1 && c.dest[c.dest.length - 1] !== 0x2f) return { made: false };
  try {
    fs.mkdirSync(c.dest);
    return { made: true };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { message: destMkdirFailure(c, -(e.errno ?? -ERRNO.EIO)), code: Exit.FileIO };
  }
}
