// A hostile or broken receiver against the push's sender loop (src/remote/push.ts): a fake peer
// answers the handshake and then sends what no rsync sends — an index outside the list, a transfer of
// a directory, an absurd block-sum header, a transfer in the last phase, garbage, or silence — and the
// sender must stop with rsync's exit code, without reading any file it did not list, and never hang.

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Conn } from '../../../src/remote/conn.js';
import { frame } from '../../../src/remote/mux.js';
import { runPush, type PushSource } from '../../../src/remote/push.js';
import type { SendEntry } from '../../../src/remote/flist-send.js';
import { NdxWriter } from '../../../src/remote/ndx.js';
import { ProtocolError, int32, varint, vstring } from '../../../src/remote/wire.js';

const entry = (name: string, mode: number, size = 0): SendEntry => ({ name: Buffer.from(name), path: Buffer.from(`/nowhere/${name}`), mode, size, mtime: 1, mtimeNsec: 0, topDir: name === '.' });

function source(opened: string[]): PushSource {
  return {
    entries: [entry('.', 0o040755), entry('a', 0o100644, 3), entry('d', 0o040755)],
    ioError: 0,
    open(e) {
      opened.push(e.name.toString());
      return { read: (buf, off, len, pos) => Buffer.from('abc').copy(buf, off, pos, pos + len), close: () => {} };
    },
  };
}

/** The peer's handshake (protocol 31, varint flags, md5, a seed), then `after` as multiplexed data. */
function peerBytes(after: Buffer): Buffer {
  const hello = Buffer.concat([int32(31), varint(0x80 | 0x8), vstring('md5'), int32(1234)]);
  return Buffer.concat([hello, frame(0, after)]);
}

async function pushAgainst(after: Buffer, end = true): Promise<{ error: unknown; opened: string[] }> {
  const input = new PassThrough();
  const output = new PassThrough();
  output.resume();
  const conn = new Conn(input, output, () => {});
  const opened: string[] = [];
  input.write(peerBytes(after));
  if (end) input.end();
  const settings = {
    flist: { uid: false, gid: false, links: true, devices: false, specials: false, hardLinks: false, numericIds: true, userName: () => undefined, groupName: () => undefined },
    checksum: false,
    dryRun: false,
    inplace: false,
    filterRules: Buffer.alloc(0),
  };
  const report = { item: () => {}, error: () => {} };
  try {
    await runPush(conn, source(opened), settings, report, { ms: 0 });
    return { error: undefined, opened };
  } catch (e) {
    return { error: e, opened };
  }
}

const ndx = (...n: number[]): Buffer => {
  const w = new NdxWriter();
  return Buffer.concat(n.map((i) => w.encode(i)));
};
const flags = (f: number): Buffer => Buffer.from([f & 0xff, f >> 8]);
const TRANSFER = 1 << 15;

describe('a hostile receiver cannot make the sender misbehave', () => {
  it('an index beyond the list: exit 2, nothing read', async () => {
    const r = await pushAgainst(Buffer.concat([ndx(7), flags(TRANSFER)]));
    expect(r.error).toBeInstanceOf(ProtocolError);
    expect((r.error as ProtocolError).code).toBe(2);
    expect((r.error as ProtocolError).message).toMatch(/Invalid file index: 7/);
    expect(r.opened).toEqual([]);
  });

  it('a transfer of a directory: exit 2, nothing read', async () => {
    const r = await pushAgainst(Buffer.concat([ndx(2), flags(TRANSFER)]));
    expect((r.error as ProtocolError).code).toBe(2);
    expect(r.opened).toEqual([]);
  });

  it.each([
    ['a negative block count', [-1, 700, 16, 0]],
    ['a block longer than rsync allows', [1, 1 << 20, 16, 0]],
    ['a strong sum longer than the digest', [1, 700, 17, 0]],
    ['a remainder beyond the block', [1, 700, 16, 701]],
    ['blocks of length zero', [5, 0, 16, 0]],
  ])('%s in the sum header: exit 2, nothing read', async (_what, head) => {
    const r = await pushAgainst(Buffer.concat([ndx(1), flags(TRANSFER), ...head.map((v) => int32(v))]));
    expect((r.error as ProtocolError).code).toBe(2);
    expect(r.opened).toEqual([]);
  });

  it('a transfer asked for in the last phase: exit 2', async () => {
    const done = Buffer.from([0]);
    const r = await pushAgainst(Buffer.concat([done, done, ndx(1), flags(TRANSFER)]));
    expect((r.error as ProtocolError).code).toBe(2);
    expect((r.error as ProtocolError).message).toMatch(/phase 2/);
  });

  it('an index that overflows 32 bits: exit 2', async () => {
    const r = await pushAgainst(Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff]));
    expect((r.error as ProtocolError).code).toBe(2);
  });

  it('a stream that ends in the middle: the connection error, not a hang', async () => {
    const r = await pushAgainst(Buffer.concat([ndx(1), flags(TRANSFER), int32(1)]));
    expect(r.error).toBeInstanceOf(ProtocolError);
    expect((r.error as ProtocolError).message).toMatch(/connection unexpectedly closed/);
  });

  it('random garbage after the handshake always ends in a protocol error, never a read of an unlisted file', async () => {
    let seed = 42;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 200; i++) {
      const junk = Buffer.from(Array.from({ length: 1 + (i % 60) }, rnd));
      const r = await pushAgainst(junk);
      expect(r.error, `case ${i}: ${junk.toString('hex')}`).toBeInstanceOf(ProtocolError);
      for (const n of r.opened) expect(n).toBe('a');
    }
  });
});
