// The received file list decoded in C (native/flistdec.c through src/remote/flist-native.ts) against the
// TypeScript decoder (src/remote/flist.ts) alone: lists the installed rsync and the older peers send, for
// every combination of the fields an entry carries, give the same entries, end and id names, whether the
// bytes arrive whole or in pieces; and the hostile-peer fuzzer's random and mutated lists give the same
// outcome both ways (the same entries, then the same "need more bytes" or the same ProtocolError), with
// the input a view of a larger buffer so that a read past its end would show as a difference.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cursor, ProtocolError, Short } from '../../src/remote/wire.js';
import { FlistDecoder, isDir, type FlistOptions, type RemoteEntry } from '../../src/remote/flist.js';
import { useNativeFlist, type NativeFlist } from '../../src/remote/flist-native.js';
import { several } from '../../src/remote/listing.js';
import { Cf } from '../../src/remote/handshake.js';
import { LIST_OPTS, peerRsync, peersAvailable, serveList } from '../helpers/rsync-server.js';
import { addonOrReason } from './engines.js';

const addon = addonOrReason();
const decode = typeof addon === 'string' ? undefined : addon.flistDecode;
const nativeFlist: NativeFlist | undefined = decode && { flistDecode: decode };

interface Outcome {
  entries: string[];
  end?: number;
  users?: string;
  groups?: string;
  /** 'short' (the bytes ran out mid-entry) or the error's class, code and message. */
  stop?: string;
  /** Entries the C decoder made (to show the test exercised it). */
  fast: number;
}

const show = (e: RemoteEntry): string =>
  JSON.stringify({
    ...e,
    name: e.name.toString('latin1'),
    link: e.link?.toString('latin1'),
    sum: e.sum?.toString('hex'),
    acls: undefined,
  });
const names = (m: Map<number, Buffer>): string => JSON.stringify([...m].map(([k, v]) => [k, v.toString('latin1')]));

/** Safety checks every decoded entry passes, by either decoder. */
function safe(e: RemoteEntry): void {
  const name = e.name.toString('latin1');
  const bad =
    name.startsWith('/') || name.includes('\0') || name.split('/').includes('..') || name.split('/').includes('') ||
    e.name.length >= 1024 || e.size < 0 || e.mtimeNsec < 0 || e.mtimeNsec >= 1e9 || (name === '.' && !isDir(e.mode)) ||
    (e.link !== undefined && (e.link.length === 0 || e.link.length >= 1024));
  if (bad) throw new Error(`unsafe entry decoded: ${JSON.stringify(name)} mode ${e.mode.toString(8)}`);
}

/**
 * Decodes `bytes` as a receiving client does (several() per read, then the id lists), the bytes arriving
 * `step` at a time (0: all at once), each read's input a view followed by garbage in a larger buffer.
 */
function decodeAll(bytes: Buffer, o: FlistOptions, native: boolean, step = 0, garbage = 0xa5): Outcome {
  useNativeFlist(native ? nativeFlist : undefined);
  let d: FlistDecoder;
  try {
    d = new FlistDecoder(o);
  } finally {
    useNativeFlist(undefined);
  }
  let fast = 0;
  const counting = (c: Cursor): ReturnType<typeof several> => {
    const before = d.entries.length;
    const viaTs = d.next.bind(d);
    let ts = 0;
    d.next = (cc: Cursor) => {
      const got = viaTs(cc);
      if (!('end' in got)) ts++;
      return got;
    };
    try {
      return several(d, c);
    } finally {
      d.next = viaTs;
      fast += d.entries.length - before - ts;
    }
  };
  const out: Outcome = { entries: [], fast: 0 };
  let consumed = 0;
  let upto = step ? 0 : bytes.length;
  let phase: 'list' | 'ids' = 'list';
  try {
    for (let rounds = 0; rounds < bytes.length + 10; rounds++) {
      if (step) upto = Math.min(bytes.length, upto + step);
      const held = Buffer.alloc(upto - consumed + 64, garbage);
      bytes.copy(held, 0, consumed, upto);
      const c = new Cursor(held.subarray(0, upto - consumed));
      try {
        if (phase === 'list') {
          const got = counting(c);
          consumed += c.pos;
          if ('end' in got) {
            out.end = got.ioError;
            phase = 'ids';
          }
        } else {
          d.idLists(c);
          consumed += c.pos;
          break;
        }
      } catch (e) {
        if (!(e instanceof Short)) throw e;
        if (upto === bytes.length) {
          out.stop = 'short';
          break;
        }
      }
    }
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    out.stop = `${e.constructor.name} ${e.code}: ${e.message}`;
  }
  for (const e of d.entries) safe(e);
  out.entries = d.entries.map(show);
  out.users = names(d.userNames);
  out.groups = names(d.groupNames);
  out.fast = fast;
  return out;
}

