import { describe, expect, it } from 'vitest';
import { BatchWriter } from '../../../src/engine/batch.js';
import { OpFlag, OpKind } from '../../../src/model/ops.js';
import { S_IFLNK, type Stat } from '../../../src/model/stat.js';
import type { OpFailure } from '../../../src/engine/types.js';
import { FdRetry, isFdShortage } from '../../../src/pool/fd-retry.js';
import { ERRNO } from '../../../src/util/errors.js';
import { readBatch } from '../../../src/engine/batch.js';

const st: Stat = { mode: S_IFLNK | 0o777, uid: 0, gid: 0, size: 1, mtimeSec: 1, mtimeNsec: 0, ino: 1, dev: 1, nlink: 1, rdev: 0, blocks: 0 };
const fail = (index: number, errno: number): OpFailure => ({ index, errno, syscall: 'open', path: Buffer.from('p'), onDest: false });

describe('FdRetry', () => {
  it('only EMFILE and ENFILE are a shortage of descriptors', () => {
    expect(isFdShortage(ERRNO.EMFILE)).toBe(true);
    expect(isFdShortage(ERRNO.ENFILE)).toBe(true);
    expect(isFdShortage(ERRNO.ENOMEM)).toBe(false);
    expect(isFdShortage(ERRNO.EACCES)).toBe(false);
  });

  it('sets aside exactly the ops that ran out, whole (anchor, flags, judged target); reports the rest', () => {
    const w = new BatchWriter();
    w.add(OpKind.File, Buffer.from('/s/a'), Buffer.from('a'), { ...st, mode: 0o100644 }, OpFlag.Compare, 2);
    w.add(OpKind.Symlink, Buffer.from('/s/l'), Buffer.from('l'), st, 0, 2, Buffer.from('../t'));
    w.add(OpKind.File, Buffer.from('/s/b'), Buffer.from('b'), { ...st, mode: 0o100644 }, 0, 2);
    const batch = w.finish();
    const q = new FdRetry();
    const report = q.setAside(batch, [fail(0, ERRNO.ENFILE), fail(1, ERRNO.EMFILE), fail(2, ERRNO.EACCES), fail(-1, ERRNO.EMFILE)]);
    // A failure that names no op cannot be run again: reported.
    expect(report.map((f) => [f.index, f.errno])).toEqual([[2, ERRNO.EACCES], [-1, ERRNO.EMFILE]]);
    expect(q.count).toBe(2);
    const again = [...readBatch(q.take())];
    expect(q.count).toBe(0);
    expect(again.map((o) => Buffer.from(o.dst).toString())).toEqual(['a', 'l']);
    expect(again[0]!.flags).toBe(OpFlag.Compare);
    expect(again.map((o) => o.anchor)).toEqual([2, 2]);
    expect(again[1]!.target && Buffer.from(again[1]!.target).toString()).toBe('../t');
  });
});
