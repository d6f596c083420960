// The sender's half of the delta transfer (rsync's match.c): given the receiver's block checksums of
// its basis file, slide a window over our file with the rolling checksum, confirm a candidate block
// with its strong sum, and send literal runs and block references. Same search as rsync's — every
// offset tried, candidates in rsync's chain order (the highest block index first), the block after
// the previous match preferred, literal runs flushed once they grow past a block and a chunk — so the
// "Literal data" and "Matched data" figures are rsync's own. The file is read through a window, never
// whole; the whole-file checksum is fed the bytes in order as they are read.

import { Exit } from '../util/errors.js';
import { CHUNK_SIZE, type TokenWriter } from './tokens.js';
import { checksum1, nativeRollScan, type FileHasher } from './checksum.js';
import type { Conn } from './conn.js';
import { Cursor, ProtocolError, Short, copyBytes } from './wire.js';

/** rsync's MAX_BLOCK_SIZE (protocol 30+) and the most blocks a sum header may announce. */
const MAX_BLOCK_SIZE = 1 << 17;
const MAX_BLOCKS = 0x7fffffff / 4;
/** rsync gives up on a weak-checksum bucket longer than this (its MAX_CHAIN_LEN): the data goes literal. */
const MAX_CHAIN = 1024;
/** How far one call of the C scan may run ahead (the window holds that much more of the file). */
const SCAN_STEP = 1 << 20;

export interface SumHead {
  count: number;
  blength: number;
  s2length: number;
  remainder: number;
}

export interface BlockSums {
  head: SumHead;
  sum1: Uint32Array;
  /** count × s2length bytes. */
  sum2: Buffer;
}

/** rsync's read_sum_head, bounded as rsync bounds it (a hostile receiver gets exit 2). */
export function readSumHead(c: Cursor, maxS2: number): SumHead {
  const count = c.int32();
  const blength = c.int32();
  const s2length = c.int32();
  const remainder = c.int32();
  if (count < 0 || count > MAX_BLOCKS) throw new ProtocolError(`Invalid checksum count ${count} [sender]`, Exit.Protocol);
  if (blength < 0 || blength > MAX_BLOCK_SIZE) throw new ProtocolError(`Invalid block length ${blength} [sender]`, Exit.Protocol);
  if (s2length < 0 || s2length > maxS2) throw new ProtocolError(`Invalid checksum length ${s2length} [sender]`, Exit.Protocol);
  if (remainder < 0 || remainder > blength) throw new ProtocolError(`Invalid remainder length ${remainder} [sender]`, Exit.Protocol);
  if (count > 0 && blength === 0) throw new ProtocolError(`Invalid block length 0 [sender]`, Exit.Protocol);
  return { count, blength, s2length, remainder };
}

/**
 * The sums that follow a header (a 4-byte weak sum and s2length strong bytes per block), taken as they
 * arrive: each `take` decodes the whole records at hand and keeps its place. The far side's generator
 * writes them as it reads its basis, over hundreds of milliseconds for a large file, and a decoder that
 * wanted them all at once started again from the first record at every arrival (32,768 records of a
 * 1 GiB file decoded some twenty times over, and the search waiting for the last decode).
 */
export class SumsReader {
  readonly sums: BlockSums;
  private next = 0;
  private readonly record: number;

  constructor(head: SumHead) {
    this.sums = { head, sum1: new Uint32Array(head.count), sum2: Buffer.alloc(head.count * head.s2length) };
    this.record = 4 + head.s2length;
  }

  /** Whether every block's sums are in. */
  get done(): boolean {
    return this.next === this.sums.head.count;
  }

  /** Decodes every whole record in `c` (Short when not even one has arrived). */
  take(c: Cursor): void {
    const { sum1, sum2, head } = this.sums;
    const s2 = head.s2length;
    const n = Math.min(Math.floor(c.left / this.record), head.count - this.next);
    if (n === 0) throw new Short();
    const buf = c.buf;
    let at = c.pos;
    for (let end = this.next + n, i = this.next; i < end; i++, at += this.record) {
      sum1[i] = buf.readUInt32LE(at);
      copyBytes(buf, at + 4, sum2, i * s2, s2);
    }
    c.pos = at;
    this.next += n;
  }
}

/** A file's block sums from the connection, decoded as they arrive (SumsReader). */
export async function receiveSums(conn: Conn, head: SumHead): Promise<BlockSums> {
  const r = new SumsReader(head);
  const take = (c: Cursor): void => r.take(c);
  while (!r.done) await conn.read(take);
  return r.sums;
}

