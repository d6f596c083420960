// rsync's batch options (--write-batch, --only-write-batch, --read-batch), declared on the parser and
// settled into the Config's batch choice with rsync's own checks (options.c): a batch is written or
// read, never both; a dry run writes none; --read-batch takes no --files-from or --remove-*-files.

import type { Command } from 'commander';
import type { BatchChoice, Config } from '../model/config.js';
import { UsageError } from '../util/errors.js';

/** rsync's MAX_BATCH_NAME_LEN (the name gets ".sh" added, and must fit a path). */
const MAX_BATCH_NAME_LEN = 256;

export function addBatchOptions(p: Command): () => BatchChoice | undefined {
  // rsync keeps one name (the last given) and the two modes apart: write (1, or -1 for "only") and read.
  let name: string | undefined;
  let write = 0;
  let read = false;
  p.option('--write-batch <FILE>', 'write a batched update to FILE')
    .option('--only-write-batch <FILE>', 'like --write-batch but w/o updating dest')
    .option('--read-batch <FILE>', 'read a batched update from FILE');
  p.on('option:write-batch', (v: string) => {
    name = v;
    write = 1;
  });
  p.on('option:only-write-batch', (v: string) => {
    name = v;
    write = -1;
  });
  p.on('option:read-batch', (v: string) => {
    name = v;
    read = true;
  });
  return () => {
    if (name === undefined) return undefined;
    if (write && read) throw new UsageError('--write-batch and --read-batch can not be used together');
    if (Buffer.byteLength(name) > MAX_BATCH_NAME_LEN) throw new UsageError(`the batch-file name must be ${MAX_BATCH_NAME_LEN} characters or less.`);
    return { mode: read ? 'read' : write > 0 ? 'write' : 'only-write', file: name };
  };
}

/**
 * rsync's later checks, once the rest of the Config is known: `undefined` when the run writes no batch
 * (a dry run: rsync sets write_batch to 0 then, so no file is made).
 */
export function settleBatch(b: BatchChoice | undefined, c: Pick<Config, 'dryRun' | 'filesFrom' | 'removeSourceFiles' | 'removeSentOnly'>): BatchChoice | undefined {
  if (!b) return undefined;
  if (b.mode === 'read') {
    if (c.filesFrom !== undefined) throw new UsageError('--read-batch cannot be used with --files-from');
    if (c.removeSourceFiles) throw new UsageError(`--read-batch cannot be used with --remove-${c.removeSentOnly ? 'sent' : 'source'}-files`);
    return b;
  }
  return c.dryRun ? undefined : b;
}

/**
 * A batch with a remote transfer: `undefined` when it can be written (--write-batch and
 * --only-write-batch in a pull or a push: cli/batch-tap.ts), else why not, refused before any I/O.
 */
export function batchRemoteRefusal(b: BatchChoice | undefined, kind: 'pull' | 'push' | 'other' = 'other'): string | undefined {
  if (!b) return undefined;
  if (b.mode === 'read') return 'remote destination is not allowed with --read-batch';
  const opt = `--${b.mode === 'write' ? '' : 'only-'}write-batch`;
  if (kind === 'other') return `${opt} is not supported with a listing (arsync writes batches for local copies, pulls and pushes)`;
  return undefined;
}
