import { describe, expect, it } from 'vitest';
import { readBatch } from '../../../src/engine/batch.js';
import { OpKind } from '../../../src/model/ops.js';
import { S_IFDIR, S_IFLNK, S_IFMT, type Stat } from '../../../src/model/stat.js';
import { DirLedger } from '../../../src/run/dirmeta.js';

const st = (mode = S_IFDIR | 0o755): Stat => ({ mode, uid: 0, gid: 0, size: 0, mtimeSec: 1, mtimeNsec: 0, ino: 1, dev: 1, nlink: 2, rdev: 0, blocks: 0 });
const b = (s: string): Buffer => Buffer.from(s);

describe('DirLedger', () => {
  it('sets metadata children before parents, only where needed', () => {
    const l = new DirLedger(false);
    l.record({ src: b('/s'), rel: b(''), stat: st(), needMeta: true });
    const a = l.record({ src: b('/s/a'), rel: b('a'), stat: st(), needMeta: false });
    l.record({ src: b('/s/a/b'), rel: b('a/b'), stat: st(), needMeta: true });
    l.record({ src: b('/s/c'), rel: b('c'), stat: st(), needMeta: false });
    l.touch(a); // an entry inside a changed
    l.touch(undefined);
    l.changedUnrecorded(b('/s/d'), b('d'), st());
    const ops = [...readBatch(l.finalOps(() => 0).finish())];
    expect(ops.map((o) => o.dst.toString())).toEqual(['d', 'a/b', 'a', '']);
    expect(ops.every((o) => o.kind === OpKind.DirMeta)).toBe(true);
  });

  it('-K: a kept directory symlink gets the directory attributes on the link itself', () => {
    const l = new DirLedger(false);
    l.record({ src: b('/s/k'), rel: b('k'), stat: st(S_IFDIR | 0o700), needMeta: true, keptLink: true });
    const [op] = [...readBatch(l.finalOps((src) => (src.toString() === '/s/k' ? 2 : 0)).finish())];
    expect(op!.kind).toBe(OpKind.Attrs);
    expect(op!.stat.mode & S_IFMT).toBe(S_IFLNK);
    expect(op!.stat.mode & 0o7777).toBe(0o700);
    expect(op!.anchor).toBe(2);
  });

  it('finds an earlier source\'s directory by path only when several sources share paths', () => {
    const shared = new DirLedger(true);
    const r = shared.record({ src: b('/s1/x'), rel: b('x'), stat: st(), needMeta: false });
    expect(shared.find(b('x'))).toBe(r);
    expect(shared.has(b('x'))).toBe(true);
    const single = new DirLedger(false);
    single.record({ src: b('/s1/x'), rel: b('x'), stat: st(), needMeta: false });
    expect(single.find(b('x'))).toBeUndefined();
    expect(single.has(b('x'))).toBe(false);
  });
});
