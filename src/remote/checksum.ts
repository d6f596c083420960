// The checksums of rsync's transfer protocol, by negotiated name: the rolling "checksum1" of a block
// (rsync's get_checksum1), the strong sum of a block (get_checksum2: seeded) and the whole-file sum the
// sender appends after a file's data (sum_init/sum_update/sum_final: never seeded for the hashes arsync
// offers). The one place where a checksum name becomes an algorithm: the handshake offers exactly the
// names `STRONG` can compute, in `CHECKSUMS`' order of preference.

import { createHash } from 'node:crypto';

/** A whole-file hash being fed a file's bytes in order. */
export interface FileHasher {
  update(b: Buffer): void;
  /** The digest, `length` bytes long. */
  digest(): Buffer;
}

interface Strong {
  /** Digest length in bytes (rsync's csum_len_for_type). */
  length: number;
  /** A fresh whole-file hasher (rsync seeds none of the hashes below here). */
  file(): FileHasher;
  /** A block's strong sum with the session's seed (0 = no seed), in rsync's byte order. */
  block(b: Buffer, seed: number): Buffer;
}

function seedBytes(seed: number): Buffer {
  const s = Buffer.alloc(4);
  s.writeUInt32LE(seed >>> 0);
  return s;
}

const md5: Strong = {
  length: 16,
  file() {
    const h = createHash('md5');
    return { update: (b) => void h.update(b), digest: () => h.digest() };
  },
  // Protocol 30 and later with the seed-order fix (compat flag C, which arsync always offers): the
  // seed goes first; without a seed nothing is added.
  block(b, seed) {
    const h = createHash('md5');
    if (seed) h.update(seedBytes(seed));
    return h.update(b).digest();
  },
};

/** The strong checksums arsync computes, by rsync's name for them. */
export const STRONG: ReadonlyMap<string, Strong> = new Map([['md5', md5]]);

/** The names offered in the checksum negotiation, most preferred first. */
export const CHECKSUMS: readonly string[] = [...STRONG.keys()];

export function strong(name: string): Strong {
  const s = STRONG.get(name);
  if (!s) throw new Error(`no checksum named ${name}`);
  return s;
}

/**
 * rsync's rolling checksum of a block (get_checksum1): two 16-bit running sums over the bytes read
 * as SIGNED chars (rsync casts to schar; CHAR_OFFSET is 0), low half s1, high half s2.
 */
export function checksum1(b: Buffer, start = 0, end = b.length): number {
  let s1 = 0;
  let s2 = 0;
  for (let i = start; i < end; i++) {
    const c = (b[i]! << 24) >> 24;
    s1 = (s1 + c) | 0;
    s2 = (s2 + s1) | 0;
  }
  return ((s1 & 0xffff) + (s2 << 16)) >>> 0;
}
