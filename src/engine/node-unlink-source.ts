// The node engine's unlinkSource (--remove-source-files for an entry that needed no op): the source is
// removed beneath its anchor like the engine's own ops, so a directory swapped for a symlink never leads
// the unlink out of the tree, and only while it is still the file the walk saw (ino/dev); one that
// changed is kept, like a changed file; one already gone is ENOENT, for the run to word (rsync's "sender
// file already removed"). One reached through a link -L follows is confirmed through the link and the link
// removed (native/source.c src_remove).

import type { SysFailure } from '../model/failure.js';
import { lstatSync, statSync, unlinkSync } from 'node:fs';
import { ERRNO } from '../util/errors.js';
import { atSourcePath } from './node-beneath.js';

export function nodeUnlinkSource(src: Buffer, st: { ino: number; dev: number }, anchor: number, follow: boolean): SysFailure | null {
  let syscall = 'open';
  try {
    atSourcePath(src, anchor, (p) => {
      syscall = follow ? 'stat' : 'lstat';
      const now = follow ? statSync(p) : lstatSync(p);
      if (now.ino !== st.ino || now.dev !== st.dev || now.isDirectory()) return;
      syscall = 'unlink';
      unlinkSync(p);
    });
    return null;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ESTALE') return null;
    return { errno: -(e.errno ?? -ERRNO.EIO), syscall };
  }
}
