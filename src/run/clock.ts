// The run's clock: --stop-after/--stop-at (stop at a time) and --timeout (stop after that long without
// progress). A watchdog thread keeps the time, because the main thread can be busy for long stretches in
// an engine call (an inline batch, a --bwlimit sleep): when a limit is reached it sets the run's abort slot,
// which every engine checks between pieces of data and between ops (temp files are removed as for a
// signal), and records why in the Stopped slot, which main.ts turns into rsync's message and exit 30.
// Progress is any change of the engines' counters or of the Beat slot the walk bumps.
// Known limit: a syscall that never returns (a hung network filesystem) is not interrupted; the run stops
// when it returns.

import { createRequire } from 'node:module';
import { Counter } from '../model/ops.js';
import { STOP_LINE, ioTimeoutLine } from '../util/errors.js';

/**
 * The clock's own slots of the counter array, past the ones C touches (C_USED): why the run was stopped
 * (StopReason), the walk's heartbeat (activity --timeout counts besides the engines' counters), and how
 * long the run had been idle when --timeout stopped it.
 */
export const ClockSlot = { Stopped: 12, Beat: 13, Idle: 14 } as const;

/** Why the clock stopped the run (the Stopped slot). */
export const StopReason = { None: 0, StopAt: 1, Timeout: 2 } as const;

/** How often the watchdog looks (rsync looks about once a second too). */
const TICK_MS = 200;

// Plain JavaScript for an eval'd worker: it sees only the counters and the two limits.
const WATCHDOG = `
const { workerData, parentPort } = require('node:worker_threads');
const { counters, stopAt, timeoutMs, slots } = workerData;
const sig = () => slots.activity.reduce((s, i) => s + Atomics.load(counters, i), 0n);
let last = sig();
let since = Date.now();
const stop = (why, idle) => {
  Atomics.store(counters, slots.idle, BigInt(idle));
  Atomics.store(counters, slots.stopped, BigInt(why));
  Atomics.store(counters, slots.abort, 1n);
  clearInterval(timer);
  parentPort.postMessage(why);
};
const timer = setInterval(() => {
  const now = Date.now();
  if (Atomics.load(counters, slots.abort) !== 0n) return clearInterval(timer);
  if (stopAt !== undefined && now >= stopAt) return stop(${StopReason.StopAt}, 0);
  const s = sig();
  if (s !== last) { last = s; since = now; return; }
  if (timeoutMs > 0 && now - since >= timeoutMs) stop(${StopReason.Timeout}, Math.floor((now - since) / 1000));
}, ${TICK_MS});
`;

export interface RunClock {
  /** Why the run was stopped, and for a timeout after how many idle seconds. */
  readonly stopped: { reason: number; idleSeconds: number };
  close(): Promise<void>;
}

/** Start the watchdog when the run has a limit; undefined when it has none. */
export function startClock(counters: BigInt64Array, limits: { stopAt?: number; timeout?: number }, onStop: () => void): RunClock | undefined {
  const timeoutMs = (limits.timeout ?? 0) * 1000;
  if (limits.stopAt === undefined && timeoutMs <= 0) return undefined;
  const slots = {
    abort: Counter.Abort,
    stopped: ClockSlot.Stopped,
    idle: ClockSlot.Idle,
    activity: [Counter.Files, Counter.Dirs, Counter.Bytes, Counter.Symlinks, Counter.Specials, Counter.Hardlinks, Counter.Errors, Counter.Skipped, Counter.Deleted, ClockSlot.Beat],
  };
  // node:worker_threads is loaded only by the runs that have a limit (loading it costs every start ~2 ms).
  const { Worker } = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
  const w = new Worker(WATCHDOG, { eval: true, workerData: { counters, stopAt: limits.stopAt, timeoutMs, slots } });
  w.on('message', onStop);
  w.unref();
  return {
    get stopped() {
      return { reason: Number(Atomics.load(counters, ClockSlot.Stopped)), idleSeconds: Number(Atomics.load(counters, ClockSlot.Idle)) };
    },
    close: async () => {
      await w.terminate();
    },
  };
}

/** rsync's line for a stop by the clock (io.c: perform_io's stop_at_utime check, check_timeout). */
export function stopMessage(s: { reason: number; idleSeconds: number }): string | undefined {
  if (s.reason === StopReason.StopAt) return STOP_LINE;
  if (s.reason === StopReason.Timeout) return ioTimeoutLine('sender', s.idleSeconds);
  return undefined;
}
