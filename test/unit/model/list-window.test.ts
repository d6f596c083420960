// rsync's sender's look-ahead as ListWindow models it: the count a file's --progress line shows, the
// moment it is known, and the file's place in a list sent whole.

import { describe, expect, it } from 'vitest';
import { LIST_LOOKAHEAD, ListWindow } from '../../../src/model/list-window.js';

describe('ListWindow', () => {
  it('incremental: the lists after the file until 1,000 entries, "ir" while directories are left', () => {
    const w = new ListWindow(true);
    // The first list: ".", 5 files, 3 directories.
    expect(w.current).toBe(0);
    w.enter();
    w.close(9, 3);
    expect(w.figure(0, 9)).toBeUndefined();
    w.enter();
    w.close(9 + 600, 0);
    expect(w.figure(0, 609)).toBeUndefined();
    w.enter();
    w.close(9 + 1200, 0);
    // 1,200 entries after the first list: the sender stops there, one directory still to list.
    expect(w.figure(0, 1209)).toEqual({ listed: 1209, growing: true });
    // A file of the second list: the third list is the last; known once the walk is over.
    expect(w.figure(1, 1209)).toBeUndefined();
    w.enter();
    w.close(9 + 1800, 0);
    expect(w.figure(1, 1809)).toBeUndefined();
    w.complete();
    expect(w.figure(1, 1809)).toEqual({ listed: 1809, growing: false });
    expect(w.figure(3, 1809)).toEqual({ listed: 1809, growing: false });
  });

  it('incremental: the look-ahead is counted from the end of the file\'s own list', () => {
    const w = new ListWindow(true);
    for (const end of [2000, 2000 + LIST_LOOKAHEAD - 1, 2000 + LIST_LOOKAHEAD, 5000]) {
      w.enter();
      w.close(end, 1);
    }
    expect(w.figure(0, 5000)).toEqual({ listed: 2000 + LIST_LOOKAHEAD, growing: true });
  });

  it('incremental: forgotten lists keep the numbering of the ones after them', () => {
    const w = new ListWindow(true);
    for (let i = 1; i <= 3000; i++) {
      w.enter();
      w.close(i * 10, 1);
    }
    w.forget(2500);
    expect(w.current).toBe(3000);
    expect(w.figure(2500, 30000)).toEqual({ listed: 25010 + 1000, growing: true });
    w.close(30010, 0);
    expect(w.current).toBe(3001);
  });

  it('whole list: nothing is known before the walk ends; places skip directories counted but not entered', () => {
    const w = new ListWindow(false);
    w.enter();
    // ".", f1, f2 counted, then d1, d2, d3: a file of d1 comes before d2 and d3 in the sorted list.
    w.close(6, 3);
    w.enter();
    expect(w.place(7)).toBe(5);
    expect(w.figure(1, 7)).toBeUndefined();
    w.close(10, 0);
    w.complete();
    expect(w.figure(1, 12)).toEqual({ listed: 12, growing: false });
  });
});
