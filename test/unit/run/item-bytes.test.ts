// ItemBytes' exchange for a file searched against its basis (--no-whole-file): the generator's request
// carries the basis' block sums, the sender answers with the search's tokens, and the sender sends what
// it holds before each read of the generator's stream beyond its 32 KiB input buffer (io.c perform_io).

import { describe, expect, it } from 'vitest';
import { ItemBytes } from '../../../src/run/item-bytes.js';
import { ListWindow } from '../../../src/model/list-window.js';
import type { BasisSearch } from '../../../src/run/local-delta.js';

/** A window past the root's list (a first list of two entries), so requests count among the rest. */
function window(): ListWindow {
  const w = new ListWindow(true, false);
  w.close(2, 0);
  return w;
}

/** A search of `count` blocks of 2-byte strong sums, all matched, then the end token. */
const matched = (count: number): BasisSearch => ({ count, s2length: 2, tokens: 4 * (count + 1), writes: [-(count + 1)] });

describe('ItemBytes with --no-whole-file searches', () => {
  it('counts the block sums on the generator\'s side and the tokens on the sender\'s', () => {
    const items = new ItemBytes(16, true, false, true);
    const w = window();
    items.searched(matched(10));
    items.sent(w, 3, 7000);
    const x = items.exchange()!;
    x.rest.generator.flush();
    x.stream.flush();
    // Request: index, flags, sum head, ten blocks of 4 + 2; answer: index, flags, sum head, eleven tokens, checksum.
    expect(x.rest.generator.written).toBe(4 + 1 + 2 + 16 + 10 * 6);
    expect(x.stream.written).toBe(4 + 1 + 2 + 16 + 11 * 4 + 16);
  });

  it('a file sent after one not searched is counted whole again', () => {
    const items = new ItemBytes(16, true, false, true);
    const w = window();
    items.searched(matched(1));
    items.sent(w, 3, 700);
    items.sent(w, 4, 100);
    const x = items.exchange()!;
    x.stream.flush();
    expect(x.stream.written).toBe(4 + (1 + 2 + 16 + 2 * 4 + 16) + (1 + 2 + 16 + 4 + 100 + 4 + 16));
  });

  it('cuts the sender\'s stream where it reads the generator\'s beyond its 32 KiB buffer', () => {
    const run = (searches: boolean): number => {
      const items = new ItemBytes(16, true, false, searches);
      const w = window();
      // Four files of 3,000 blocks each (18,019-byte requests): the sender's first read takes 32 KiB of
      // the generator's stream, into the second file's sums; its next, 32 KiB on, the fourth's.
      for (let i = 0; i < 4; i++) {
        items.searched(matched(3000));
        items.sent(w, 3 + i, 3000 * 700);
      }
      const x = items.exchange()!;
      x.stream.flush();
      return x.stream.written;
    };
    const answers = 4 * (1 + 2 + 16 + 3001 * 4 + 16);
    // One frame without the reads; with them the sender sends what it holds before its second read (the
    // first file's answer) and its third (the second's and third's): three frames.
    expect(run(false)).toBe(4 + answers);
    expect(run(true)).toBe(3 * 4 + answers);
  });
});
