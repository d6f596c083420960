// --progress's view of which batch is running: a worker (or the main thread, for a batch run inline) says
// so before the batch's first op, so that Counter.Current, which names only an op's index in its batch,
// is never read as an op of another batch (progress/file-progress.ts reads both).

import { Counter } from '../model/ops.js';

/** Batch `seq` starts on this thread: no op of it has copied anything yet. */
export function startingBatch(counters: BigInt64Array, seq: number): void {
  Atomics.store(counters, Counter.Current, 0n);
  Atomics.store(counters, Counter.Batch, BigInt(seq));
}
