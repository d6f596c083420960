// A pool worker: opens one engine context on its own thread as it loads (one io_uring ring and one set of
// registered buffers per worker, for the worker's whole life), says so to the dispatcher, and runs batches
// on it.

import { workerData } from 'node:worker_threads';
import { openContext } from '../engine/index.js';
import type { EngineContext, EngineOptions, OpFailure } from '../engine/types.js';
import { startingBatch } from './live.js';
import { claimTask } from './task-state.js';

interface Data {
  opts: Omit<EngineOptions, 'destRoot' | 'backupDir'> & { destRoot: Uint8Array; backupDir?: Uint8Array };
  /** Bumped once this worker is ready for batches (pool/dispatcher.ts runs them inline until one is). */
  up?: Int32Array;
}

export interface Task {
  batch: Uint8Array;
  count: number;
  /** --progress: outcome bytes over a SharedArrayBuffer, read by the main thread while the batch runs. */
  outcomes?: Uint8Array | undefined;
  /** --progress: the batch's number, published in Counter.Batch as it starts. */
  seq?: number | undefined;
  /** Who owns the batch (task-state.ts): a batch the main thread took back is not run here. */
  state?: Int32Array | undefined;
}

export interface TaskResult {
  failures: OpFailure[];
  /** The outcomes, when the task brought no array for them (the dispatcher's are shared: pool/shared-slots.ts). */
  outcomes?: Uint8Array;
}

let ctx: EngineContext | undefined;

function open(): EngineContext {
  const { opts } = workerData as Data;
  // Buffers arrive as plain Uint8Arrays; the addon takes only Buffers.
  const buf = (a: Uint8Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const { backupDir, tempDir, partialDir, xattrRules, ...rest } = opts;
  return openContext({
    ...rest,
    destRoot: buf(opts.destRoot),
    ...(backupDir ? { backupDir: buf(backupDir) } : {}),
    ...(tempDir ? { tempDir: buf(tempDir) } : {}),
    ...(partialDir ? { partialDir: buf(partialDir) } : {}),
    ...(xattrRules ? { xattrRules: xattrRules.map((r) => ({ ...r, pattern: buf(r.pattern) })) } : {}),
  });
}

// Opened as the worker loads, so its first batch does not wait for it; an engine that cannot open here
// (no descriptor, no memory for a ring) is tried again by that batch, whose failure then sends the batch
// back to the main thread as before. Either way the dispatcher stops holding batches back.
try {
  ctx = open();
} catch {
  ctx = undefined;
}
const up = (workerData as Data | undefined)?.up;
if (up) Atomics.add(up, 0, 1);

export default function runBatch(task: Task): TaskResult {
  // Claimed before the engine opens: a worker that cannot open it has begun nothing (the batch then runs
  // on the main thread).
  if (!claimTask(task.state)) return { failures: [] };
  ctx ??= open();
  if (task.seq !== undefined) startingBatch((workerData as Data).opts.counters, task.seq);
  if (task.outcomes) return { failures: ctx.run(task.batch, task.outcomes) };
  const outcomes = new Uint8Array(task.count);
  return { failures: ctx.run(task.batch, outcomes), outcomes };
}
