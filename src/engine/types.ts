// The contract every engine implements. The planner produces batches of operations (see batch.ts for
// their binary layout, which the C addon reads directly); an engine executes a batch relative to one
// destination root and reports per-operation errors. Nothing here touches disk. The vocabulary the
// contract speaks (op kinds, flags, counters, Stat, listings, failures) is in src/model/.

import type { EngineName } from '../model/config.js';
import type { SysFailure } from '../model/failure.js';
import type { DirListing, TreeScan } from '../model/listing.js';
import type { Stat } from '../model/stat.js';
import type { PairCursor } from './pair.js';

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
  /**
   * --link-dest/--compare-dest directories (absolute path bytes): a native pair cursor that leaves out
   * unchanged files hands on one whose twin there may be an exact match on another inode (rsync relinks
   * or removes it). Only stat-ed, never written or read through.
   */
  twinDirs?: Buffer[];
  /**
   * --temp-dir (absolute path bytes, resolved to hold no symlink): File ops (not --inplace) make their
   * temp file there, in a directory held once opened (no symlink followed), and rename it into place;
   * across filesystems it is copied into a temp beside the target first, as rsync does. Absent: temps
   * beside their targets.
   */
  tempDir?: Buffer;
  /**
   * --partial-dir (or --delay-updates' `.~tmp~`): relative (one per destination directory, opened beneath
   * it with no symlink followed) or absolute (resolved to hold no symlink, held once opened). A file kept
   * by --partial goes there under its own name, a finished file's leftover there is removed, and with
   * Preserve.DelayUpdates finished files wait there for OpKind.Delayed.
   */
  partialDir?: Buffer;
  /**
   * -X's xattr-name filter rules (rsync's `x` modifier), in order: each pattern (latin1 bytes) and its
   * native/xfilter.h XR_* bits (plan/xattr-rules.ts). Absent or empty: rsync's namespace rules alone.
   */
  xattrRules?: { pattern: Buffer; bits: number }[];
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
export interface OpFailure extends SysFailure {
  /** Index of the op in its batch. */
  index: number;
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
  /**
   * run() on a native thread off the caller's (the sync engine's contexts, with an addon that has
   * runAsync): the caller's event loop runs meanwhile; every other call on this context throws until the
   * promise settles. The outcomes are written when it settles.
   */
  runOff?(batch: Uint8Array, outcomes?: Uint8Array): Promise<OpFailure[]>;
  /** List a destination directory (relative to the root, resolved beneath it without symlinks). */
  scanDest(rel: Buffer): DirListing | SysFailure;
  /**
   * List a source directory against its destination twin (`destRel` null: no twin to look at), to be
   * read a chunk at a time. `q` is [PairBits, modifyWindow, timeResolutionNs] (see pair.ts); native
   * engines leave out unchanged entries. `anchor`: how many leading bytes of `src` are the operator's
   * path (followed as given); below them no symlink is followed (default 0: only `src`'s last component
   * is checked), as for ops (batch.ts).
   */
  openPair(src: Buffer, destRel: Buffer | null, q: Float64Array, anchor?: number): PairCursor | SysFailure;
  /**
   * The quick check over a whole tree on several threads (native engines only): the directories
   * (relative to `destRel`) that hold anything to do, and counts for the clean ones. `q` is
   * [PairBits, modifyWindow, timeResolutionNs, threads, maxListed]: a dirty directory's listing comes
   * back only when it has at most maxListed entries (the walk reads wider ones through openPair).
   * `anchor` as for openPair (default: `src` is itself the anchor, an operand).
   */
  scanTree?(src: Buffer, destRel: Buffer, q: Float64Array, anchor?: number): TreeScan | SysFailure;
  /** Read a destination symlink's target (beneath the root). */
  readlinkDest(rel: Buffer): Buffer | SysFailure;
  /**
   * --fake-super (native engines only): a destination entry's user.rsync.%stat record (content false)
   * or a regular file's bytes (content true: a fake symlink's target), beneath the root; null when none.
   */
  fakeReadDest?(rel: Buffer, content: boolean): Buffer | null | SysFailure;
  /**
   * Which of xattrs (bit 1) and ACLs (bit 2; with bit 4 when the access ACL is among them, compared as
   * rsync does: native/aclmode.h) differ between a source path and a destination entry, for the flags
   * set in `flags` (Preserve.Xattrs / Preserve.Acls). 0 when equal. `basis`: `rel` is
   * instead the absolute path of a --*-dest basis file, one the planner found with no symlink on the way.
   * `xrules`: the entry's own x-rules, as its ops carry them (engine/batch.ts; plan/xattr-rules.ts
   * xattrView): compared in the sending side's view and the generator's.
   */
  xattrDiff(src: Buffer, rel: Buffer, flags: number, basis?: boolean, xrules?: Buffer): number;
  /**
   * --remove-source-files for an entry that needed no op: unlink the source if it is still the file
   * `st` describes (ino/dev), never a directory; null when done or nothing to do. `follow`: reached
   * through a link -L follows, so `st` is what the link leads to, confirmed through it, and the link is
   * what goes. Native engines only (they reach sources beyond PATH_MAX); without it the caller uses node:fs.
   */
  unlinkSource?(src: Buffer, st: Stat, anchor?: number, follow?: boolean): SysFailure | null;
  /**
   * A new regular file beneath the root (never an existing name, no symlink followed) written whole from
   * `parts`, and given `st`'s metadata as an Attrs op would before it is closed (native engines with an
   * addon that has it): 0 settled, 1 written but its metadata left to an Attrs op, -errno not made.
   */
  writeNewSettled?(rel: Buffer, parts: Buffer[], st: Stat): number;
  /** Release the ring, buffers and held fds. */
  close(): void;
}
