// src/remote/flist.ts against the real thing: file lists sent by the installed rsync's --server --sender
// for trees with every kind of entry are decoded field by field and compared with lstat; the order is
// rsync's own (its --list-only output on the same tree); hostile entries are refused; and a fuzzer feeds
// the decoder random and mutated lists, where the only acceptable outcomes are an entry that passes every
// safety check, "need more bytes", or a ProtocolError.

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cursor, ProtocolError, Short, varint, varlong, int32 } from '../../../src/remote/wire.js';
import { FlistDecoder, Xmit, cleanName, compareEntries, isDir, type FlistOptions, type RemoteEntry } from '../../../src/remote/flist.js';
import { LIST_OPTS, peerRsync, peersAvailable, serveList } from '../../helpers/rsync-server.js';
import { ClientCharset } from '../../../src/engine/charset.js';
import type { WireCharset } from '../../../src/remote/wire-charset.js';

let root: string;
let src: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-flist-'));
  src = path.join(root, 'src');
  fs.mkdirSync(src);
  const w = (rel: string, data: string | Buffer = rel): void => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), data);
  };
  // Names that sort differently as files, as directories, and byte-wise.
  for (const n of ['a', 'a.b', 'a b', 'A', 'b', 'z', 'a-', 'é', '\x01ctl', 'tab\tname', 'nl\nname']) w(n);
  for (const d of ['d', 'd.x', 'd-', 'dd']) w(`${d}/f`);
  w('d/sub/deep/file', 'deep');
  w('d/sub/x');
  w(`long/${'n'.repeat(250)}`, 'long name');
  w(`long/${'n'.repeat(250)}2`, 'long name shares a prefix');
  fs.mkdirSync(path.join(src, 'empty'));
  fs.symlinkSync('a', path.join(src, 'ln'));
  fs.symlinkSync('/nowhere/at/all', path.join(src, 'd', 'abs-link'));
  fs.linkSync(path.join(src, 'b'), path.join(src, 'd', 'hard-b'));
  execFileSync('mkfifo', [path.join(src, 'fifo')]);
  execFileSync('mknod', [path.join(src, 'chr'), 'c', '1', '3']);
  execFileSync('mknod', [path.join(src, 'blk'), 'b', '7', '200']);
  const big = path.join(src, 'big-sparse');
  fs.closeSync(fs.openSync(big, 'w'));
  fs.truncateSync(big, 5 * 2 ** 30 + 7);
  fs.chownSync(path.join(src, 'z'), 65534, 65534);
  fs.utimesSync(path.join(src, 'A'), new Date(-86_400_000), new Date(-86_400_000 * 3)); // before 1970
  fs.chmodSync(path.join(src, 'a.b'), 0o4751);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const show = (e: RemoteEntry | undefined): string => (e ? e.name.toString('latin1') : '(cleared)');

