// --iconv's conversions (native/iconv.c) as engine/charset.ts relies on them, and as rsync's iconvbufs
// behaves: a whole name converted, an invalid sequence ending the conversion with EILSEQ and an
// incomplete one at the end with EINVAL (the prefix converted so far given back), or both copied
// through byte by byte under rsync's ICB_INCLUDE_BAD / ICB_INCLUDE_INCOMPLETE (native/iconv.h's flags);
// an unknown charset refused with iconv_open's errno; the locale's charset read from the environment.
// NameCharsets' three conversions (to the destination, back to the sender, a deleted name's line) are
// checked against what rsync 3.5 prints and writes (test/e2e/iconv.test.ts compares whole runs).

import { constants as osConstants } from 'node:os';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NameCharsets } from '../../src/engine/charset.js';
import { addonOrReason } from './engines.js';

const E = osConstants.errno;
const L = (s: string): Buffer => Buffer.from(s, 'latin1');
const U = (s: string): Buffer => Buffer.from(s, 'utf8');
const addon = addonOrReason();

describe.skipIf(typeof addon === 'string')('native iconv', () => {
  const a = addon as Exclude<typeof addon, string>;
  const open = (to: string, from: string): object => {
    const h = a.iconvOpen!(to, from);
    if (typeof h === 'number') throw new Error(`iconvOpen ${to} ${from}: ${h}`);
    return h;
  };

  it('converts whole names both ways between latin1 and UTF-8, ASCII unchanged', () => {
    expect(a.iconvConvert!(open('UTF-8', 'latin1'), L('dossier é/fichier ü'))).toEqual(U('dossier é/fichier ü'));
    expect(a.iconvConvert!(open('latin1', 'UTF-8'), U('dossier é/fichier ü'))).toEqual(L('dossier é/fichier ü'));
    expect(a.iconvConvert!(open('UTF-8', 'utf8'), U('ascii/only'))).toEqual(U('ascii/only'));
    // Longer than twice its input would fit the first buffer: the output grows (E2BIG handled).
    const long = L('é'.repeat(5000));
    const wide = a.iconvConvert!(open('UTF-32', 'latin1'), long);
    expect(Buffer.isBuffer(wide) && wide.length).toBe(4 + 4 * 5000);
  });

  it('stops at an invalid sequence (EILSEQ) or an incomplete one at the end (EINVAL), giving back the prefix', () => {
    const h = open('UTF-8', 'UTF-8');
    expect(a.iconvConvert!(h, L('ab\xe9cd'))).toEqual({ errno: E.EILSEQ, out: U('ab') });
    expect(a.iconvConvert!(h, L('abc\xe9'))).toEqual({ errno: E.EINVAL, out: U('abc') });
    expect(a.iconvConvert!(open('latin1', 'UTF-8'), U('eur€'))).toEqual({ errno: E.EILSEQ, out: L('eur') });
  });

  it('copies bad bytes through with INCLUDE_BAD (1), an incomplete tail with INCLUDE_INCOMPLETE (2)', () => {
    const h = open('UTF-8', 'UTF-8');
    expect(a.iconvConvert!(h, L('ab\xe9cd'), 1)).toEqual(L('ab\xe9cd'));
    expect(a.iconvConvert!(h, L('abc\xe9'), 1)).toEqual({ errno: E.EINVAL, out: U('abc') });
    expect(a.iconvConvert!(h, L('abc\xe9'), 3)).toEqual(L('abc\xe9'));
    // The shift state is reset per name: a failed name leaves nothing behind for the next one.
    expect(a.iconvConvert!(h, U('é'))).toEqual(U('é'));
  });

  it('refuses an unknown charset with iconv_open\'s errno', () => {
    expect(a.iconvOpen!('UTF-8', 'no-such-charset')).toBe(E.EINVAL);
    expect(a.iconvOpen!('no-such-charset', 'UTF-8')).toBe(E.EINVAL);
    // A name no charset has: too long, or cut short by a NUL.
    expect(a.iconvOpen!('UTF-8', 'x'.repeat(5000))).toBe(E.EINVAL);
    expect(a.iconvOpen!('UTF-8', 'latin1\u0000x')).toBe(E.EINVAL);
  });

  it('names the locale charset from the environment, as `locale charmap` does', () => {
    const want = execFileSync('locale', ['charmap'], { encoding: 'utf8' }).trim();
    expect(a.iconvCharset!()).toBe(want);
  });

  it('NameCharsets: to the destination, back to the sender, deleted lines as rsync prints them', () => {
    const n = NameCharsets.open({ local: 'latin1', remote: 'utf8' });
    if (!(n instanceof NameCharsets)) throw new Error(n.message);
    expect(n.toDest(L('café'))).toEqual(U('café'));
    expect(n.toSource(U('café'))).toEqual(L('café'));
    // rsync's client runs a deletion's name through its ic_send: UTF-8 bytes read as latin1.
    expect(n.deletedLine(U('zzé'))).toEqual(U('zzÃ©'));
    expect(n.deletedLine(L('yy\xe9'))).toEqual(U('yyé'));
    expect(n.linkTarget(L('a/é'))).toEqual(Buffer.concat([L('a/é'), Buffer.alloc(1), U('a/é')]));
    expect(n.linkTarget(L('ascii'))).toEqual(L('ascii'));
    const back = NameCharsets.open({ local: 'utf8', remote: 'latin1' });
    if (!(back instanceof NameCharsets)) throw new Error(back.message);
    expect(back.toDest(L('tail\xe9'))).toEqual({ side: 'sender', errno: E.EINVAL, name: L('tail\xe9') });
    expect(back.toDest(U('eur€'))).toEqual({ side: 'Receiver', errno: E.EILSEQ, name: U('eur€') });
    expect(NameCharsets.open({ local: 'latin1', remote: 'bogus' })).toEqual({ message: 'iconv_open("UTF-8", "bogus") failed', unsupported: true });
    expect(NameCharsets.open({ local: 'UTF-16', remote: 'utf8' })).toMatchObject({ unsupported: false });
  });
});
