// Running out of descriptors (EMFILE/ENFILE) is not a failure of the op but of the moment: such ops are
// set aside, re-encoded whole (anchor and judged symlink target included), and run again later, when the
// workers that hold descriptors have finished. The one copy of that rule, for the pool's batches and for
// the ops the run executes on the main thread.

import { BatchWriter } from '../engine/batch.js';
import { readBatch } from '../engine/batch.js';
import type { EngineContext, OpFailure } from '../engine/types.js';
import { ERRNO } from '../util/errors.js';

export const isFdShortage = (errno: number): boolean => errno === ERRNO.EMFILE || errno === ERRNO.ENFILE;

/**
 * A pause before trying again when nothing of this run is left to wait for: descriptors a worker thread
 * or the coverage writer holds while it starts or exits are given back on their own, a little later.
 * 10 ms doubling, at most 320 ms; `attempt` counts from 0.
 */
export const fdPause = (attempt: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10 << Math.min(attempt, 5)));

export class FdRetry {
  private readonly ops: BatchWriter;

  constructor(initial = 1024) {
    this.ops = new BatchWriter(initial);
  }

  get count(): number {
    return this.ops.count;
  }

  /** Keep the ops of `batch` that ran out of descriptors for later; returns the failures to report. */
  setAside(batch: Uint8Array, failures: OpFailure[]): OpFailure[] {
    const again = new Set<number>();
    const report: OpFailure[] = [];
    for (const f of failures) {
      if (isFdShortage(f.errno) && f.index >= 0) again.add(f.index);
      else report.push(f);
    }
    if (again.size) {
      let i = 0;
      for (const op of readBatch(batch)) {
        if (again.has(i)) this.ops.add(op.kind, Buffer.from(op.src), Buffer.from(op.dst), op.stat, op.flags, op.anchor, op.target && Buffer.from(op.target), op.xrules && Buffer.from(op.xrules));
        i++;
      }
    }
    return report;
  }

  /** The ops set aside so far, as one batch (empties the queue). */
  take(): Uint8Array {
    return this.ops.finish();
  }
}

/** Rounds after the first of a retry (with fdPause between them: about 0.3 s in all). */
const FD_ROUNDS = 4;

/**
 * Runs the ops set aside in `pending` on `ctx`, one batch at a time on this thread. Ops that still find no
 * descriptor get a few more rounds after a pause (what holds them may be on its way out); every other
 * failure, and those of the last round, go to `report` (with the batch they index into). `retried` sees
 * each round's batch and outcomes.
 */
export async function runSetAside(
  ctx: Pick<EngineContext, 'run'>,
  pending: FdRetry,
  report: (failures: OpFailure[], batch: Uint8Array) => void,
  retried?: (batch: Uint8Array, outcomes: Uint8Array) => void,
): Promise<void> {
  for (let round = 0; pending.count > 0; round++) {
    const outcomes = new Uint8Array(pending.count);
    const batch = pending.take();
    const failures = ctx.run(batch, outcomes);
    retried?.(batch, outcomes);
    const again = new FdRetry(1024);
    const rest = round < FD_ROUNDS ? again.setAside(batch, failures) : failures;
    if (rest.length) report(rest, batch);
    pending = again;
    if (pending.count > 0) await fdPause(round);
  }
}
