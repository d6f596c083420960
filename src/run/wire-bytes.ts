// The bytes rsync's protocol stream carries for a local copy, counted as rsync counts them. rsync copies
// locally as two processes talking its protocol over a socketpair, and the figures it prints are sizes of
// that stream; arsync has no stream, so this module works out what rsync's sender would have written.
// The one place these sizes live: the per-entry lines (%b) read them from here.
//
// What one whole-file transfer costs, in the order rsync's sender writes it (protocol 30 and later):
//   the file's index (1 byte for a step of 1-253 from the last index the sender wrote, else 3 or 5;
//   a 4-byte int before protocol 30), its 2 bytes of item flags (protocol 29+), the 16-byte checksum
//   header (count, block length, checksum length, remainder), the data as literal tokens (a 4-byte
//   length before each piece of at most 32 KiB), the 4-byte end token, and the whole-file checksum of
//   the transfer checksum's length.

import type { TokenWriter } from '../remote/tokens.js';

/** rsync's CHUNK_SIZE: the most data one literal token carries. */
export const TOKEN_CHUNK = 32 * 1024;

/** The first protocol whose indexes are sent as a difference (rsync's write_ndx) rather than an int. */
const NDX_DELTA_PROTOCOL = 30;

/** The protocol a local copy speaks unless --protocol says otherwise. */
export const LOCAL_PROTOCOL = 32;

/**
 * Bytes of a transfer checksum on the wire, by rsync's name for it (csum_len_for_type). `none` still sends
 * one byte. Undefined `name` (no --checksum-choice, or "auto"): what a local copy negotiates, xxh128, or
 * MD4 before protocol 30 and MD5 at 30 (every one 16 bytes).
 */
export function xferSumLength(name: string | undefined): number {
  switch (name) {
    case 'xxh64':
    case 'xxhash':
    case 'xxh3':
      return 8;
    case 'sha1':
      return 20;
    case 'none':
      return 1;
    default:
      // xxh128, md5, md4 and rsync's default choice.
      return 16;
  }
}

/**
 * Bytes of one file index as rsync's sender writes it: `step` is the index minus the last non-negative
 * index it wrote (the first one counts from -1).
 */
export function ndxLength(step: number, protocol = LOCAL_PROTOCOL): number {
  if (protocol < NDX_DELTA_PROTOCOL) return 4;
  if (step > 0 && step < 0xfe) return 1;
  return step < 0 || step > 0x7fff ? 5 : 3;
}

/** The data of a whole file as literal tokens, plus the end token: rsync's simple_send_token() stream. */
export function literalTokenBytes(size: number): number {
  return size + 4 * Math.ceil(size / TOKEN_CHUNK) + 4;
}

/** Bytes of the checksum header: count, block length, checksum length, and (protocol 27+) the remainder. */
const SUM_HEAD = 16;

/** Bytes of the item flags that follow an index (protocol 29 and later). */
const IFLAGS = 2;

export interface WireSettings {
  /** The protocol the copy speaks (--protocol, else rsync's own). */
  protocol: number;
  /** The transfer checksum's length (xferSumLength). */
  sumLength: number;
}

/** What rsync's receiver leaves out of its %b: the index and item flags, read before its count starts. */
export function sendersHead(s: WireSettings, step = 1): number {
  return ndxLength(step, s.protocol) + (s.protocol >= 29 ? IFLAGS : 0);
}

/**
 * rsync's %b for a file sent whole: what its sender wrote for it, from its index to its checksum.
 * `step`: the index step (ndxLength); arsync's walk does not number entries as rsync's list does, so
 * callers pass 1, which holds whenever the entry before it in rsync's list was written too (any fresh
 * copy) or fewer than 254 unreported entries lie between (see README "Differences from rsync").
 */
export function wholeFileWireBytes(size: number, s: WireSettings, step = 1): number {
  return ndxLength(step, s.protocol) + (s.protocol >= 29 ? IFLAGS : 0) + SUM_HEAD + literalTokenBytes(size) + s.sumLength;
}

/**
 * Counts the token stream rsync's sender writes for a file searched against a basis (simple_send_token):
 * each literal run in pieces of at most 32 KiB behind a 4-byte length, a 4-byte token per matched block,
 * and the 4-byte end. Passes every token on to `inner`. `writes` keeps the stream's write_buf calls for
 * the frame counters of the byte figures (run/item-bytes.ts): a literal piece as its length (written
 * after its 4-byte length), a run of 4-byte tokens as minus its count.
 */
export class TokenBytes implements TokenWriter {
  bytes = 0;
  readonly writes: number[] = [];

  constructor(private readonly inner: TokenWriter) {}

  literal(data: Buffer): void {
    this.bytes += data.length + 4 * Math.ceil(data.length / TOKEN_CHUNK);
    for (let at = 0; at < data.length; at += TOKEN_CHUNK) this.writes.push(Math.min(TOKEN_CHUNK, data.length - at));
    this.inner.literal(data);
  }

  match(block: number, data: Buffer): void {
    this.bytes += 4;
    this.int();
    this.inner.match(block, data);
  }

  end(): void {
    this.bytes += 4;
    this.int();
    this.inner.end();
  }

  private int(): void {
    const last = this.writes.length - 1;
    if (last >= 0 && this.writes[last]! < 0) this.writes[last] = this.writes[last]! - 1;
    else this.writes.push(-1);
  }
}

/** rsync's %b for a file sent as the tokens of a delta search (`tokens`: TokenBytes' count). */
export function deltaWireBytes(tokens: number, s: WireSettings, step = 1): number {
  return ndxLength(step, s.protocol) + (s.protocol >= 29 ? IFLAGS : 0) + SUM_HEAD + tokens + s.sumLength;
}
