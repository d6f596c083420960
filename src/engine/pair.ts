// A source directory listed against its destination twin, read through a cursor a bounded chunk at a
// time, so a directory of a million entries is never held whole. The native engines match the two in C,
// leaving out regular files and symlinks the quick check finds unchanged (only counted); the node engine
// matches them in node-pair.ts and leaves nothing out. Entries come in name-byte order.

import type { DirectRequest, PairListing } from '../model/listing.js';

/** One step of a cursor: the next entries in name order, and whether the listing is finished. */
export interface PairStep {
  listing: PairListing;
  done: boolean;
}

/** A paired listing being read; every engine's `openPair` returns one. */
export interface PairCursor {
  /**
   * At most `max` more entries and destination-only names, together. `extrasOnly`: source entries are
   * passed over without a stat and only the destination-only names come back.
   */
  next(max: number, extrasOnly: boolean): PairStep;
  /** Back to the first entry (a second pass over a wide directory). */
  rewind(): void;
  /**
   * From the next chunk on, new regular files come as encoded File ops (PairListing.direct) instead of
   * entries; only the addon's cursors can (the node engine's has no such method).
   */
  direct?(r: DirectRequest): void;
  close(): void;
}

/**
 * Entries per chunk of a paired listing. ARSYNC_TEST_PAIR_CHUNK sets it for tests (a few entries make
 * every chunk boundary show on small trees). Read at the first use, not at load: a module's load may
 * happen while the start-up snapshot is built, long before the run's environment exists.
 */
let pairChunkSize: number | undefined;
export const pairChunk = (): number =>
  (pairChunkSize ??= Math.max(1, Math.floor(Number(process.env['ARSYNC_TEST_PAIR_CHUNK'])) || 4096));

/**
 * Chunks of a paired listing for the walk. A listing that fits in one chunk is read once and kept, so
 * the walk can go over it twice for free; a wider one is read again from the start for each pass.
 */
export class PairStream {
  /** The whole listing, when it fits in one chunk. */
  readonly whole: PairListing | undefined;
  readonly destErrno: number;
  /** The first chunk of a wider listing, kept for a planning pass that comes first. */
  private head: PairListing | undefined;
  private readonly cursor: PairCursor | undefined;

  constructor(from: PairCursor | PairListing) {
    if (!('next' in from)) {
      this.whole = from;
      this.destErrno = from.destErrno;
      return;
    }
    const first = from.next(pairChunk(), false);
    this.destErrno = first.listing.destErrno;
    if (first.done) {
      from.close();
      this.whole = first.listing;
    } else {
      this.cursor = from;
      this.head = first.listing;
    }
  }

  /** Every chunk, from the first. `extrasOnly`: only destination-only names (see PairCursor.next). */
  *chunks(extrasOnly = false): Generator<PairListing> {
    if (this.whole) {
      yield this.whole;
      return;
    }
    const c = this.cursor!;
    if (this.head && !extrasOnly) {
      const h = this.head;
      this.head = undefined;
      yield h;
    } else {
      this.head = undefined;
      c.rewind();
    }
    for (;;) {
      const step = c.next(pairChunk(), extrasOnly);
      yield step.listing;
      if (step.done) return;
    }
  }

  close(): void {
    this.cursor?.close();
  }
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
  /** scanTree only: directories' mtimes must match too (-t without -O). */
  DirTimes: 128,
} as const;
