// The binary layout of a batch of operations. The main thread encodes, the C addon (native/batch.h)
// and the node engine decode. One flat buffer per batch crosses into a worker without structured-cloning
// thousands of objects, and the addon reads it without touching a JS object per field.
//
// Layout, little-endian, each op starting on an 8-byte boundary:
//   0  u8  kind   1 u8 flags (OpFlag)   4  u32 srcLen        8  u32 dstLen       12 u32 mode
//   16 u32 uid             20 u32 gid           24 u32 mtimeNsec    28 u32 anchor
//   32 f64 size            40 f64 mtimeSec      48 f64 ino          56 f64 dev
//   64 f64 rdev            72 f64 atimeSec (whole seconds, -U)
//   2  u16 xrulesLen (the op's own x-rules: 0 = none)
//   80 src bytes (srcLen), then dst bytes (dstLen), then [target bytes], then [xrules bytes], then zero
//   padding to a multiple of 8.
// src is the source path (as given, absolute or relative to the cwd); for Hardlink it is the
// destination-relative path of the first link. dst is relative to the destination root ("" = the root).
// ino/dev are the source's identity as the walk saw it (0 = do not check).
// anchor: how many leading bytes of src are the operator's part (an operand, or a link the run follows),
// resolved as given; the rest is resolved beneath it without following symlinks (0 = src's own directory).
// Target bytes (OpFlag.Target, Symlink ops): the link target the planner judged; `size` is its length.
// Xrules bytes (-X with x-rules from per-directory merge files): the views the entry's xattr names are
// judged in, when they are not the engine context's (plan/xattr-rules.ts xattrView, native/xfilter.h).

import { OpFlag, OpKind, type OpAppender } from '../model/ops.js';
import type { Stat } from '../model/stat.js';

export const OP_HEADER = 80;

export interface Op {
  kind: OpKind;
  flags: number;
  src: Buffer;
  dst: Buffer;
  stat: Stat;
  /** Leading bytes of src resolved as given (see the layout above). */
  anchor: number;
  /** OpFlag.Target: the judged symlink target. */
  target?: Buffer;
  /** The entry's own x-rules (plan/xattr-rules.ts xattrView). */
  xrules?: Buffer;
}

const pad8 = (n: number): number => (n + 7) & ~7;

export class BatchWriter implements OpAppender {
  private buf: Buffer;
  /** The same bytes, for the header's fields (explicitly little-endian, without Buffer's per-call checks). */
  private view: DataView;
  private len = 0;
  private n = 0;

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.alloc(initial);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  get count(): number {
    return this.n;
  }

  get byteLength(): number {
    return this.len;
  }

  add(kind: OpKind, src: Buffer, dst: Buffer, st: Stat, flags = 0, anchor = 0, target?: Buffer, xrules?: Buffer): number {
    if (target) flags |= OpFlag.Target;
    const tail = target ? target.length : 0;
    const rules = xrules ? xrules.length : 0;
    if (rules > 0xffff) throw new RangeError('an op\'s x-rules take at most 65535 bytes');
    const names = src.length + dst.length + tail + rules;
    const need = OP_HEADER + pad8(names);
    if (this.len + need > this.buf.length) {
      const grown = Buffer.alloc(Math.max(this.buf.length * 2, this.len + need));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
      this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
    }
    const b = this.buf;
    const v = this.view;
    const o = this.len;
    // Every header byte is written; the writer's buffer is reused, so the padding after the names is
    // zeroed too.
    v.setUint8(o, kind);
    v.setUint8(o + 1, flags);
    v.setUint16(o + 2, rules, true);
    v.setUint32(o + 4, src.length, true);
    v.setUint32(o + 8, dst.length, true);
    v.setUint32(o + 12, st.mode >>> 0, true);
    v.setUint32(o + 16, st.uid >>> 0, true);
    v.setUint32(o + 20, st.gid >>> 0, true);
    v.setUint32(o + 24, st.mtimeNsec >>> 0, true);
    v.setUint32(o + 28, anchor >>> 0, true);
    v.setFloat64(o + 32, target ? target.length : st.size, true);
    v.setFloat64(o + 40, st.mtimeSec, true);
    v.setFloat64(o + 48, st.ino, true);
    v.setFloat64(o + 56, st.dev, true);
    v.setFloat64(o + 64, st.rdev, true);
    v.setFloat64(o + 72, st.atimeSec ?? 0, true);
    b.set(src, o + OP_HEADER);
    b.set(dst, o + OP_HEADER + src.length);
    if (target) b.set(target, o + OP_HEADER + src.length + dst.length);
    if (xrules) b.set(xrules, o + OP_HEADER + src.length + dst.length + tail);
    for (let p = o + OP_HEADER + names; p < o + need; p++) b[p] = 0;
    this.len += need;
    return this.n++;
  }

  /**
   * Ops encoded elsewhere in this layout (the direct path's, native/direct.c), appended whole: `bytes`
   * holds `count` ops, each padded to 8 bytes as add() pads them.
   */
  append(bytes: Uint8Array, count: number): void {
    if (this.len + bytes.length > this.buf.length) {
      const grown = Buffer.alloc(Math.max(this.buf.length * 2, this.len + bytes.length));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
      this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
    }
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    this.n += count;
  }

