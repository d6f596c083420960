// A pull's received file put in place without copying its bytes again, node engine (the twin of
// native/adopt.c; test/contract/adopt.test.ts holds them together): the staged file, which this
// process rebuilt in its private 0700 staging tree, is hard-linked under the exclusive temp name a copy
// would have made (link(2) fails on EEXIST, as O_EXCL does), checked to be the inode the op opened,
// then given its metadata and renamed over the target by the caller, as a copy is.

import type { BigIntStats } from 'node:fs';
import type { Op } from './batch.js';
import { codeOf, discard, fsImpl, sysError } from './node-fs.js';
import { adoptsSource } from '../model/ops.js';

/** Whether a File op's source is linked in rather than copied (model/ops.ts adoptsSource). */
export function adoptWanted(flags: number, op: Op): boolean {
  return adoptsSource(flags, op.flags);
}

/** link(2)'s errors that mean "no link here" (another filesystem, say), not a failed op: the data is copied. */
const CANNOT_LINK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Links the source at `from` (its path through the held source directory) at a temp name that
 * `temp` makes with the create function it is given; undefined when no link can be made there.
 * Throws ESTALE when the name no longer held the inode the op opened (`st`).
 */
export function linkStaged<T extends { abs: Buffer }>(from: Buffer, st: BigIntStats, temp: (create: (abs: Buffer) => number) => T): T | undefined {
  let made: T;
  try {
    made = temp((abs) => {
      fsImpl.linkSync(from, abs);
      return -1;
    });
  } catch (e) {
    if (CANNOT_LINK.has(codeOf(e) ?? '')) return undefined;
    throw e;
  }
  const now = fsImpl.lstatSync(made.abs, { bigint: true });
  if (now.ino !== st.ino || now.dev !== st.dev) {
    discard(made.abs);
    throw sysError('ESTALE', 'link');
  }
  return made;
}