let root: string;
let src: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-flistdec-'));
  src = path.join(root, 'src');
  const w = (rel: string, data: string | Buffer = rel): void => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), data);
  };
  for (const n of ['a', 'a.b', 'a b', 'A', 'b', 'z', 'é', '\x01ctl', 'nl\nname']) w(n);
  for (const d of ['d', 'd.x', 'dd']) w(`${d}/f`);
  w('d/sub/deep/file', 'deep');
  w(`long/${'n'.repeat(250)}`, 'long name');
  w(`long/${'n'.repeat(250)}2`, 'a long shared prefix');
  w(`long/${'m'.repeat(255)}/${'k'.repeat(255)}/${'j'.repeat(255)}`, 'past 255 bytes');
  for (let i = 0; i < 300; i++) w(`wide/f${(i * 7919) % 1000}`, 'x'.repeat(i));
  fs.mkdirSync(path.join(src, 'empty'));
  fs.symlinkSync('a', path.join(src, 'ln'));
  fs.symlinkSync(`/${'t'.repeat(900)}`, path.join(src, 'd', 'long-link'));
  fs.linkSync(path.join(src, 'b'), path.join(src, 'd', 'hard-b'));
  execFileSync('mkfifo', [path.join(src, 'fifo')]);
  execFileSync('mknod', [path.join(src, 'chr'), 'c', '1', '3']);
  execFileSync('mknod', [path.join(src, 'blk'), 'b', '7', '200']);
  execFileSync('mknod', [path.join(src, 'd', 'blk2'), 'b', '7', '201']);
  fs.truncateSync(path.join(src, 'z'), 5 * 2 ** 30 + 7);
  fs.chownSync(path.join(src, 'z'), 65534, 65534);
  fs.chownSync(path.join(src, 'dd', 'f'), 7, 0);
  fs.utimesSync(path.join(src, 'A'), new Date(-86_400_000), new Date(-86_400_000 * 3));
  fs.utimesSync(path.join(src, 'a.b'), 1_600_000_000.5, 1_600_000_000.123456);
  fs.chmodSync(path.join(src, 'a.b'), 0o4751);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The options rsync's listing session agreed on, for decoding its recorded bytes again. */
function optionsOf(got: Awaited<ReturnType<typeof serveList>>, opts: typeof LIST_OPTS): FlistOptions {
  const s = got.session;
  return {
    ...opts,
    checksumLen: opts.checksumLen ? 16 : 0,
    protocol: s.protocol,
    id0Names: (s.compat & Cf.Id0Names) !== 0,
    varintFlags: (s.compat & Cf.VarintFlistFlags) !== 0,
    safeFlist: s.protocol >= 31 || (s.compat & Cf.SafeFlist) !== 0,
  };
}

const CASES: { flags: string; opts: Partial<typeof LIST_OPTS> }[] = [
  { flags: '-logDtpr', opts: {} },
  { flags: '-ltpr', opts: { uid: false, gid: false, devices: false, specials: false } },
  { flags: '-logDtprH', opts: { hardLinks: true } },
  { flags: '-logDtprc', opts: { checksumLen: 16 } },
  { flags: '-logDtprU', opts: { atimes: true } },
];

describe.skipIf(!nativeFlist)('the C decoder gives the TypeScript decoder\'s entries', () => {
  for (const { flags, opts } of CASES) {
    for (const rsync of ['rsync', '3.1.3', '3.2.7']) {
      // -U came with rsync 3.2.
      it.skipIf((rsync !== 'rsync' && !peersAvailable) || (rsync === '3.1.3' && opts.atimes))(`a list rsync ${rsync} sends with ${flags} ${JSON.stringify(opts)}`, async () => {
        const o = { ...LIST_OPTS, ...opts };
        // -c reads every file: not the 5 GiB one (the 301 entries of wide/ then).
        const got = await serveList(o.checksumLen ? `${src}/wide/` : `${src}/`, flags, o, rsync === 'rsync' ? 'rsync' : peerRsync(rsync));
        expect(got.exitCode).toBe(0);
        const fo = optionsOf(got, o);
        const ts = decodeAll(got.wire, fo, false);
        expect(ts.stop).toBeUndefined();
        expect(ts.entries.length).toBeGreaterThan(300);
        for (const step of [0, 7, 301, 4096]) {
          const c = decodeAll(got.wire, fo, true, step);
          expect({ ...c, fast: 0 }, `${step}-byte pieces`).toEqual({ ...ts, fast: 0 });
          expect(c.fast, 'the C decoder made most of the entries').toBeGreaterThan(ts.entries.length / 2);
        }
      });
    }
  }
});

describe.skipIf(!nativeFlist)('the decoder fuzzer, both decoders', () => {
  it('random and mutated lists: the same entries and the same outcome, no unsafe entry', async () => {
    const seeds: { wire: Buffer; o: FlistOptions }[] = [];
    for (const { flags, opts } of CASES) {
      const o = { ...LIST_OPTS, ...opts };
      const got = await serveList(o.checksumLen ? `${src}/dd/` : `${src}/d/`, flags, o);
      seeds.push({ wire: got.wire, o: optionsOf(got, o) });
    }
    let seed = 4242;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    let fast = 0;
    for (let round = 0; round < 1200; round++) {
      const { wire, o } = seeds[round % seeds.length]!;
      const base = Buffer.from(wire);
      let b: Buffer;
      switch (round % 6) {
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
        case 4: // slashes, dots and NULs where names go
          b = base;
          for (let k = 0; k < 1 + rand(6); k++) b[rand(b.length)] = [0x2f, 0x2e, 0][rand(3)]!;
          break;
        default: // big numbers where lengths go
          b = base;
          for (let k = 0; k < 3; k++) b[rand(b.length)] = 0xf0 | rand(16);
      }
      for (const varintFlags of [true, false]) {
        const opts = { ...o, varintFlags, relative: round % 4 === 0 };
        const ts = decodeAll(b, opts, false);
        const step = [0, 13, 200][round % 3]!;
        const c = decodeAll(b, opts, true, step, rand(256));
        if (JSON.stringify({ ...c, fast: 0 }) !== JSON.stringify({ ...ts, fast: 0 })) {
          expect({ ...c, fast: 0 }, `round ${round}, varint flags ${varintFlags}, ${step}-byte pieces: ${b.toString('hex')}`).toEqual({ ...ts, fast: 0 });
        }
        fast += c.fast;
      }
    }
    expect(fast, 'the C decoder made entries in the fuzzer').toBeGreaterThan(2_000);
  });
});
