// The `node` engine: the pure node:fs twin of the addon's `sync` engine, for hosts where the addon did not
// build. It executes the same batches with the same semantics (docs/native-contract.md) using only
// synchronous node:fs calls on Buffer paths: it runs inside worker threads, where blocking I/O is right.
// This module is the context, its run loop and the ops for every kind of entry but regular files; the
// rest lives beside it, one concern a module: regular files written and put in place (node-file.ts),
// temp entries renamed over their targets (node-place.ts),
// destination resolution (node-dest.ts), sources (node-source.ts), the data path (node-data.ts),
// metadata (node-meta.ts), temp names (node-temp.ts), special files (node-special.ts), backups
// (node-backup.ts), the op's blame/abort/counters (node-scope.ts), the fs seam and errors (node-fs.ts).
//
// Node has no *at() calls and no openat2, so the destination-safety rule (never follow a symlink planted
// in the destination) is kept with held directory descriptors: each destination directory is opened one
// O_NOFOLLOW component at a time beneath the held root, and every call names its entry as
// /proc/self/fd/<dir fd>/<name> (node-beneath.ts), so a directory swapped for a symlink after it was
// opened cannot redirect anything. The final component is never followed either (O_NOFOLLOW, rename,
// unlink, rmdir, link, mkdir, lchown, lutimes, O_PATH). Where a call by name would follow (chmod, chown,
// utimes of a special file), it goes through /proc/self/fd of an O_PATH descriptor, as glibc's fchmodat
// does. Sources are opened the same way beneath their anchor (the operator's part of the path).
//
// Differences from the addon, all forced by what Node exposes:
// - mtimes are set to the microsecond, not the nanosecond (see `utime` in node-meta.ts);
// - no xattrs or ACLs (createNodeContext refuses those flags);
// - devices and FIFOs are made by coreutils' mknod(1), sockets by a child node process (node-special.ts);
// - holes are found by looking for all-zero blocks, not with SEEK_DATA/SEEK_HOLE;
// - no reflinks: node's one way to FICLONE, copyFile, chmods its target to the source's mode before the
//   owner is set (a root-owned setuid temp file), so --reflink=auto copies and always fails each file.

import type { SysFailure } from '../model/failure.js';
import { nodeUnlinkSource } from './node-unlink-source.js';
import { readBatch } from './batch.js';
import { unmunge } from '../util/munge.js';
import type { Op } from './batch.js';
import { NodeBackup } from './node-backup.js';
import { O_PATH, openSourceDir, procPath } from './node-beneath.js';
import { BLOCK, DataCopier } from './node-data.js';
import { DestTree } from './node-dest.js';
import type { Target } from './node-dest.js';
import { deniedHere, inOpenedParent, ownerWriteFirst } from './node-open-up.js';
import { asValue, closeAfter, closeQuietly, codeOf, sysError, toFailure, type WalkFailure } from './node-fs.js';
import { fsImpl } from './node-fs.js';
import { actsAsRoot, byFd, byPathFd, NodeMeta, openPath, symlinkByName } from './node-meta.js';
import { nodeOpenPair } from './node-pair.js';
import { ABORTED, OpScope } from './node-scope.js';
import { checkIdentity, noSymlinkParents, Sources } from './node-source.js';
import { heldCwd, mknod, mknodIn } from './node-special.js';
import { reportTemp, tempSlots } from './node-temp.js';
import { TempDir } from './node-tempdir.js';
import { PartialDir, partialDirOf } from './node-partial.js';
import { TempPlacer } from './node-place.js';
import { FileWriter } from './node-file.js';
import { nodeScanDir } from './node-walk.js';
import type { PairCursor } from './pair.js';
import { Counter, OpFlag, OpKind, Outcome, Preserve, targetParts } from '../model/ops.js';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFSOCK, S_ISGID } from '../model/stat.js';
import type { DirListing } from '../model/listing.js';
import type { EngineContext, EngineOptions, OpFailure } from './types.js';
import { joinPath } from '../util/names.js';
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';

const C = fs.constants;
const E = osConstants.errno;
const NAME_MAX = 255;

export function createNodeContext(opts: EngineOptions): EngineContext {
  if (opts.flags & (Preserve.Xattrs | Preserve.Acls)) {
    throw new Error('the node engine cannot copy xattrs or ACLs (-X/-A): Node has no xattr API');
  }
  return new NodeContext(opts);
}

