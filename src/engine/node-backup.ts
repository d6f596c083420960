// The node engine's Backup op (the twin of native/backup.c): keep the old version of a destination entry
// under its backup name before it is replaced or deleted, and fail (leaving the entry alone) when that
// cannot be done. The backup directory is pinned to its real path once; every directory below it is
// checked with lstat and made without following symlinks (a file or symlink in the way is removed, as
// rsync does in the backup area), with the same documented check-then-use window as the rest of this
// engine. A link or rename across filesystems (EXDEV) becomes a copy; an empty directory at the backup
// name is removed first, a non-empty one fails the backup.

import * as fs from 'node:fs';
import type { Op } from './batch.js';
import { below, trimSlashes } from './node-beneath.js';
import { closeQuietly, codeOf, discard, sysError } from './node-fs.js';
import { deniedHere, inOpenedParent, ownerWriteFirst } from './node-open-up.js';
import { fsImpl } from './node-fs.js';
import { createTemp } from './node-temp.js';
import { OpFlag } from '../model/ops.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from '../model/stat.js';
import { joinPath as join } from '../util/names.js';

const C = fs.constants;

/** What the engine lends the backup code: its resolution, blame, buffer and special-file maker. */
export interface BackupHost {
  /** The destination root's real path, and as given (Backup paths are absolute, as given). */
  root: Buffer;
  rootGiven: Buffer;
  isRoot: boolean;
  buf: Buffer;
  /** A destination entry's absolute path, its parent verified beneath the root. */
  resolve(rel: Buffer): { abs: Buffer; rel: Buffer };
  /** Which paths a failure thrown from now on is about. */
  at(path: Buffer, onDest: boolean, dest?: Buffer): void;
  /** Throws the engine's abort marker when the run is being stopped. */
  checkAbort(): void;
  /** Make a device, FIFO or socket `name` (mode 0600) in the directory `dirAbs`. */
  mknodIn(dirAbs: Buffer, name: Buffer, type: number, rdev: number): void;
  /** The entry at rel is gone (or moved): forget it in any per-context cache. */
  forget(rel: Buffer): void;
}

/** An owner change on a backup: as non-root the group may not be ours, and the backup is still a backup. */
function bestEffort(chown: () => void): void {
  try {
    chown();
  } catch {
    // see above
  }
}

const inTheWay = (e: unknown): boolean => ['EEXIST', 'EISDIR', 'ENOTEMPTY'].includes(codeOf(e) ?? '');

export class NodeBackup {
  private readonly given: Buffer | undefined;
  /** The backup directory's real path, once made and pinned. */
  private dirReal: Buffer | undefined;
  /** Directories below it already checked (latin1 keys of paths relative to it). */
  private readonly checked = new Set<string>();
  /** The last Backup op's failure, for OpFlag.AfterBackup. */
  private failed: NodeJS.ErrnoException | undefined;

  constructor(
    private readonly h: BackupHost,
    backupDir: Buffer | undefined,
    /** --inplace: a kept regular file is written into, so its backup is a copy (native/backup.c). */
    private readonly inplace = false,
  ) {
    this.given = backupDir ? trimSlashes(backupDir) : undefined;
  }

  /** The error an op flagged AfterBackup must fail with, or undefined when it may run. */
  gate(op: Op): NodeJS.ErrnoException | undefined {
    if (!(op.flags & OpFlag.AfterBackup) || !this.failed) return undefined;
    const e = sysError(this.failed.code ?? 'EIO', 'backup');
    this.h.at(op.dst, true);
    return e;
  }

  run(op: Op): void {
    this.failed = undefined;
    try {
      this.backup(op);
    } catch (e) {
      // An abort counts as a failure too: nothing may replace the entry after it.
      this.failed = typeof (e as NodeJS.ErrnoException)?.code === 'string' ? (e as NodeJS.ErrnoException) : sysError('EINTR', 'backup');
      throw e;
    }
  }

