// The operations the planner asks of an engine, and what comes back: op kinds, per-op flags, the
// preserve bits, outcomes and the shared counter slots. They are the domain's vocabulary, shared
// byte for byte with the C addon (native/batch.h), so they live here once, below every folder.

import type { Stat } from './stat.js';

/** Operation kinds inside a batch. Values are shared with native/batch.h. */
export const OpKind = {
  /** Copy a regular file into a temp file beside the target, set metadata, rename over the target. */
  File: 1,
  /** Create a symlink (temp name + rename); src is the source symlink, whose target is read at copy time. */
  Symlink: 2,
  /** mknod a device, FIFO or socket (temp name + rename). */
  Special: 3,
  /** Hard-link dst to the destination path in src (already created earlier in the run). */
  Hardlink: 4,
  /** Create a directory (mode 0700 until DirMeta applies the real one) or keep an existing one. */
  Mkdir: 5,
  /** Apply a directory's metadata; issued after its contents, deepest first. */
  DirMeta: 6,
  /** Set the preserved attributes of an existing entry of any type in place (no data written). */
  Attrs: 7,
  /** Remove dst (a directory must already be empty: the planner deletes contents first). */
  Delete: 8,
  /** Hard-link dst to src, an absolute path that may lie outside the destination (--link-dest). */
  LinkFrom: 9,
  /**
   * Keep the existing dst under src, its absolute backup name (--backup): beneath EngineOptions.backupDir,
   * or beside dst without one; missing dst is fine. Moved, or with OpFlag.BackupKeep hard-linked (copied
   * across filesystems, and always copied under Preserve.Inplace, where the next op writes into the file)
   * so that dst stays until the next op replaces it.
   */
  Backup: 10,
  /**
   * --delay-updates, at the end of the run: the file waiting under dst's name in its partial dir
   * (EngineOptions.partialDir) renamed over dst, no symlink followed; a relative partial dir left
   * empty is removed.
   */
  Delayed: 11,
  /**
   * --partial-dir, for a dst found up to date: the partial file waiting under dst's name in its partial
   * dir is removed (no symlink followed), and a relative partial dir left empty with it.
   */
  PartialUsed: 12,
} as const;
export type OpKind = (typeof OpKind)[keyof typeof OpKind];

/** Bits of EngineOptions.flags. Values are shared with native/batch.h. */
export const Preserve = {
  Perms: 1 << 0,
  Owner: 1 << 1,
  Group: 1 << 2,
  Times: 1 << 3,
  Xattrs: 1 << 4,
  Acls: 1 << 5,
  Devices: 1 << 6,
  Specials: 1 << 7,
  /** -S: always look for holes (also zero runs); without it holes of sparse sources are still kept. */
  Sparse: 1 << 8,
  /** --inplace: write into the target itself instead of a temp file. */
  Inplace: 1 << 9,
  /** --partial: after a failure or abort mid-data, rename the partial temp file over the target. */
  Partial: 1 << 10,
  /** -K: symlinks to directories beneath the destination root may be followed (never out of it). */
  KeepDirlinks: 1 << 11,
  /** -O (and --backup without --backup-dir): directories' mtimes are not set. */
  OmitDirTimes: 1 << 12,
  /** --fsync: fsync each written file before it is renamed into place (or, in place, before its close). */
  Fsync: 1 << 13,
  /** --preallocate: fallocate a file's whole size before writing its data. */
  Preallocate: 1 << 14,
  /** --append (with Inplace): a shorter regular target keeps its bytes; only the source's rest is written after them. */
  Append: 1 << 15,
  /** --append-verify (with Append): the kept bytes are checked against the source; when they differ the whole file is written. */
  AppendVerify: 1 << 16,
  /** --reflink=never: file data is always copied (neither reflink bit: auto, clone where possible). */
  ReflinkNever: 1 << 17,
  /** --reflink=always: a file that cannot be cloned fails instead of being copied. */
  ReflinkAlways: 1 << 18,
  /** -E without -p: a regular file's execute bits follow the source's (rsync's dest_mode). */
  Executability: 1 << 19,
  /** -J: symlinks' mtimes are not set. */
  OmitLinkTimes: 1 << 20,
  /** --no-open-noatime: sources are opened without O_NOATIME (rsync's default; arsync's is O_NOATIME). */
  AtimeOnRead: 1 << 21,
  /** -U: non-directories get the source's access time (whole seconds, as rsync sets it). */
  Atimes: 1 << 22,
  /** --munge-links on a local copy (the sending side): a source link's "/rsyncd-munged/" prefix is dropped. */
  UnmungeLinks: 1 << 23,
  /**
   * rsync's am_root as --super/--no-super leave it: act as root (set owners, trusted.* xattrs) even when
   * not, or not even as root. Neither bit: the engine asks the effective uid. High bits, apart from the
   * preserve bits above.
   */
  Super: 1 << 24,
  NoSuper: 1 << 25,
  /** --delay-updates: a File op's finished file goes into its partial dir, not over its target (OpKind.Delayed moves it). */
  DelayUpdates: 1 << 26,
  /** --fake-super receiving: owners, set-id bits and types go to user.rsync.%stat (native/fakesuper.h). */
  FakeSuper: 1 << 27,
  /** --fake-super sending: a Symlink op writes the target it carries (the source may be a fake link). */
  FakeSource: 1 << 28,
  /** --write-devices (with Inplace): a char or block device target is written into, never replaced. */
  WriteDevices: 1 << 29,
  /**
   * A pull: each File op's source is a file this process received into its private staging tree (on
   * the destination's filesystem when it could). The engine links that inode in under the temp name
   * (the same exclusive `.<name>.XXXXXX` create, beneath the held directory) instead of copying its
   * bytes, sets the metadata and renames it over the target as for a copy; where no link can be made
   * (another filesystem, -S, --preallocate, -A/-X) the file is copied as usual.
   */
  AdoptSource: 1 << 30,
  /**
   * -XX (with Xattrs): rsync's own records (user.rsync.%stat, %aacl, %dacl...) are copied and compared
   * like any other attribute. Bit 31: a mask holding it is negative as an int32, so the addon is handed
   * `flags >>> 0` (engine/native.ts).
   */
  XattrsAll: 2 ** 31,
} as const;

