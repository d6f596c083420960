// The sender's half of the delta transfer with the search in C (native/deltamatch.c): the addon rolls
// the checksum over each window of the file, checks candidates and returns the token events — literal
// runs and ranges of matched blocks — so this loop touches each match range, not each offset or block.
// Same rules as match.ts's TypeScript search (test/contract/deltamatch.test.ts holds them together), so
// the tokens and the "Literal data"/"Matched data" figures are rsync's own.

import { CHUNK_SIZE, type TokenWriter } from './tokens.js';
import type { FileHasher, NativeMatch } from './checksum.js';
import { Window, type BlockSums, type MatchResult, type ReadAt, type WindowStore } from './match.js';

/** How far each call may search: the window reads this much past what the search wants. */
const STEP = 1 << 20;
/** Events per call (each three numbers); the search stops early when they fill up. */
const EVENTS = 1024;

/**
 * matchFile's work for a file with basis sums (count > 0, len > 0) through the C search. `kind` and
 * `seed` name the strong sum as native/checksum.c numbers it.
 */
export async function matchFileNative(
  nm: NativeMatch,
  kind: number,
  seed: number,
  sums: BlockSums,
  len: number,
  read: ReadAt,
  hash: FileHasher,
  out: TokenWriter,
  inplace: boolean,
  backpressure: (sent: number) => Promise<void> | undefined,
  store: WindowStore,
): Promise<MatchResult> {
  const { count, blength, s2length, remainder } = sums.head;
  const w = new Window(read, len, hash, Math.max(blength * 3, 256 * 1024), store);
  const res: MatchResult = { literal: 0, matched: 0, short: false };
  const m = nm.sumMatcher(kind, seed >>> 0, sums.sum1, sums.sum2, blength, s2length, remainder, len, inplace);
  const ev = new Float64Array(3 + 3 * EVENTS);
  const blockLen = (i: number): number => (i === count - 1 && remainder ? remainder : blength);
  let lastMatch = 0;
  const sendBlocks = (first: number, n: number): void => {
    if (out.matchRun) {
      out.matchRun(first, n);
      for (let j = 0; j < n; j++) lastMatch += blockLen(first + j);
    } else {
      for (let j = 0; j < n; j++) {
        const l = blockLen(first + j);
        out.match(first + j, w.slice(lastMatch, lastMatch + l));
        lastMatch += l;
      }
    }
  };
  let wanted = Math.min(len, 2 * blength + 1);
  for (;;) {
    w.ensure(Math.min(len, wanted + STEP));
    nm.sumMatchRun(m, w.buf, w.base, ev);
    const n = ev[0]!;
    for (let e = 0; e < n; e++) {
      const offset = ev[3 + 3 * e]!;
      const first = ev[4 + 3 * e]!;
      const blocks = ev[5 + 3 * e]!;
      // rsync's matched(): the literal run since the last match, then the blocks.
      for (let at = lastMatch; at < offset; at += CHUNK_SIZE) out.literal(w.slice(at, Math.min(offset, at + CHUNK_SIZE)));
      res.literal += offset - lastMatch;
      lastMatch = offset;
      if (blocks > 0) {
        // The first block on its own: rsync reports progress after each match, and --progress prints
        // its first line at the first report; the rest of the range goes at once.
        sendBlocks(first, 1);
        if (blocks > 1) {
          const wait = backpressure(lastMatch);
          if (wait) await wait;
          sendBlocks(first + 1, blocks - 1);
        }
        res.matched += lastMatch - offset;
      }
      const wait = backpressure(lastMatch);
      if (wait) await wait;
    }
    // Told once per call as well, events or not: a long stretch without one still hands out its output.
    const wait = backpressure(lastMatch);
    if (wait) await wait;
    w.drop(lastMatch);
    if (ev[1] === 1) break;
    wanted = ev[2]!;
  }
  // rsync's last matched(-1): the end token.
  out.end();
  w.ensure(len);
  res.short = w.short;
  return res;
}