describe('a file list sent by rsync', () => {
  it('decodes every field as lstat sees it', async () => {
    const got = await serveList(`${src}/`, '-logDtpr');
    expect(got.exitCode).toBe(0);
    expect(got.ioError).toBe(0);
    const entries = got.entries.filter((e): e is RemoteEntry => !!e);
    expect(entries.length).toBeGreaterThan(30);
    for (const e of entries) {
      const p = Buffer.concat([Buffer.from(src + '/'), e.name]);
      const st = fs.lstatSync(p, { bigint: true });
      expect(e.mode, show(e)).toBe(Number(st.mode));
      if (!isDir(e.mode) && !st.isCharacterDevice() && !st.isBlockDevice()) expect(e.size, show(e)).toBe(Number(st.size));
      expect(e.mtime, show(e)).toBe(Number(st.mtimeNs / 1_000_000_000n) - (st.mtimeNs < 0n && st.mtimeNs % 1_000_000_000n !== 0n ? 1 : 0));
      expect(e.uid, show(e)).toBe(Number(st.uid));
      expect(e.gid, show(e)).toBe(Number(st.gid));
      if (st.isSymbolicLink()) expect(e.link?.toString()).toBe(fs.readlinkSync(p).toString());
      if (st.isCharacterDevice() || st.isBlockDevice()) {
        expect(e.rdev).toEqual({ major: Number(st.rdev >> 8n) & 0xfff, minor: Number((st.rdev & 0xffn) | ((st.rdev >> 12n) & 0xfff00n)) });
      }
    }
    const nsec = entries.find((e) => e.name.toString() === 'a')!;
    expect(nsec.mtimeNsec).toBe(Number(fs.lstatSync(path.join(src, 'a'), { bigint: true }).mtimeNs % 1_000_000_000n));
    expect(got.userNames.get(0)?.toString()).toBe('root');
    expect(got.userNames.get(65534)?.toString()).toBe('nobody');
    expect(got.stats?.totalSize).toBe(entries.filter((e) => (e.mode & 0o170000) === 0o100000 || (e.mode & 0o170000) === 0o120000).reduce((n, e) => n + e.size, 0));
  });

  it("comes out in rsync's own order (its --list-only output on the same tree)", async () => {
    const got = await serveList(`${src}/`, '-logDtpr');
    const theirs = execFileSync('rsync', ['-r', '--list-only', '-8', `${src}/`], { encoding: 'latin1' })
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^\S+\s+[\d,]+ \S+ \S+ /, '').replace(/ -> .*$/, ''));
    // rsync escapes newline and control characters (not tab) in printed names; compare with the same escape.
    const ours = got.entries.map((e) => show(e).replace(/[\n\x01]/g, (c) => `\\#${c.charCodeAt(0).toString(8).padStart(3, '0')}`));
    expect(ours).toEqual(theirs);
  });

  it('carries hard-link groups under -H', async () => {
    const got = await serveList(`${src}/`, '-logDtprH', { ...LIST_OPTS, hardLinks: true });
    const byName = new Map(got.sent.map((e, i) => [e.name.toString(), { e, i }]));
    const b = byName.get('b')!;
    const hb = byName.get('d/hard-b')!;
    expect(b.e.hlinkGroup).toBeDefined();
    expect(hb.e.hlinkGroup).toBe(b.e.hlinkGroup);
    expect(byName.get('a')!.e.hlinkGroup).toBeUndefined();
  });

  it("carries each regular file's MD5 under -c", async () => {
    // Not the whole tree: the sender would read the 5 GiB sparse file to checksum it.
    const got = await serveList(`${src}/d/`, '-logDtprc', { ...LIST_OPTS, checksumLen: 16 });
    const a = got.sent.find((e) => e.name.toString() === 'sub/deep/file')!;
    expect(a.sum?.toString('hex')).toBe(createHash('md5').update('deep').digest('hex'));
  });

  it.skipIf(!peersAvailable).each(['3.1.3', '3.2.7'])('decodes the list of rsync %s (built by scripts/build-peers.sh) as that of this rsync', async (version) => {
    const peer = peerRsync(version);
    const theirs = await serveList(`${src}/`, '-logDtprH', { ...LIST_OPTS, hardLinks: true }, peer);
    const ours = await serveList(`${src}/`, '-logDtprH', { ...LIST_OPTS, hardLinks: true });
    expect(theirs.exitCode).toBe(0);
    const strip = (e: RemoteEntry | undefined) => e && { ...e, hlinkGroup: e.hlinkGroup === undefined ? undefined : 'linked' };
    expect(theirs.entries.map(strip)).toEqual(ours.entries.map(strip));
    // 3.1.3 predates the varint flags and the names of id 0; 3.2.7 has both.
    expect(theirs.session.compat & 0x80).toBe(version === '3.1.3' ? 0 : 0x80);
  });

  it('reports a missing source as the sender does: its message, no list, exit 23', async () => {
    const got = await serveList(path.join(root, 'missing'), '-logDtpr');
    // rsync 3.5's server writes its errors to its stderr (which a remote shell hands to the client's).
    expect(got.stderr + got.messages.join('')).toMatch(/link_stat ".*missing" failed: No such file or directory/);
    expect(got.entries).toEqual([]);
    expect(got.stats).toBeUndefined();
    expect(got.exitCode).toBe(23);
  });
});

