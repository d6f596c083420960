// Directory listings as the engines hand them to the planner: one directory's entries, a source
// directory paired with its destination twin (read a chunk at a time through engine/pair.ts), and
// scanTree's answer for a whole tree.

import type { Stat } from './stat.js';

/** One directory's entries: names as bytes, and their lstat (native: sorted by name bytes; node: readdir order). */
export interface DirListing {
  names: Buffer[];
  stats: (Stat | null)[];
  /** errno per entry whose lstat failed (vanished between getdents and statx), else 0. */
  errors: number[];
}

/** A source entry of a paired listing, with its destination twin's lstat. */
export interface PairEntry {
  name: Buffer;
  /** The source's lstat; null when it vanished before it could be stat'ed (then `err`). */
  st: Stat | null;
  err: number;
  /** The destination twin's lstat, if there is one. */
  dest: Stat | undefined;
  /** --iconv: the source's own bytes for this entry (`name` is then the destination's name). */
  srcName?: Buffer;
  /** --iconv: a source name one side could not convert (`name` is the source's; the entry is skipped). */
  unconvertible?: Unconvertible;
}

/** A name --iconv could not convert: which side says so, why (iconv(3)'s errno), and the name it had. */
export interface Unconvertible {
  side: 'sender' | 'Receiver';
  errno: number;
  /** The sender's: the source's bytes; the receiver's: the wire's UTF-8. */
  name: Buffer;
}

/** A chunk of a paired listing (engine/pair.ts reads it through a cursor). */
export interface PairListing {
  entries: PairEntry[];
  /** Destination names the source does not have, with their lstat. */
  extras: { name: Buffer; st: Stat }[];
  /** Unchanged entries left out by the native quick check. */
  collapsed: { reg: number; link: number; size: number };
  /** Why the destination could not be listed (0: it could, or it was not asked for). */
  destErrno: number;
  /**
   * The direct path (run/direct.ts): new regular files of this chunk (and, when asked, files replacing a
   * destination file with other data) already encoded as File ops in the batch layout (engine/batch.ts),
   * not among `entries`; `bytes` is their sizes together.
   */
  direct?: DirectOps;
}

/** File ops a pair cursor or the tree scan encoded itself (native/direct.c). */
export interface DirectOps {
  ops: Uint8Array;
  count: number;
  bytes: number;
  /** How many of them replace a destination file (DirectRequest.changed); the others make new files. */
  replaced: number;
}

/**
 * What a pair cursor needs to encode new regular files as File ops (PairCursor.direct): the directory's
 * destination-relative path, the ops' source anchor, the size from which a file is left to the planner
 * (it goes in a batch of its own), whether files with several links are (-H), and whether a file that
 * replaces a destination file whose data the quick check finds different is encoded too (`changed`).
 */
export interface DirectRequest {
  rel: Buffer;
  anchor: number;
  big: number;
  hardLinks: boolean;
  changed: boolean;
}

/**
 * The direct path asked of a tree scan (EntrySource.dirtyDirs): DirectRequest's settings for every dirty
 * directory's listing, whose paths the scan takes from its own (the operand's and its destination's,
 * joined with each directory's place).
 */
export type TreeDirect = Omit<DirectRequest, 'rel'>;

/**
 * The source's incremental file lists as scanTree recorded them while it listed and stat'ed the tree
 * (native/streamlist.c): what a local run's byte figures count (run/stream-totals.ts), with no second walk.
 */
export interface RecordedLists {
  /** Per list, in the order rsync's sender sends them (the operand's own first): [its record, its directory's index in rsync's dir_flist, its entries]. */
  order: Float64Array;
  /** The symlinks among the entries recorded (-L, -k, --copy-unsafe-links use the record only without any). */
  links: number;
  /**
   * Counts list `list` (its place in `order`; -1: none), after `top` (the operand's own entry, its mode,
   * size, mtime, nsec, uid, gid, rdev major and minor in `topMeta`) when given, into a counter of rsync's
   * multiplexed output whose [held, written] `state` holds; the entries are named below `prefix`.
   * `settings`: [flistenc.h FLE_* bits, protocol]; `nameLen`: the length of the name sent after a new id
   * (-1: none). Lists are counted in order, once. Returns the entries counted, -1 when a name is too long.
   */
  count(list: number, prefix: Buffer, top: Buffer | undefined, topMeta: Float64Array, settings: Float64Array, state: Float64Array, nameLen: (id: number, user: boolean) => number): number;
}

/** scanTree's answer. */
export interface TreeScan {
  /**
   * Sorted by rel, relative to the scanned root ("" is the root itself), each with its paired listing
   * (absent when it could not be listed there: the walk lists it itself) and, below the root, its own
   * lstat as the scan listed it (absent when that failed: the walk takes it itself).
   */
  dirty: { rel: Buffer; pair: PairListing | undefined; self?: Stat | undefined }[];
  /** Entries of the clean directories, by type, and their total size. */
  counts: { dir: number; reg: number; link: number; dev: number; special: number; size: number };
  /** The source's lists, when the query asked for them and the scan saw the whole tree. */
  lists?: RecordedLists;
}
