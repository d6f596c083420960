// The checksums of rsync's transfer protocol, by negotiated name: the rolling "checksum1" of a block
// (rsync's get_checksum1), the strong sum of a block (get_checksum2: seeded) and the whole-file sum the
// sender appends after a file's data (sum_init/sum_update/sum_final: never seeded for the hashes arsync
// offers). The one place where a checksum name becomes an algorithm: the handshake offers exactly the
// names `STRONG` can compute, in `CHECKSUMS`' order of preference. MD5 is Node's own; with the native
// addon (native/checksum.c, handed in by the CLI through useNativeSums: this layer loads no addon) the
// xxhash family joins it, in rsync's order (xxh128 xxh3 xxh64 md5), and the sender's rolling scan
// runs in C.

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
  /** native/checksum.c's number for it, when the addon computes it (the C matcher needs it). */
  kind?: number;
  /** A fresh whole-file hasher (rsync seeds none of the hashes below here). */
  file(): FileHasher;
  /** A block's strong sum with the session's seed (0 = no seed), in rsync's byte order. */
  block(b: Buffer, seed: number): Buffer;
  /**
   * The block sums of a span of a basis (rsync's generate_sums): each `blength`-byte block of `b` (the
   * last may be shorter) as its checksum1 (int32 LE) and the first `s2length` bytes of its strong sum,
   * written into `out` from `at`; returns the number of blocks.
   */
  blocks(b: Buffer, blength: number, s2length: number, seed: number, out: Buffer, at: number): number;
  /**
   * With the addon: the block sums of the first `size` bytes of the open file `fd` (zeros past its end),
   * read and summed in C, by two threads for a large file (native/basissum.c); the blocks' count, or a
   * negative errno when a read failed.
   */
  fileBlocks?(fd: number, size: number, blength: number, s2length: number, seed: number, out: Buffer): number;
}

/** Strong.blocks block by block, for a hash without a one-call version. */
function blocksOneByOne(this: Strong, b: Buffer, blength: number, s2length: number, seed: number, out: Buffer, at: number): number {
  let w = at;
  let count = 0;
  for (let off = 0; off < b.length; off += blength, count++, w += 4 + s2length) {
    const block = b.subarray(off, Math.min(b.length, off + blength));
    out.writeInt32LE(checksum1(block) | 0, w);
    this.block(block, seed).copy(out, w + 4, 0, s2length);
  }
  return count;
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
  blocks: blocksOneByOne,
};

const strongMap = new Map<string, Strong>([['md5', md5]]);
/** The strong checksums arsync computes, by rsync's name for them. */
export const STRONG: ReadonlyMap<string, Strong> = strongMap;

const names: string[] = [...strongMap.keys()];
/** The names offered in the checksum negotiation, most preferred first (grows with useNativeSums). */
export const CHECKSUMS: readonly string[] = names;

/** The addon's checksum functions (src/engine/native.ts Addon, native/checksum.c). */
export interface NativeSums {
  sumChecksum1(b: Uint8Array): number;
  sumBlock(kind: number, b: Uint8Array, seed: number): Buffer;
  sumBlocks?(kind: number, b: Uint8Array, blength: number, s2length: number, seed: number, out: Uint8Array, at: number): number;
  sumFileBlocks?(kind: number, fd: number, size: number, blength: number, s2length: number, seed: number, out: Uint8Array): number;
  sumHasher(kind: number): object;
  sumHasherUpdate(h: object, b: Uint8Array): void;
  sumHasherDigest(h: object): Buffer;
  sumRollScan(window: Uint8Array, base: number, from: number, to: number, k: number, state: Int32Array, bitmap: Uint8Array): number;
  sumMatcher?(kind: number, seed: number, sum1: Uint32Array, sum2: Uint8Array, blength: number, s2length: number, remainder: number, len: number, inplace: boolean): object;
  sumMatchRun?(matcher: object, window: Uint8Array, base: number, out: Float64Array): void;
}

/** The C delta search (native/deltamatch.c), as src/remote/match-native.ts drives it. */
export interface NativeMatch {
  sumMatcher(kind: number, seed: number, sum1: Uint32Array, sum2: Uint8Array, blength: number, s2length: number, remainder: number, len: number, inplace: boolean): object;
  sumMatchRun(matcher: object, window: Uint8Array, base: number, out: Float64Array): void;
}

/** native/checksum.c's numbering of the kinds. */
const KIND = { md5: 0, xxh64: 1, xxh3: 2, xxh128: 3 } as const;
const LENGTH = { md5: 16, xxh64: 8, xxh3: 8, xxh128: 16 } as const;

let native: NativeSums | undefined;

function nativeStrong(n: NativeSums, name: keyof typeof KIND): Strong {
  const kind = KIND[name];
  return {
    length: LENGTH[name],
    kind,
    file() {
      const h = n.sumHasher(kind);
      return { update: (b) => n.sumHasherUpdate(h, b), digest: () => n.sumHasherDigest(h) };
    },
    block: (b, seed) => n.sumBlock(kind, b, seed >>> 0),
    blocks(b, blength, s2length, seed, out, at) {
      return n.sumBlocks ? n.sumBlocks(kind, b, blength, s2length, seed >>> 0, out, at) : blocksOneByOne.call(this, b, blength, s2length, seed, out, at);
    },
    ...(n.sumFileBlocks ? { fileBlocks: (fd: number, size: number, blength: number, s2length: number, seed: number, out: Buffer) => n.sumFileBlocks!(kind, fd, size, blength, s2length, seed >>> 0, out) } : {}),
  };
}

/** Computes the sums in C from now on, and offers the xxhash family, most preferred first, as rsync does. */
export function useNativeSums(n: NativeSums): void {
  if (native) return;
  native = n;
  for (const name of ['xxh128', 'xxh3', 'xxh64', 'md5'] as const) strongMap.set(name, nativeStrong(n, name));
  names.splice(0, names.length, 'xxh128', 'xxh3', 'xxh64', 'md5');
}

/** The C rolling scan (match.ts uses it when there is one). */
export function nativeRollScan(): NativeSums['sumRollScan'] | undefined {
  return native?.sumRollScan;
}

/** The C delta search, when the addon has it. */
export function nativeMatch(): NativeMatch | undefined {
  const n = native;
  return n?.sumMatcher && n.sumMatchRun ? { sumMatcher: n.sumMatcher, sumMatchRun: n.sumMatchRun } : undefined;
}

/** Both implementations, for the contract test that they agree. */
export function jsMd5(): Strong {
  return md5;
}

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
  if (native && start === 0 && end === b.length) return native.sumChecksum1(b);
  return checksum1Js(b, start, end);
}

/** checksum1 in TypeScript (the addon's twin; test/contract/checksum.test.ts holds them together). */
export function checksum1Js(b: Buffer, start = 0, end = b.length): number {
  let s1 = 0;
  let s2 = 0;
  for (let i = start; i < end; i++) {
    const c = (b[i]! << 24) >> 24;
    s1 = (s1 + c) | 0;
    s2 = (s2 + s1) | 0;
  }
  return ((s1 & 0xffff) + (s2 << 16)) >>> 0;
}
