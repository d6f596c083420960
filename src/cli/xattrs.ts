// -X's count, as rsync reads it: once copies the extended attributes, twice (-XX) also rsync's own
// user.rsync.% records (its preserve_xattrs 2), which only a local copy does here; and rsync's refusal of
// -XX with --fake-super, whose records those are.

import type { Config } from '../model/config.js';
import { UsageError } from '../util/errors.js';

/** What -X's count leaves in the Config. */
export type XattrsLevel = Pick<Config, 'xattrs' | 'xattrsAll'>;

export function xattrsLevel(n: number): XattrsLevel {
  return n > 1 ? { xattrs: true, xattrsAll: true } : { xattrs: n > 0 };
}

/**
 * -XX's refusals, before any I/O: with --fake-super (rsync's options.c check, its message; -M--fake-super
 * too, as rsync's receiver refuses it), and on a remote transfer, whose file list arsync builds without
 * rsync's records.
 */
export function checkXattrsAll(c: Config, remote: boolean): void {
  if (!c.xattrsAll) return;
  if (c.amRoot === -1 || c.fakeSuper) throw new UsageError('--fake-super conflicts with -XX');
  if (remote) throw new UsageError("-XX (rsync's own user.rsync.% attributes too) works on local copies only: use -X");
}