/** Per-op flags (byte 1 of an op header). Values are shared with native/batch.h. */
export const OpFlag = {
  /** Open the source following symlinks (-L, --copy-unsafe-links). */
  FollowSource: 1 << 0,
  /**
   * Delete ops (the bit is FollowSource's, which only ops with a source read): the entry stays (rsync
   * tries and fails to delete it: --max-delete reached, backups kept inside a directory); the op only does
   * what rsync does first, not acting as root: owner write for an entry of ours that lacks it (its
   * DEL_NO_UID_WRITE and delete_dir_contents' chmod). Never fails, counts nothing. native/ops.c do_delete.
   */
  OwnerWriteOnly: 1 << 0,
  /**
   * Backup ops a deletion makes (FollowSource's bit too): not acting as root, an entry of ours without
   * owner write gets it before it moves (rsync's chmod before make_backup), so its backup has it.
   */
  DeletionBackup: 1 << 0,
  /** -c: if the target has the same bytes, only set attributes (outcome Equal) instead of copying. */
  Compare: 1 << 1,
  /** --remove-source-files: unlink the source after a successful copy (if still the same file). */
  RemoveSource: 1 << 2,
  /** Backup: the next op replaces dst; leave dst in place (a hard link, or a copy) instead of moving it. */
  BackupKeep: 1 << 3,
  /**
   * File and Special ops without -p (BackupKeep's bit, which only Backup ops read): the op's mode is the
   * entry's, worked out by the planner as rsync's dest_mode does against a file the engine does not see:
   * a basis rsync's receiver opens elsewhere (a --fuzzy match, a --*-dest twin, a --partial-dir file) or
   * the entry replaced (a device's or FIFO's, a --copy-dest copy's over a symlink). Set as -p sets it.
   * Not read when a -c compare finds the data equal (the existing file keeps its own bits).
   */
  GivenMode: 1 << 3,
  /** Run only if the Backup op just before it succeeded (else: failed, syscall "backup", its errno). */
  AfterBackup: 1 << 4,
  /**
   * File and LinkFrom: `src` is a basis file in a --link-dest/--copy-dest/--compare-dest directory
   * (an absolute path that the planner resolved to hold no symlink): it is opened with no symlink
   * followed at any component, and must still be of the op's type, with the op's ino and dev.
   */
  Basis: 1 << 5,
  /**
   * Symlink ops: the op carries the target the planner read and judged (--safe-links and friends); only
   * that value is written, and a source link that no longer holds it is a changed entry (ESTALE). The
   * judged value may be followed by a NUL and the value to write in its place (--iconv's converted
   * target; a link target never holds a NUL): see `targetParts`.
   */
  Target: 1 << 6,
  /**
   * File ops (--copy-devices): the source is a char or block device, read as a file of the op's size
   * (a device's own stat has no size).
   */
  Device: 1 << 7,
  /**
   * Mkdir and DirMeta ops (the bit is Device's, which only File ops read): a directory the run fills with
   * all of the owner's bits, as rsync's generator does. Mkdir: an existing directory of ours is given them
   * (not acting as root). DirMeta without -p: the owner's bits `mode` lacks are taken away again (a new
   * directory's, or the ones an opened-up directory had), not acting as root only when `mode` lacks
   * owner write (rsync's touch_up_dirs). native/ops.c owner_bits_mode and NodeMeta.ownerBitsMode.
   */
  OwnerBits: 1 << 7,
  /**
   * Delete ops, and Backup ops a deletion makes (the bit is Device's, which only File ops read): the
   * entry is inside a directory whose contents the run deletes. Not acting as root, rsync makes such a directory of ours owner-writable
   * before it deletes inside it (its DEL_NO_UID_WRITE and delete_dir_contents' chmod), so the engine,
   * when the unlink or the backup's rename meets EACCES, adds owner write to that parent and tries again
   * (native/ops.h parent_open_up, engine/node-open-up.ts). A kept directory's entries are not flagged:
   * rsync deletes in one only once its visit has opened it up (run/dirs.ts openUp).
   */
  OwnerWrite: 1 << 7,
  /**
   * Mkdir ops under -p or --fake-super receiving (the bit is Compare's, which only File ops read): the directory is being visited,
   * and its set-group-ID bit is made the op mode's before anything is made inside it, as rsync's
   * generator sets a directory's mode at its visit (a new entry takes the group of a set-gid directory,
   * a new subdirectory the bit too). The destination root included. The rest of the mode waits for
   * DirMeta (the run keeps a directory it fills open to itself). native/ops.c visit_setgid and
   * NodeEngine's makeDir.
   */
  SetGid: 1 << 1,
  /**
   * Mkdir ops under -A without -p (the bit is GivenMode's, which only File, Special and Backup ops
   * read): the directory is being visited, and its default ACL is made the source directory's (or
   * removed, when the source has none) before anything is made inside it. rsync's generator sets a directory's ACLs at its visit, so
   * a new entry inside takes its permission bits from the default ACL the directory is given, not the
   * one it had (dest_mode with default_perms_for_dir; with -p the source's bits are taken whatever the
   * ACL). DirMeta sets the same ACLs at the end and reports a failure. native/ops.c visit_default_acl;
   * the node engine refuses -A.
   */
  VisitAcl: 1 << 3,
} as const;

