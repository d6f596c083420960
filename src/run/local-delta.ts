// --no-whole-file on a local copy: rsync's delta search of a replaced file against its destination
// basis, for the figures rsync reports for it (--stats' "Literal data" and "Matched data",
// --debug=deltasum's "total: matches=N  hash_hits=N  false_alarms=N"). The search is the sender's own
// (remote/match.ts: rsync's chain order, its MAX_CHAIN_LEN cap per offset, the block after the last
// match preferred) over the generator's block sums of the basis (remote/pull.ts sumSizes: rsync's
// block and strong-sum lengths). The engines still write the new file whole from the source into a
// temp file renamed over the target: a delta rebuild gives the same bytes, and a local copy has no
// wire for the delta to save. Both files are read on this thread, beneath their roots, O_NOFOLLOW,
// and checked against what the walk saw; a file that cannot be read so is counted as sent whole.

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { DeltaTotals } from '../model/run-totals.js';
import type { Stat } from '../model/stat.js';
import { atSourcePath } from '../engine/node-beneath.js';
import { STRONG, checksum1 } from '../remote/checksum.js';
import { matchFile, type BlockSums } from '../remote/match.js';
import { sumSizes } from '../remote/pull.js';
import type { TokenWriter } from '../remote/tokens.js';
import { TokenBytes } from './wire-bytes.js';

/** rsync's SHORT_SUM_LENGTH: the generator's strong sums are cut to this unless the file needs more. */
const SHORT_SUM_LENGTH = 2;
/** The strong sum used for the blocks (every engine has MD5; its length bounds s2length as rsync's xfer sum does). */
const BLOCK_SUM = STRONG.get('md5')!;
const READ = 1 << 20;

export const noDelta = (): DeltaTotals => ({ matches: 0, hashHits: 0, falseAlarms: 0, literal: 0, matched: 0, searched: 0 });

/** The bytes of the block sums rsync's generator sends for a basis of `size` (after the sum header: %c). */
export function blockSumBytes(size: number, blockSize: number): number {
  const head = sumSizes(size, SHORT_SUM_LENGTH, BLOCK_SUM.length, blockSize);
  return head.count * (4 + head.s2length);
}

/** The generator's block sums of a basis file read from `fd` (rsync's generate_and_send_sums). */
function blockSums(fd: number, size: number, blockSize: number): BlockSums {
  const head = sumSizes(size, SHORT_SUM_LENGTH, BLOCK_SUM.length, blockSize);
  const sum1 = new Uint32Array(head.count);
  const sum2 = Buffer.alloc(head.count * head.s2length);
  const per = Math.max(1, Math.floor(READ / head.blength));
  const buf = Buffer.allocUnsafe(per * head.blength);
  let block = 0;
  let pos = 0;
  while (block < head.count) {
    const want = Math.min(buf.length, size - pos);
    const got = readAll(fd, buf, want, pos);
    // A basis that shrank under the search: its missing blocks read as zeros, as rsync's map_ptr gives.
    buf.fill(0, got, want);
    for (let at = 0; at < want && block < head.count; at += head.blength, block++) {
      const b = buf.subarray(at, Math.min(want, at + head.blength));
      sum1[block] = checksum1(b);
      BLOCK_SUM.block(b, 0).copy(sum2, block * head.s2length, 0, head.s2length);
    }
    pos += want;
  }
  return { head, sum1, sum2 };
}

