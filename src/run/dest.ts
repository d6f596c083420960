// What the planner reads of the destination to decide (stats, listings, symlink targets, xattr
// differences, and the bytes -c compares under -n). Read-only: every write goes through the OpSink.

import type { Engine } from '../engine/engine.js';
import { closeSync, constants as FS, openSync, readSync, statSync } from 'node:fs';
import { isFailure } from '../model/failure.js';
import type { EngineContext } from '../engine/types.js';
import { fileType, type Stat } from '../model/stat.js';
import { ERRNO } from '../util/errors.js';
import { DeleteList } from '../plan/deletelist.js';
import { joinPath } from '../util/names.js';
import { withRecord } from './fake-source.js';

export class DestReads {
  constructor(
    private readonly engine: Engine,
    private readonly ctx: EngineContext | undefined,
    private readonly destRoot: Buffer,
    private readonly dryRun: boolean,
    /** --fake-super receiving: entries are as their records say (a symlink is a file holding its target). */
    private readonly fakeLinks = false,
  ) {}

  /** One destination entry's lstat by relative path (a decision input only: ops resolve safely). */
  stat(rel: Buffer): Stat | undefined {
    if (this.dryRun && !this.ctx) return undefined;
    const st = this.engine.lstat(joinPath(this.destRoot, rel));
    if (isFailure(st)) return undefined;
    // --fake-super receiving: the entry as its user.rsync.%stat record describes it.
    const read = this.fakeLinks && this.ctx?.fakeReadDest;
    return read ? withRecord(st, rel, read.bind(this.ctx), () => {}) : st;
  }

  /** -K: what a destination symlink leads to (resolution stays beneath the root in the engines). */
  follow(rel: Buffer): Stat | undefined {
    const st = this.engine.stat(joinPath(this.destRoot, rel));
    return isFailure(st) ? undefined : st;
  }

  /**
   * What rsync's generator meets when it stats a name inside the destination non-directory `st` at `rel`
   * (its stat goes through a symlink there): ENOTDIR, or the error of the link's resolution, ENOENT for
   * one that leads nowhere, ELOOP for a loop. Only looked at, to take rsync's path and words for what
   * fails below; nothing is made or written through the link. A link that resolves to a directory counts
   * as ENOTDIR all the same: rsync would write into that directory, arsync writes through no destination
   * symlink (README, "--ignore-existing").
   */
  belowErrno(rel: Buffer, st: Stat): number {
    if (this.fakeLinks || fileType(st.mode) !== 'link') return ERRNO.ENOTDIR;
    try {
      statSync(joinPath(this.destRoot, rel));
      return ERRNO.ENOTDIR;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return (code && (ERRNO as Record<string, number>)[code]) || ERRNO.ENOTDIR;
    }
  }

  /**
   * A destination symlink's target (beneath the root); undefined when it cannot be read. --fake-super
   * receiving: a symlink is a regular file that holds its target, and only that is read, as rsync's
   * receiver reads it (Linux has no user xattrs on symlinks, so its do_readlink opens the path with
   * O_NOFOLLOW): a real symlink left by a run without --fake-super has no target it can read, and is
   * made again in the file form.
   */
  readlink(rel: Buffer): Buffer | undefined {
    if (this.fakeLinks) {
      const f = this.ctx?.fakeReadDest?.(rel, true);
      return f && !isFailure(f) ? f : undefined;
    }
    const t = this.ctx?.readlinkDest(rel);
    return t && !isFailure(t) ? (t as Buffer) : undefined;
  }

  /**
   * -X/-A: which of xattrs (bit 1) and ACLs (bit 2) differ; 0 without a context. `xrules`: the entry's
   * own x-rules (run/xattr-views.ts), when per-directory files hold some.
   */
  xattrDiff(src: Buffer, rel: Buffer, flags: number, xrules?: Buffer): number {
    return this.ctx ? this.ctx.xattrDiff(src, rel, flags, false, xrules) : 0;
  }

  /** -X/-A against a --*-dest basis file (an absolute path found with no symlink on the way). */
  basisXattrDiff(src: Buffer, path: Buffer, flags: number, xrules?: Buffer): number {
    return this.ctx ? this.ctx.xattrDiff(src, path, flags, true, xrules) : 0;
  }

  /** A destination directory's entries, for deleting it whole; empty when it cannot be listed. */
  list(rel: Buffer): DeleteList {
    const list = new DeleteList();
    if (!this.ctx) return list;
    const r = this.ctx.scanDest(rel);
    if (isFailure(r)) return list;
    for (let i = 0; i < r.names.length; i++) {
      const st = r.stats[i];
      if (st) list.add(r.names[i]!, st);
    }
    return list;
  }

  /** -c under -n: compare the bytes here, read-only (a real run compares in the engines). */
  contentEqual(src: Buffer, rel: Buffer, size: number): boolean {
    const dst = joinPath(this.destRoot, rel);
    let a = -1;
    let b = -1;
    try {
      a = openSync(src, FS.O_RDONLY | FS.O_NOFOLLOW);
      b = openSync(dst, FS.O_RDONLY | FS.O_NOFOLLOW);
      const ba = Buffer.allocUnsafe(1 << 20);
      const bb = Buffer.allocUnsafe(1 << 20);
      let left = size;
      while (left > 0) {
        const n = readSync(a, ba, 0, Math.min(ba.length, left), null);
        const m = readSync(b, bb, 0, n, null);
        if (n === 0 || n !== m || !ba.subarray(0, n).equals(bb.subarray(0, m))) return false;
        left -= n;
      }
      return true;
    } catch {
      return false;
    } finally {
      if (a >= 0) closeSync(a);
      if (b >= 0) closeSync(b);
    }
  }
}