export function writeSumHead(h: SumHead): Buffer {
  const b = Buffer.alloc(16);
  writeSumHeadAt(h, b, 0);
  return b;
}

/** The header's 16 bytes written into `b` at `at`. */
export function writeSumHeadAt(h: SumHead, b: Buffer, at: number): void {
  b.writeInt32LE(h.count, at);
  b.writeInt32LE(h.blength, at + 4);
  b.writeInt32LE(h.s2length, at + 8);
  b.writeInt32LE(h.remainder, at + 12);
}

/**
 * Reads the file being sent: up to `len` bytes at file offset `pos` into `buf` from `off`; returns how
 * many, fewer only at its (possibly moved) end.
 */
export type ReadAt = (buf: Buffer, off: number, len: number, pos: number) => number;

export interface SearchCounts {
  hashHits: number;
  falseAlarms: number;
  matches: number;
}

export interface MatchResult {
  literal: number;
  matched: number;
  /** The file gave fewer bytes than the list said (it shrank while being sent): zeros were sent. */
  short: boolean;
}

/**
 * Where a session's file windows keep their bytes, reused from one file to the next. A view into it is
 * good until the window reads again: the token writers copy (or deflate) what they are given at once.
 */
export interface WindowStore {
  buf: Buffer;
}

/**
 * Bytes of a file held for matching: from `base` on, read ahead as the search needs them, straight into
 * the store (no copy per read). When the store's end is reached, what is still held moves to its
 * start, or to a larger store.
 */
export class Window {
  buf: Buffer = Buffer.alloc(0);
  base = 0;
  short = false;
  /** Where `base` is in the store. */
  private start = 0;
  constructor(
    private readonly read: ReadAt,
    private readonly len: number,
    private readonly hash: FileHasher,
    private readonly ahead: number,
    private readonly store: WindowStore,
  ) {}

  /** Makes bytes up to `end` (at most the file's length) available. */
  ensure(end: number): void {
    const held = this.buf.length;
    const have = this.base + held;
    if (end <= have) return;
    const want = Math.min(this.len, Math.max(end, have + this.ahead)) - have;
    if (this.start + held + want > this.store.buf.length) {
      if (held + want > this.store.buf.length) {
        // Twice what is needed now (at most the rest of the file): a store sized to the need alone was
        // outgrown again a few calls later, and each new one's pages were faulted in and zeroed by the
        // kernel (7% of a 1 GiB delta push's client CPU, docs/benchmarks.md "delta, session 21").
        const next = Buffer.allocUnsafe(Math.max(held + want, Math.min(Math.max(4 * this.ahead, 2 * (held + want)), this.len - this.base)));
        this.buf.copy(next, 0);
        this.store.buf = next;
      } else this.store.buf.copy(this.store.buf, 0, this.start, this.start + held);
      this.start = 0;
    }
    const store = this.store.buf;
    const at = this.start + held;
    const got = this.read(store, at, want, have);
    if (got < want) {
      // rsync's map_ptr: a file that shrank reads as zeros, and the transfer is marked bad.
      this.short = true;
      store.fill(0, at + got, at + want);
    }
    this.hash.update(store.subarray(at, at + want));
    this.buf = store.subarray(this.start, at + want);
  }

  at(pos: number): number {
    return this.buf[pos - this.base]!;
  }

  slice(from: number, to: number): Buffer {
    this.ensure(to);
    return this.buf.subarray(from - this.base, to - this.base);
  }

  /** Forgets what lies before `pos` but the byte just before it (the search steps back onto it). */
  drop(end: number): void {
    const pos = end - 1;
    if (pos - this.base > this.ahead) {
      this.start += pos - this.base;
      this.buf = this.buf.subarray(pos - this.base);
      this.base = pos;
    }
  }
}

const signed = (b: number): number => (b << 24) >> 24;

/** Above this many blocks the C scan gets the 2^24-bit filter (a 2^16-bit one would stop it every few bytes). */
const WIDE_FROM = 1024;
const WIDE_BYTES = 1 << 21;

/** A weak sum's bit in the C scan's filter of `bytes` (native/checksum.c scan_bit: the same rule). */
export function scanBit(sum: number, bytes: number): number {
  return bytes >= WIDE_BYTES ? Math.imul(sum, 0x9e3779b1) >>> 8 : (sum ^ (sum >>> 16)) & 0xffff;
}

