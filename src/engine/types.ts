import type { PairCursor, PairListing } from './pair.js';

// The contract every engine implements. The planner produces batches of operations (see batch.ts for
// their binary layout, which the C addon reads directly); an engine executes a batch relative to one
// destination root and reports per-operation errors. Nothing here touches disk.

export type EngineName = 'uring' | 'sync' | 'node';
export type EngineChoice = EngineName | 'auto';

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
   * across filesystems) so that dst stays until the next op replaces it.
   */
  Backup: 10,
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
} as const;

/** Per-op flags (byte 1 of an op header). Values are shared with native/batch.h. */
export const OpFlag = {
  /** Open the source following symlinks (-L, --copy-unsafe-links). */
  FollowSource: 1 << 0,
  /** -c: if the target has the same bytes, only set attributes (outcome Equal) instead of copying. */
  Compare: 1 << 1,
  /** --remove-source-files: unlink the source after a successful copy (if still the same file). */
  RemoveSource: 1 << 2,
  /** Backup: the next op replaces dst; leave dst in place (a hard link, or a copy) instead of moving it. */
  BackupKeep: 1 << 3,
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
   * that value is written, and a source link that no longer holds it is a changed entry (ESTALE).
   */
  Target: 1 << 6,
} as const;

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
} as const;
export const COUNTER_SLOTS = 16;

export interface EngineOptions {
  engine: EngineName;
  /** Destination root directory (absolute path bytes). Every write resolves beneath it. */
  destRoot: Buffer;
  /**
   * --backup-dir (absolute path bytes): resolved once to a held directory (inside the destination beneath
   * the root, without symlinks); everything below it is made without following symlinks. Absent: backups
   * are made beside the files.
   */
  backupDir?: Buffer;
  /** Preserve bits. */
  flags: number;
  /** Process umask, applied to new files when Perms is not preserved. */
  umask: number;
  /** io_uring submission queue depth (uring engine). */
  queueDepth: number;
  /** Size of each registered buffer in bytes. */
  bufferSize: number;
  /** Number of registered buffers per ring. */
  bufferCount: number;
  /** Use O_DIRECT for large files (uring engine). */
  direct: boolean;
  /** Shared counters (BigInt64Array of COUNTER_SLOTS over a SharedArrayBuffer). */
  counters: BigInt64Array;
}

/** One failed operation, as reported by an engine. */
export interface OpFailure {
  /** Index of the op in its batch. */
  index: number;
  /** Positive errno. */
  errno: number;
  /** The syscall that failed, as Node names it (open, read, copy_file_range, rename, ...). */
  syscall: string;
  /** The path the syscall was about (source path, or destination relative path). */
  path: Buffer;
  /** Second path, for two-path syscalls (rename, link). */
  dest?: Buffer;
  /** True when path/dest are destination-relative paths, false when path is a source path. */
  onDest: boolean;
  /**
   * The extended attribute (or ACL, a system.posix_acl_* name) the destination refused (set/removexattr).
   * The entry itself was copied and renamed into place; only this attribute is missing.
   */
  attr?: Uint8Array;
}

/** An engine bound to one destination root, living in one thread. */
export interface EngineContext {
  readonly name: EngineName;
  /**
   * Execute every op of an encoded batch, in order; returns the ops that failed. When `outcomes` is
   * given (one byte per op), each op's Outcome is written there.
   */
  run(batch: Uint8Array, outcomes?: Uint8Array): OpFailure[];
  /** List a destination directory (relative to the root, resolved beneath it without symlinks). */
  scanDest(rel: Buffer): DirListing | { errno: number; syscall: string };
  /**
   * List a source directory against its destination twin (`destRel` null: no twin to look at), to be
   * read a chunk at a time. `q` is [PairBits, modifyWindow, timeResolutionNs] (see pair.ts); native
   * engines leave out unchanged entries. `anchor`: how many leading bytes of `src` are the operator's
   * path (followed as given); below them no symlink is followed (default 0: only `src`'s last component
   * is checked), as for ops (batch.ts).
   */
  openPair(src: Buffer, destRel: Buffer | null, q: Float64Array, anchor?: number): PairCursor | { errno: number; syscall: string };
  /**
   * The quick check over a whole tree on several threads (native engines only): the directories
   * (relative to `destRel`) that hold anything to do, and counts for the clean ones. `q` is
   * [PairBits, modifyWindow, timeResolutionNs, threads, maxListed]: a dirty directory's listing comes
   * back only when it has at most maxListed entries (the walk reads wider ones through openPair).
   * `anchor` as for openPair (default: `src` is itself the anchor, an operand).
   */
  scanTree?(src: Buffer, destRel: Buffer, q: Float64Array, anchor?: number): TreeScan | { errno: number; syscall: string };
  /** Read a destination symlink's target (beneath the root). */
  readlinkDest(rel: Buffer): Buffer | { errno: number; syscall: string };
  /**
   * Which of xattrs (bit 1) and ACLs (bit 2) differ between a source path and a destination entry,
   * for the flags set in `flags` (Preserve.Xattrs / Preserve.Acls). 0 when equal.
   */
  xattrDiff(src: Buffer, rel: Buffer, flags: number): number;
  /**
   * --remove-source-files for an entry that needed no op: unlink the source if it is still the file
   * `st` describes (ino/dev), never a directory; null when done or nothing to do. Native engines only
   * (they reach sources beyond PATH_MAX); without it the caller uses node:fs.
   */
  unlinkSource?(src: Buffer, st: Stat, anchor?: number): { errno: number; syscall: string } | null;
  /** Release the ring, buffers and held fds. */
  close(): void;
}

/** File types as they appear in Stat.mode & S_IFMT. */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;
export const S_IFSOCK = 0o140000;

/** What the walk knows about one entry (lstat semantics: symlinks are not followed). */
export interface Stat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeSec: number;
  mtimeNsec: number;
  ino: number;
  dev: number;
  nlink: number;
  rdev: number;
  blocks: number;
}

/** scanTree's answer. */
export interface TreeScan {
  /**
   * Sorted by rel, relative to the scanned root ("" is the root itself), each with its paired listing
   * (absent when it could not be listed there: the walk lists it itself).
   */
  dirty: { rel: Buffer; pair: PairListing | undefined }[];
  /** Entries of the clean directories, by type, and their total size. */
  counts: { dir: number; reg: number; link: number; dev: number; special: number; size: number };
}

/** One directory's entries: names as bytes, and their lstat (native: sorted by name bytes; node: readdir order). */
export interface DirListing {
  names: Buffer[];
  stats: (Stat | null)[];
  /** errno per entry whose lstat failed (vanished between getdents and statx), else 0. */
  errors: number[];
}
