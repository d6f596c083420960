// Regular files in the node engine: a File op's data copied from its source into a temp file (in the held
// --temp-dir, or beside the target), its metadata set on the fd, then put in place (over the target, into
// the partial dir under --delay-updates, or kept there by --partial when the copy fails); --inplace writes
// the target itself (node-inplace.ts), a pull's staged file is linked in (node-adopt.ts). node.ts runs
// the op and every other kind of entry.

import type { Op } from './batch.js';
import { type DataCopier } from './node-data.js';
import type { DestTree, Target } from './node-dest.js';
import { closeAfter, closeQuietly, codeOf, discard, fsImpl, sysError } from './node-fs.js';
import { byFd, type NodeMeta } from './node-meta.js';
import type { OpScope } from './node-scope.js';
import { DEVICE, type Sources, type Source } from './node-source.js';
import { createTemp } from './node-temp.js';
import { preallocate } from './node-prealloc.js';
import { copyInto, createFile, type TempDir } from './node-tempdir.js';
import { partialMode, partialTime, type PartialDir } from './node-partial.js';
import { writeInPlace, type InplaceHost } from './node-inplace.js';
import { adoptWanted, linkStaged } from './node-adopt.js';
import type { Temp, TempPlacer } from './node-place.js';
import { Counter, OpFlag, Outcome, Preserve } from '../model/ops.js';
import { S_IFREG } from '../model/stat.js';
import * as fs from 'node:fs';

const C = fs.constants;

/** What the file path shares with the rest of the context. */
export interface FileHost {
  flags: number;
  scope: OpScope;
  dest: DestTree;
  sources: Sources;
  data: DataCopier;
  meta: NodeMeta;
  placer: TempPlacer;
  /** --temp-dir: where File ops make their temp files. */
  tempDir: TempDir | undefined;
  /** --partial-dir / --delay-updates: where kept and delayed files wait. */
  partialDir: PartialDir | undefined;
  forget: (rel: Buffer) => void;
}

export class FileWriter {
  /** The temp file the File op being run made (its letters are reported when it is done). */
  madeTemp: Buffer | undefined;

  constructor(private readonly h: FileHost) {}

  copyFile(op: Op): number {
    const t = this.h.dest.resolve(op.dst);
    const follow = (op.flags & OpFlag.FollowSource) !== 0;
    const device = (op.flags & OpFlag.Device) !== 0;
    const src = this.h.sources.open(op, C.O_RDONLY, device ? DEVICE : S_IFREG, follow);
    // --copy-devices: a device's stat has no size; it is read as a file of the size the planner found.
    if (device) Object.assign(src.st, { size: BigInt(op.stat.size), blocks: BigInt(Math.ceil(op.stat.size / 512) + 1) });
    try {
      if (op.flags & OpFlag.Compare && this.h.data.sameContent(op, src, t)) {
        this.h.meta.setAttrs(op, t.abs);
        return Outcome.Equal;
      }
      if (this.h.flags & Preserve.ReflinkAlways) {
        this.h.scope.at(t.rel, true);
        throw sysError('EOPNOTSUPP', 'clone');
      }
      const mode = this.h.meta.modeFor(op, t);
      if (this.h.flags & Preserve.Inplace) writeInPlace(this.inplaceHost, op, src, t, mode);
      else if (!(adoptWanted(this.h.flags, op) && this.adopt(op, src, t, mode))) this.writeViaTemp(op, src, t, mode);
      this.h.scope.count(Counter.Files);
      return Outcome.Done;
    } finally {
      closeQuietly(src.fd);
    }
  }

  private writeViaTemp(op: Op, src: Source, t: Target, mode: number): void {
    const tmp = this.fileTemp(t);
    let fd = tmp.made;
    try {
      const sparse = (this.h.flags & Preserve.Sparse) !== 0 || src.st.blocks * 512n < src.st.size;
      preallocate(this.h.flags, fd, src.st.size);
      this.h.data.copy(op, src, fd, t, sparse);
      this.h.scope.at(t.rel, true);
      this.sealed(op, fd, mode);
      const closing = fd;
      fd = -1;
      fsImpl.closeSync(closing);
      this.placeFinished(tmp, t, op, mode);
    } catch (e) {
      if (this.h.flags & Preserve.Partial && this.h.data.copied > 0) this.keepPartial(tmp, t, fd, mode);
      else discard(tmp.abs, fd);
      throw e;
    }
  }

