// The main thread's reused batch memory (pool/batch-buffers.ts): a buffer is handed out by size class,
// served again only once given back, and never for a view it did not make.

import { describe, expect, it } from 'vitest';
import { BatchBuffers } from '../../../src/pool/batch-buffers.js';

describe('BatchBuffers', () => {
  it('hands out a view of the asked length, and a new buffer while the first is not given back', () => {
    const b = new BatchBuffers(2);
    const x = b.take(100);
    expect(x.length).toBe(100);
    expect(x.byteOffset).toBe(0);
    const y = b.take(100);
    expect(y.buffer).not.toBe(x.buffer);
  });

  it('serves a given-back buffer again, for a batch of its size class', () => {
    const b = new BatchBuffers(2);
    const x = b.take(100);
    b.give(x);
    const y = b.take(1000);
    expect(y.buffer).toBe(x.buffer);
    expect(y.length).toBe(1000);
    // A larger batch takes a larger class: the small buffer is not stretched.
    b.give(y);
    const big = b.take(200 * 1024);
    expect(big.buffer).not.toBe(x.buffer);
    expect(big.buffer.byteLength).toBeGreaterThanOrEqual(200 * 1024);
  });

  it('a buffer given back twice is served once', () => {
    const b = new BatchBuffers(4);
    const x = b.take(10);
    b.give(x);
    b.give(x);
    expect(b.take(10).buffer).toBe(x.buffer);
    expect(b.take(10).buffer).not.toBe(x.buffer);
  });

  it('never takes in memory it did not make', () => {
    const b = new BatchBuffers(2);
    const foreign = new Uint8Array(new ArrayBuffer(64 * 1024));
    b.give(foreign);
    expect(b.take(10).buffer).not.toBe(foreign.buffer);
  });

  it('keeps at most `keep` free buffers per size class', () => {
    const b = new BatchBuffers(1);
    const x = b.take(10);
    const y = b.take(10);
    b.give(x);
    b.give(y);
    expect(b.take(10).buffer).toBe(x.buffer);
    expect(b.take(10).buffer).not.toBe(y.buffer);
  });
});
