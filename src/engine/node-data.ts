// The node engine's data path: a file's bytes copied through one buffer with read/write (holes kept as
// holes), and -c's comparison of a target's bytes with the source's. Only a zero-byte read is end of
// file (DESIGN.md §3.9): short reads are continued, and a source that ends early fails the op.

import * as fs from 'node:fs';
import type { Op } from './batch.js';
import { closeQuietly, sysError } from './node-fs.js';
import { fsImpl } from './node-fs.js';
import type { OpScope } from './node-scope.js';
import type { Source } from './node-source.js';
import type { Target } from './node-dest.js';
import { meterCharge, meterPiece } from './rate-meter.js';

const C = fs.constants;
/** Granularity of hole detection: the usual filesystem block. */
export const BLOCK = 4096;
const ZERO = Buffer.alloc(BLOCK);

/** Positioned read of up to `len` bytes, continuing short reads; less only at EOF (a zero-byte read). */
function readFull(fd: number, buf: Buffer, len: number, pos: number): number {
  let got = 0;
  while (got < len) {
    const n = fsImpl.readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

export class DataCopier {
  /** A second buffer for -c comparisons, allocated on first use. */
  private cmp: Buffer | undefined;
  /** Bytes of the current file written so far (decides whether --partial keeps anything). */
  copied = 0;

  constructor(
    /** One data buffer for the life of the context, a whole number of hole-detection blocks. */
    readonly buf: Buffer,
    private readonly scope: OpScope,
  ) {}

  /**
   * read/write through the context's one buffer, exactly the size fstat gave at the open (copyFileSync
   * would write in place and follow symlinks). A short read is continued; a zero-byte read before that
   * size means the source shrank (or its filesystem promised more than it has): the op fails, as the
   * native engines' copy_fail_short does, and the data is never renamed into place. Growth after the
   * open is not copied. For sparse copies, all-zero blocks are skipped with positioned writes and the
   * size is set with ftruncate at the end, so holes stay holes.
   */
  copy(op: Op, src: Source, to: number, t: Target, sparse: boolean, from = 0): void {
    const buf = this.buf;
    const scope = this.scope;
    const size = Number(src.st.size);
    // --append starts past the bytes the target keeps: positioned reads and writes from there.
    const at = (pos: number): number | null => (from > 0 ? pos : null);
    this.copied = from;
    // --bwlimit: pieces of rate/8 (whole blocks, so holes are still found block by block).
    const want = meterPiece(scope.counters, buf.length);
    const piece = Math.max(BLOCK, want - (want % BLOCK));
    while (this.copied < size) {
      scope.checkAbort();
      scope.at(op.src, false);
      const n = fsImpl.readSync(src.fd, buf, 0, Math.min(piece, size - this.copied), at(this.copied));
      if (n === 0) throw sysError('ENODATA', 'read');
      scope.at(t.rel, true);
      const pos = this.copied;
      if (!sparse) {
        this.writeAll(to, 0, n, at(pos));
      } else {
        let run = -1; // start of the current run of non-zero blocks
        for (let b = 0; b < n; b += BLOCK) {
          const e = Math.min(b + BLOCK, n);
          const zero = buf.compare(ZERO, 0, e - b, b, e) === 0;
          if (!zero && run < 0) run = b;
          if (zero && run >= 0) {
            this.writeAll(to, run, b - run, pos + run);
            run = -1;
          }
        }
        if (run >= 0) this.writeAll(to, run, n - run, pos + run);
      }
      this.copied += n;
      // Holes count too, so progress reaches the files' total size.
      scope.countData(n, this.copied);
      meterCharge(scope.counters, n);
    }
    if (sparse) fsImpl.ftruncateSync(to, this.copied);
  }

  private writeAll(fd: number, off: number, len: number, position: number | null): void {
    while (len > 0) {
      const w = fsImpl.writeSync(fd, this.buf, off, len, position);
      off += w;
      len -= w;
      if (position !== null) position += w;
    }
  }

  /** --append-verify: are the first `size` bytes of the open target `fd` the source's? */
  samePrefix(op: Op, src: Source, fd: number, t: Target, size: number): boolean {
    const a = this.buf;
    const b = (this.cmp ??= Buffer.allocUnsafe(a.length));
    for (let pos = 0; pos < size; ) {
      this.scope.checkAbort();
      const want = Math.min(a.length, size - pos);
      this.scope.at(op.src, false);
      // A source that ends early is "different": the copy that follows reports it.
      if (readFull(src.fd, a, want, pos) !== want) return false;
      this.scope.at(t.rel, true);
      if (readFull(fd, b, want, pos) !== want || a.compare(b, 0, want, 0, want) !== 0) return false;
      pos += want;
    }
    return true;
  }

  /** -c: does the target already hold the source's bytes? Positioned reads leave the source at offset 0. */
  sameContent(op: Op, src: Source, t: Target): boolean {
    const scope = this.scope;
    scope.at(t.rel, true);
    // Opened first and then checked, as native copy_same_content() does: O_NONBLOCK so a FIFO at the name
    // cannot block the open, and a target that cannot be opened or is no regular file of the source's
    // size is "different" (the copy that follows replaces it or reports why it cannot).
    let fd: number;
    try {
      fd = fsImpl.openSync(t.abs, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
    } catch {
      return false;
    }
    try {
      const old = fsImpl.fstatSync(fd, { bigint: true });
      if (!old.isFile() || old.size !== src.st.size) return false;
      return this.samePrefix(op, src, fd, t, Number(src.st.size));
    } finally {
      closeQuietly(fd);
    }
  }
}
