// progress/list-ends.ts: which lists' ends rsync's sender draws around each file sent, and whose count.
import { describe, expect, it } from 'vitest';
import { ListEnds, WHOLE_LIST } from '../../../src/progress/list-ends.js';

describe('ListEnds', () => {
  it('a top list without files ends right after the first file that opens the next list, counting from that list', () => {
    const e = new ListEnds(true);
    expect(e.fileSent(1, true)).toEqual({ before: [], after: [1] });
    expect(e.fileSent(1, false)).toEqual({ before: [], after: [] });
    // The rest wait on their files: all at the end, from the last file's list, then each its own.
    expect(e.atEnd(4)).toEqual([1, 2, 3]);
  });

  it('lists passed before the first file end before its line, each counting from its own end', () => {
    const e = new ListEnds(true);
    // The first file is not its list's first entry: every list before it ended already.
    expect(e.fileSent(3, false)).toEqual({ before: [0, 1, 2], after: [] });
    expect(e.atEnd(5)).toEqual([3, 4]);
  });

  it('a file in the first list: every list ends at the end of the run', () => {
    const e = new ListEnds(true);
    expect(e.fileSent(0, false)).toEqual({ before: [], after: [] });
    expect(e.fileSent(3, true)).toEqual({ before: [], after: [] });
    expect(e.atEnd(5)).toEqual([3, 3, 3, 3, 4]);
  });

  it('nothing sent: one line per list, each from its own end; without incremental recursion three phase ends', () => {
    expect(new ListEnds(true).atEnd(3)).toEqual([0, 1, 2]);
    expect(new ListEnds(false).atEnd(7)).toEqual([WHOLE_LIST, WHOLE_LIST, WHOLE_LIST]);
    expect(new ListEnds(false).fileSent(0, false)).toEqual({ before: [], after: [] });
  });
});
