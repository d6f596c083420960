// A small file sent whole in one call of the source (PushSource.sendWhole, src/remote/push.ts) puts on
// the wire exactly what the open-then-read path puts there, also when a file cannot be opened as listed
// (vanished, replaced: the index, flags and sum header already laid out are taken back, MSG_NO_SEND goes
// instead) or has shrunk (zeros and a spoiled sum, rsync's "read errors mapping"), with the same reports.
// A fake receiver asks for every file; the two sources answer alike, one through each path. The push
// takes the one-call path only with the addon's sums (a checksum kind to name), so they are turned on.

import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { addonOrReason } from '../../contract/engines.js';
import { useNativeSums } from '../../../src/remote/checksum.js';
import { Conn } from '../../../src/remote/conn.js';
import { frame } from '../../../src/remote/mux.js';
import { runPush, type PushSource } from '../../../src/remote/push.js';
import type { SendEntry } from '../../../src/remote/flist-send.js';
import { NdxWriter } from '../../../src/remote/ndx.js';
import { int32, varint, vstring } from '../../../src/remote/wire.js';

/** rsync's MPLEX_BASE: a frame's tag byte is the message number plus it. */
const MPLEX_BASE = 7;
const TRANSFER = 1 << 15;
const IS_NEW = 1 << 13;

/** What each listed file holds by the time it is sent (undefined: gone or replaced). */
const now: Record<string, Buffer | undefined> = {
  a: Buffer.from('first file'),
  b: undefined,
  c: Buffer.alloc(20_000, 7),
  d: Buffer.from('short'),
  e: Buffer.alloc(0),
  f: Buffer.alloc(40_000, 9),
};
/** The sizes the walk listed: d has shrunk since, f is larger than one call sends. */
const listed: Record<string, number> = { a: 10, b: 4, c: 20_000, d: 50, e: 0, f: 40_000 };
const names = Object.keys(listed);

const entry = (name: string, mode: number, size = 0): SendEntry => ({ name: Buffer.from(name), path: Buffer.from(`/nowhere/${name}`), mode, size, mtime: 1, mtimeNsec: 0, topDir: name === '.' });

let oneCalls = 0;

function source(oneCall: boolean): PushSource {
  const gone = (e: SendEntry): { message: string; vanished: boolean } => ({ message: `file has vanished: "${e.name.toString()}"`, vanished: true });
  return {
    entries: [entry('.', 0o040755), ...names.map((n) => entry(n, 0o100644, listed[n]))],
    ioError: 0,
    open(e) {
      const data = now[e.name.toString()];
      if (!data) return gone(e);
      return { read: (buf, off, len, pos) => data.copy(buf, off, pos, Math.min(data.length, pos + len)), close: () => {} };
    },
    ...(oneCall
      ? {
          sendWhole(e: SendEntry, buf: Buffer, at: number, len: number, _kind: number, sumAt: number) {
            oneCalls++;
            const data = now[e.name.toString()];
            if (!data) return gone(e);
            const got = data.copy(buf, at, 0, Math.min(len, data.length));
            buf.fill(0, at + got, at + len);
            createHash('md5').update(buf.subarray(at, at + len)).digest().copy(buf, sumAt);
            return got;
          },
        }
      : {}),
  };
}

/** The receiver: the handshake (protocol 31, md5), a request for every file, the phase ends and the goodbye. */
function peerBytes(): Buffer {
  const hello = Buffer.concat([int32(31), varint(0x80 | 0x8), vstring('md5'), int32(1234)]);
  const w = new NdxWriter();
  const asks = names.map((_, i) => Buffer.concat([w.encode(i + 1), Buffer.from([0, (TRANSFER | IS_NEW) >> 8]), int32(0), int32(0), int32(0), int32(0)]));
  return Buffer.concat([hello, frame(0, Buffer.concat([...asks, Buffer.alloc(5)]))]);
}

