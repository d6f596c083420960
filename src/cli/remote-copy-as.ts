// --copy-as=USER[:GROUP] between machines: rsync's client becomes USER only once the remote shell runs
// (the shell keeps the caller's credentials, its keys and its config), and before it reads the sources
// (a push) or writes anything (a pull). A pull's staging tree is made before that, so it is handed to
// USER first. Where the switch cannot work (not root), it is tried at once, so its message and exit 1
// come before anything starts, as for a local copy.

import * as fs from 'node:fs';
import { becomeCopyAsUser, copyAsIds } from './copy-as.js';

export interface RemoteCopyAs {
  /** am_root once switched (rsync recomputes it from the new uid). */
  amRoot: number;
  /** Gives paths made before the switch to the new identity. */
  hand(paths: string[]): void;
  /** Switches this process, once the remote shell has started. */
  become(): void;
}

export function remoteCopyAs(spec: string): RemoteCopyAs | { error: string } {
  const ids = copyAsIds(spec);
  if ('error' in ids) return ids;
  if (process.geteuid?.() !== 0) {
    const as = becomeCopyAsUser(spec);
    if ('error' in as) return as;
    return { amRoot: as.amRoot, hand: () => undefined, become: () => undefined };
  }
  let done = false;
  return {
    amRoot: ids.uid === 0 ? 1 : 0,
    hand: (paths) => {
      for (const p of paths) fs.chownSync(p, ids.uid, ids.gid);
    },
    become: () => {
      if (done) return;
      done = true;
      const as = becomeCopyAsUser(spec);
      // Root can take any identity the database names (checked above): a failure here is no usage error.
      if ('error' in as) throw new Error(as.error);
    },
  };
}
