// rsync's --munge-links on the sending side (a local copy's only role for it): a link target written by
// a munging receiver starts with "/rsyncd-munged/", which the sender drops (flist.c readlink_stat).
// native/ops.c does the same to the target it reads (MUNGE_PREFIX in native/batch.h).

/** rsync's SYMLINK_PREFIX. */
export const MUNGE_PREFIX = Buffer.from('/rsyncd-munged/');

/** The target without the prefix, when it is longer than the prefix alone (rsync's rule). */
export function unmunge(target: Buffer): Buffer {
  return target.length > MUNGE_PREFIX.length && target.subarray(0, MUNGE_PREFIX.length).equals(MUNGE_PREFIX) ? target.subarray(MUNGE_PREFIX.length) : target;
}
