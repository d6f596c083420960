// Deterministic randomness for the benchmark workloads: a small PRNG for choices (sizes, which files
// change) and an AES-CTR keystream for file contents (fast, incompressible, and the same bytes for the
// same seed on every machine). Kept apart from test/helpers so the benchmark trees never change when the
// test generator does: results from different days must be comparable.

import { createCipheriv, createHash } from 'node:crypto';

/** mulberry32: a tiny seeded PRNG; next() is uniform in [0, 1). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** k distinct indices out of [0, n), in the order drawn (partial Fisher-Yates). */
  sample(n: number, k: number): number[] {
    const idx = Array.from({ length: n }, (_, i) => i);
    const out: number[] = [];
    for (let i = 0; i < k && i < n; i++) {
      const j = i + Math.floor(this.next() * (n - i));
      const t = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = t;
      out.push(idx[i]!);
    }
    return out;
  }
}

/** A seeded stream of pseudo-random bytes (AES-128-CTR over zeros). */
export class ByteStream {
  private cipher;
  constructor(seed: string) {
    const key = createHash('sha256').update(`arsync-bench:${seed}`).digest();
    this.cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  }
  take(n: number): Buffer {
    return this.cipher.update(Buffer.alloc(n));
  }
}
