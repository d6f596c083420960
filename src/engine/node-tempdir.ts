// --temp-dir on the node engine: the directory is opened once, following no symlink (the CLI resolved
// its path to hold none, so one swapped in since fails with ELOOP), and held, so a symlink flipped in
// for it during the run cannot move where temp files go; and rsync's copy for a temp dir on another
// filesystem (rename's EXDEV), the twin of native temp_place_across().

import * as fs from 'node:fs';
import { O_PATH, openDirBeneath, procPath } from './node-beneath.js';
import { closeQuietly, fsImpl } from './node-fs.js';

const C = fs.constants;

/** The held --temp-dir, opened on first use. */
export class TempDir {
  private fd = -1;

  constructor(private readonly path: Buffer) {}

  /** The directory's path through its held descriptor (opened now on first use; throws like open). */
  dir(): Buffer {
    if (this.fd < 0) {
      const root = fsImpl.openSync('/', O_PATH | C.O_DIRECTORY);
      try {
        this.fd = openDirBeneath(root, this.path.subarray(1), O_PATH);
      } finally {
        fsImpl.closeSync(root);
      }
    }
    return procPath(this.fd);
  }

  close(): void {
    closeQuietly(this.fd);
    this.fd = -1;
  }
}

/** How a File temp is created: exclusively, never through a symlink, private until its metadata is set. */
export const createFile = (abs: Buffer): number => fsImpl.openSync(abs, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);

/** The bytes of the file at `from` into the open file `to` (a short read is continued; zero is the end); returns `to`. */
export function copyInto(from: Buffer, to: number, buf: Buffer): number {
  const fd = fsImpl.openSync(from, C.O_RDONLY | C.O_NOFOLLOW);
  try {
    let pos = 0;
    for (;;) {
      const n = fsImpl.readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      for (let w = 0; w < n; ) w += fsImpl.writeSync(to, buf, w, n - w, pos + w);
      pos += n;
    }
  } finally {
    closeQuietly(fd);
  }
  return to;
}
