// The device-number codec against glibc's own makedev/major/minor (values from Python's os.makedev,
// which calls them) and against a device node the kernel made.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { devMajor, devMinor, makedev } from '../../../src/model/devnum.js';

// [major, minor, glibc's makedev]: 12/20-bit values, and majors and minors past them (bits above 31).
const GLIBC: [number, number, number][] = [
  [1, 3, 259],
  [8, 1, 2049],
  [7, 200, 1992],
  [259, 65536, 268501760],
  [4095, 255, 1048575],
  [4096, 256, 17592187092992],
  [1048575, 1048575, 4486011736293375],
  [1234567, 7654321, 5295279351170993],
];

describe('device numbers', () => {
  it.each(GLIBC)('makedev(%d, %d) is glibc\'s %d, and splits back', (major, minor, rdev) => {
    expect(makedev(major, minor)).toBe(rdev);
    expect(devMajor(rdev)).toBe(major);
    expect(devMinor(rdev)).toBe(minor);
  });

  it.runIf(process.getuid?.() === 0)('reads a node the kernel made (mknod b 7 200) as 7, 200', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devnum-'));
    try {
      execFileSync('mknod', [path.join(dir, 'b'), 'b', '7', '200']);
      const st = fs.lstatSync(path.join(dir, 'b'));
      expect([devMajor(st.rdev), devMinor(st.rdev)]).toEqual([7, 200]);
      expect(makedev(7, 200)).toBe(st.rdev);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
