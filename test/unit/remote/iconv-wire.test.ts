// remote/iconv-wire.ts: the list's indexes as sent (sentOrder), the sending client's names for the wire
// (wireEntries: what does not convert is left out with everything beneath it, in rsync's words), and
// the client's charset it goes through (engine/charset.ts ClientCharset: a peer's line as rsync's
// client prints it under --iconv).

import { describe, expect, it } from 'vitest';
import { ClientCharset } from '../../../src/engine/charset.js';
import { charsetLine, sentOrder, symlinkIconv, wireEntries } from '../../../src/remote/iconv-wire.js';
import { Cf } from '../../../src/remote/handshake.js';
import type { RemoteEntry } from '../../../src/remote/flist.js';
import type { SendEntry } from '../../../src/remote/flist-send.js';
import { outputBytes } from '../../../src/util/names.js';

const open = (set: string): ClientCharset => {
  const cs = ClientCharset.open(set);
  if (!(cs instanceof ClientCharset)) throw new Error(cs.message);
  return cs;
};
const L1 = 'latin1';
const ent = (name: string, mode = 0o100644, link?: string): SendEntry => ({
  name: Buffer.from(name, L1),
  path: Buffer.from(`/src/${name}`, L1),
  mode,
  size: 0,
  mtime: 0,
  mtimeNsec: 0,
  topDir: false,
  ...(link !== undefined ? { link: Buffer.from(link, L1) } : {}),
});

describe('sentOrder', () => {
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => ent(n) as RemoteEntry) as [RemoteEntry, RemoteEntry, RemoteEntry, RemoteEntry];
  // Sent c, a, d, b; sorted a, b, c, with d cleared (a duplicate).
  const order = sentOrder([c, a, d, b], [a, b, c, undefined]);
  it('turns a sorted place into the index as sent, and back', () => {
    expect([0, 1, 2].map(order.toWire)).toEqual([1, 3, 0]);
    expect([0, 1, 3].map(order.fromWire)).toEqual([2, 0, 1]);
  });
  it('maps an index with no place in the sorted list past its end, never to a negative marker', () => {
    expect(order.fromWire(2)).toBe(4 + 2);
    expect(order.fromWire(9)).toBe(4 + 9);
  });
});

describe('wireEntries', () => {
  const utf8 = open('UTF-8');
  it('converts names and targets, keeping the local ones for sorting and lines', () => {
    const latin = open('ISO-8859-1');
    const got = wireEntries([ent('.', 0o40755), ent('caf\xe9'), ent('l', 0o120777, 'caf\xe9')], latin, true, () => {});
    expect(got.failed).toBe(false);
    expect(got.entries.map((e) => [e.name.toString(L1), e.wireName?.toString(L1), e.wireLink?.toString(L1)])).toEqual([
      ['.', undefined, undefined],
      ['caf\xe9', 'caf\xc3\xa9', undefined],
      ['l', undefined, 'caf\xc3\xa9'],
    ]);
    // Without the symlink-iconv flag, a target goes as it is.
    expect(wireEntries([ent('l', 0o120777, 'caf\xe9')], latin, false, () => {}).entries[0]!.wireLink).toBeUndefined();
  });
  it('leaves out what does not convert, a directory with all beneath it, in rsync\'s words', () => {
    const said: string[] = [];
    const got = wireEntries([ent('a'), ent('d\xe9', 0o40755), ent('d\xe9/x'), ent('d\xe9/y/z'), ent('d\xe9x'), ent('f\xff'), ent('l', 0o120777, 't\xe9'), ent('z')], utf8, true, (m) => said.push(m));
    expect(got.failed).toBe(true);
    expect(got.entries.map((e) => e.name.toString(L1))).toEqual(['a', 'z']);
    expect(said).toEqual([
      '[sender] cannot convert filename: d\\#351 (Invalid argument)',
      '[sender] cannot convert filename: d\\#351x (Invalid or incomplete multibyte or wide character)',
      '[sender] cannot convert filename: f\\#377 (Invalid or incomplete multibyte or wide character)',
      '[sender] cannot convert symlink data for: "/src/l" (Invalid argument)',
    ]);
  });
});

describe('the flags and lines around it', () => {
  it('converts targets only when both sides have iconv and the server set the flag', () => {
    const cs = open('UTF-8');
    expect(symlinkIconv(cs, Cf.SymlinkIconv | Cf.SafeFlist)).toBe(true);
    expect(symlinkIconv(cs, Cf.SafeFlist)).toBe(false);
    expect(symlinkIconv(undefined, Cf.SymlinkIconv)).toBe(false);
  });
  it('names the charset at -vv as rsync does, the locale\'s for "."', () => {
    expect(charsetLine('sender', open('ISO-8859-1'))).toBe('[sender] charset: ISO-8859-1\n');
    expect(charsetLine('Receiver', open('.'))).toMatch(/^\[Receiver\] charset: \S+\n$/);
  });
});

describe('ClientCharset.peerText: a peer\'s line as rsync\'s client prints it', () => {
  const latin = open('ISO-8859-1');
  const printed = (s: Buffer): Buffer => {
    const t = outputBytes(latin.peerText(s));
    return Buffer.isBuffer(t) ? t : Buffer.from(t, L1);
  };
  it('in the local charset, raw', () => {
    expect(printed(Buffer.from('deleting caf\u00e9')).toString(L1)).toBe('deleting caf\xe9');
  });
  it('a character the charset lacks, or bytes that are no UTF-8, each byte escaped; control bytes escaped', () => {
    expect(printed(Buffer.from('x \u0436 \u00e9')).toString(L1)).toBe('x \\#320\\#266 \xe9');
    expect(printed(Buffer.from('a\xffb\x1b[c', L1)).toString(L1)).toBe('a\\#377b\\#033[c');
    expect(printed(Buffer.from('tab\there \\#123', L1)).toString(L1)).toBe('tab\there \\#134#123');
  });
  it('converts an argument for -s keeping what does not convert', () => {
    expect(open('UTF-8').toWireKeepingBad(Buffer.from('a\xe9b', L1)).toString(L1)).toBe('a\xe9b');
    expect(latin.toWireKeepingBad(Buffer.from('a\xe9b', L1)).toString(L1)).toBe('a\xc3\xa9b');
  });
});
