// A sync-engine context on a destination directory, opened as the contract tests open one: no flags,
// umask 022, one small buffer, fresh counters.

import { openContext } from '../../src/engine/index.js';
import { COUNTER_SLOTS } from '../../src/model/ops.js';

export function syncContext(destRoot: string): ReturnType<typeof openContext> {
  return openContext({
    engine: 'sync',
    destRoot: Buffer.from(destRoot),
    flags: 0,
    umask: 0o022,
    queueDepth: 1,
    bufferSize: 64 * 1024,
    bufferCount: 1,
    direct: false,
    counters: new BigInt64Array(new SharedArrayBuffer(8 * COUNTER_SLOTS)),
  });
}
