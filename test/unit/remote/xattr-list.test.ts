// The xattr lists of the file list (src/remote/xattr-list.ts): what the sender writes the receiver reads
// back, identical lists go as an index into the lists sent before, values over 32 bytes as their MD5,
// the receiver's namespace rule, the request and answer for abbreviated values, and a hostile peer's
// counts, lengths and names ending the session with rsync's exit codes.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Cursor, ProtocolError, varint } from '../../../src/remote/wire.js';
import {
  XattrReceiver,
  XattrSender,
  encodeAnswer,
  encodeRequest,
  readAnswer,
  readRequest,
  senderItems,
  type XattrItem,
} from '../../../src/remote/xattr-list.js';

const b = (s: string): Buffer => Buffer.from(s);
const long = Buffer.alloc(100, 0x61);
const items = (pairs: [string, Buffer][]): XattrItem[] =>
  senderItems(
    pairs.map(([n]) => b(n)),
    pairs.map(([, v]) => v),
  );

function protocolError(f: () => unknown): ProtocolError {
  try {
    f();
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
  throw new Error('no ProtocolError');
}

describe('xattr lists', () => {
  it('the sender sorts by name, drops system.* and rsync records, and abbreviates values over 32 bytes', () => {
    const it1 = items([
      ['user.z', b('1')],
      ['system.posix_acl_access', b('x')],
      ['user.rsync.%stat', b('100644 0,0 0:0')],
      ['user.a', long],
      ['trusted.t', Buffer.alloc(32, 1)],
    ]);
    expect(it1.map((i) => i.name.toString())).toEqual(['trusted.t', 'user.a', 'user.z']);
    expect(it1.map((i) => i.num)).toEqual([1, 2, 3]);
    expect(it1[1]!.sum).toEqual(createHash('md5').update(long).digest());
    expect(it1[0]!.sum).toBeUndefined();
  });

  it('writes each new list in full and a repeated one as its index; the receiver reads both', () => {
    const send = new XattrSender();
    const one = items([
      ['user.a', long],
      ['user.b', b('small')],
    ]);
    const first = send.encode(one);
    const again = send.encode(items([
      ['user.b', b('small')],
      ['user.a', long],
    ]));
    const empty = send.encode([]);
    const emptyAgain = send.encode([]);
    expect([first.ndx, again.ndx, empty.ndx, emptyAgain.ndx]).toEqual([0, 0, 1, 1]);
    // rsync's bytes: 0 (a new list), count, then per item name length (with its NUL), value length,
    // the name and NUL, the value or its 16-byte sum.
    expect(first.bytes).toEqual(
      Buffer.concat([varint(0), varint(2), varint(7), varint(100), b('user.a\0'), createHash('md5').update(long).digest(), varint(7), varint(5), b('user.b\0'), b('small')]),
    );
    expect(again.bytes).toEqual(varint(1));
    expect(emptyAgain.bytes).toEqual(varint(2));

    const recv = new XattrReceiver({ root: false });
    const c = new Cursor(Buffer.concat([first.bytes, again.bytes, empty.bytes, emptyAgain.bytes]));
    const got = [0, 1, 2, 3].map(() => recv.commit(recv.read(c)));
    expect(got).toEqual([0, 0, 1, 1]);
    const list = recv.lists[0]!;
    expect(list.map((i) => [i.name.toString(), i.len, i.num])).toEqual([
      ['user.a', 100, 1],
      ['user.b', 5, 2],
    ]);
    expect(list[0]!.value).toBeUndefined();
    expect(list[0]!.sum).toEqual(createHash('md5').update(long).digest());
    expect(list[1]!.value).toEqual(b('small'));
  });

  it('a receiver that is not root keeps only user.*; root keeps the other namespaces; nobody keeps rsync records', () => {
    const bytes = new XattrSender().encode(
      items([
        ['trusted.t', b('t')],
        ['user.u', b('u')],
        ['security.s', b('s')],
      ]),
    ).bytes;
    const names = (root: boolean): string[] => {
      const r = new XattrReceiver({ root });
      return r.lists[r.commit(r.read(new Cursor(bytes)))]!.map((i) => i.name.toString());
    };
    expect(names(false)).toEqual(['user.u']);
    expect(names(true)).toEqual(['security.s', 'trusted.t', 'user.u']);
    const rec = Buffer.concat([varint(0), varint(1), varint(17), varint(1), b('user.rsync.%stat\0'), b('x')]);
    const r = new XattrReceiver({ root: true });
    expect(r.lists[r.commit(r.read(new Cursor(rec)))]).toEqual([]);
    // -XX: kept.
    const all = new XattrReceiver({ root: false, all: true });
    expect(all.lists[all.commit(all.read(new Cursor(rec)))]!.map((i) => i.name.toString())).toEqual(['user.rsync.%stat']);
  });

  it('-XX: the sender lists rsync records too (still no system.*)', () => {
    const names = [b('user.rsync.%stat'), b('system.posix_acl_access'), b('user.a')];
    const values = [b('100644 0,0 0:0'), b('x'), b('1')];
    expect(senderItems(names, values, false, true).map((i) => i.name.toString())).toEqual(['user.a', 'user.rsync.%stat']);
  });

  it('--fake-super: the sender sends user.rsync.NAME as NAME, the receiver keeps other namespaces as user.rsync.NAME', () => {
    const sent = items([
      ['user.rsync.trusted.k', b('k')],
      ['trusted.t', b('t')],
      ['user.u', b('u')],
    ]);
    expect(senderItems(sent.map((i) => i.name), sent.map((i) => i.value!), true).map((i) => [i.name.toString(), i.num])).toEqual([
      ['trusted.t', 1],
      ['trusted.k', 2],
      ['user.u', 3],
    ]);
    const bytes = new XattrSender().encode(senderItems(sent.map((i) => i.name), sent.map((i) => i.value!), true)).bytes;
    const r = new XattrReceiver({ root: false, fake: true });
    const got = r.lists[r.commit(r.read(new Cursor(bytes)))]!;
    expect(got.map((i) => [i.name.toString(), i.num])).toEqual([
      ['user.rsync.trusted.k', 2],
      ['user.rsync.trusted.t', 1],
      ['user.u', 3],
    ]);
  });

  it('x-rules: the sender lists what they let through (system.* too) and still no rsync records without -XX', () => {
    const names = [b('system.posix_acl_access'), b('user.skip'), b('user.rsync.%stat'), b('user.a')];
    const values = [b('x'), b('s'), b('100644 0,0 0:0'), b('1')];
    const excluded = (n: Buffer): boolean => n.equals(b('user.skip'));
    expect(senderItems(names, values, false, false, excluded).map((i) => i.name.toString())).toEqual(['system.posix_acl_access', 'user.a']);
  });

  it('x-rules: the receiver drops what they exclude and, not root, keeps other namespaces as user.rsync.NAME', () => {
    const bytes = new XattrSender().encode(
      items([
        ['trusted.t', b('t')],
        ['user.skip', b('s')],
        ['user.u', b('u')],
      ]),
    ).bytes;
    const excluded = (n: Buffer): boolean => n.equals(b('user.skip'));
    const names = (root: boolean): string[] => {
      const r = new XattrReceiver({ root, excluded });
      return r.lists[r.commit(r.read(new Cursor(bytes)))]!.map((i) => i.name.toString());
    };
    expect(names(false)).toEqual(['user.rsync.trusted.t', 'user.u']);
    expect(names(true)).toEqual(['trusted.t', 'user.u']);
  });

  it('a short read stores nothing: the same bytes read again give the same list index', () => {
    const bytes = new XattrSender().encode(items([['user.a', long]])).bytes;
    const r = new XattrReceiver({ root: false });
    expect(() => r.read(new Cursor(bytes.subarray(0, bytes.length - 1)))).toThrow();
    expect(r.lists).toEqual([]);
    expect(r.commit(r.read(new Cursor(bytes)))).toBe(0);
  });

  it('asks for abbreviated values by number and reads back only what it asked for', () => {
    const list = items([
      ['user.a', long],
      ['user.b', b('small')],
      ['user.c', Buffer.alloc(40, 0x63)],
    ]);
    const req = encodeRequest([3, 1]);
    expect(req).toEqual(Buffer.from([1, 2, 0]));
    const nums = readRequest(new Cursor(req), list);
    expect(nums).toEqual([1, 3]);
    const answer = encodeAnswer(list, nums);
    expect(readAnswer(new Cursor(answer), new Set([1, 3]))).toEqual(
      new Map([
        [1, long],
        [3, Buffer.alloc(40, 0x63)],
      ]),
    );
    // A value that was not abbreviated, or a number past the list, is refused by the sender (exit 2).
    expect(protocolError(() => readRequest(new Cursor(Buffer.from([2, 0])), list)).code).toBe(2);
    expect(protocolError(() => readRequest(new Cursor(Buffer.from([9, 0])), list)).code).toBe(2);
    // An answer for a value never asked for (exit 2).
    expect(protocolError(() => readAnswer(new Cursor(answer), new Set([1]))).code).toBe(2);
  });

  describe('a hostile sender', () => {
    const read = (bytes: Buffer, lists = 0): ProtocolError => {
      const r = new XattrReceiver({ root: true });
      for (let i = 0; i < lists; i++) r.commit({ items: [] });
      return protocolError(() => r.read(new Cursor(bytes)));
    };
    it('an index past the lists sent is a broken stream (exit 12)', () => {
      expect(read(varint(3), 1).code).toBe(12);
      expect(read(varint(-1)).code).toBe(12);
    });
    it('a count past 65536 (exit 2)', () => {
      expect(read(Buffer.concat([varint(0), varint(65537)])).code).toBe(2);
      expect(read(Buffer.concat([varint(0), varint(-5)])).code).toBe(2);
    });
    it('a name length past 4096, a value past 128 MiB, a negative length (exit 2)', () => {
      expect(read(Buffer.concat([varint(0), varint(1), varint(5000), varint(1)])).code).toBe(2);
      expect(read(Buffer.concat([varint(0), varint(1), varint(7), varint(0x7fffffff)])).code).toBe(2);
      expect(read(Buffer.concat([varint(0), varint(1), varint(7), varint(-1)])).code).toBe(2);
    });
    it('many values that add up past 512 MiB for one file (exit 2), before any of them is read', () => {
      const head = Buffer.concat([varint(0), varint(10)]);
      const one = Buffer.concat([varint(7), varint(100 * 1024 * 1024), b('user.a\0'), Buffer.alloc(16)]);
      expect(read(Buffer.concat([head, ...Array.from({ length: 6 }, () => one)])).code).toBe(2);
    });
    it('a name without its NUL, or empty, is rsync\'s file I/O error (exit 11)', () => {
      expect(read(Buffer.concat([varint(0), varint(1), varint(6), varint(1), b('user.a'), b('x')])).code).toBe(11);
      expect(read(Buffer.concat([varint(0), varint(1), varint(0), varint(1), b('x')])).code).toBe(11);
      expect(read(Buffer.concat([varint(0), varint(1), varint(4), varint(1), b('u\0v\0'), b('x')])).code).toBe(11);
    });
  });
});
