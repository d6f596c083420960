import { describe, expect, it } from 'vitest';
import { S_IFCHR, S_IFLNK, S_IFREG, type Stat } from '../../../src/model/stat.js';
import { chooseLeader } from '../../../src/run/hardlinks.js';
import { HardLinkGroups, type Member } from '../../../src/run/members.js';

const st = (mode: number, ino = 7): Stat => ({ mode: mode | 0o644, uid: 0, gid: 0, size: 1, mtimeSec: 1, mtimeNsec: 0, ino, dev: 1, nlink: 3, rdev: 0, blocks: 0 });
const member = (name: string, mode: number, dest?: number): Member => ({
  src: Buffer.from(`/s/${name}`), rel: Buffer.from(name), st: st(mode), destSt: dest === undefined ? undefined : st(dest, 99),
  record: undefined, flags: 0, display: undefined,
});

describe('hard-link leader (rsync)', () => {
  it('regular files: the first member the destination already has as a file', () => {
    const g = [member('a', S_IFREG), member('b', S_IFREG, S_IFLNK), member('c', S_IFREG, S_IFREG), member('d', S_IFREG, S_IFREG)];
    expect(chooseLeader(g).rel.toString()).toBe('c');
  });

  it('regular files: else the last one', () => {
    const g = [member('a', S_IFREG), member('b', S_IFREG), member('c', S_IFREG)];
    expect(chooseLeader(g).rel.toString()).toBe('c');
  });

  it('other types: the first one', () => {
    const g = [member('a', S_IFCHR), member('b', S_IFCHR, S_IFCHR)];
    expect(chooseLeader(g).rel.toString()).toBe('a');
  });

  it('groups members by inode in walk order, once', () => {
    const groups = new HardLinkGroups();
    const a = member('a', S_IFREG);
    const other = { ...member('x', S_IFREG), st: st(S_IFREG, 8) };
    const b = member('b', S_IFREG);
    groups.add(a);
    groups.add(other);
    groups.add(b);
    groups.lead(b, undefined);
    const taken = [...groups.take()];
    expect(taken.map(([g]) => g.map((m) => m.rel.toString()))).toEqual([['a', 'b'], ['x']]);
    expect(taken.map(([, led]) => led?.leader.rel.toString())).toEqual(['b', undefined]);
    expect([...groups.take()]).toEqual([]);
  });
});
