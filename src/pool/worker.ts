// A pool worker: opens one engine context on its own thread the first time it is used (one io_uring
// ring and one set of registered buffers per worker, for the worker's whole life) and runs batches on it.

import { workerData } from 'node:worker_threads';
import { openContext } from '../engine/index.js';
import type { EngineContext, EngineOptions, OpFailure } from '../engine/types.js';

interface Data {
  opts: Omit<EngineOptions, 'destRoot'> & { destRoot: Uint8Array };
}

export interface Task {
  batch: Uint8Array;
  count: number;
}

export interface TaskResult {
  failures: OpFailure[];
  outcomes: Uint8Array;
}

let ctx: EngineContext | undefined;

export default function runBatch(task: Task): TaskResult {
  if (!ctx) {
    const { opts } = workerData as Data;
    const destRoot = Buffer.from(opts.destRoot.buffer, opts.destRoot.byteOffset, opts.destRoot.byteLength);
    ctx = openContext({ ...opts, destRoot });
  }
  const outcomes = new Uint8Array(task.count);
  const failures = ctx.run(task.batch, outcomes);
  return { failures, outcomes };
}
