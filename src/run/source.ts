// Where entries come from (the first transport seam). The planner asks an EntrySource for a root's stat,
// for each directory's entries paired with their destination twins a chunk at a time, and (when it can
// tell) for the dirty directories of a whole tree. Today's source is the local walk through the engines
// (LocalSource: pair cursors, scanTree); a file list received from a remote `rsync --sender` would answer
// the same questions from the list it received, paired with local destination listings.

import type { Engine } from '../engine/engine.js';
import { isFailure, type SysFailure } from '../model/failure.js';
import { PairStream } from '../engine/pair.js';
import type { DirectRequest, PairListing, TreeDirect, TreeScan } from '../model/listing.js';
import type { EngineContext } from '../engine/types.js';
import type { Stat } from '../model/stat.js';

/** One directory's entries, each with its destination twin (a PairStream for a local walk). */
export interface DirEntries {
  /** The whole listing, when it fits in one chunk (it can then be gone over twice for free). */
  readonly whole: PairListing | undefined;
  /** Why the destination twin could not be listed (0: it could, or there is none). */
  readonly destErrno: number;
  /** Every chunk, from the first. `extrasOnly`: only destination-only names. */
  chunks(extrasOnly?: boolean): Iterable<PairListing>;
  close(): void;
}

export interface EntrySource {
  /** A source path as lstat sees it (an operand, an implied directory, a -H member again). */
  lstat(path: Buffer): Stat | SysFailure;
  /** What a source symlink leads to (-L, "link/", implied directories); undefined when nothing. */
  follow(path: Buffer): Stat | undefined;
  /** A source symlink's target, read once. */
  readlink(path: Buffer): Buffer | undefined;
  /** A source directory's names (unsorted), for a directory whose entries can only fail. */
  names(path: Buffer, anchor: number): Buffer[] | SysFailure;
  /**
   * One source directory paired with its destination twin (`destRel` null: none to pair with).
   * `direct`: new regular files may come as encoded File ops (PairListing.direct, run/direct.ts); a
   * source that cannot, or that changes what it lists (the wrappers), leaves them entries.
   */
  openDir(src: Buffer, destRel: Buffer | null, anchor: number, direct?: DirectRequest): DirEntries | SysFailure;
  /**
   * A whole tree's directories that hold anything to do, with counts for the clean ones; undefined when
   * this source cannot tell (then every directory is walked). `recordOnly`: asked only for the lists it
   * records (run/transfer-pass.ts recordLists), which a run without a tree scan of its own may still get.
   * `direct`: the dirty directories' listings may hold the direct path's ops (as openDir's `direct`); a
   * source that cannot, or that changes what it lists, leaves them entries.
   */
  dirtyDirs(src: Buffer, destRel: Buffer, recordOnly?: boolean, direct?: TreeDirect): TreeScan | SysFailure | undefined;
  /**
   * A pull's file it did not fetch, its check having found the destination's file current (run/staged-
   * source.ts): no data of it is here to copy.
   */
  unfetched?(path: Buffer): boolean;
}

/** The local walk, through the engine (native engines reach paths deeper than PATH_MAX). */
export class LocalSource implements EntrySource {
  constructor(
    private readonly engine: Engine,
    /** None under -n onto a destination that does not exist yet: nothing to pair with. */
    private readonly ctx: EngineContext | undefined,
    private readonly pairQuery: Float64Array,
    private readonly treeQuery: Float64Array | undefined,
    /** spec.ts recordQuery: the scan a run without a treeQuery makes only for its recorded lists. */
    private readonly recordQuery?: Float64Array,
  ) {}

  lstat(path: Buffer): Stat | SysFailure {
    return this.engine.lstat(path);
  }

  follow(path: Buffer): Stat | undefined {
    const st = this.engine.stat(path);
    return isFailure(st) ? undefined : st;
  }

  readlink(path: Buffer): Buffer | undefined {
    const t = this.engine.readlink(path);
    return isFailure(t) ? undefined : t;
  }

  names(path: Buffer, anchor: number): Buffer[] | SysFailure {
    const l = this.engine.scanDir(path, anchor);
    return isFailure(l) ? l : l.names;
  }

  openDir(src: Buffer, destRel: Buffer | null, anchor: number, direct?: DirectRequest): DirEntries | SysFailure {
    const cursor = this.ctx
      ? this.ctx.openPair(src, destRel, this.pairQuery, anchor)
      : this.engine.openSourcePair(src, this.pairQuery, anchor);
    if (isFailure(cursor)) return cursor;
    // Before the stream reads its first chunk.
    // (Without a context, only a dry run asks: its ops are counted and named, never run.)
    if (direct) cursor.direct?.(direct);
    return new PairStream(cursor);
  }

  dirtyDirs(src: Buffer, destRel: Buffer, recordOnly = false, direct?: TreeDirect): TreeScan | SysFailure | undefined {
    const q = this.treeQuery ?? (recordOnly ? this.recordQuery : undefined);
    if (!q || !this.ctx?.scanTree) return undefined;
    return this.ctx.scanTree(src, destRel, direct && !recordOnly ? withDirect(q, direct) : q);
  }
}

/** scanTree's query (run/spec.ts treeQuery: six numbers) with the direct path's four (native/tree.c). */
function withDirect(q: Float64Array, d: TreeDirect): Float64Array {
  const out = new Float64Array(10);
  out.set(q.subarray(0, 6));
  out[6] = d.changed ? 2 : 1;
  out[7] = d.anchor;
  out[8] = d.big;
  out[9] = d.hardLinks ? 1 : 0;
  return out;
}
