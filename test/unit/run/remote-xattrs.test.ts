// A pull's staging side of -X (src/run/remote-xattrs.ts StagedXattrs), over a fake addon: values up to
// 32 bytes are put at once, an abbreviated one is taken from the destination only when its length and
// sum agree, each abbreviated value of a list is asked for once and its answer goes to every entry
// waiting for it, and a dry run asks nothing but puts a stand-in that differs from the destination's.

import { describe, expect, it } from 'vitest';
import { StagedXattrs, aclStandIn, type RemoteXattrs } from '../../../src/run/remote-xattrs.js';
import { senderItems, type XattrItem } from '../../../src/remote/xattr-list.js';

const long = (c: string): Buffer => Buffer.alloc(50, c);

/** The receiver's view of a sender list: abbreviated values lose their bytes. */
function received(pairs: [string, Buffer][]): XattrItem[] {
  return senderItems(
    pairs.map(([n]) => Buffer.from(n)),
    pairs.map(([, v]) => v),
  ).map((it) => (it.sum ? { name: it.name, len: it.len, sum: it.sum, num: it.num } : it));
}

function fake(dest: Map<number, Map<string, Buffer>>): { xio: RemoteXattrs; puts: string[] } {
  const puts: string[] = [];
  const xio: RemoteXattrs = {
    source: () => [],
    current: (fd) => dest.get(fd) ?? new Map(),
    put: (path, name, value) => void puts.push(`${path.toString()} ${name.toString()}=${value.toString('latin1')}`),
  };
  return { xio, puts };
}

describe('StagedXattrs', () => {
  const list = received([
    ['user.small', Buffer.from('hi')],
    ['user.long', long('L')],
  ]);

  it('puts short values at once, takes an abbreviated one from a destination that has it, asks for it otherwise', () => {
    const { xio, puts } = fake(new Map([[7, new Map([['user.long', long('L')]])], [8, new Map([['user.long', long('X')]])]]));
    const s = new StagedXattrs(xio, false);
    expect(s.entry(Buffer.from('/s/a'), 0, list, 7, () => {})).toBeUndefined();
    expect(puts.sort()).toEqual([`/s/a user.long=${'L'.repeat(50)}`, '/s/a user.small=hi']);
    puts.length = 0;
    const ask = s.entry(Buffer.from('/s/b'), 0, list, 8, () => {});
    expect(ask?.nums).toEqual([1]);
    expect(puts).toEqual(['/s/b user.small=hi']);
  });

  it('asks for a value of one list once; the answer goes to every entry that waits for it', () => {
    const { xio, puts } = fake(new Map());
    const s = new StagedXattrs(xio, false);
    const first = s.entry(Buffer.from('/s/a'), 3, list, undefined, () => {});
    const second = s.entry(Buffer.from('/s/b'), 3, list, undefined, () => {});
    const otherList = s.entry(Buffer.from('/s/c'), 4, list, undefined, () => {});
    expect(first?.nums).toEqual([1]);
    expect(second).toBeUndefined();
    expect(otherList?.nums).toEqual([1]);
    puts.length = 0;
    first!.got(new Map([[1, long('L')]]));
    expect(puts.sort()).toEqual([`/s/a user.long=${'L'.repeat(50)}`, `/s/b user.long=${'L'.repeat(50)}`]);
  });

  it('a dry run asks nothing and puts a stand-in unlike the destination\'s value', () => {
    const { xio, puts } = fake(new Map([[5, new Map([['user.long', long('X')]])]]));
    const s = new StagedXattrs(xio, true);
    expect(s.entry(Buffer.from('/s/a'), 0, list, 5, () => {})).toBeUndefined();
    const standIn = puts.find((p) => p.startsWith('/s/a user.long='))!;
    expect(standIn).not.toBe(`/s/a user.long=${'X'.repeat(50)}`);
  });

  it('a dry run stands a valid ACL in for an ACL value, unlike the destination\'s', () => {
    // Listed as an xattr once x-rules are given (they replace the rule that leaves system.* out).
    const acl = senderItems([Buffer.from('system.posix_acl_access')], [long('A')], false, false, () => false).map((it) => ({ name: it.name, len: it.len, sum: it.sum!, num: it.num }));
    const first = aclStandIn(undefined);
    const { xio, puts } = fake(new Map([[5, new Map([['system.posix_acl_access', first]])]]));
    new StagedXattrs(xio, true).entry(Buffer.from('/s/a'), 0, acl, 5, () => {});
    const put = Buffer.from(puts[0]!.slice('/s/a system.posix_acl_access='.length), 'latin1');
    // Version 2, then five (tag, perm, id) entries in the kernel's order of tags.
    expect(put.readUInt32LE(0)).toBe(2);
    expect([0, 1, 2, 3, 4].map((i) => put.readUInt16LE(4 + i * 8))).toEqual([0x01, 0x02, 0x04, 0x10, 0x20]);
    expect(put.equals(first)).toBe(false);
  });

  it('a value the staging tree refuses is reported', () => {
    const errors: string[] = [];
    const xio: RemoteXattrs = { source: () => [], current: () => new Map(), put: () => 'lsetxattr("/s/a","user.small") failed: Operation not supported (95)' };
    new StagedXattrs(xio, false).entry(Buffer.from('/s/a'), 0, list, undefined, (m) => errors.push(m));
    expect(errors).toEqual(['lsetxattr("/s/a","user.small") failed: Operation not supported (95)']);
  });
});
