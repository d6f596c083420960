// Who owns a batch sent to the pool: one Int32 shared by the main thread and the worker, claimed with a
// compare-and-swap, so that a batch is either begun by a worker or taken back by the main thread (when
// the pool is abandoned), never both and never lost.

export const TaskState = {
  /** Sent, not begun. */
  Queued: 0,
  /** A worker claimed it: it runs there to the end. */
  Begun: 1,
  /** The main thread took it back and ran it itself: a worker that meets it later leaves it alone. */
  Reclaimed: 2,
} as const;

/** A worker's claim on a batch: true when it may run it. */
export function claimTask(state: Int32Array | undefined): boolean {
  return state === undefined || Atomics.compareExchange(state, 0, TaskState.Queued, TaskState.Begun) === TaskState.Queued;
}

/** The main thread's claim on a batch no worker has begun: true when it may run it itself. */
export function reclaimTask(state: Int32Array): boolean {
  return Atomics.compareExchange(state, 0, TaskState.Queued, TaskState.Reclaimed) === TaskState.Queued;
}
