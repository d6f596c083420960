// --bwlimit's rate meter exists twice, in C (native/meter.h) for the addon engines and in TypeScript
// (src/engine/rate-meter.ts) for the node engine: the same constants (slack, sleep slice, piece size),
// the same counter slots, and the same charge on a shared clock, checked here.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Counter, COUNTER_SLOTS } from '../../src/model/ops.js';
import { PIECE_DIVISOR, PIECE_MIN, SLACK_NS, SLICE_MS, meterCharge, meterPiece } from '../../src/engine/rate-meter.js';
import { REPO } from '../helpers/cli.js';

const header = fs.readFileSync(join(REPO, 'native', 'meter.h'), 'utf8');
const batch = fs.readFileSync(join(REPO, 'native', 'batch.h'), 'utf8');
const define = (name: string): number => Number(new RegExp(`#define ${name} (\\d+)`).exec(header)![1]);
const slot = (name: string): number => Number(new RegExp(`${name} = (\\d+)`).exec(batch)![1]);

describe('rate meter: C and TypeScript agree', () => {
  it('constants and slots', () => {
    expect(BigInt(define('METER_SLACK_NS'))).toBe(SLACK_NS);
    expect(define('METER_SLICE_NS')).toBe(SLICE_MS * 1e6);
    expect(define('METER_PIECE_DIVISOR')).toBe(PIECE_DIVISOR);
    expect(define('METER_PIECE_MIN')).toBe(PIECE_MIN);
    expect(slot('C_BW_RATE')).toBe(Counter.BwRate);
    expect(slot('C_BW_NEXT')).toBe(Counter.BwNext);
  });

  it('pieces: the whole buffer without a limit, rate/8 (at least 512) with one', () => {
    const c = new BigInt64Array(new SharedArrayBuffer(COUNTER_SLOTS * 8));
    expect(meterPiece(c, 1 << 20)).toBe(1 << 20);
    Atomics.store(c, Counter.BwRate, 1024n * 1024n);
    expect(meterPiece(c, 1 << 20)).toBe(131072);
    Atomics.store(c, Counter.BwRate, 1024n);
    expect(meterPiece(c, 1 << 20)).toBe(512);
  });

  it('a charge moves the shared clock by n/rate from now, and the writer sleeps it off', () => {
    const c = new BigInt64Array(new SharedArrayBuffer(COUNTER_SLOTS * 8));
    Atomics.store(c, Counter.BwRate, 1_000_000n);
    const before = process.hrtime.bigint();
    meterCharge(c, 200_000); // 0.2 s at 1 MB/s
    const after = process.hrtime.bigint();
    const next = Atomics.load(c, Counter.BwNext);
    expect(next - before >= 200_000_000n && next - after <= 200_000_000n).toBe(true);
    expect(after - before).toBeGreaterThanOrEqual(200_000_000n - SLACK_NS);
    // No limit: no charge, no sleep.
    Atomics.store(c, Counter.BwRate, 0n);
    meterCharge(c, 1 << 30);
    expect(Atomics.load(c, Counter.BwNext)).toBe(next);
  });
});
