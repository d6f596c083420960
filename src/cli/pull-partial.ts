// --partial-dir in a pull, where rsync's receiving side has it: the partial file an earlier run left for a
// file is the basis its fetch is rebuilt against (rsync's generator takes it before the destination's
// own file: FNAMECMP_PARTIAL_DIR), and a pull cut short keeps the received part of the file in progress
// there, for the next run (rsync's cleanup.c). Everything is reached through the destination's held
// directories (cli/pull-dest.ts) and the node engine's partial dir (engine/node-partial.ts), following no
// symlink; the kept part is written at a temp name and renamed, as every write to the destination is.

import * as fs from 'node:fs';
import type { Config } from '../model/config.js';
import type { StagedMeta } from '../run/staged-source.js';
import type { PullDest } from './pull-dest.js';
import type { OtherBasis } from './pull-basis.js';
import { partialDirFor } from './partial-dir.js';
import { PartialDir } from '../engine/node-partial.js';
import { O_PATH, openDirBeneath, procPath } from '../engine/node-beneath.js';
import { createTemp } from '../engine/node-temp.js';
import { copyInto, createFile } from '../engine/node-tempdir.js';
import { closeQuietly, codeOf } from '../engine/node-fs.js';

/** rsync's fnamecmp_type for a basis found in the partial dir. */
export const FNAMECMP_PARTIAL_DIR = 0x81;

const C = fs.constants;

export class PullPartialDir {
  /** The partial dir as the engines take it: relative (per destination directory) or absolute, resolved. */
  private readonly spec: Buffer;
  private readonly abs: boolean;

  constructor(
    private readonly c: Config,
    private readonly dest: PullDest,
  ) {
    // (An absolute one refused by the operator-path rule stays unresolved: opened following no symlink, it fails.)
    this.spec = partialDirFor(c, () => undefined) ?? Buffer.alloc(0);
    this.abs = this.spec[0] === 0x2f;
  }

  /** Whether it can hold anything: no ".." in a relative one (rsync's receiver fails each file that needs it then). */
  private usable(): boolean {
    return this.spec.length > 0 && (this.abs || !this.spec.toString('latin1').split('/').includes('..'));
  }

  /** The waiting partial file of `rel` (a regular file, reached following no symlink) as a fetch's basis. */
  basis(rel: string): OtherBasis | undefined {
    if (!this.usable()) return undefined;
    const { dir, base } = split(rel);
    const open = (): number => {
      const fd = this.abs ? this.openAbs(base) : this.dest.openFile(join(dir, `${this.spec.toString('latin1')}/${base}`));
      if (!fs.fstatSync(fd).isFile()) {
        fs.closeSync(fd);
        throw new Error(`the partial file of ${rel} is no longer a regular file`);
      }
      return fd;
    };
    let size: number;
    try {
      const fd = open();
      try {
        size = fs.fstatSync(fd).size;
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return undefined;
    }
    return { size, type: FNAMECMP_PARTIAL_DIR, open };
  }

  /**
   * The staged part of `rel` (at `staged`) kept as its partial file, as rsync's cleanup keeps it: the
   * sender's mode and owner (as the options preserve them), the ACL `acl` puts on it, and the time it was
   * written; no xattrs (rsync's cleanup names no basis file, so its set_file_attrs sets none). The
   * destination's own file is left as it is. False when it could not be kept (nothing is then left of it).
   */
  keep(rel: string, staged: Buffer, m: StagedMeta, acl?: (path: Buffer) => void): boolean {
    if (!this.usable()) return false;
    const { dir, base } = split(rel);
    const name = Buffer.from(base, 'latin1');
    let dirFd = -1;
    const pd = new PartialDir(this.spec);
    try {
      dirFd = fs.openSync(this.dest.path(dir), O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW);
      const pdFd = pd.open(dirFd, true);
      try {
        // A copy (rsync's cleanup gives the part no xattrs; the staged file carries the sender's). Where
        // the disk has no room for one (it filled up mid-file, and the staging tree is usually on this
        // filesystem), the staged file itself is linked instead, keeping those xattrs.
        const made = (link: boolean): { abs: Buffer; made: number } =>
          createTemp(procPath(pdFd), name, (abs) => {
            if (!link) return createFile(abs);
            fs.linkSync(staged, abs);
            return fs.openSync(abs, C.O_RDWR | C.O_NOFOLLOW);
          });
        let tmp = made(false);
        try {
          try {
            copyInto(staged, tmp.made, Buffer.allocUnsafe(1 << 20));
          } catch (e) {
            if (codeOf(e) !== 'ENOSPC' && codeOf(e) !== 'EDQUOT') throw e;
            fs.closeSync(tmp.made);
            fs.rmSync(tmp.abs, { force: true });
            tmp = made(true);
          }
          // -A: the sender's ACL, before the mode (rsync's set_file_attrs: set_acl, then chmod).
          acl?.(tmp.abs);
          this.attrs(tmp.made, m);
        } catch (e) {
          // (Already closed and removed when the link in its place failed.)
          closeQuietly(tmp.made);
          fs.rmSync(tmp.abs, { force: true });
          throw e;
        }
        fs.closeSync(tmp.made);
        try {
          fs.renameSync(tmp.abs, procPath(pdFd, name));
        } catch (e) {
          fs.rmSync(tmp.abs, { force: true });
          throw e;
        }
      } finally {
        pd.put(pdFd);
      }
      return true;
    } catch {
      return false;
    } finally {
      pd.close();
      if (dirFd >= 0) fs.closeSync(dirFd);
    }
  }

  /**
   * A file that arrived whole used up the partial file waiting for it (rsync's receiver unlinks it once the
   * file is in place, and the relative partial dir with it when emptied).
   */
  consumed(rel: string): void {
    if (!this.usable()) return;
    const { dir, base } = split(rel);
    const pd = new PartialDir(this.spec);
    let dirFd = -1;
    try {
      dirFd = fs.openSync(this.dest.path(dir), O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW);
      pd.consumed(dirFd, Buffer.from(base, 'latin1'));
    } catch {
      // no such directory: nothing waits there
    } finally {
      pd.close();
      if (dirFd >= 0) fs.closeSync(dirFd);
    }
  }

  /** The mode and owner rsync's set_file_attrs gives the kept part (its time is skipped: the write's stays). */
  private attrs(fd: number, m: StagedMeta): void {
    const c = this.c;
    const umask = process.umask();
    fs.fchmodSync(fd, c.perms ? m.mode & 0o7777 : m.mode & 0o777 & ~umask);
    if (c.owner || c.group) {
      try {
        fs.fchownSync(fd, c.owner ? m.uid : -1, c.group ? m.gid : -1);
      } catch {
        // not ours to give (not root): kept as made, as rsync's failed chown leaves it
      }
    }
  }

  /** The file `base` in the absolute partial dir, opened for reading following no symlink. */
  private openAbs(base: string): number {
    const root = fs.openSync('/', O_PATH | C.O_DIRECTORY);
    let pdFd = -1;
    try {
      pdFd = openDirBeneath(root, this.spec.subarray(1), O_PATH);
      return fs.openSync(procPath(pdFd, Buffer.from(base, 'latin1')), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
    } finally {
      if (pdFd >= 0) fs.closeSync(pdFd);
      fs.closeSync(root);
    }
  }
}

function split(rel: string): { dir: string; base: string } {
  const slash = rel.lastIndexOf('/');
  return { dir: slash < 0 ? '.' : rel.slice(0, slash), base: rel.slice(slash + 1) };
}

function join(dir: string, name: string): string {
  return dir === '.' ? name : `${dir}/${name}`;
}
