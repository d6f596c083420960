// A source directory listed against its destination twin (scanPair). The native engines build it in C,
// leaving out regular files and symlinks the quick check finds unchanged (only counted); the node engine
// builds it here from two listings and leaves nothing out. Entries are sorted by name bytes.

import type { DirListing, Stat } from './types.js';

export interface PairEntry {
  name: Buffer;
  /** The source's lstat; null when it vanished before it could be stat'ed (then `err`). */
  st: Stat | null;
  err: number;
  /** The destination twin's lstat, if there is one. */
  dest: Stat | undefined;
}

export interface PairListing {
  entries: PairEntry[];
  /** Destination names the source does not have, with their lstat. */
  extras: { name: Buffer; st: Stat }[];
  /** Unchanged entries left out by the native quick check. */
  collapsed: { reg: number; link: number; size: number };
  /** Why the destination could not be listed (0: it could, or it was not asked for). */
  destErrno: number;
}

/** Bits of the scanPair query (shared with native/scanpair.c). */
export const PairBits = {
  Collapse: 1,
  Perms: 2,
  Owner: 4,
  Group: 8,
  Times: 16,
  HardLinks: 32,
  Links: 64,
} as const;

/** Merge two listings (the node engine's scanPair; nothing is collapsed). */
export function pairListings(src: DirListing, dest: DirListing | undefined, destErrno = 0): PairListing {
  const s = src.names.map((_, i) => i).sort((a, b) => Buffer.compare(src.names[a]!, src.names[b]!));
  const d = dest ? dest.names.map((_, i) => i).sort((a, b) => Buffer.compare(dest.names[a]!, dest.names[b]!)) : [];
  const entries: PairEntry[] = [];
  const extras: PairListing['extras'] = [];
  let j = 0;
  for (const i of s) {
    const name = src.names[i]!;
    let cmp = 1;
    while (j < d.length && (cmp = Buffer.compare(dest!.names[d[j]!]!, name)) < 0) {
      const st = dest!.stats[d[j]!];
      if (st) extras.push({ name: dest!.names[d[j]!]!, st });
      j++;
    }
    let twin: Stat | undefined;
    if (j < d.length && cmp === 0) {
      twin = dest!.stats[d[j]!] ?? undefined;
      j++;
    }
    entries.push({ name, st: src.stats[i] ?? null, err: src.errors[i] ?? 0, dest: twin });
  }
  for (; j < d.length; j++) {
    const st = dest!.stats[d[j]!];
    if (st) extras.push({ name: dest!.names[d[j]!]!, st });
  }
  return { entries, extras, collapsed: { reg: 0, link: 0, size: 0 }, destErrno };
}