class NodeContext implements EngineContext {
  readonly name = 'node' as const;
  private readonly flags: number;
  private readonly scope: OpScope;
  private readonly dest: DestTree;
  private readonly sources: Sources;
  private readonly data: DataCopier;
  private readonly meta: NodeMeta;
  private readonly backups: NodeBackup;
  private readonly placer: TempPlacer;
  private readonly files: FileWriter;
  /** --temp-dir: where File ops make their temp files. */
  private readonly tempDir: TempDir | undefined;
  /** --partial-dir / --delay-updates: where kept and delayed files wait. */
  private readonly partialDir: PartialDir | undefined;
  private closed = false;

  constructor(opts: EngineOptions) {
    this.flags = opts.flags;
    this.tempDir = opts.tempDir ? new TempDir(opts.tempDir) : undefined;
    this.partialDir = opts.partialDir ? new PartialDir(opts.partialDir) : undefined;
    this.scope = new OpScope(opts.counters);
    this.dest = new DestTree(opts.destRoot, (opts.flags & Preserve.KeepDirlinks) !== 0, this.scope);
    this.sources = new Sources(this.scope, (opts.flags & Preserve.AtimeOnRead) === 0);
    this.data = new DataCopier(Buffer.allocUnsafe(Math.max(BLOCK, Math.ceil(opts.bufferSize / BLOCK) * BLOCK)), this.scope);
    this.placer = new TempPlacer(this.scope, (rel) => this.forget(rel));
    this.meta = new NodeMeta(opts.flags, opts.umask, (t, create) => this.placer.temp(t, create));
    this.backups = new NodeBackup(
      {
        root: this.dest.root,
        rootGiven: this.dest.rootGiven,
        isRoot: actsAsRoot(opts.flags),
        buf: this.data.buf,
        resolve: (rel) => this.dest.resolve(rel),
        at: (path, onDest, dest) => this.scope.at(path, onDest, dest),
        checkAbort: () => this.scope.checkAbort(),
        mknodIn,
        forget: (rel) => this.forget(rel),
      },
      opts.backupDir,
      (opts.flags & Preserve.Inplace) !== 0,
    );
    const { flags, scope, dest, sources, data, meta, placer, tempDir, partialDir } = this;
    this.files = new FileWriter({ flags, scope, dest, sources, data, meta, placer, tempDir, partialDir, forget: (rel) => this.forget(rel) });
  }

  run(batch: Uint8Array, outcomes?: Uint8Array): OpFailure[] {
    if (this.closed) throw new Error('node engine context used after close()');
    const failures: OpFailure[] = [];
    let index = 0;
    const temps = tempSlots(batch, outcomes);
    for (const op of readBatch(batch)) {
      if (this.scope.aborted()) break;
      // An op that replaces an entry whose backup just failed is not run (DESIGN.md §3.7).
      const blocked = this.backups.gate(op);
      this.files.madeTemp = undefined;
      const result = blocked ? this.scope.failure(blocked, index) : this.runOp(op, index);
      if (result === Outcome.Done) reportTemp(temps, index, this.files.madeTemp);
      if (result === ABORTED) break; // the op in progress and the rest stay NotRun
      if (typeof result !== 'number') {
        failures.push(result);
        this.scope.count(Counter.Errors);
      }
      if (outcomes) outcomes[index] = typeof result === 'number' ? result : Outcome.Failed;
      index++;
    }
    return failures;
  }

  scanDest(rel: Buffer): DirListing | WalkFailure {
    let fd: number;
    try {
      fd = this.dest.dirFd(rel);
    } catch (e) {
      // Whatever step failed, the call is the listing (as the native engines name it).
      return { errno: toFailure(e).errno, syscall: 'scandir' };
    }
    return nodeScanDir(procPath(fd), true);
  }

  /**
   * The node engine pairs two plain listings and leaves nothing out (see node-pair.ts). The source is
   * opened beneath its anchor, the twin through the held destination directories; the cursor holds both
   * descriptors until it is closed.
   */
  openPair(src: Buffer, destRel: Buffer | null, _q?: Float64Array, anchor = 0): PairCursor | WalkFailure {
    let sfd: number;
    try {
      sfd = openSourceDir(src, anchor);
    } catch (e) {
      return { errno: toFailure(e).errno, syscall: 'scandir' };
    }
    if (destRel === null) return nodeOpenPair(procPath(sfd), undefined, 0, [sfd]);
    let dfd: number;
    try {
      // A private descriptor: the context's cache may close its own while the cursor is read.
      dfd = fsImpl.openSync(procPath(this.dest.dirFd(destRel)), C.O_RDONLY | C.O_DIRECTORY);
    } catch (e) {
      const r = toFailure(e);
      return nodeOpenPair(procPath(sfd), undefined, r.errno === E.ENOENT || r.errno === E.ENOTDIR ? 0 : r.errno, [sfd]);
    }
    return nodeOpenPair(procPath(sfd), procPath(dfd), 0, [sfd, dfd]);
  }

