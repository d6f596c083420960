// src/run/time-granularity.ts: what a probe's read-back time says, and the probe itself on tmpfs (a type
// known from statfs) and in a dry run. The FUSE probes run in test/e2e/coarse-times.test.ts.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { destGranularity, granularityOf } from '../../../src/run/time-granularity.js';

const SEC = 1_000_000_001n;
const at = (sec: bigint, nsec: number): bigint => sec * 1_000_000_000n + BigInt(nsec);

describe('granularityOf', () => {
  it.each([
    ['kept to the microsecond (what Node sends)', at(SEC, 123_456_000), 1e3],
    ['milliseconds', at(SEC, 123_000_000), 1e6],
    ['exFAT (10 ms)', at(SEC, 120_000_000), 1e7],
    ['tenths of a second', at(SEC, 100_000_000), 1e8],
    ['whole seconds', at(SEC, 0), 1e9],
    ['FAT (2 s, rounded down to even seconds)', at(SEC - 1n, 0), 2e9],
    ['FAT (2 s, rounded up)', at(SEC + 1n, 0), 2e9],
  ])('%s', (_name, kept, want) => {
    expect(granularityOf(kept)).toBe(want);
  });

  it('a time far from the one set is not read as a coarse granularity', () => {
    // A filesystem that ignored the time: "now" is a whole multiple of nothing in particular.
    expect(granularityOf(at(1_764_000_000n, 0))).toBe(1e3);
  });
});

describe('destGranularity', () => {
  it('tmpfs is known from statfs: nanoseconds, nothing written', () => {
    const d = fs.mkdtempSync(path.join('/dev/shm', 'arsync-gran-'));
    const before = fs.statSync(d, { bigint: true }).mtimeNs;
    expect(destGranularity(Buffer.from(d), false)).toEqual({ ns: 1, probed: false });
    expect(fs.readdirSync(d)).toEqual([]);
    expect(fs.statSync(d, { bigint: true }).mtimeNs).toBe(before);
    fs.rmSync(d, { recursive: true });
  });

  it('a destination that does not exist yet: nanoseconds, no probe', () => {
    expect(destGranularity(Buffer.from(path.join(os.tmpdir(), 'arsync-no-such-dir-x')), false)).toEqual({ ns: 1, probed: false });
  });
});
