// The node engine's temp names (DESIGN.md §3.1): everything it makes under a name that is not yet the
// target's is made at a fresh `.<name>.XXXXXX` in the target's directory and renamed into place. One
// helper for the ops and the backups, the twin of the addon's temp-name loop.

import { codeOf } from './node-fs.js';
import { joinPath } from '../util/names.js';

const NAME_MAX = 255;
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
 * Create something at a fresh `.<prefix>.XXXXXX` in `dir` (the prefix shortened so the name fits
 * NAME_MAX), retrying on EEXIST. `create` must fail with EEXIST rather than reuse an entry.
 */
export function createTemp<T>(dir: Buffer, prefix: Buffer, create: (abs: Buffer, name: Buffer) => T): Made<T> {
  for (let tries = 0; ; tries++) {
    let suffix = '.';
    // Math.random, not node:crypto (loading it costs every run start-up time): O_EXCL makes a guessed
    // name harmless, as in the addon's temp names.
    for (let i = 0; i < 6; i++) suffix += ALNUM[Math.floor(Math.random() * ALNUM.length)];
    const name = Buffer.concat([Buffer.from('.'), prefix.subarray(0, NAME_MAX - 8), Buffer.from(suffix)]);
    const abs = joinPath(dir, name);
    try {
      return { name, abs, made: create(abs, name) };
    } catch (e) {
      if (codeOf(e) !== 'EEXIST' || tries >= TRIES) throw e;
    }
  }
}