  readlinkDest(rel: Buffer): Buffer | WalkFailure {
    return asValue('readlink', () => fsImpl.readlinkSync(this.dest.resolve(rel).abs, { encoding: 'buffer' }));
  }

  unlinkSource(src: Buffer, st: { ino: number; dev: number }, anchor = 0, follow = false): SysFailure | null {
    return nodeUnlinkSource(src, st, anchor, follow);
  }

  xattrDiff(_src: Buffer, _rel: Buffer, flags: number): number {
    if (flags & (Preserve.Xattrs | Preserve.Acls)) {
      throw new Error('the node engine cannot read xattrs or ACLs: Node has no xattr API');
    }
    return 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sources.forget();
    this.dest.close();
    this.tempDir?.close();
    this.partialDir?.close();
  }

  /** Close the held destination descriptors of `rel` and beneath it; without `rel`, every held descriptor but the root's. */
  private forget(rel?: Buffer): void {
    this.dest.forget(rel);
    if (rel === undefined) this.sources.forget();
  }

  /** One op: its Outcome, its failure, or ABORTED. */
  private runOp(op: Op, index: number): number | OpFailure | typeof ABORTED {
    this.scope.index = index;
    let outcome: number;
    // EMFILE/ENFILE are often transient (other workers' fds come and go): as the contract says, drop
    // cached state (the held directory fds, except the root's), retry once.
    for (let attempt = 0; ; attempt++) {
      try {
        outcome = this.exec(op);
        break;
      } catch (e) {
        if (e === ABORTED) return ABORTED;
        const failure = this.scope.failure(e, index);
        if (attempt > 0 || (failure.errno !== E.EMFILE && failure.errno !== E.ENFILE)) return failure;
        this.forget();
      }
    }
    // --remove-source-files after File, Symlink, Special and Attrs (an unchanged entry whose attributes
    // were fixed: rsync's generator reports it sent, and the sender removes it); for Hardlink src is a
    // destination path.
    const fromSource = op.kind === OpKind.File || op.kind === OpKind.Symlink || op.kind === OpKind.Special || op.kind === OpKind.Attrs;
    if (fromSource && op.flags & OpFlag.RemoveSource) {
      try {
        this.sources.remove(op);
      } catch (e) {
        return this.scope.failure(e, index);
      }
    }
    return outcome;
  }

  private exec(op: Op): number {
    switch (op.kind) {
      case OpKind.File:
        return this.files.copyFile(op);
      case OpKind.Symlink:
        this.copySymlink(op);
        return this.done(Counter.Symlinks);
      case OpKind.Special:
        this.makeSpecial(op);
        return this.done(Counter.Specials);
      case OpKind.Hardlink: {
        const first = this.dest.resolve(op.src);
        this.link(first.abs, first.rel, true, this.dest.resolve(op.dst));
        return this.done(Counter.Hardlinks);
      }
      case OpKind.LinkFrom:
        this.link(op.src, op.src, false, this.dest.resolve(op.dst), op.flags & OpFlag.Basis ? op : undefined);
        return this.done(Counter.Hardlinks);
      case OpKind.Mkdir:
        this.makeDir(op);
        return this.done(Counter.Dirs);
      case OpKind.DirMeta:
        this.dirMeta(op);
        return this.done();
      case OpKind.Attrs:
        this.meta.setAttrs(op, op.dst.length === 0 ? procPath(this.dest.rootFd) : this.dest.resolve(op.dst).abs);
        return this.done();
      case OpKind.Delete:
        // Counted only when something was removed (rsync counts in delete_item on success).
        return this.done(this.remove(op) ? Counter.Deleted : undefined);
      case OpKind.Backup:
        this.backups.run(op);
        return this.done();
      case OpKind.Delayed:
      case OpKind.PartialUsed: {
        const t = this.dest.resolve(op.dst);
        this.scope.at(t.rel, true);
        if (op.kind === OpKind.PartialUsed) this.partialDir?.consumed(t.fd, t.name);
        else partialDirOf(this.partialDir).delayed(t, (from) => this.placer.commit({ abs: from, rel: t.rel }, t));
        return this.done();
      }
      default:
        throw new TypeError(`unknown op kind ${String(op.kind)} in batch`);
    }
  }

