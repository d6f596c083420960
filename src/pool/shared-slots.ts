// The memory a batch sent to a pool worker lives in, reused from batch to batch. A batch posted as a plain
// Uint8Array is copied by structured clone into the worker's heap, and the worker answered with a new
// outcome array: both were allocated by the worker thread and freed only when its V8 collected them,
// which is rare (its JavaScript heap barely grows), so the worker threads' malloc arenas grew with the
// tree (docs/benchmarks.md, "eleven, session 22", goal 4). A slot is one SharedArrayBuffer holding the
// batch's claim word (task-state.ts), its outcome bytes and a copy of its ops; posting views of it
// shares the memory instead of copying it, so a worker allocates nothing per batch. Slots are kept by
// size class and handed out again once their batch's answer is back; the main thread keeps its own
// batch (the EMFILE retries re-run from it) and copies the outcomes out before the slot is reused.

/** Smallest slot: a batch of a few hundred small files fits. */
const MIN_SLOT = 64 * 1024;
/** The claim word and its padding before the outcome bytes (8-byte alignment for the ops after them). */
const STATE_BYTES = 8;

const align8 = (n: number): number => (n + 7) & ~7;

export interface Slot {
  readonly sab: SharedArrayBuffer;
  /** The claim word (task-state.ts), Queued. */
  readonly state: Int32Array;
  /** Zeroed outcome bytes. */
  readonly outcomes: Uint8Array;
  /** A copy of the batch's ops. */
  readonly batch: Uint8Array;
}

export class SharedSlots {
  /** Free slots' buffers by size (a power of two). */
  private readonly free = new Map<number, SharedArrayBuffer[]>();

  /** `keep`: free slots kept per size class (about the batches in flight at once). */
  constructor(private readonly keep: number) {}

  /** A slot holding a copy of `batch` and `outcomeBytes` zeroed outcome bytes. */
  take(batch: Uint8Array, outcomeBytes: number): Slot {
    const outAt = STATE_BYTES;
    const batchAt = outAt + align8(outcomeBytes);
    const need = batchAt + batch.byteLength;
    let size = MIN_SLOT;
    while (size < need) size *= 2;
    const sab = this.free.get(size)?.pop() ?? new SharedArrayBuffer(size);
    const state = new Int32Array(sab, 0, 1);
    state[0] = 0;
    const outcomes = new Uint8Array(sab, outAt, outcomeBytes);
    outcomes.fill(0);
    const copy = new Uint8Array(sab, batchAt, batch.byteLength);
    copy.set(batch);
    return { sab, state, outcomes, batch: copy };
  }

  /** The slot's batch is answered (or will never be read again): its memory may serve another. */
  give(slot: Slot): void {
    const size = slot.sab.byteLength;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    if (list.length < this.keep) list.push(slot.sab);
  }
}