/** Where the multiplexed stream starts: the first place from which whole frames run to the end. */
function muxStart(all: Buffer): number {
  for (let from = 0; from < 200; from++) {
    let at = from;
    while (at + 4 <= all.length && all[at + 3]! >= MPLEX_BASE) at += 4 + (all.readUInt32LE(at) & 0xffffff);
    if (at === all.length) return from;
  }
  throw new Error('no multiplexed stream');
}

/** Everything the sender wrote after the handshake, data frames joined, other messages listed. */
function demux(all: Buffer, from: number): { data: Buffer; messages: string[] } {
  const data: Buffer[] = [];
  const messages: string[] = [];
  for (let at = from; at < all.length; ) {
    const head = all.readUInt32LE(at);
    const len = head & 0xffffff;
    const body = all.subarray(at + 4, at + 4 + len);
    if (head >>> 24 === MPLEX_BASE) data.push(body);
    else messages.push(`${(head >>> 24) - MPLEX_BASE}:${body.toString('hex')}`);
    at += 4 + len;
  }
  return { data: Buffer.concat(data), messages };
}

async function push(oneCall: boolean): Promise<{ wire: Buffer; errors: string[]; items: string[]; literal: number }> {
  const input = new PassThrough();
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (b: Buffer) => chunks.push(b));
  const conn = new Conn(input, output, () => {});
  input.end(peerBytes());
  const settings = {
    flist: { uid: false, gid: false, links: true, devices: false, specials: false, hardLinks: false, numericIds: true, userName: () => undefined, groupName: () => undefined },
    checksum: false,
    dryRun: false,
    inplace: false,
    filterRules: Buffer.alloc(0),
  };
  const errors: string[] = [];
  const items: string[] = [];
  const report = { item: (e: SendEntry, iflags: number, _x: Buffer | undefined, sent: boolean, wire?: number) => void items.push(`${e.name.toString()} ${iflags} ${sent} ${wire}`), error: (m: string) => void errors.push(m) };
  const stats = await runPush(conn, source(oneCall), settings, report, { ms: 0 });
  return { wire: Buffer.concat(chunks), errors, items, literal: stats.literal };
}

const addon = addonOrReason();

describe.skipIf(typeof addon === 'string')('with the addon', () => {
it('the one-call path sends what the two-call path sends: bytes, MSG_NO_SEND, reports', async () => {
  useNativeSums(addon as Exclude<typeof addon, string>);
  oneCalls = 0;
  const two = await push(false);
  const one = await push(true);
  // a, b, c, d and e: f is too large for one frame and goes the open-then-read way.
  expect(oneCalls).toBe(5);
  // The client's version and checksum names go out before the multiplexed stream, the same from both.
  const hello = muxStart(two.wire);
  expect(muxStart(one.wire)).toBe(hello);
  expect(one.wire.subarray(0, hello).equals(two.wire.subarray(0, hello))).toBe(true);
  const a = demux(two.wire, hello);
  const b = demux(one.wire, hello);
  expect(b.data.equals(a.data)).toBe(true);
  expect(b.messages).toEqual(a.messages);
  // b could not be sent: MSG_NO_SEND (102) with its index; then MSG_IO_ERROR (22): vanished and general.
  expect(a.messages).toEqual([`102:${int32(2).toString('hex')}`, `22:${int32(3).toString('hex')}`]);
  expect(one.errors).toEqual(two.errors);
  expect(two.errors).toEqual(['file has vanished: "b"', expect.stringMatching(/^read errors mapping ".*\/nowhere\/d": No data available \(61\)$/)]);
  expect(one.items).toEqual(two.items);
  expect(one.items.map((l) => l.split(' ')[0])).toEqual(['a', 'c', 'd', 'e', 'f']);
  expect(one.literal).toBe(two.literal);
  // d's zeros after its end are in the stream, its sum spoiled: the data differ from a plain md5 of them.
  const dSent = Buffer.concat([Buffer.from('short'), Buffer.alloc(45)]);
  expect(a.data.includes(Buffer.concat([int32(50), dSent, int32(0)]))).toBe(true);
  expect(a.data.includes(Buffer.concat([int32(50), dSent, int32(0), createHash('md5').update(dSent).digest()]))).toBe(false);
});
});
