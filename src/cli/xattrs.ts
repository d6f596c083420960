// -X's count, as rsync reads it: once copies the extended attributes, twice (-XX) also rsync's own
// user.rsync.% records (its preserve_xattrs 2: the engines' Preserve.XattrsAll, and on the wire a second
// X in the server options and the records in the lists); and rsync's refusal of -XX with --fake-super,
// whose records those are.

import type { Config } from '../model/config.js';
import { UsageError } from '../util/errors.js';

/** What -X's count leaves in the Config. */
export type XattrsLevel = Pick<Config, 'xattrs' | 'xattrsAll'>;

export function xattrsLevel(n: number): XattrsLevel {
  return n > 1 ? { xattrs: true, xattrsAll: true } : { xattrs: n > 0 };
}

/**
 * -XX with --fake-super, refused before any I/O (rsync's options.c check and its message; -M--fake-super
 * too, which rsync's receiver refuses).
 */
export function checkXattrsAll(c: Config): void {
  if (c.xattrsAll && (c.amRoot === -1 || c.fakeSuper)) throw new UsageError('--fake-super conflicts with -XX');
}
