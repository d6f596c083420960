// src/progress/filelist-progress.ts: rsync's flist1/flist2 end of "building/receiving file list ... ".

import { describe, expect, it } from 'vitest';
import { filelistEnd } from '../../../src/progress/filelist-progress.js';

describe('filelistEnd', () => {
  it('flist1: done', () => {
    expect(filelistEnd(250, 1, 'receiving')).toBe('done\n');
    expect(filelistEnd(250, 1, 'sending')).toBe('done\n');
  });
  it('a receiver counts after each entry: from 100, nothing below 100 (not even the newline)', () => {
    expect(filelistEnd(5, 2, 'receiving')).toBe('5 files to consider\n');
    expect(filelistEnd(1, 2, 'receiving')).toBe('1 file to consider\n');
    expect(filelistEnd(100, 2, 'receiving')).toBe('\n 100 files...\r100 files to consider\n');
    expect(filelistEnd(251, 2, 'receiving')).toBe('\n 100 files...\r 200 files...\r251 files to consider\n');
  });
  it('a sender counts before each entry: from 0', () => {
    expect(filelistEnd(0, 2, 'sending')).toBe('0 files to consider\n');
    expect(filelistEnd(5, 2, 'sending')).toBe('\n 0 files...\r5 files to consider\n');
    expect(filelistEnd(101, 2, 'sending')).toBe('\n 0 files...\r 100 files...\r101 files to consider\n');
  });
});
