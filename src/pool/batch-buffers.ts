// The memory the main thread's encoded batches live in, reused from batch to batch. Each batch used to
// be a new Uint8Array (BatchWriter.finish): its backing store is malloc'd outside the JavaScript heap and
// freed only at this thread's next scavenge, which comes when the young generation fills, not when these
// stores add up, so hundreds of batch copies' worth of garbage piled up in the main malloc arena and the
// peak grew with the tree (docs/benchmarks.md, "rss, session 24"). A buffer is handed out by size class
// and given back by the dispatcher once nothing reads its batch any more (ran inline, answered by the
// pool, back from a native thread); until then it is the batch the EMFILE retries re-run from.

/** Smallest buffer: a batch of a few hundred small files fits. */
const MIN_BUFFER = 64 * 1024;

export class BatchBuffers {
  /** Free buffers by size (a power of two). */
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** The buffers take() made: only those are ever handed out again. */
  private readonly ours = new WeakSet<ArrayBuffer>();

  /** `keep`: free buffers kept per size class (about the batches in flight at once). */
  constructor(private readonly keep: number) {}

  /** A view of `length` bytes (contents unspecified: the caller writes all of them). */
  take(length: number): Uint8Array {
    let size = MIN_BUFFER;
    while (size < length) size *= 2;
    let buf = this.free.get(size)?.pop();
    if (!buf) this.ours.add((buf = new ArrayBuffer(size)));
    return new Uint8Array(buf, 0, length);
  }

  /**
   * `batch`'s memory may serve another batch: nothing reads it any more. A view that did not come from
   * take() (another writer's batch) is left alone.
   */
  give(batch: Uint8Array): void {
    const buf = batch.buffer;
    if (!(buf instanceof ArrayBuffer) || !this.ours.has(buf)) return;
    const size = buf.byteLength;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    if (list.length < this.keep && !list.includes(buf)) list.push(buf);
  }
}