  private backup(op: Op): void {
    const h = this.h;
    const t = h.resolve(op.dst);
    // Before the entry is looked at, so that a copy across filesystems has the mode rsync's has.
    if ((op.flags & (OpFlag.DeletionBackup | OpFlag.BackupKeep)) === OpFlag.DeletionBackup) ownerWriteFirst(op, t.abs, h.isRoot);
    const st = fsImpl.lstatSync(t.abs, { bigint: true, throwIfNoEntry: false });
    if (!st) return; // nothing to back up
    h.at(t.rel, true, op.src);
    if ((Number(st.mode) & S_IFMT) === S_IFDIR) throw sysError('EISDIR', 'rename');
    // op.src is absolute (for messages); what counts is its part below the backup directory.
    const rel = this.given ? below(op.src, this.given) : (below(op.src, h.rootGiven) ?? below(op.src, h.root));
    if (!rel) throw sysError('EXDEV', 'rename');
    const cut = rel.lastIndexOf(0x2f);
    const name = cut < 0 ? rel : rel.subarray(cut + 1);
    if (name.length === 0 || name.equals(Buffer.from('.')) || name.equals(Buffer.from('..'))) throw sysError('EINVAL', 'rename');
    // Beside the file, its backup name is in the directory already verified (-K links included).
    if (!this.given && !rel.subarray(0, Math.max(cut, 0)).equals(t.rel.subarray(0, Math.max(t.rel.lastIndexOf(0x2f), 0)))) {
      throw sysError('EINVAL', 'rename');
    }
    const dir = this.given ? this.makeDirs(this.base(op), cut < 0 ? Buffer.alloc(0) : rel.subarray(0, cut), op, true, true) : t.abs.subarray(0, t.abs.lastIndexOf(0x2f));
    const to = join(dir, name);
    // A backup name that is the entry itself (an empty --suffix with the destination as --backup-dir,
    // however it was spelled): clearing the name in the way would delete the file it should keep.
    if (name.equals(t.rel.subarray(t.rel.lastIndexOf(0x2f) + 1))) {
      const a = fsImpl.statSync(dir, { bigint: true });
      const b = fsImpl.statSync(t.abs.subarray(0, t.abs.lastIndexOf(0x2f)), { bigint: true });
      if (a.ino === b.ino && a.dev === b.dev) throw sysError('EINVAL', 'rename');
    }
    const keep = (op.flags & OpFlag.BackupKeep) !== 0;
    h.at(t.rel, true, op.src);
    if (keep && this.inplace && (Number(st.mode) & S_IFMT) === S_IFREG) {
      this.copy(t.abs, st, dir, name, op);
      return;
    }
    const move = (): void => fsImpl.renameSync(t.abs, to);
    // A deletion's backup inside a read-only directory of ours whose contents go (node-open-up.ts).
    const moveOpening = (): void => {
      try {
        move();
      } catch (e) {
        if (!deniedHere(e) || h.isRoot || !(op.flags & OpFlag.OwnerWrite)) throw e;
        inOpenedParent(t.abs.subarray(0, t.abs.lastIndexOf(0x2f)), e, move);
      }
    };
    const attempt = (): void => (keep ? fsImpl.linkSync(t.abs, to) : moveOpening());
    try {
      try {
        attempt();
      } catch (e) {
        if (!inTheWay(e)) throw e;
        this.clear(to, op);
        attempt();
      }
      if (!keep) {
        h.forget(t.rel);
        // rename() between two links of one inode succeeds and does nothing: finish the move.
        const now = fsImpl.lstatSync(t.abs, { bigint: true, throwIfNoEntry: false });
        if (now && now.ino === st.ino && now.dev === st.dev) fsImpl.unlinkSync(t.abs);
      }
      return;
    } catch (e) {
      // Keep falls back to a copy on any link failure; a move only across filesystems.
      if (!keep && codeOf(e) !== 'EXDEV') throw e;
    }
    this.copy(t.abs, st, dir, name, op);
    if (!keep) {
      h.at(t.rel, true);
      fsImpl.unlinkSync(t.abs);
      h.forget(t.rel);
    }
  }

  /** Where backups go: the pinned backup directory, or without one the destination root. */
  private base(op: Op): Buffer {
    const h = this.h;
    if (!this.given) return h.root;
    if (this.dirReal) return this.dirReal;
    h.at(op.dst, true, this.given);
    const inside = below(this.given, h.rootGiven) ?? below(this.given, h.root);
    if (inside) {
      // Inside the destination: made beneath the root like the rest of it, never through a symlink.
      this.dirReal = this.makeDirs(h.root, inside, op, false);
    } else {
      // The operator's own path outside the destination: made as the kernel resolves it, then pinned.
      fsImpl.mkdirSync(this.given, { recursive: true });
      this.dirReal = fsImpl.realpathSync(this.given, { encoding: 'buffer' });
      if (!fsImpl.statSync(this.dirReal).isDirectory()) throw sysError('ENOTDIR', 'mkdir');
    }
    return this.dirReal;
  }

  /**
   * Make `rel` below `base` one component at a time; `replace`: a non-directory in the way goes;
   * `mirror`: a directory made here gets the owner and mode of the destination directory at the same
   * relative path (as rsync does), kept owner-writable so backups can be made in it.
   */
  private makeDirs(base: Buffer, rel: Buffer, op: Op, replace = true, mirror = false): Buffer {
    let cur = base;
    let twin: Buffer = Buffer.alloc(0);
    for (const part of rel.toString('latin1').split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') throw sysError('EXDEV', 'open');
      cur = join(cur, Buffer.from(part, 'latin1'));
      twin = twin.length ? join(twin, Buffer.from(part, 'latin1')) : Buffer.from(part, 'latin1');
      const key = cur.toString('latin1');
      if (this.checked.has(key)) continue;
      this.h.at(op.dst, true, cur);
      const st = fsImpl.lstatSync(cur, { throwIfNoEntry: false });
      if (st && !st.isDirectory()) {
        if (!replace) throw sysError(st.isSymbolicLink() ? 'ELOOP' : 'ENOTDIR', 'open');
        fsImpl.unlinkSync(cur);
      }
      if (!st || !st.isDirectory()) {
        try {
          fsImpl.mkdirSync(cur, 0o777);
          if (mirror) this.mirror(cur, twin);
        } catch (e) {
          if (codeOf(e) !== 'EEXIST' || !fsImpl.lstatSync(cur).isDirectory()) throw e;
        }
      }
      this.checked.add(key);
    }
    return cur;
  }