  private done(slot?: number): number {
    if (slot !== undefined) this.scope.count(slot);
    return Outcome.Done;
  }

  // ---- other entries ---------------------------------------------------------------------------------

  private copySymlink(op: Op): void {
    const t = this.dest.resolve(op.dst);
    const path = this.sources.path(op);
    checkIdentity(op, fsImpl.lstatSync(path, { bigint: true }), S_IFLNK, 'lstat');
    const raw = fsImpl.readlinkSync(path, { encoding: 'buffer' });
    // --munge-links: the sending side unmunges, as the planner did before judging the target.
    const target = this.flags & Preserve.UnmungeLinks ? unmunge(raw) : raw;
    // The planner judged the target it read (--safe-links, --copy-unsafe-links): only that value may be
    // written; a link replaced since then is a changed entry.
    const parts = op.target && targetParts(op.target);
    if (parts && !target.equals(parts.judged)) throw sysError('ESTALE', 'readlink');
    const written = parts ? parts.written : target;
    const tmp = this.placer.temp(t, (abs) => fsImpl.symlinkSync(written, abs));
    this.placer.finish(tmp, t, () => {
      this.scope.at(t.rel, true);
      this.meta.apply(op, symlinkByName(tmp.abs), null);
    });
  }

  /**
   * Node can make neither device nodes nor FIFOs (no mknod) nor sockets synchronously (net is async), so
   * the node is made at the temp name by a child process (node-special.ts), then its metadata is set
   * through an O_PATH fd (opening a device for real could have side effects) and it is renamed into place.
   */
  private makeSpecial(op: Op): void {
    const type = op.stat.mode & S_IFMT;
    const t = this.dest.resolve(op.dst);
    this.scope.at(t.rel, true);
    if (type !== S_IFIFO && type !== S_IFCHR && type !== S_IFBLK && type !== S_IFSOCK) {
      throw sysError('EINVAL', 'mknod');
    }
    const mode = this.meta.modeFor(op, t);
    // The child gets the name as a string argument: a name that is not UTF-8 gets a plain temp prefix.
    // A socket's whole path must fit sun_path (108 bytes), hence the shorter prefix.
    let prefix = t.name.subarray(0, type === S_IFSOCK ? 80 : NAME_MAX);
    if (!Buffer.from(prefix.toString('utf8')).equals(prefix)) prefix = Buffer.from('special');
    // The child's cwd is our held parent through our own fd, so the parent path (bytes, maybe not
    // UTF-8, maybe long) never goes through argv, and nothing swapped in can redirect it.
    const cwd = heldCwd(t.fd);
    const tmp = this.placer.temp(t, (_abs, name) => mknod(cwd, name.toString('utf8'), type, op.stat.rdev), prefix);
    this.placer.finish(tmp, t, () => {
      const fd = openPath(tmp.abs, type);
      try {
        this.meta.apply(op, byPathFd(fd), mode);
      } finally {
        closeQuietly(fd);
      }
    });
  }

  /**
   * Hardlink and LinkFrom: link `from` at a temp name, rename it over the target. `basis`: a basis
   * file or symlink (OpFlag.Basis), which must be, before and after the link, the inode the op names.
   */
  private link(from: Buffer, fromRel: Buffer, fromOnDest: boolean, t: Target, basis?: Op): void {
    const scope = this.scope;
    scope.at(fromRel, fromOnDest);
    if (basis) noSymlinkParents(from);
    const have = fsImpl.lstatSync(from, { bigint: true });
    if (basis) checkIdentity(basis, have, basis.stat.mode & S_IFMT);
    scope.at(t.rel, true);
    const old = fsImpl.lstatSync(t.abs, { bigint: true, throwIfNoEntry: false });
    // Already linked: rename() between two links of one inode would do nothing and leave the temp.
    if (old && old.ino === have.ino && old.dev === have.dev) return;
    // link(2) does not follow a symlink at `from`: it links the symlink itself.
    const tmp = this.placer.temp(t, (abs, name) => {
      scope.at(fromRel, fromOnDest, joinPath(t.dirRel, name));
      fsImpl.linkSync(from, abs);
    });
    // What was linked is what counts: a file swapped in between the check and link(2) is undone.
    this.placer.finish(tmp, t, basis && (() => checkIdentity(basis, fsImpl.lstatSync(tmp.abs, { bigint: true }), basis.stat.mode & S_IFMT)));
  }