const OPTS: FlistOptions = { ...LIST_OPTS, hardLinks: true, protocol: 31, id0Names: true, varintFlags: true, safeFlist: true };

/** One entry the way a sender would write it (the fields a test needs). */
function entry(name: string | Buffer, mode: number, opts: { flags?: number; size?: number; link?: string | Buffer; hlinkRef?: number } = {}): Buffer {
  const n = Buffer.from(name);
  // A zero flags word is the end marker: a sender always sets at least one bit (here TOP_DIR, harmless on a file).
  const flags = (opts.flags ?? Xmit.TopDir) | (n.length > 255 ? Xmit.LongName : 0);
  const parts = [varint(flags), n.length > 255 ? varint(n.length) : Buffer.from([n.length]), n];
  if (opts.hlinkRef !== undefined) parts.push(varint(opts.hlinkRef));
  else {
    parts.push(varlong(opts.size ?? 0, 3), varlong(1_700_000_000, 4), int32(mode), varint(0), varint(0));
    if (opts.link !== undefined) parts.push(varint(Buffer.from(opts.link).length), Buffer.from(opts.link));
  }
  return Buffer.concat(parts);
}

function decodeAll(bytes: Buffer, opts = OPTS): RemoteEntry[] {
  const d = new FlistDecoder(opts);
  const c = new Cursor(bytes);
  for (;;) {
    const e = d.next(c);
    if ('end' in e) return d.entries;
  }
}

const END = Buffer.from([0, 0]);

describe('a hostile sender', () => {
  it.each([
    ['../etc/passwd', 4],
    ['a/../../x', 4],
    ['/etc/passwd', 4],
    ['a/..', 4],
  ])('cannot name %s', (name, code) => {
    const err = (() => {
      try {
        decodeAll(Buffer.concat([entry(name, 0o100644), END]));
      } catch (e) {
        return e as ProtocolError;
      }
      throw new Error('accepted');
    })();
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(/unsafe pathname/);
  });

  it('cannot hide a NUL in a name', () => {
    expect(() => decodeAll(Buffer.concat([entry(Buffer.from('a\0b'), 0o100644), END]))).toThrow(/unsafe pathname/);
  });

  it('cannot make the transfer root a file', () => {
    expect(() => decodeAll(Buffer.concat([entry('.', 0o100644), END]))).toThrow(ProtocolError);
  });

  it('cannot send an unknown file type', () => {
    expect(() => decodeAll(Buffer.concat([entry('x', 0o070644), END]))).toThrow(/invalid file mode/);
  });

  it('cannot point a hard link forward or at itself', () => {
    const ok = entry('a', 0o100644, { flags: Xmit.Hlinked | Xmit.HlinkFirst });
    expect(() => decodeAll(Buffer.concat([ok, entry('b', 0o100644, { flags: Xmit.Hlinked, hlinkRef: 1 }), END]))).toThrow(/hard-link reference out of range/);
    expect(decodeAll(Buffer.concat([ok, entry('b', 0o100644, { flags: Xmit.Hlinked, hlinkRef: 0 }), END]))[1]!.hlinkGroup).toBe(0);
  });

  it('cannot send a name or a symlink target of MAXPATHLEN', () => {
    expect(() => decodeAll(Buffer.concat([entry('n'.repeat(1024), 0o100644), END]))).toThrow(/overflow/);
    expect(() => decodeAll(Buffer.concat([entry('l', 0o120777, { link: 't'.repeat(1024) }), END]))).toThrow(/overflow/);
    expect(decodeAll(Buffer.concat([entry('n'.repeat(1023), 0o100644), END]))).toHaveLength(1);
  });

  it("cannot reuse more of the previous name than there is (XMIT_SAME_NAME)", () => {
    const first = entry('abc', 0o100644);
    const bad = Buffer.concat([varint(Xmit.SameName | Xmit.SameMode | Xmit.SameTime), Buffer.from([10, 1]), Buffer.from('x'), varlong(0, 3), varint(0), varint(0)]);
    expect(() => decodeAll(Buffer.concat([first, bad, END]))).toThrow(/overflow/);
  });
});

