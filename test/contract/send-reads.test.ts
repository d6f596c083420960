// A push's reads in C (native/sendread.c, engine.ts's SendReads): sendOpen opens only the regular file
// the walk listed (same device and inode; never through a symlink unless asked), and sendReadWhole puts
// a file's bytes and its whole-file sum exactly where the frame wants them — the sum the same as the
// streaming hasher's for every kind, a file that shrank read as zeros after its end — and refuses places
// outside the buffer. sendFile, both in one call, writes exactly what the two calls write and answers a
// file it cannot open as listed as sendOpen does, a failed read apart from those.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bytes as random } from '../helpers/differential.js';
import { NOT_LISTED, READ_FAILED } from '../../src/engine/engine.js';
import { addonOrReason } from './engines.js';

const addon = addonOrReason();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-sendreads-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The streaming hasher's digest of `b` (what a push sent before sendReadWhole). */
function streamed(a: Exclude<typeof addon, string>, kind: number, b: Buffer): Buffer {
  const h = a.sumHasher(kind);
  a.sumHasherUpdate(h, b.subarray(0, b.length >> 1));
  a.sumHasherUpdate(h, b.subarray(b.length >> 1));
  return a.sumHasherDigest(h);
}

describe.skipIf(typeof addon === 'string')('a push reads a sent file in C', () => {
  const a = addon as Exclude<typeof addon, string>;
  const open = a.sendOpen!;
  const readWhole = a.sendReadWhole!;

  it('reads the bytes into place and writes the sum after them, for every kind and size', () => {
    for (const len of [0, 1, 15, 4096, 32748]) {
      const data = random(len, len + 3);
      const p = path.join(dir, `f${len}`);
      fs.writeFileSync(p, data);
      const st = fs.statSync(p);
      for (const [kind, sumLen] of [[0, 16], [1, 8], [2, 8], [3, 16]] as const) {
        const fd = open(Buffer.from(p), false, st.dev, st.ino);
        expect(fd).toBeGreaterThanOrEqual(0);
        const buf = Buffer.alloc(len + 64, 0xee);
        expect(readWhole(fd, kind, buf, 7, len, 7 + len + 4)).toBe(len);
        expect(buf.subarray(7, 7 + len).equals(data)).toBe(true);
        expect(buf.subarray(7 + len, 7 + len + 4).equals(Buffer.alloc(4, 0xee))).toBe(true);
        expect(buf.subarray(7 + len + 4, 7 + len + 4 + sumLen)).toEqual(streamed(a, kind, data));
      }
    }
  });

  it('a file that shrank: what it has, then zeros, summed as sent', () => {
    const p = path.join(dir, 'shrinks');
    fs.writeFileSync(p, random(1000, 9));
    const st = fs.statSync(p);
    const fd = open(Buffer.from(p), false, st.dev, st.ino);
    fs.truncateSync(p, 600);
    const buf = Buffer.alloc(1100, 0xee);
    expect(readWhole(fd, 3, buf, 0, 1000, 1000)).toBe(600);
    const sent = Buffer.concat([random(1000, 9).subarray(0, 600), Buffer.alloc(400)]);
    expect(buf.subarray(0, 1000).equals(sent)).toBe(true);
    expect(buf.subarray(1000, 1016)).toEqual(streamed(a, 3, sent));
  });

  it('opens only the listed regular file: not a symlink (unless following), not a replacement, not a directory', () => {
    const p = path.join(dir, 'listed');
    fs.writeFileSync(p, 'x');
    const st = fs.statSync(p);
    const link = path.join(dir, 'link');
    fs.symlinkSync(p, link);
    expect(open(Buffer.from(link), false, st.dev, st.ino)).toBe(-40); // ELOOP: O_NOFOLLOW
    const followed = open(Buffer.from(link), true, st.dev, st.ino);
    expect(followed).toBeGreaterThanOrEqual(0);
    fs.closeSync(followed);
    // Another file in the listed one's place (a new inode under the same name).
    fs.renameSync(p, `${p}.old`);
    fs.writeFileSync(p, 'y');
    expect(open(Buffer.from(p), false, st.dev, st.ino)).toBe(NOT_LISTED);
    const d = fs.statSync(dir);
    expect(open(Buffer.from(dir), false, d.dev, d.ino)).toBe(NOT_LISTED);
    expect(open(Buffer.from(path.join(dir, 'missing')), false, 0, 0)).toBe(-2);
  });

  it('refuses a sum or data outside the buffer', () => {
    const p = path.join(dir, 'small');
    fs.writeFileSync(p, 'abc');
    const st = fs.statSync(p);
    for (const [at, len, sumAt] of [[0, 3, 60], [62, 3, 0], [0, 3, 2]]) {
      const fd = open(Buffer.from(p), false, st.dev, st.ino);
      expect(() => readWhole(fd, 3, Buffer.alloc(64), at!, len!, sumAt!)).toThrow(RangeError);
    }
  });

  describe('sendFile: the open and the whole read in one call', () => {
    const file = a.sendFile!;

    it('writes the bytes and sum the two calls write, for every kind and size', () => {
      for (const len of [0, 1, 15, 4096, 32748]) {
        const data = random(len, len + 11);
        const p = path.join(dir, `one${len}`);
        fs.writeFileSync(p, data);
        const st = fs.statSync(p);
        for (const kind of [0, 1, 2, 3]) {
          const two = Buffer.alloc(len + 64, 0xee);
          expect(readWhole(open(Buffer.from(p), false, st.dev, st.ino), kind, two, 7, len, 7 + len + 4)).toBe(len);
          const one = Buffer.alloc(len + 64, 0xee);
          expect(file(Buffer.from(p), false, st.dev, st.ino, kind, one, 7, len, 7 + len + 4)).toBe(len);
          expect(one.equals(two)).toBe(true);
          expect(one.subarray(7, 7 + len).equals(data)).toBe(true);
        }
      }
    });

    it('a file that shrank since the walk: what it has, zeros, the sum of what was sent; one that grew: its listed length', () => {
      const p = path.join(dir, 'one-resized');
      const data = random(1000, 21);
      fs.writeFileSync(p, data.subarray(0, 600));
      const st = fs.statSync(p);
      const buf = Buffer.alloc(1100, 0xee);
      expect(file(Buffer.from(p), false, st.dev, st.ino, 3, buf, 0, 1000, 1000)).toBe(600);
      const sent = Buffer.concat([data.subarray(0, 600), Buffer.alloc(400)]);
      expect(buf.subarray(0, 1000).equals(sent)).toBe(true);
      expect(buf.subarray(1000, 1016)).toEqual(streamed(a, 3, sent));
      fs.writeFileSync(p, data);
      expect(fs.statSync(p).ino).toBe(st.ino);
      const grown = Buffer.alloc(1100, 0xee);
      expect(file(Buffer.from(p), false, st.dev, st.ino, 3, grown, 0, 600, 600)).toBe(600);
      expect(grown.subarray(0, 600).equals(data.subarray(0, 600))).toBe(true);
      expect(grown.subarray(600, 616)).toEqual(streamed(a, 3, data.subarray(0, 600)));
    });

    it("answers sendOpen's answers for a file not opened as listed, and writes nothing", () => {
      const p = path.join(dir, 'one-listed');
      fs.writeFileSync(p, 'xyz');
      const st = fs.statSync(p);
      const link = path.join(dir, 'one-link');
      fs.symlinkSync(p, link);
      const untouched = (): Buffer => Buffer.alloc(64, 0xee);
      let buf = untouched();
      expect(file(Buffer.from(link), false, st.dev, st.ino, 3, buf, 0, 3, 8)).toBe(-40); // ELOOP: O_NOFOLLOW
      expect(buf.equals(untouched())).toBe(true);
      expect(file(Buffer.from(link), true, st.dev, st.ino, 3, buf, 0, 3, 8)).toBe(3);
      expect(buf.subarray(0, 3).toString()).toBe('xyz');
      // Swapped: another file under the listed name.
      fs.renameSync(p, `${p}.old`);
      fs.writeFileSync(p, 'abc');
      buf = untouched();
      expect(file(Buffer.from(p), false, st.dev, st.ino, 3, buf, 0, 3, 8)).toBe(NOT_LISTED);
      expect(buf.equals(untouched())).toBe(true);
      // Vanished.
      fs.rmSync(p);
      expect(file(Buffer.from(p), false, st.dev, st.ino, 3, buf, 0, 3, 8)).toBe(-2);
      expect(buf.equals(untouched())).toBe(true);
      const d = fs.statSync(dir);
      expect(file(Buffer.from(dir), false, d.dev, d.ino, 3, buf, 0, 3, 8)).toBe(NOT_LISTED);
    });

    it('a read that fails after the open: READ_FAILED - errno, apart from every open answer', () => {
      // /proc/self/mem is a regular file whose read at offset 0 (an unmapped address) fails with EIO.
      const st = fs.statSync('/proc/self/mem');
      expect(st.isFile()).toBe(true);
      expect(file(Buffer.from('/proc/self/mem'), false, st.dev, st.ino, 3, Buffer.alloc(64), 0, 16, 16)).toBe(READ_FAILED - 5);
    });

    it('refuses a sum or data outside the buffer before it opens anything', () => {
      const p = path.join(dir, 'one-small');
      fs.writeFileSync(p, 'abc');
      const st = fs.statSync(p);
      for (const [at, len, sumAt] of [[0, 3, 60], [62, 3, 0], [0, 3, 2]]) {
        expect(() => file(Buffer.from(p), false, st.dev, st.ino, 3, Buffer.alloc(64), at!, len!, sumAt!)).toThrow(RangeError);
      }
      // Nothing was opened: a missing file's range error, not its ENOENT.
      expect(() => file(Buffer.from(path.join(dir, 'none')), false, 0, 0, 3, Buffer.alloc(64), 62, 3, 0)).toThrow(RangeError);
    });
  });
});