  private makeDir(op: Op): void {
    this.scope.at(op.dst, true);
    // The root exists: the context opened it.
    if (op.dst.length === 0) return this.visitSetgid(op);
    const t = this.dest.resolve(op.dst);
    const old = fsImpl.lstatSync(t.abs, { throwIfNoEntry: false });
    const open = old?.isDirectory() ? this.meta.openUpMode(op, old) : null;
    if (open !== null) {
      // Through an O_PATH descriptor: no symlink swapped in is followed, and it may be unreadable.
      const fd = fsImpl.openSync(t.abs, O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW);
      closeAfter(fd, () => fsImpl.chmodSync(`/proc/self/fd/${fd}`, open));
    }
    if (!old?.isDirectory()) {
      if (old) fsImpl.unlinkSync(t.abs);
      // Owner-writable until DirMeta sets the real mode, so the contents can be created.
      fsImpl.mkdirSync(t.abs, this.flags & Preserve.Perms ? 0o700 : (op.stat.mode & 0o777) | 0o700);
    }
    this.visitSetgid(op);
  }

  /**
   * OpFlag.SetGid (-p): rsync's generator sets a directory's mode at its visit, before anything is made
   * inside; of the mode only the set-group-ID bit changes what is made there (a new entry takes a set-gid
   * directory's group, a new subdirectory the bit too), so only it is set now, the rest by DirMeta. A
   * failure is left to DirMeta, which sets the same mode at the end and reports it (native/ops.c
   * visit_setgid).
   */
  private visitSetgid(op: Op): void {
    if (!(op.flags & OpFlag.SetGid)) return;
    let fd: number;
    try {
      fd = this.dest.openDir(op.dst, O_PATH);
    } catch {
      return;
    }
    closeAfter(fd, () => {
      try {
        const mode = fsImpl.fstatSync(fd).mode;
        if ((mode ^ op.stat.mode) & S_ISGID) fsImpl.chmodSync(`/proc/self/fd/${fd}`, (mode & 0o7777 & ~S_ISGID) | (op.stat.mode & S_ISGID));
      } catch {
        // Left to DirMeta.
      }
    });
  }

  private dirMeta(op: Op): void {
    this.scope.at(op.dst, true);
    const fd = this.dest.openDir(op.dst, C.O_RDONLY);
    closeAfter(fd, () => {
      // The source is opened to check it is still the directory the walk saw.
      closeQuietly(this.sources.open(op, C.O_RDONLY | C.O_DIRECTORY, S_IFDIR).fd);
      this.scope.at(op.dst, true);
      const mode = this.meta.preservedMode(op, true) ?? this.meta.ownerBitsMode(op, fsImpl.fstatSync(fd).mode);
      this.meta.apply(op, byFd(fd), mode, true);
    });
  }

  /** Delete: never follows a symlink (unlink/rmdir act on the name); already gone is fine (false). */
  private remove(op: Op): boolean {
    if (op.flags & OpFlag.OwnerWriteOnly) {
      // The entry stays: only what rsync does before it tries (native/ops.c do_delete); nothing reported.
      let abs: Buffer;
      try {
        abs = this.dest.resolve(op.dst).abs;
      } catch {
        return false;
      }
      ownerWriteFirst(op, abs, actsAsRoot(this.flags));
      return false;
    }
    const t = this.dest.resolve(op.dst);
    const dir = (op.stat.mode & S_IFMT) === S_IFDIR;
    const unlink = (): void => (dir ? fsImpl.rmdirSync(t.abs) : fsImpl.unlinkSync(t.abs));
    ownerWriteFirst(op, t.abs, actsAsRoot(this.flags));
    try {
      try {
        unlink();
      } catch (e) {
        if (!deniedHere(e) || actsAsRoot(this.flags) || !(op.flags & OpFlag.OwnerWrite)) throw e;
        inOpenedParent(t.dir, e, unlink);
      }
      if (dir) this.forget(t.rel);
    } catch (e) {
      if (codeOf(e) !== 'ENOENT') throw e;
      return false;
    }
    return true;
  }

}
