import { describe, expect, it } from 'vitest';
import { BatchWriter, OP_HEADER } from '../../../src/engine/batch.js';
import { OpFlag, OpKind } from '../../../src/model/ops.js';
import type { Stat } from '../../../src/model/stat.js';
import { readBatch } from '../../../src/engine/batch.js';

const st: Stat = {
  mode: 0o104755, uid: 1234, gid: 5678, size: 2 ** 40 + 3, mtimeSec: 1_700_000_000, mtimeNsec: 123_456_789,
  ino: 2 ** 50 + 1, dev: 0x10300, nlink: 1, rdev: 0x801, blocks: 0,
};

describe('batch codec', () => {
  it('round-trips every field and raw name bytes, 8-byte aligned', () => {
    const w = new BatchWriter(16); // small on purpose: the writer must grow
    const odd = Buffer.from([0x66, 0xff, 0x0a, 0x2d]);
    w.add(OpKind.File, Buffer.from('/src/a'), odd, st);
    w.add(OpKind.Hardlink, Buffer.from('x/y'), Buffer.from(''), { ...st, mode: 0o100644 });
    expect(w.count).toBe(2);
    const b = w.finish();
    expect(b.byteLength % 8).toBe(0);
    expect(b.byteLength).toBe(OP_HEADER + 16 + OP_HEADER + 8);
    const ops = [...readBatch(b)];
    expect(ops.map((o) => o.kind)).toEqual([OpKind.File, OpKind.Hardlink]);
    expect(ops[0]!.dst.equals(odd)).toBe(true);
    expect(ops[0]!.src.toString()).toBe('/src/a');
    const { nlink: _n, blocks: _b, ...want } = st;
    expect(ops[0]!.stat).toMatchObject(want);
    expect(ops[1]!.dst.length).toBe(0);
    expect(w.count).toBe(0);
  });

  it('carries the source anchor and a judged symlink target (its length as the size)', () => {
    const w = new BatchWriter(16);
    const target = Buffer.from('../some/where');
    w.add(OpKind.Symlink, Buffer.from('/src/d/l'), Buffer.from('d/l'), { ...st, mode: 0o120777, size: 3 }, 0, 4, target);
    w.add(OpKind.File, Buffer.from('/src/d/f'), Buffer.from('d/f'), st, OpFlag.Compare, 4);
    const b = w.finish();
    expect(b.byteLength).toBe(OP_HEADER + 24 + OP_HEADER + 16); // 8 + 3 + 13 bytes, then 8 + 3 padded
    const [link, file] = [...readBatch(b)];
    expect(link!.flags).toBe(OpFlag.Target);
    expect(link!.anchor).toBe(4);
    expect(link!.target?.equals(target)).toBe(true);
    expect(link!.stat.size).toBe(target.length);
    expect(link!.dst.toString()).toBe('d/l');
    expect(file!.anchor).toBe(4);
    expect(file!.target).toBeUndefined();
    expect(file!.src.toString()).toBe('/src/d/f');
  });
});
