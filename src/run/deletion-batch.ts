// The deletion ops of one call of run/deletions.ts, with what is printed around them. rsync prints a
// deletion's "*deleting" line, counts it and tells its sender only once the unlink, rmdir or backup
// worked (delete.c delete_item), and a directory whose contents did not all go is "non-empty". So a run
// of deletions goes to the engine before its lines: what the planner prints meanwhile waits in order,
// and each op's own words come with its outcome. A make-room deletion planned into another caller's
// batch (immediate) is printed as planned and its failures are the caller's to report.

import { BatchWriter, type Op } from '../engine/batch.js';
import type { OpFailure } from '../engine/types.js';
import type { OpKind } from '../model/ops.js';
import type { Stat } from '../model/stat.js';
import type { RunContext } from './context.js';
import type { DeleteListProgress } from '../progress/filelist-progress.js';

/** What becomes of an op once it ran: its failure (undefined: it worked, or it ran in another batch). */
export type Outcome = (failed: { f: OpFailure; op: Op | undefined } | undefined) => void;

export class DeletionBatch {
  readonly w: BatchWriter;
  /** Sequence number of the first op of the batch being filled (numbers run on across flushes). */
  private base = 0;
  private held: { at: number; then: Outcome | (() => void) }[] = [];
  private readonly failed = new Set<number>();
  /** Deletions queued (counted by --max-delete) whose outcome is not known yet. */
  pendingDeletes = 0;

  constructor(
    private readonly rc: RunContext,
    private readonly into?: BatchWriter,
    /** A delete pass's file-list progress (progress/filelist-progress.ts), drawn as directories are listed. */
    private readonly listing?: DeleteListProgress,
  ) {
    this.w = into ?? new BatchWriter(4096);
  }

  /** Whether the directories listed are counted (listed()). */
  get counting(): boolean {
    return this.listing !== undefined;
  }

  /** A directory of `n` entries listed to delete in it or to empty it: its progress, in order with the lines. */
  listed(n: number): void {
    const l = this.listing;
    if (l) this.say(() => l.listed(n));
  }

  /** Planned into another caller's batch: printed as planned. */
  get immediate(): boolean {
    return this.into !== undefined;
  }

  /** Ops whose outcome is not known yet. */
  get pending(): number {
    return this.into ? 0 : this.w.count;
  }

  /** Output the planner makes now: printed after the outcomes of the ops queued before it. */
  say(fn: () => void): void {
    if (this.pending === 0) fn();
    else this.held.push({ at: -1, then: fn });
  }

  /** Queue an op; `then` gets its outcome, in order with what was said around it. Its sequence number. */
  add(kind: OpKind, rel: Buffer, st: Stat, flags: number, then?: Outcome): number {
    const at = this.base + this.w.count;
    this.w.add(kind, Buffer.alloc(0), rel, st, flags);
    if (this.into) then?.(undefined);
    else if (then) this.held.push({ at, then });
    return at;
  }

  /** Queue a Backup op (its own source path: the backup name). */
  addBackup(add: (w: BatchWriter) => void, then?: Outcome): number {
    const at = this.base + this.w.count;
    add(this.w);
    if (this.into) then?.(undefined);
    else if (then) this.held.push({ at, then });
    return at;
  }

  /** Whether the op numbered `at` failed (known once its batch ran). */
  didFail(at: number): boolean {
    return this.failed.has(at);
  }

  /** Run what is queued, then print what waited, in order; a failure no `then` takes is reported as rsync's FERROR_XFER. */
  flush(): void {
    if (this.into || this.w.count === 0) return;
    const base = this.base;
    this.base += this.w.count;
    this.pendingDeletes = 0;
    const byAt = new Map<number, { f: OpFailure; op: Op | undefined }>();
    for (const x of this.rc.sink.nowUnreported(this.w)) {
      byAt.set(base + x.f.index, x);
      this.failed.add(base + x.f.index);
    }
    const held = this.held;
    this.held = [];
    const taken = new Set<number>();
    for (const h of held) {
      if (h.at < 0) (h.then as () => void)();
      else {
        taken.add(h.at);
        (h.then as Outcome)(byAt.get(h.at));
      }
    }
    for (const [at, x] of byAt) if (!taken.has(at)) this.rc.tally.fail(x.f, x.op, true);
  }
}