describe('names', () => {
  it.each([
    ['.', '.'],
    ['', '.'],
    ['a//b', 'a/b'],
    ['./a/./b/', 'a/b'],
    ['a/.', 'a'],
  ])('%j cleans to %j', (raw, clean) => {
    expect(cleanName(Buffer.from(raw), false).toString()).toBe(clean);
  });

  it('-R names lose their leading slashes', () => {
    expect(cleanName(Buffer.from('//usr/lib'), true).toString()).toBe('usr/lib');
  });

  it('sort with files before subdirectories and a directory as "name/"', () => {
    const e = (name: string, dir = false): RemoteEntry => ({ name: Buffer.from(name), mode: dir ? 0o40755 : 0o100644, size: 0, mtime: 0, mtimeNsec: 0, topDir: false });
    const list = [e('b', true), e('a.b'), e('a', true), e('a/x'), e('c'), e('.', true), e('a.c', true), e('a/y', true), e('a/y/z')];
    expect(list.sort(compareEntries).map((x) => x.name.toString())).toEqual(['.', 'a.b', 'c', 'a.c', 'a', 'a/x', 'a/y', 'a/y/z', 'b']);
  });
});

describe('the decoder fuzzer', () => {
  // Plain checks rather than expect(): the fuzzer makes millions of them.
  const safe = (e: RemoteEntry): void => {
    const name = e.name.toString('latin1');
    const bad =
      name.startsWith('/') || name.includes('\0') || name.split('/').includes('..') || e.name.length >= 1024 ||
      e.size < 0 || e.mtimeNsec < 0 || e.mtimeNsec >= 1e9 || (name === '.' && !isDir(e.mode));
    if (bad) throw new Error(`unsafe entry decoded: ${JSON.stringify(name)} mode ${e.mode.toString(8)}`);
  };

  /** Decodes as the client does, with one sender's flags encoding. */
  const run = (bytes: Buffer, varintFlags: boolean): void => {
    const d = new FlistDecoder({ ...OPTS, varintFlags });
    const c = new Cursor(bytes);
    try {
      for (let i = 0; i <= bytes.length; i++) {
        const e = d.next(c);
        if ('end' in e) {
          d.idLists(c);
          break;
        }
        safe(e);
      }
    } catch (err) {
      if (!(err instanceof Short) && !(err instanceof ProtocolError)) throw err;
    }
  };

  it('survives random bytes and mutations of real lists without a crash or an unsafe entry', async () => {
    const seeds = [
      (await serveList(`${src}/`, '-logDtprH', { ...LIST_OPTS, hardLinks: true })).wire,
      (await serveList(`${src}/d/`, '-logDtprc', { ...LIST_OPTS, checksumLen: 16 })).wire,
    ];
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 4000; round++) {
      const base = Buffer.from(seeds[round % seeds.length]!);
      let b: Buffer;
      switch (round % 5) {
        case 0: // random bytes
          b = Buffer.from(Array.from({ length: rand(400) }, () => rand(256)));
          break;
        case 1: // flipped bytes
          b = base;
          for (let k = 0; k < 1 + rand(8); k++) b[rand(b.length)] = rand(256);
          break;
        case 2: // a cut
          b = base.subarray(0, rand(base.length));
          break;
        case 3: // a spliced repeat
          {
            const at = rand(base.length);
            b = Buffer.concat([base.subarray(0, at), base.subarray(rand(base.length)), base.subarray(at)]);
          }
          break;
        default: // big numbers where lengths go
          b = base;
          for (let k = 0; k < 3; k++) b[rand(b.length)] = 0xf0 | rand(16);
      }
      run(b, true);
      run(b, false);
    }
  });
});