/** The filter the C scan stops on: a bit set for every block's weak sum. */
export function scanFilter(sums: Uint32Array): Uint8Array {
  const filter = new Uint8Array(sums.length > WIDE_FROM ? WIDE_BYTES : 8192);
  for (const s of sums) {
    const bit = scanBit(s, filter.length);
    filter[bit >> 3]! |= 1 << (bit & 7);
  }
  return filter;
}

/**
 * rsync's hash table of the block sums (match.c build_hash_table): 2^16 buckets by the 16-bit sum of the
 * two halves, or, for many blocks, about 1.25 buckets a block by the sum modulo the table size. An
 * offset whose bucket holds a block is one of rsync's hash_hits, whether or not the sums are equal.
 */
export function rsyncBuckets(sums: Uint32Array): (sum: number) => boolean {
  const size = Math.max(1 << 16, Math.floor(sums.length / 8) * 10 + 11);
  const slot = size === 1 << 16 ? (sum: number): number => ((sum & 0xffff) + (sum >>> 16)) & 0xffff : (sum: number): number => (sum >>> 0) % size;
  const used = new Uint8Array(size);
  for (const s of sums) used[slot(s)] = 1;
  return (sum) => used[slot(sum)] === 1;
}

/**
 * A block's checksum1 as the two running sums the roll updates. Only their low 16 bits ever reach a
 * sum (and every step is addition or multiplication mod 2^32), so the halves of checksum1 (in C with
 * the addon) stand for the full sums.
 */
const halves = (b: Buffer): [number, number] => {
  const c = checksum1(b);
  return [c & 0xffff, c >>> 16];
};

/**
 * Sends one file's data as tokens against the receiver's sums (none: the whole file as literal runs).
 * `strong2` computes a block's strong sum (seeded as negotiated); `inplace` is rsync's
 * updating_basis_file: the receiver overwrites its basis as it goes, so no block behind the current
 * offset may be referenced.
 */
