// The node engine's sources (DESIGN.md §3.3): each op's source reached through its directory opened
// beneath the op's anchor (node-beneath.ts), opened O_NOFOLLOW unless the op says to follow, and checked
// (type, ino, dev) against what the walk saw; a mismatch is ESTALE, "changed during the run".

import * as fs from 'node:fs';
import type { Op } from './batch.js';
import { openSourceParent, procPath, splitSource } from './node-beneath.js';
import { closeQuietly, codeOf, sysError } from './node-fs.js';
import { fsImpl } from './node-fs.js';
import type { OpScope } from './node-scope.js';
import { OpFlag } from '../model/ops.js';
import { S_IFBLK, S_IFCHR, S_IFMT } from '../model/stat.js';

const C = fs.constants;

/** An open source and what fstat said of it at the open. */
export interface Source {
  fd: number;
  st: fs.BigIntStats;
}

/** The type (given by the op kind) and, when the walk recorded them, the ino and dev (else ESTALE). */
export function checkIdentity(op: Op, st: fs.BigIntStats, type: number, syscall = 'fstat'): void {
  const moved = op.stat.ino !== 0 && (Number(st.ino) !== op.stat.ino || Number(st.dev) !== op.stat.dev);
  const t = Number(st.mode) & S_IFMT;
  const typeOk = type === DEVICE ? t === S_IFCHR || t === S_IFBLK : t === type;
  if (!typeOk || moved) throw sysError('ESTALE', syscall);
}

/** The `type` of a source that is a char or block device (--copy-devices reads one as a file). */
export const DEVICE = -1;

/**
 * A basis file's directories (OpFlag.Basis) must all be real directories: a symlink planted in an old
 * snapshot must not lead a read or link elsewhere (ESTALE: the snapshot changed under us). Node has no
 * openat2, so this is a check before the open, with the race window the native engines do not have.
 */
export function noSymlinkParents(path: Buffer): void {
  for (let i = path.indexOf(0x2f, 1); i > 0; i = path.indexOf(0x2f, i + 1)) {
    if (fsImpl.lstatSync(path.subarray(0, i)).isSymbolicLink()) throw sysError('ESTALE', 'fstat');
  }
}

export class Sources {
  /** The last source directory opened beneath its anchor (consecutive ops mostly share it). */
  private dir: { key: string; fd: number } | undefined;

  constructor(
    private readonly scope: OpScope,
    /** O_NOATIME on every open (--open-noatime, the default; --no-open-noatime turns it off). */
    private readonly noatime = true,
  ) {}

  /**
   * The path through which the op's source is reached: its directory opened beneath the op's anchor
   * (node-beneath.ts; a symlink on the way fails with ESTALE), then the name. Valid until the next call.
   */
  path(op: Op): Buffer {
    this.scope.at(op.src, false);
    const s = splitSource(op.src, op.anchor);
    if (s.whole) return op.src; // the operand itself, used as the operator gave it
    const key = `${s.anchor.toString('latin1')}\0${s.parent.toString('latin1')}`;
    if (this.dir?.key !== key) {
      const fd = openSourceParent(s)!;
      if (this.dir) closeQuietly(this.dir.fd);
      this.dir = { key, fd };
    }
    return procPath(this.dir.fd, s.name);
  }

  /** Open a source (not following it unless asked) and check it is still what the walk saw. */
  open(op: Op, flags: number, type: number, follow = false): Source {
    let path: Buffer;
    if (op.flags & OpFlag.Basis) {
      // A basis file is an absolute path outside the source tree: no anchor, no symlink at any level.
      this.scope.at(op.src, false);
      noSymlinkParents(op.src);
      path = op.src;
    } else path = this.path(op);
    if (!follow) flags |= C.O_NOFOLLOW;
    // O_NONBLOCK: a FIFO swapped in since the walk must not block the thread for good in open(2); the
    // type check below then refuses it (ESTALE). The native engines clear the flag with fcntl once the
    // file is known to be regular; Node has no fcntl, and open(2) says the flag has no effect on
    // regular files (and directories), so it stays.
    flags |= C.O_NONBLOCK;
    let fd: number;
    try {
      try {
        fd = fsImpl.openSync(path, flags | (this.noatime ? C.O_NOATIME : 0));
      } catch (e) {
        // O_NOATIME is only allowed on our own files (or with CAP_FOWNER): as rsync, silently without.
        if (codeOf(e) !== 'EPERM' || !this.noatime) throw e;
        fd = fsImpl.openSync(path, flags);
      }
    } catch (e) {
      // O_NOFOLLOW met a symlink where the walk saw something else: the entry changed (as source.c says).
      if (codeOf(e) === 'ELOOP') throw sysError('ESTALE', 'fstat');
      throw e;
    }
    try {
      const st = fsImpl.fstatSync(fd, { bigint: true });
      checkIdentity(op, st, type);
      return { fd, st };
    } catch (e) {
      closeQuietly(fd);
      throw e;
    }
  }

  /**
   * --remove-source-files: only the file we copied; one put in its place meanwhile stays, as rsync's
   * successful_send() re-lstats the source and keeps one that changed. Reached through a link -L follows
   * (FollowSource), it is confirmed through the link and the link goes (native/source.c src_remove).
   * One already gone is no failure of the op (native/exec.c exec_finish says why).
   */
  remove(op: Op): void {
    let path: Buffer;
    try {
      path = this.path(op);
    } catch (e) {
      // ESTALE: its directory changed: kept, like a changed file.
      if (codeOf(e) === 'ESTALE' || codeOf(e) === 'ENOENT') return;
      throw e;
    }
    const st = (op.flags & OpFlag.FollowSource ? fsImpl.statSync : fsImpl.lstatSync)(path, { bigint: true, throwIfNoEntry: false });
    // An op without the walk's ino (0) has no identity to confirm: kept (source.c identity_confirmed);
    // a directory (an Attrs op's) is never removed, as in src_remove().
    const same = st && op.stat.ino !== 0 && Number(st.ino) === op.stat.ino && Number(st.dev) === op.stat.dev;
    if (!same || st.isDirectory()) return;
    try {
      fsImpl.unlinkSync(path);
    } catch (e) {
      if (codeOf(e) !== 'ENOENT') throw e;
    }
  }

  /** Close the held source directory. */
  forget(): void {
    if (this.dir) closeQuietly(this.dir.fd);
    this.dir = undefined;
  }
}