/**
 * Preserve.AdoptSource's one rule (native/adopt.c adopt_wanted is its twin; test/contract/adopt.test.ts
 * holds them together): whether a File op's source is linked in rather than copied. -S and --preallocate
 * shape the copy's extents; -X/-A and --fake-super copy attributes from the source (here the same
 * inode); --inplace writes into the target; -c compares, a basis or a device is no staged file, and
 * --remove-source-files unlinks the source: all of those copy.
 */
export function adoptsSource(flags: number, opFlags: number): boolean {
  const copyOnly = Preserve.Sparse | Preserve.Preallocate | Preserve.Xattrs | Preserve.Acls | Preserve.Inplace | Preserve.FakeSuper;
  const opCopyOnly = OpFlag.Compare | OpFlag.Basis | OpFlag.Device | OpFlag.RemoveSource;
  return (flags & Preserve.AdoptSource) !== 0 && (flags & copyOnly) === 0 && (opFlags & opCopyOnly) === 0;
}

/** What happened to each op (run()'s outcomes array). Values are shared with native/batch.h. */
export const Outcome = {
  NotRun: 0,
  Done: 1,
  /** Compare flag: contents were equal, attributes were set, no data copied. */
  Equal: 2,
  Failed: 3,
} as const;

/** Slots of the shared counter array (BigInt64Array over a SharedArrayBuffer). Shared with native. */
export const Counter = {
  Files: 0,
  Dirs: 1,
  Bytes: 2,
  Symlinks: 3,
  Specials: 4,
  Hardlinks: 5,
  Errors: 6,
  /** Set to 1 by the main thread on SIGINT/SIGTERM; engines stop at the next op or chunk. */
  Abort: 7,
  Skipped: 8,
  Deleted: 9,
  /** --bwlimit in bytes per second, 0 = none: set by the main thread before the run (engine/rate-meter.ts). */
  BwRate: 10,
  /** The rate meter's clock: CLOCK_MONOTONIC ns at which the data written so far is paid for. */
  BwNext: 11,
  // 12-14: the run's clock (run/clock.ts ClockSlot); 15 free.
  /**
   * --progress: the file op copying data now, `(op index + 1) * 2**CURRENT_SHIFT + its bytes so far`, one
   * store per chunk by whichever engine copies (read by progress/file-progress.ts).
   */
  Current: 16,
  /** --progress: the number of the batch running now, stored (with Current cleared) as a worker starts it. */
  Batch: 17,
} as const;
/** Counter.Current's packing (native/batch.h CURRENT_SHIFT): the low 48 bits are bytes. */
export const CURRENT_SHIFT = 48;
export const COUNTER_SLOTS = 24;

/**
 * Somewhere ops are appended, in order: a batch being encoded (engine/batch.ts BatchWriter implements
 * it). The planner's modules take this instead of an engine's writer, so plan/ never imports engine/.
 */
export interface OpAppender {
  add(kind: OpKind, src: Buffer, dst: Buffer, st: Stat, flags?: number, anchor?: number, target?: Buffer, xrules?: Buffer): unknown;
}

/**
 * OpFlag.Target's bytes: the value the source link must still hold, and the value written (the same,
 * or after a NUL the one --iconv converted it to). native/ops.c do_symlink is its twin.
 */
export function targetParts(t: Buffer): { judged: Buffer; written: Buffer } {
  const nul = t.indexOf(0);
  return nul < 0 ? { judged: t, written: t } : { judged: t.subarray(0, nul), written: t.subarray(nul + 1) };
}