export async function matchFile(
  sums: BlockSums,
  len: number,
  read: ReadAt,
  hash: FileHasher,
  strong2: (b: Buffer) => Buffer,
  out: TokenWriter,
  inplace: boolean,
  /**
   * Called after each piece of output with the bytes of the file sent so far (rsync's show_progress
   * point): a promise to wait for while the peer catches up.
   */
  backpressure: (sent: number) => Promise<void> | undefined = () => undefined,
  /** The session's reusable window store (a fresh one per file without it). */
  store: WindowStore = { buf: Buffer.alloc(0) },
  /** rsync's match.c counters (--debug=deltasum): offsets whose weak sum a block has, strong sums that disagreed, matches. */
  counts?: SearchCounts,
): Promise<MatchResult> {
  const { count, blength, s2length, remainder } = sums.head;
  const w = new Window(read, len, hash, Math.max(blength * 3, 256 * 1024), store);
  const res: MatchResult = { literal: 0, matched: 0, short: false };
  let lastMatch = 0;
  const blockLen = (i: number): number => (i === count - 1 && remainder ? remainder : blength);
  const emit = async (offset: number, i: number): Promise<void> => {
    // rsync's matched(): the literal run since the last match, then block i (i < 0: none).
    for (let at = lastMatch; at < offset; at += CHUNK_SIZE) {
      const piece = w.slice(at, Math.min(offset, at + CHUNK_SIZE));
      out.literal(piece);
    }
    res.literal += offset - lastMatch;
    if (i >= 0) {
      const l = blockLen(i);
      out.match(i, w.slice(offset, offset + l));
      res.matched += l;
      lastMatch = offset + l;
    } else lastMatch = offset;
    w.drop(lastMatch);
    const wait = backpressure(lastMatch);
    if (wait) await wait;
  };

  if (len > 0 && count > 0) {
    const chains = new Map<number, number[]>();
    // Keyed by the sum as a signed 32-bit value: a small integer to V8, cheaper to hash than a double.
    for (let i = count - 1; i >= 0; i--) {
      const s = sums.sum1[i]! | 0;
      const chain = chains.get(s);
      if (chain) chain.push(i);
      else chains.set(s, [i]);
    }
    const sameStrong = (i: number, s2: Buffer): boolean => sums.sum2.compare(s2, 0, s2length, i * s2length, (i + 1) * s2length) === 0;
    let k = Math.min(len, blength);
    let [s1, s2] = halves(w.slice(0, k));
    let wantI = 0;
    // In place (rsync's SUMFLG_SAME_OFFSET): blocks found at their own offset, and the aligned block at or after the offset.
    const sameOffset = inplace ? new Uint8Array(count) : undefined;
    let alignedOffset = 0;
    let alignedI = 0;
    let offset = 0;
    const end = len + 1 - blockLen(count - 1);
    // The C scan rolls past the offsets whose weak sum no block can have (a 65536-bit filter of the
    // blocks' sums); every offset it stops at goes through the search below, as in rsync.
    // Counting rsync's figures needs every offset looked at in rsync's own hash table: no C scan then.
    const scan = counts ? undefined : nativeRollScan();
    const bucket = counts ? rsyncBuckets(sums.sum1) : undefined;
    const filter = scanFilter(sums.sum1);
    const state = new Int32Array(2);
    do {
      if (scan && k === blength) {
        const stop = Math.min(end, lastMatch + blength + CHUNK_SIZE, len - k, offset + SCAN_STEP);
        if (stop > offset) {
          w.ensure(stop + k);
          state[0] = s1;
          state[1] = s2;
          offset = scan(w.buf, w.base, offset, stop, k, state, filter);
          s1 = state[0]!;
          s2 = state[1]!;
          if (offset >= end) break;
        }
      }
      let sum = ((s1 & 0xffff) | (s2 << 16)) >>> 0;
      if (bucket?.(sum)) counts!.hashHits++;
      const chain = chains.get(sum | 0);
      if (chain) {
        let strongSum: Buffer | undefined;
        const l = Math.min(blength, len - offset);
        let tried = 0;
        for (const cand of chain) {
          let i = cand;
          // In place, a block behind the offset is gone unless it was found where it already is.
          if (inplace && i * blength < offset && !sameOffset![i]) continue;
          if (++tried > MAX_CHAIN) break;
          if (l !== blockLen(i)) continue;
          strongSum ??= strong2(w.slice(offset, offset + l));
          if (!sameStrong(i, strongSum)) {
            if (counts) counts.falseAlarms++;
            continue;
          }
          if (counts) counts.matches++;
          if (inplace) {
            // rsync's preference when updating in place: the block at this very offset (or, for a
            // block of zeros, the next aligned one: the literal run grows to reach it).
            while (alignedOffset < offset) {
              alignedOffset += blength;
              alignedI++;
            }
            aligned: if ((offset === alignedOffset || (sum === 0 && l === blength && alignedOffset + l <= len)) && alignedI < count) {
              if (i !== alignedI) {
                if (sum !== sums.sum1[alignedI] || l !== blockLen(alignedI) || !sameStrong(alignedI, strongSum)) break aligned;
                i = alignedI;
              }
              if (offset !== alignedOffset) {
                const there = w.slice(alignedOffset, alignedOffset + l);
                sum = checksum1(there);
                if (sum !== sums.sum1[i]) break aligned;
                strongSum = strong2(there);
                if (!sameStrong(i, strongSum)) break aligned;
                offset = alignedOffset;
              }
              sameOffset![i] = 1;
              wantI = i;
            }
          }
          // A match: the block after the previous one is preferred when it matches too.
          if (i !== wantI && wantI < count && (!inplace || wantI * blength >= offset || sameOffset![wantI]) && sums.sum1[wantI] === sum && l === blockLen(wantI) && sameStrong(wantI, strongSum)) {
            i = wantI;
          }
          wantI = i + 1;
          await emit(offset, i);
          offset += blockLen(i) - 1;
          k = Math.min(blength, len - offset);
          [s1, s2] = halves(w.slice(offset, offset + k));
          break;
        }
      }
      // Roll the window one byte on: drop its first byte, add the next one if there is one.
      const more = offset + k < len;
      w.ensure(offset + k + (more ? 1 : 0));
      const first = signed(w.at(offset));
      s1 = (s1 - first) | 0;
      s2 = (s2 - Math.imul(k, first)) | 0;
      if (more) {
        s1 = (s1 + signed(w.at(offset + k))) | 0;
        s2 = (s2 + s1) | 0;
      } else k--;
      // A long literal run goes out now rather than being held (rsync's early matched(-2)).
      if (offset - lastMatch >= blength + CHUNK_SIZE && end - offset > CHUNK_SIZE) await emit(offset - blength, -1);
    } while (++offset < end);
    await emit(len, -1);
  } else {
    for (let at = CHUNK_SIZE; at < len; at += CHUNK_SIZE) await emit(at, -1);
    await emit(len, -1);
  }
  // rsync's last matched(-1): the end token.
  out.end();
  w.ensure(len);
  res.short = w.short;
  return res;
}
