// What the node engine's op in progress shares with the modules it calls: which paths a failure thrown
// from now on is about (the blame, turned into the OpFailure the contract reports), the run's abort slot,
// and the shared counters. One per context; passed to each module instead of living in a god class.

import { toFailure } from './node-fs.js';
import { Counter, CURRENT_SHIFT } from '../model/ops.js';
import type { OpFailure } from './types.js';

/** Thrown out of an op when the abort slot is set; never reported as a failure. */
export const ABORTED = Symbol('aborted');

export class OpScope {
  private path: Buffer = Buffer.alloc(0);
  private dest: Buffer | undefined;
  private onDest = false;

  constructor(readonly counters: BigInt64Array) {}

  /** Which paths a failure thrown from now on is about (OpFailure.path/dest/onDest). */
  at(path: Buffer, onDest: boolean, dest?: Buffer): void {
    this.path = path;
    this.dest = dest;
    this.onDest = onDest;
  }

  /** The blame as it stands, to put back after a cleanup step that moved it. */
  save(): () => void {
    const { path, dest, onDest } = this;
    return () => this.at(path, onDest, dest);
  }

  /** The OpFailure for a thrown fs error, about the paths last named with `at`. */
  failure(e: unknown, index: number): OpFailure {
    const { errno, syscall } = toFailure(e);
    const { path, dest, onDest } = this;
    return dest === undefined ? { index, errno, syscall, path, onDest } : { index, errno, syscall, path, dest, onDest };
  }

  aborted(): boolean {
    return Atomics.load(this.counters, Counter.Abort) !== 0n;
  }

  /** Throws ABORTED when the run is being stopped. */
  checkAbort(): void {
    if (this.aborted()) throw ABORTED;
  }

  count(slot: number, n = 1n): void {
    Atomics.add(this.counters, slot, n);
  }

  /** The op in progress (its index in the batch), for --progress's live line. */
  index = 0;

  /** n more bytes of the op's data written, `copied` of this op so far: the run's total and Counter.Current. */
  countData(n: number, copied: number): void {
    Atomics.add(this.counters, Counter.Bytes, BigInt(n));
    const cur = (BigInt((this.index + 1) & 0x7fff) << BigInt(CURRENT_SHIFT)) | (BigInt(copied) & ((1n << BigInt(CURRENT_SHIFT)) - 1n));
    Atomics.store(this.counters, Counter.Current, cur);
  }
}
