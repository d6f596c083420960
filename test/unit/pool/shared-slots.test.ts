// The shared memory batches go to pool workers in (pool/shared-slots.ts): a slot holds a copy of the
// batch, zeroed outcomes and a Queued claim word, all in one SharedArrayBuffer, and is reused by size.

import { describe, expect, it } from 'vitest';
import { SharedSlots } from '../../../src/pool/shared-slots.js';
import { TaskState, claimTask, reclaimTask } from '../../../src/pool/task-state.js';

describe('SharedSlots', () => {
  it('copies the batch into shared memory, with zeroed outcomes and a Queued claim word', () => {
    const slots = new SharedSlots(2);
    const batch = Uint8Array.from([1, 2, 3, 4, 5]);
    const s = slots.take(batch, 3);
    expect(s.batch.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(s.outcomes.buffer).toBe(s.sab);
    expect(s.state.buffer).toBe(s.sab);
    expect([...s.batch]).toEqual([1, 2, 3, 4, 5]);
    expect([...s.outcomes]).toEqual([0, 0, 0]);
    expect(s.state[0]).toBe(TaskState.Queued);
    // A copy: the caller's batch stays its own (EMFILE retries re-run from it).
    batch[0] = 9;
    expect(s.batch[0]).toBe(1);
    // The ops start 8-byte aligned, after the claim word and the outcomes.
    expect(s.batch.byteOffset % 8).toBe(0);
    expect(s.outcomes.byteOffset + s.outcomes.length).toBeLessThanOrEqual(s.batch.byteOffset);
  });

  it('reuses a given-back slot of the same size, claim word and outcomes reset', () => {
    const slots = new SharedSlots(2);
    const a = slots.take(new Uint8Array(100), 4);
    expect(claimTask(a.state)).toBe(true);
    a.outcomes.fill(7);
    slots.give(a);
    const b = slots.take(Uint8Array.from([42]), 4);
    expect(b.sab).toBe(a.sab);
    expect(b.state[0]).toBe(TaskState.Queued);
    expect(reclaimTask(b.state)).toBe(true);
    expect([...b.outcomes]).toEqual([0, 0, 0, 0]);
    expect([...b.batch]).toEqual([42]);
    // Not given back: a new slot.
    expect(slots.take(new Uint8Array(1), 1).sab).not.toBe(a.sab);
  });

  it('sizes slots in powers of two from 64 KiB, and keeps at most `keep` free ones per size', () => {
    const slots = new SharedSlots(1);
    const small = slots.take(new Uint8Array(10), 10);
    expect(small.sab.byteLength).toBe(64 * 1024);
    const big = slots.take(new Uint8Array(200 * 1024), 256);
    expect(big.sab.byteLength).toBe(256 * 1024);
    const other = slots.take(new Uint8Array(10), 10);
    slots.give(small);
    slots.give(other);
    // Only one kept: the second given back is dropped.
    expect(slots.take(new Uint8Array(1), 1).sab).toBe(small.sab);
    expect(slots.take(new Uint8Array(1), 1).sab).not.toBe(other.sab);
  });
});