  /** Best effort, like rsync's: a backup directory without its twin's attributes is still usable. */
  private mirror(made: Buffer, twinRel: Buffer): void {
    try {
      const twin = fsImpl.lstatSync(this.h.resolve(twinRel).abs);
      if (!twin.isDirectory()) return;
      const fd = fsImpl.openSync(made, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
      try {
        try {
          fsImpl.fchownSync(fd, this.h.isRoot ? twin.uid : -1, twin.gid);
        } catch {
          // not ours to give away: the mode below still applies
        }
        fsImpl.fchmodSync(fd, (twin.mode & 0o7777) | 0o700);
      } finally {
        fsImpl.closeSync(fd);
      }
    } catch {
      // see above
    }
  }

  /** An empty directory (or, before a link, a non-directory) standing at the backup name goes. */
  private clear(to: Buffer, op: Op): void {
    this.h.at(op.dst, true, to);
    const st = fsImpl.lstatSync(to, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) fsImpl.rmdirSync(to);
    else fsImpl.unlinkSync(to);
  }

  /** A copy through a temp name in `dir`, so a partial copy never stands under the backup name. */
  private copy(from: Buffer, st: fs.BigIntStats, dir: Buffer, name: Buffer, op: Op): void {
    const h = this.h;
    const type = Number(st.mode) & S_IFMT;
    let tmp: Buffer = Buffer.alloc(0);
    let fd = -1;
    let made = false;
    const make = (create: (abs: Buffer, tmpName: Buffer) => void): void => {
      tmp = createTemp(dir, name, create).abs;
      made = true;
    };
    let inFd = -1;
    try {
      if (type === S_IFREG) {
        h.at(op.dst, true);
        inFd = fsImpl.openSync(from, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
        const now = fsImpl.fstatSync(inFd, { bigint: true });
        if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) throw sysError('ESTALE', 'fstat');
        h.at(op.dst, true, op.src);
        make((abs) => (fd = fsImpl.openSync(abs, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600)));
        const buf = h.buf;
        for (;;) {
          h.checkAbort();
          h.at(op.dst, true);
          const n = fsImpl.readSync(inFd, buf, 0, buf.length, null);
          if (n === 0) break;
          h.at(op.dst, true, op.src);
          for (let off = 0; off < n; ) off += fsImpl.writeSync(fd, buf, off, n - off, null);
        }
        const out = fd;
        bestEffort(() => fsImpl.fchownSync(out, h.isRoot ? Number(st.uid) : -1, Number(st.gid)));
        fsImpl.fchmodSync(fd, Number(st.mode) & 0o7777);
        fsImpl.futimesSync(fd, Number(st.atimeMs) / 1000, Number(st.mtimeMs) / 1000);
        const f = fd;
        fd = -1;
        fsImpl.closeSync(f);
      } else if (type === S_IFLNK) {
        h.at(op.dst, true);
        const target = fsImpl.readlinkSync(from, { encoding: 'buffer' });
        h.at(op.dst, true, op.src);
        make((abs) => fsImpl.symlinkSync(target, abs));
        bestEffort(() => fsImpl.lchownSync(tmp, h.isRoot ? Number(st.uid) : -1, Number(st.gid)));
        fsImpl.lutimesSync(tmp, Number(st.atimeMs) / 1000, Number(st.mtimeMs) / 1000);
      } else {
        h.at(op.dst, true, op.src);
        make((_abs, tmpName) => h.mknodIn(dir, tmpName, type, Number(st.rdev)));
        bestEffort(() => fsImpl.lchownSync(tmp, h.isRoot ? Number(st.uid) : -1, Number(st.gid)));
        // Our own fresh node (a FIFO or device is never opened): by name is safe.
        fsImpl.chmodSync(tmp, Number(st.mode) & 0o7777);
        fsImpl.lutimesSync(tmp, Number(st.atimeMs) / 1000, Number(st.mtimeMs) / 1000);
      }
      h.at(op.dst, true, op.src);
      try {
        fsImpl.renameSync(tmp, join(dir, name));
      } catch (e) {
        if (!inTheWay(e)) throw e;
        this.clear(join(dir, name), op);
        h.at(op.dst, true, op.src);
        fsImpl.renameSync(tmp, join(dir, name));
      }
      made = false;
    } finally {
      closeQuietly(fd);
      closeQuietly(inFd);
      if (made) discard(tmp);
    }
  }
}