/** Reads up to `len` bytes at `pos`: fewer only at the end of the file (a short read is continued). */
function readAll(fd: number, buf: Buffer, len: number, pos: number, off = 0): number {
  let done = 0;
  while (done < len) {
    const n = readSync(fd, buf, off + done, len - done, pos + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Nothing is written: the search's literal bytes and matched blocks are only measured (TokenBytes counts the stream). */
const counting: TokenWriter = { literal: () => {}, match: () => {}, end: () => {} };

const NO_HASH = { update: () => {}, digest: () => Buffer.alloc(0) };

/** What one file's search did, for -vvv's trace (--debug=deltasum2): the basis's sums and each match. */
export interface DeltaSeen {
  /** The generator's sum head: block count, the last block's length, block length, strong-sum length. */
  count: number;
  remainder: number;
  blength: number;
  s2length: number;
  /** The basis file's length, and the source's (the sender's hash search runs over it). */
  flength: number;
  len: number;
  /** rsync's matched() lines: "match at OFFSET last_match=L j=BLOCK len=LEN n=LITERAL". */
  matches: string[];
  hashHits: number;
  falseAlarms: number;
  matchCount: number;
}

/**
 * What rsync's two processes write for one file searched against its basis, for the byte figures
 * (run/item-bytes.ts searched): the generator's block sums (count, each a 4-byte weak sum and an
 * `s2length`-byte strong one) and the sender's token stream (TokenBytes: its size and its writes).
 */
export interface BasisSearch {
  count: number;
  s2length: number;
  tokens: number;
  writes: readonly number[];
}

/** A token writer that records rsync's "match at" line for each block matched. */
function matchLines(into: string[]): TokenWriter {
  let pos = 0;
  let last = 0;
  return {
    literal: (d) => {
      pos += d.length;
    },
    match: (j, d) => {
      into.push(`match at ${pos} last_match=${last} j=${j} len=${d.length} n=${pos - last}`);
      pos += d.length;
      last = pos;
    },
    end: () => {},
  };
}

/**
 * Searches `src` (the walk's stat `st`, beneath `anchor`) against the destination file at `dstPath`
 * (its listing's stat `destSt`) and adds the figures to `t`; `inplace` is rsync's updating_basis_file (no
 * block behind the offset may be used). False when either file could not be read as
 * the walk saw it: the caller counts the file as sent whole.
 */
export async function searchDelta(
  t: DeltaTotals,
  src: Buffer,
  st: Stat,
  anchor: number,
  dstPath: Buffer,
  destSt: Stat,
  o: { blockSize: number; follow: boolean; inplace: boolean; seen?: ((d: DeltaSeen) => void) | undefined; searched?: (s: BasisSearch) => void },
): Promise<boolean> {
  let basis = -1;
  let source = -1;
  try {
    basis = openSync(dstPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    if (!sameFile(basis, destSt)) return false;
    source = atSourcePath(src, anchor, (p) => openSync(p, constants.O_RDONLY | constants.O_NONBLOCK | (o.follow ? 0 : constants.O_NOFOLLOW)));
    if (!sameFile(source, st)) return false;
    const sums = blockSums(basis, destSt.size, o.blockSize);
    const fd = source;
    const counts = { hashHits: 0, falseAlarms: 0, matches: 0 };
    const matches: string[] = [];
    const out = new TokenBytes(o.seen ? matchLines(matches) : counting);
    const r = await matchFile(sums, st.size, (buf, off, len, pos) => readAll(fd, buf, len, pos, off), NO_HASH, (b) => BLOCK_SUM.block(b, 0), out, o.inplace, undefined, undefined, counts);
    const h = sums.head;
    o.searched?.({ count: h.count, s2length: h.s2length, tokens: out.bytes, writes: out.writes });
    o.seen?.({ count: h.count, remainder: h.remainder, blength: h.blength, s2length: h.s2length, flength: destSt.size, len: st.size, matches, hashHits: counts.hashHits, falseAlarms: counts.falseAlarms, matchCount: counts.matches });
    t.matches += counts.matches;
    t.hashHits += counts.hashHits;
    t.falseAlarms += counts.falseAlarms;
    t.literal += r.literal;
    t.matched += r.matched;
    t.searched += st.size;
    return true;
  } catch {
    return false;
  } finally {
    if (basis >= 0) closeSync(basis);
    if (source >= 0) closeSync(source);
  }
}

function sameFile(fd: number, st: Stat): boolean {
  const now = fstatSync(fd);
  return now.isFile() && (st.ino === 0 || (now.ino === st.ino && now.dev === st.dev));
}