describe('a hostile sender under --iconv: names are checked as converted', () => {
  const open = (set: string): ClientCharset => {
    const cs = ClientCharset.open(set);
    if (!(cs instanceof ClientCharset)) throw new Error(cs.message);
    return cs;
  };
  const reports: string[] = [];
  const withCharset = (charset: WireCharset): FlistOptions => ({ ...OPTS, links: true, names: { charset, links: true, report: (m) => reports.push(m) } });
  /** A charset of the test's own, converting names from the wire by `fromWire` and nothing else. */
  const stub = (fromWire: (b: Buffer) => Buffer): WireCharset => ({ charset: 'X', toWire: (b) => b, fromWire, peerText: (b) => b.toString(), deleted: (b) => b, toWireKeepingBad: (b) => b, fromWireKeepingBad: (b) => b });
  /** glibc transliterates "‥" (U+2025) into ".." and "∕" (U+2215) into "/": names that are harmless on the wire. */
  const translit = withCharset(open('ASCII//TRANSLIT'));
  const refusal = (bytes: Buffer, opts: FlistOptions): ProtocolError => {
    try {
      decodeAll(bytes, opts);
    } catch (e) {
      return e as ProtocolError;
    }
    throw new Error('accepted');
  };

  it.each([['\u2025/etc/passwd'], ['a\u2215\u2025\u2215\u2025\u2215x'], ['\u2215etc\u2215passwd'], ['d/\u2025']])('cannot name %s, which converts into a path out of the destination', (name) => {
    // Accepted as it is on the wire, without the conversion.
    expect(decodeAll(Buffer.concat([entry(Buffer.from(name), 0o100644), END]))).toHaveLength(1);
    const err = refusal(Buffer.concat([entry(Buffer.from(name), 0o100644), END]), translit);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.code).toBe(4);
    expect(err.message).toMatch(/unsafe pathname/);
  });

  it('cannot make a name convert into one with a NUL', () => {
    const nul = stub((b) => Buffer.from(b.toString('latin1').replace('@', '\0'), 'latin1'));
    expect(refusal(Buffer.concat([entry('a@b', 0o100644), END]), withCharset(nul)).message).toMatch(/unsafe pathname/);
  });

  it('cannot make "." a file through the conversion', () => {
    const dot = stub((b) => (b.equals(Buffer.from('z')) ? Buffer.from('.') : b));
    expect(refusal(Buffer.concat([entry('z', 0o100644), END]), withCharset(dot))).toBeInstanceOf(ProtocolError);
  });

  it('ends the list at a name this client cannot convert (rsync 3.5: exit 4), saying which', () => {
    reports.length = 0;
    const err = refusal(Buffer.concat([entry('ok', 0o100644), entry(Buffer.from('\u0436'), 0o100644), END]), withCharset(open('ISO-8859-1')));
    expect(err.code).toBe(4);
    expect(err.message).toBe('ERROR: rejecting unrequested file-list name: ');
    expect(reports).toEqual(['[Receiver] cannot convert filename: \u0436 (Invalid or incomplete multibyte or wide character)']);
  });

  it('drops a symlink whose target does not convert, keeps its place, and ends the list with an I/O error', () => {
    reports.length = 0;
    const d = new FlistDecoder(withCharset(open('ISO-8859-1')));
    const c = new Cursor(Buffer.concat([entry('l', 0o120777, { link: '\u0436' }), entry(Buffer.from('caf\u00e9'), 0o120777, { link: 'caf\u00e9' }), END]));
    let got = d.next(c);
    while (!('end' in got)) got = d.next(c);
    expect(got.ioError).toBe(1);
    expect(d.entries.map((e) => [e.name.toString('latin1'), e.link?.toString('latin1'), e.dropped])).toEqual([
      ['l', '\u00d0\u00b6', true],
      ['caf\xe9', 'caf\xe9', undefined],
    ]);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/^\[Receiver\] cannot convert symlink data for: ".*\/l" \(Invalid or incomplete multibyte or wide character\)$/);
  });
});