  /**
   * The encoded batch (a copy, so the writer can be reused), in memory from `alloc` when given (the
   * dispatcher's reused buffers: pool/batch-buffers.ts).
   */
  finish(alloc?: (length: number) => Uint8Array): Uint8Array {
    const out = alloc ? alloc(this.len) : new Uint8Array(this.len);
    out.set(this.buf.subarray(0, this.len));
    this.len = 0;
    this.n = 0;
    return out;
  }
}

/** Decode a batch (used by the node engine and by tests). */
export function* readBatch(batch: Uint8Array): Generator<Op> {
  const b = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
  let o = 0;
  while (o < b.length) {
    const srcLen = b.readUInt32LE(o + 4);
    const dstLen = b.readUInt32LE(o + 8);
    const stat: Stat = {
      mode: b.readUInt32LE(o + 12),
      uid: b.readUInt32LE(o + 16),
      gid: b.readUInt32LE(o + 20),
      mtimeNsec: b.readUInt32LE(o + 24),
      size: b.readDoubleLE(o + 32),
      mtimeSec: b.readDoubleLE(o + 40),
      ino: b.readDoubleLE(o + 48),
      dev: b.readDoubleLE(o + 56),
      rdev: b.readDoubleLE(o + 64),
      atimeSec: b.readDoubleLE(o + 72),
      nlink: 1,
      blocks: 0,
    };
    const s = o + OP_HEADER;
    const flags = b.readUInt8(o + 1);
    const tail = flags & OpFlag.Target ? stat.size : 0;
    const rules = b.readUInt16LE(o + 2);
    const t = s + srcLen + dstLen;
    yield {
      kind: b.readUInt8(o) as OpKind,
      flags,
      src: b.subarray(s, s + srcLen),
      dst: b.subarray(s + srcLen, t),
      stat,
      anchor: b.readUInt32LE(o + 28),
      ...(tail ? { target: b.subarray(t, t + tail) } : {}),
      ...(rules ? { xrules: b.subarray(t + tail, t + tail + rules) } : {}),
    };
    o += OP_HEADER + pad8(srcLen + dstLen + tail + rules);
  }
}

/** The ops at the given indices of a batch (a failure's `index`), decoded only when something failed. */
export function opsAt(batch: Uint8Array, indices: readonly number[]): Map<number, Op> {
  const want = new Set(indices.filter((i) => i >= 0));
  const out = new Map<number, Op>();
  if (want.size === 0) return out;
  let i = 0;
  for (const op of readBatch(batch)) {
    if (want.has(i)) {
      out.set(i, {
        ...op,
        src: Buffer.from(op.src),
        dst: Buffer.from(op.dst),
        ...(op.target ? { target: Buffer.from(op.target) } : {}),
        ...(op.xrules ? { xrules: Buffer.from(op.xrules) } : {}),
      });
    }
    if (out.size === want.size) break;
    i++;
  }
  return out;
}

/** Calls `each` with the size of every op of a batch, in order (no op decoded). */
export function eachOpSize(batch: Uint8Array, each: (size: number) => void): void {
  const b = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
  for (let o = 0; o < b.length; ) {
    const size = b.readDoubleLE(o + 32);
    each(size);
    const tail = b.readUInt8(o + 1) & OpFlag.Target ? size : 0;
    o += OP_HEADER + pad8(b.readUInt32LE(o + 4) + b.readUInt32LE(o + 8) + tail + b.readUInt16LE(o + 2));
  }
}

/**
 * Calls `each` with where every op's destination name starts and ends in `batch`, where the op ends, and
 * its mode, uid and gid, in order (nothing decoded or copied).
 */
export function eachOpDest(batch: Uint8Array, each: (start: number, end: number, opEnd: number, mode: number, uid: number, gid: number) => void): void {
  const b = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
  for (let o = 0; o < b.length; ) {
    const srcLen = b.readUInt32LE(o + 4);
    const dstLen = b.readUInt32LE(o + 8);
    const s = o + OP_HEADER + srcLen;
    const tail = b.readUInt8(o + 1) & OpFlag.Target ? b.readDoubleLE(o + 32) : 0;
    const opEnd = o + OP_HEADER + pad8(srcLen + dstLen + tail + b.readUInt16LE(o + 2));
    each(s, s + dstLen, opEnd, b.readUInt32LE(o + 12), b.readUInt32LE(o + 16), b.readUInt32LE(o + 20));
    o = opEnd;
  }
}

/** The number of ops in a batch, from their lengths alone (run()'s outcome layout needs it). */
export function countOps(batch: Uint8Array): number {
  const b = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
  let n = 0;
  for (let o = 0; o < b.length; n++) {
    const tail = b.readUInt8(o + 1) & OpFlag.Target ? b.readDoubleLE(o + 32) : 0;
    o += OP_HEADER + pad8(b.readUInt32LE(o + 4) + b.readUInt32LE(o + 8) + tail + b.readUInt16LE(o + 2));
  }
  return n;
}