  /** A pull's staged file linked in under its temp name (node-adopt.ts); false when it must be copied. */
  private adopt(op: Op, src: Source, t: Target, mode: number): boolean {
    const tmp = linkStaged(this.h.sources.path(op), src.st, (create) => this.fileTemp(t, create));
    if (!tmp) return false;
    try {
      this.h.scope.at(t.rel, true);
      this.sealed(op, src.fd, mode);
      this.placeFinished(tmp, t, op, mode);
    } catch (e) {
      discard(tmp.abs);
      throw e;
    }
    this.h.scope.countData(Number(src.st.size), Number(src.st.size));
    return true;
  }

  /** A File op's temp file: in the held --temp-dir (blamed on the target), else beside the target. */
  private fileTemp(t: Target, create: (abs: Buffer) => number = createFile): Temp & { made: number } {
    if (this.h.tempDir) this.h.scope.at(t.rel, true);
    const tmp = this.h.tempDir ? { ...createTemp(this.h.tempDir.dir(), t.name, create, true), rel: t.rel } : this.h.placer.temp(t, create);
    this.madeTemp = tmp.abs;
    return tmp;
  }

  /** A finished File temp into place (node-partial.ts: with --delay-updates into its partial dir). */
  private placeFinished(tmp: Temp, t: Target, op: Op, mode: number): void {
    if (!this.h.partialDir) return this.place(tmp, t, op, mode);
    this.h.scope.at(t.rel, true);
    this.h.partialDir.finish(t, (this.h.flags & Preserve.DelayUpdates) !== 0, (into) => this.place(tmp, into, op, mode));
  }

  /** A finished File temp over its target; from a --temp-dir on another filesystem (EXDEV), rsync's copy. */
  private place(tmp: Temp, t: Target, op: Op, mode: number): void {
    try {
      return this.h.placer.commit(tmp, t);
    } catch (e) {
      if (!this.h.tempDir || codeOf(e) !== 'EXDEV') throw e;
    }
    const copy = this.h.placer.temp(t, createFile);
    this.h.placer.finish(copy, t, () => closeAfter(copy.made, () => this.sealed(op, copyInto(tmp.abs, copy.made, this.h.data.buf), mode)));
    discard(tmp.abs);
  }

  private readonly inplaceHost: InplaceHost = {
    flags: () => this.h.flags,
    scope: () => this.h.scope,
    data: () => this.h.data,
    forget: (rel) => this.h.forget(rel),
    sealed: (op, fd, mode) => this.sealed(op, fd, mode),
  };

  /** A written file's metadata, then --fsync's fsync: the last steps before it takes its name. */
  private sealed(op: Op, fd: number, mode: number): void {
    this.h.meta.apply(op, byFd(fd), mode);
    if (this.h.flags & Preserve.Fsync) fsImpl.fsyncSync(fd);
  }

  /**
   * --partial: the data so far replaces the target, like rsync; the original failure is still reported.
   * It gets the permission bits `mode` the finished file would have had (the temp was made 0600), and at
   * the target's name mtime 0 (partialTime), as rsync's cleanup leaves it.
   */
  private keepPartial(tmp: Temp, t: Target, fd: number, mode: number): void {
    const restoreBlame = this.h.scope.save();
    const pd = this.h.partialDir;
    partialMode(fd, mode);
    if (!pd) partialTime(fd);
    closeQuietly(fd);
    try {
      // With a partial dir the data waits there under the file's name (made when needed), never over the target.
      if (!pd) this.h.placer.commit(tmp, t);
      else pd.keep(t, (into) => this.h.placer.commit(tmp, into));
    } catch {
      discard(tmp.abs);
    }
    restoreBlame();
  }
}
