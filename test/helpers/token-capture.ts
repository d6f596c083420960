// Real rsync traffic with -z, for the oracle tests of the compressed token stream: an rsync client runs
// with a remote shell that starts `rsync --server` here and records both directions; the sender's half
// is then taken apart (handshake, file list, each file's record and token stream) without any of
// arsync's transfer code. A recorded push can also be put back together with other token bytes and
// replayed into a real `rsync --server` receiver.

import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Demux, Msg, dataFrames } from '../../src/remote/mux.js';
import { FlistDecoder, sortAndClean, type RemoteEntry } from '../../src/remote/flist.js';
import { Cursor } from '../../src/remote/wire.js';

export interface Capture {
  /** What the client sent the server, and what the server sent back. */
  c2s: Buffer;
  s2c: Buffer;
  /** The server's command line after the remote shell's host argument. */
  serverArgv: string[];
  exitCode: number;
  stderr: string;
}

/** Runs `rsync args...` with a recording remote shell; files named c2s, s2c and argv land in `dir`. */
export async function capture(dir: string, rsync: string, args: string[], cwd: string): Promise<Capture> {
  const rsh = join(dir, 'tee-rsh.mjs');
  // The server's end exits with the server: a shell pipeline would wait for the client's end to close.
  writeFileSync(
    rsh,
    `#!${process.execPath}
import { spawn } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
const argv = process.argv.slice(3);
writeFileSync(${JSON.stringify(join(dir, 'argv'))}, argv.map((a) => a + '\\0').join(''));
const c2s = createWriteStream(${JSON.stringify(join(dir, 'c2s'))});
const s2c = createWriteStream(${JSON.stringify(join(dir, 's2c'))});
const server = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.on('data', (b) => { c2s.write(b); server.stdin.write(b); });
process.stdin.on('end', () => server.stdin.end());
server.stdin.on('error', () => {});
server.stdout.on('data', (b) => { s2c.write(b); process.stdout.write(b); });
server.on('close', (code) => {
  let open = 2;
  const done = () => { if (--open === 0) process.stdout.write('', () => process.exit(code ?? 1)); };
  c2s.end(done);
  s2c.end(done);
});
`,
  );
  chmodSync(rsh, 0o755);
  const child = spawn(rsync, ['-e', rsh, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  child.stdout.resume();
  const exitCode = await new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
  return {
    c2s: readFileSync(join(dir, 'c2s')),
    s2c: readFileSync(join(dir, 's2c')),
    serverArgv: readFileSync(join(dir, 'argv'), 'latin1').split('\0').slice(0, -1),
    exitCode,
    stderr,
  };
}

/** The bytes before multiplexing starts, in each direction, and what they settled. */
export interface Handshake {
  protocol: number;
  compat: number;
  /** The checksum whose file sum ends each file's tokens, and its length. */
  checksum: string;
  sumLen: number;
  /** The negotiated compression, or undefined when nothing was negotiated. */
  compress: string | undefined;
  c2sRaw: number;
  s2cRaw: number;
}

const SUM_LEN: Record<string, number> = { xxh128: 16, xxh3: 8, xxh64: 8, md5: 16, md4: 16, sha1: 20 };

/** Parses both raw handshakes; `lists` says whether compression names were exchanged (-z without a fixed choice). */
export function parseHandshake(cap: Capture, compressLists: boolean): Handshake {
  const s = new Cursor(cap.s2c);
  const c = new Cursor(cap.c2s);
  const remote = s.int32();
  const protocol = Math.min(remote, c.int32());
  const compat = s.varint();
  let checksum = protocol >= 30 ? 'md5' : 'md4';
  let compress: string | undefined;
  if (compat & 0x80) {
    const theirs = s.vstring(1024).toString().split(' ');
    const ours = c.vstring(1024).toString().split(' ');
    checksum = ours.find((n) => theirs.includes(n))!;
    if (compressLists) {
      const sz = s.vstring(1024).toString().split(' ');
      const cz = c.vstring(1024).toString().split(' ');
      compress = cz.find((n) => sz.includes(n));
    }
  }
  s.int32(); // the checksum seed
  return { protocol, compat, checksum, sumLen: SUM_LEN[checksum]!, compress, c2sRaw: c.pos, s2cRaw: s.pos };
}

/** The data of a multiplexed stream (any other message is an error here). */
export function demux(frames: Buffer): Buffer {
  const d = new Demux();
  const parts: Buffer[] = [];
  for (const f of d.push(frames)) {
    if (f.tag === Msg.Data) parts.push(f.payload);
  }
  return Buffer.concat(parts);
}

export interface FileRecord {
  name: string;
  /** The sender's sum head: block count, block length, last block's length. */
  count: number;
  blength: number;
  remainder: number;
  /** Where the tokens are in the demultiplexed data, up to the file sum. */
  start: number;
  end: number;
}

const ITEM_TRANSFER = 1 << 15;
const ITEM_BASIS_TYPE_FOLLOWS = 1 << 11;
const ITEM_XNAME_FOLLOWS = 1 << 12;

/**
 * Takes apart a sender's demultiplexed data (after an rsync -rt file list): the list, then each
 * file's record up to the end of phase one. `tokenEnd` finds where one file's tokens end.
 */
export function parseSender(data: Buffer, hs: Handshake): FileRecord[] {
  const c = new Cursor(data);
  const decoder = new FlistDecoder({
    uid: false,
    gid: false,
    links: false,
    devices: false,
    specials: false,
    hardLinks: false,
    atimes: false,
    checksumLen: 0,
    relative: false,
    numericIds: false,
    protocol: hs.protocol,
    id0Names: (hs.compat & (1 << 8)) !== 0,
    varintFlags: (hs.compat & 0x80) !== 0,
    safeFlist: true,
  });
  for (;;) {
    const got = decoder.next(c);
    if ('end' in got) break;
  }
  decoder.idLists(c);
  const entries: (RemoteEntry | undefined)[] = sortAndClean(decoder.entries);
  const records: FileRecord[] = [];
  let prev = -1;
  for (;;) {
    const b = c.byte();
    if (b === 0) break;
    let ndx: number;
    if (b === 0xfe) {
      const hi = c.byte();
      const lo = c.byte();
      if (hi & 0x80) throw new Error('a 4-byte index is not expected here');
      ndx = (hi << 8) + lo + prev;
    } else if (b === 0xff) throw new Error('a negative index is not expected here');
    else ndx = b + prev;
    prev = ndx;
    const iflags = c.byte() + (c.byte() << 8);
    if (iflags & ITEM_BASIS_TYPE_FOLLOWS) c.byte();
    if (iflags & ITEM_XNAME_FOLLOWS) c.vstring(4096);
    if (!(iflags & ITEM_TRANSFER)) continue;
    const count = c.int32();
    const blength = c.int32();
    c.int32(); // the strong sum's length
    const remainder = c.int32();
    const start = c.pos;
    const end = deflatedTokensEnd(data, start);
    c.pos = end + hs.sumLen;
    records.push({ name: entries[ndx]!.name.toString(), count, blength, remainder, start, end });
  }
  return records;
}

/** Rebuilds a multiplexed stream from raw handshake bytes and new data. */
export function remux(raw: Buffer, data: Buffer): Buffer {
  return Buffer.concat([raw, ...dataFrames(data)]);
}

/**
 * Where a file's compressed tokens end (just after the end flag), found from the flag bytes alone:
 * frames are skipped by their length, block tokens by their fixed sizes.
 */
export function deflatedTokensEnd(data: Buffer, at: number): number {
  for (let i = at; ; ) {
    const f = data[i]!;
    if (f === undefined) throw new Error('the stream ended inside a file');
    if ((f & 0xc0) === 0x40) i += 2 + ((f & 0x3f) << 8) + data[i + 1]!;
    else if (f === 0) return i + 1;
    else if (f & 0x80) i += (f & 0x40 ? 3 : 1);
    else i += f === 0x21 ? 7 : 5;
  }
}

/** A deterministic pseudo-random generator (xorshift32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}
