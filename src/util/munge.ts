// rsync's --munge-links, each side its own half: a receiver (a pull's client, a batch's reader) writes
// every link target it is sent behind "/rsyncd-munged/" (flist.c recv_file_entry), and a sender (a local
// copy's, a push's client) drops that prefix from the targets it reads (flist.c readlink_stat).
// native/ops.c does the sender's half to the target it reads (MUNGE_PREFIX in native/batch.h).

/** rsync's SYMLINK_PREFIX. */
export const MUNGE_PREFIX = Buffer.from('/rsyncd-munged/');

/** The target without the prefix, when it is longer than the prefix alone (rsync's rule). */
export function unmunge(target: Buffer): Buffer {
  return target.length > MUNGE_PREFIX.length && target.subarray(0, MUNGE_PREFIX.length).equals(MUNGE_PREFIX) ? target.subarray(MUNGE_PREFIX.length) : target;
}

/** The target as a munging receiver writes it: the prefix before every target, whatever it holds. */
export function munge(target: Buffer): Buffer {
  return Buffer.concat([MUNGE_PREFIX, target]);
}
