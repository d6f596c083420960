// A push's delta of a large file that mostly matches hands its tokens to the pipe as the search goes,
// not when the file's search is over: each token stands for a block the far receiver must copy, and
// tokens held back leave it idle (src/remote/push.ts, the backpressure's turns; FrameOut.flushNow).
// A fake receiver asks for one file of sixteen turns (64 MiB) with the block sums of that very file (every block matches),
// through a pipe that takes one write per turn of the event loop, as a full pipe does; the source
// records how far the search has read when each write reaches the pipe. Both searches: TypeScript's
// (match.ts) and, with the addon, C's (match-native.ts). The same for a fresh push of many small files,
// which the receiver asks for faster than they are read: the output goes out as they are read, not in
// 4 MiB bursts (the backlog at which the sender waits for the pipe).

import { Writable, PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { addonOrReason } from '../../contract/engines.js';
import { STRONG, useNativeSums } from '../../../src/remote/checksum.js';
import { Conn } from '../../../src/remote/conn.js';
import { frame } from '../../../src/remote/mux.js';
import { runPush, TURN, type PushSource } from '../../../src/remote/push.js';
import type { SendEntry } from '../../../src/remote/flist-send.js';
import { NdxWriter } from '../../../src/remote/ndx.js';
import { int32, varint, vstring } from '../../../src/remote/wire.js';

const TRANSFER = 1 << 15;
/** Sixteen turns' worth. */
const SIZE = 16 * TURN;
const BLENGTH = 32 * 1024;
const S2LENGTH = 16;
const SEED = 1234;

/** Bytes no block of which repeats (a counter through a multiplicative hash). */
function content(): Buffer {
  const b = Buffer.alloc(SIZE);
  let x = 0x9e3779b9;
  for (let i = 0; i < SIZE; i += 4) {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + i) >>> 0;
    b.writeUInt32LE(x, i);
  }
  return b;
}

const data = content();
const entry = (name: string, mode: number, size = 0): SendEntry => ({ name: Buffer.from(name), path: Buffer.from(`/nowhere/${name}`), mode, size, mtime: 1, mtimeNsec: 0, topDir: name === '.' });

/** The receiver: the handshake (protocol 31, md5, the seed), a request for the file with its sums, the ends. */
function peerBytes(): Buffer {
  const hello = Buffer.concat([int32(31), varint(0x80 | 0x8), vstring('md5'), int32(SEED)]);
  const count = SIZE / BLENGTH;
  const sums = Buffer.alloc(count * (4 + S2LENGTH));
  STRONG.get('md5')!.blocks(data, BLENGTH, S2LENGTH, SEED, sums, 0);
  const ask = Buffer.concat([new NdxWriter().encode(1), Buffer.from([0, TRANSFER >> 8]), int32(count), int32(BLENGTH), int32(S2LENGTH), int32(0), sums]);
  return Buffer.concat([hello, frame(0, Buffer.concat([ask, Buffer.alloc(5)]))]);
}

/** The small files' test: how many (each counts its 4 KiB and 4 KiB for its making: sixteen turns in all), how large. */
const SMALL_SIZE = 4096;
const SMALL = (16 * TURN) / (2 * SMALL_SIZE);
const IS_NEW = 1 << 13;

function smallPeerBytes(): Buffer {
  const hello = Buffer.concat([int32(31), varint(0x80 | 0x8), vstring('md5'), int32(SEED)]);
  const w = new NdxWriter();
  const asks = Array.from({ length: SMALL }, (_, i) => Buffer.concat([w.encode(i + 1), Buffer.from([0, (TRANSFER | IS_NEW) >> 8]), int32(0), int32(0), int32(0), int32(0)]));
  return Buffer.concat([hello, frame(0, Buffer.concat([...asks, Buffer.alloc(5)]))]);
}

/**
 * Runs the push; for each write that reached the pipe, how far the source had been read by then (bytes
 * of the one large file, or of all the small ones).
 */
async function push(small = false): Promise<{ readAt: number[]; matched: number; literal: number }> {
  let furthest = 0;
  const source: PushSource = small
    ? {
        entries: [entry('.', 0o040755), ...Array.from({ length: SMALL }, (_, i) => entry(`f${String(i).padStart(5, '0')}`, 0o100644, SMALL_SIZE))],
        ioError: 0,
        open: () => ({
          read: (buf, off, len, pos) => {
            const n = data.copy(buf, off, pos, Math.min(SMALL_SIZE, pos + len));
            furthest += n;
            return n;
          },
          close: () => {},
        }),
      }
    : {
        entries: [entry('.', 0o040755), entry('big', 0o100644, SIZE)],
        ioError: 0,
        open: () => ({
          read: (buf, off, len, pos) => {
            const n = data.copy(buf, off, pos, Math.min(SIZE, pos + len));
            furthest = Math.max(furthest, pos + n);
            return n;
          },
          close: () => {},
        }),
      };
  const readAt: number[] = [];
  // A pipe that takes one write per turn of the event loop: the next write waits in the stream.
  const output = new Writable({
    highWaterMark: 1,
    write(_chunk: Buffer, _enc, done) {
      readAt.push(furthest);
      setImmediate(done);
    },
  });
  const input = new PassThrough();
  const conn = new Conn(input, output, () => {});
  input.end(small ? smallPeerBytes() : peerBytes());
  const settings = {
    flist: { uid: false, gid: false, links: true, devices: false, specials: false, hardLinks: false, numericIds: true, userName: () => undefined, groupName: () => undefined },
    checksum: false,
    dryRun: false,
    inplace: false,
    filterRules: Buffer.alloc(0),
  };
  const report = { item: () => {}, error: (m: string) => void expect.fail(m) };
  const stats = await runPush(conn, source, settings, report, { ms: 0 });
  return { readAt, matched: stats.matched, literal: stats.literal };
}

function expectTurns(r: { readAt: number[]; matched: number; literal: number }): void {
  expect(r.matched).toBe(SIZE);
  expect(r.literal).toBe(0);
  // The writes while the search was under way: a turn at least every TURN or so (16 in all would be
  // every one; the last few may go together at the end). Before the turns, the tokens went out in
  // one write when the search had read the whole file.
  const during = new Set(r.readAt.filter((at) => at > 0 && at < SIZE));
  expect(during.size).toBeGreaterThanOrEqual(8);
  expect(Math.min(...r.readAt.filter((at) => at > 0))).toBeLessThanOrEqual(2 * TURN);
}

it('the TypeScript search hands out its tokens as it goes', async () => {
  expectTurns(await push());
});

it('a fresh push of small files hands out their bytes as they are read', async () => {
  const r = await push(true);
  const all = SMALL * SMALL_SIZE;
  expect(r.literal).toBe(all);
  // Measured: 29 writes amid the reads with the turns, 14 without (the output waited for the 4 MiB
  // backlog to fill and then for all of it to drain).
  const during = new Set(r.readAt.filter((at) => at > 0 && at < all));
  expect(during.size).toBeGreaterThanOrEqual(22);
});

const addon = addonOrReason();

describe.skipIf(typeof addon === 'string')('with the addon', () => {
  it('the C search hands out its tokens as it goes', async () => {
    useNativeSums(addon as Exclude<typeof addon, string>);
    expectTurns(await push());
  });
});
