// The stream-flags word that starts a batch (rsync's batch.c flag_ptr[]): one bit per option that changes
// the data stream, in rsync's order. The writer sets the bits from the run's options; the reader makes
// its options match the batch's bits, saying so as rsync does ("Setting the --X option to match the
// batchfile.") at --info=misc1 (-v).

import type { Config } from '../model/config.js';

interface Bit {
  name: string;
  get(c: Config): boolean;
  set(c: Config, on: boolean): void;
}

/** Bits 0-14, as rsync 3.5 numbers them (9, --iconv, is never set: arsync has no --iconv). */
export const BATCH_BITS: readonly (Bit | undefined)[] = [
  { name: '--recurse (-r)', get: (c) => c.recursive, set: (c, on) => (c.recursive = on) },
  { name: '--owner (-o)', get: (c) => c.owner, set: (c, on) => (c.owner = on) },
  { name: '--group (-g)', get: (c) => c.group, set: (c, on) => (c.group = on) },
  { name: '--links (-l)', get: (c) => c.links, set: (c, on) => (c.links = on) },
  { name: '--devices (-D)', get: (c) => c.devices, set: (c, on) => (c.devices = on) },
  { name: '--hard-links (-H)', get: (c) => c.hardLinks, set: (c, on) => (c.hardLinks = on) },
  { name: '--checksum (-c)', get: (c) => c.checksum, set: (c, on) => (c.checksum = on) },
  { name: '--dirs (-d)', get: (c) => c.dirs, set: (c, on) => (c.dirs = on) },
  {
    name: '--compress (-z)',
    get: (c) => (c.compress?.count ?? 0) > 0,
    set: (c, on) => (c.compress = { count: on ? 1 : 0, choice: undefined, level: undefined, skip: undefined }),
  },
  undefined,
  { name: '--acls (-A)', get: (c) => c.acls, set: (c, on) => (c.acls = on) },
  { name: '--xattrs (-X)', get: (c) => c.xattrs, set: (c, on) => (c.xattrs = on) },
  { name: '--inplace', get: (c) => c.inplace, set: (c, on) => (c.inplace = on) },
  { name: '--append', get: (c) => c.append && !c.appendVerify, set: (c, on) => on && ((c.append = true), (c.appendVerify = false)) },
  { name: '--append-verify', get: (c) => c.append && c.appendVerify === true, set: (c, on) => on && ((c.append = true), (c.appendVerify = true)) },
];

export function batchFlags(c: Config): number {
  let flags = 0;
  BATCH_BITS.forEach((b, i) => {
    if (b?.get(c)) flags |= 1 << i;
  });
  return flags;
}

/** rsync's check_batch_flags: the options made to match the batch; returns the lines it prints at -v. */
export function matchBatchFlags(c: Config, flags: number): string[] {
  const lines: string[] = [];
  BATCH_BITS.forEach((b, i) => {
    if (!b) return;
    const set = (flags & (1 << i)) !== 0;
    if (b.get(c) === set) return;
    lines.push(`${set ? 'Sett' : 'Clear'}ing the ${b.name} option to match the batchfile.`);
    b.set(c, set);
  });
  return lines;
}
