// The node engine's temp names (DESIGN.md §3.1): everything it makes under a name that is not yet the
// target's is made at a fresh temp name (rsync's shape, model/temp-name.ts) in the target's directory
// or -T's and renamed into place. One helper for the ops and the backups, the twin of the addon's
// temp-name loop; and the report of a File op's temp letters in run()'s outcome bytes.

import { codeOf } from './node-fs.js';
import { countOps } from './batch.js';
import { joinPath } from '../util/names.js';
import { TEMP_LETTERS, tempName } from '../model/temp-name.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Names tried before EEXIST is reported: a clash of six random letters twice in a row is not bad luck. */
const TRIES = 10;

/** A made temp entry: its name, its path through `dir`, and what `create` returned. */
export interface Made<T> {
  name: Buffer;
  abs: Buffer;
  made: T;
}

/**
 * Create something at a fresh temp name for `prefix` in `dir` (`inTempDir`: -T's directory, where rsync's
 * names have no leading dot), retrying on EEXIST. `create` must fail with EEXIST rather than reuse an entry.
 */
export function createTemp<T>(dir: Buffer, prefix: Buffer, create: (abs: Buffer, name: Buffer) => T, inTempDir = false): Made<T> {
  for (let tries = 0; ; tries++) {
    let letters = '';
    // Math.random, not node:crypto (loading it costs every run start-up time): O_EXCL makes a guessed
    // name harmless, as in the addon's temp names.
    for (let i = 0; i < TEMP_LETTERS; i++) letters += ALNUM[Math.floor(Math.random() * ALNUM.length)];
    const name = tempName(prefix, inTempDir, letters);
    const abs = joinPath(dir, name);
    try {
      return { name, abs, made: create(abs, name) };
    } catch (e) {
      if (codeOf(e) !== 'EEXIST' || tries >= TRIES) throw e;
    }
  }
}

/**
 * run()'s outcome bytes with room for 7 per op (docs/native-contract.md, "run() outcomes"): the part after
 * the outcomes, where each op's temp letters go; undefined when the caller did not ask for them.
 */
export function tempSlots(batch: Uint8Array, outcomes: Uint8Array | undefined): Uint8Array | undefined {
  if (!outcomes || outcomes.length < 1 + TEMP_LETTERS) return undefined;
  const n = countOps(batch);
  return n && outcomes.length >= n * (1 + TEMP_LETTERS) ? outcomes.subarray(n, n * (1 + TEMP_LETTERS)) : undefined;
}

/** A File op that made `tempPath` and is done: its letters in its slot. */
export function reportTemp(slots: Uint8Array | undefined, index: number, tempPath: Buffer | undefined): void {
  if (slots && tempPath) slots.set(tempPath.subarray(-TEMP_LETTERS), index * TEMP_LETTERS);
}
