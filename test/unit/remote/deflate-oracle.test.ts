// The compressed token stream against real rsyncs (3.5 here, 3.2.7 and 3.1.3 built by
// scripts/build-peers.sh): traffic between two rsyncs is recorded (test/helpers/token-capture.ts), the
// sender's token stream of each file is read with arsync's reader and must rebuild the source file
// byte for byte from the receiver's old copy; and a recorded push whose token streams are replaced by
// arsync's writer's is replayed into a real `rsync --server` receiver, which must accept it and
// write the same files.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { Conn } from '../../../src/remote/conn.js';
import type { Compression } from '../../../src/remote/compress.js';
import { tokenCodec } from '../../../src/remote/token-codec.js';
import type { Token } from '../../../src/remote/tokens.js';
import { capture, demux, rng, parseHandshake, parseSender, remux, type Capture, type FileRecord, type Handshake } from '../../helpers/token-capture.js';
import { peerRsync, peersAvailable } from '../../helpers/rsync-server.js';

const root = mkdtempSync(join(tmpdir(), 'arsync-zoracle-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function text(r: () => number, n: number): Buffer {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'rsync', 'token', 'deflate', 'window', '\n'];
  const parts: string[] = [];
  let len = 0;
  while (len < n) {
    const w = words[Math.floor(r() * words.length)]!;
    parts.push(w, ' ');
    len += w.length + 1;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

function noise(r: () => number, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
}

type Fixture = { src: Record<string, Buffer>; old: Record<string, Buffer> };
let made: Fixture | undefined;

/**
 * The source files and the receiver's old copies (absent: no basis). Generated once per file: the seed is
 * fixed, so every case gets the same bytes, and generating them took longer than a case's transfer.
 */
function fixture(): Fixture {
  made ??= generate();
  return made;
}

function generate(): Fixture {
  const r = rng(42);
  const t = text(r, 400_000);
  const n = noise(r, 300_000);
  const half = text(r, 60_000);
  const src = {
    'text.txt': Buffer.concat([t.subarray(0, 150_000), Buffer.from('an inserted line\n'), t.subarray(150_000, 390_000), Buffer.from('a new tail')]),
    'noise.bin': Buffer.concat([n.subarray(0, 100_000), noise(r, 5000), n.subarray(105_000)]),
    'new.txt': text(r, 100_000),
    'twice.txt': Buffer.concat([half, half]),
    'small.txt': Buffer.from('short and new\n'),
  };
  const old = { 'text.txt': t, 'noise.bin': n, 'twice.txt': half };
  return { src, old };
}

function makeTree(dir: string): Fixture {
  const f = fixture();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'dst'), { recursive: true });
  for (const [name, data] of Object.entries(f.src)) writeFileSync(join(dir, 'src', name), data);
  for (const [name, data] of Object.entries(f.old)) {
    writeFileSync(join(dir, 'dst', name), data);
    // An old copy of the same size must not look up to date.
    utimesSync(join(dir, 'dst', name), 1_000_000, 1_000_000);
  }
  return f;
}

/** The tokens of one file, as arsync's reader gives them, and the file they rebuild from its basis. */
async function readFile(data: Buffer, rec: FileRecord, basis: Buffer | undefined, name: Compression, protocol: number): Promise<{ tokens: Token[]; rebuilt: Buffer }> {
  const input = new PassThrough();
  input.end(data.subarray(rec.start, rec.end));
  const conn = new Conn(input, new PassThrough(), () => {});
  const codec = tokenCodec({ name, level: 6 }, protocol);
  const rd = codec.reader(conn, rec.count);
  const tokens: Token[] = [];
  const parts: Buffer[] = [];
  for (;;) {
    const t = await rd.next();
    tokens.push(t);
    if (t.kind === 'end') break;
    if (t.kind === 'literal') parts.push(t.data);
    else {
      const block = basis!.subarray(t.block * rec.blength, Math.min(basis!.length, (t.block + 1) * rec.blength));
      rd.matched(block);
      parts.push(block);
    }
  }
  expect(conn.atEnd).toBe(true);
  codec.close();
  return { tokens, rebuilt: Buffer.concat(parts) };
}

interface Case {
  peer: string;
  push: boolean;
  /** Extra client options choosing the algorithm. */
  opts: string[];
  env: Record<string, string>;
  /** Whether names are negotiated (the client sends a compression list). */
  lists: boolean;
  expect: Compression;
}

function rsyncOf(peer: string): string {
  return peer === '3.5' ? 'rsync' : peerRsync(peer);
}

interface Recorded {
  cap: Capture;
  hs: Handshake;
  data: Buffer;
  records: FileRecord[];
  f: Fixture;
}

const recordings = new Map<string, Promise<Recorded>>();

/**
 * A case's traffic, recorded once: a push case's two tests (the reader's and the writer's) read the same
 * recording. Whichever test runs first records it (with run()'s checks), so either test also runs alone.
 */
function recorded(c: Case, label: string): Promise<Recorded> {
  let r = recordings.get(label);
  if (r === undefined) {
    r = run(c, join(root, label.replace(/[^a-z0-9]+/gi, '-')));
    recordings.set(label, r);
    // A failed recording is not kept: a retried test records afresh.
    void r.catch(() => recordings.delete(label));
  }
  return r;
}

async function run(c: Case, dir: string): Promise<Recorded> {
  const f = makeTree(dir);
  const operands = c.push ? ['src/', 'localhost:dst/'] : ['localhost:src/', 'dst/'];
  const args = ['-rt', '--no-inc-recursive', ...c.opts, `--rsync-path=${rsyncOf(c.peer)}`, ...operands];
  const saved = { ...process.env };
  Object.assign(process.env, c.env);
  let cap: Capture;
  try {
    cap = await capture(dir, 'rsync', args, dir);
  } finally {
    for (const k of Object.keys(c.env)) if (saved[k] === undefined) delete process.env[k];
  }
  expect(cap.exitCode, cap.stderr).toBe(0);
  for (const [name, data] of Object.entries(f.src)) expect(readFileSync(join(dir, 'dst', name)).equals(data)).toBe(true);
  const hs = parseHandshake(cap, c.lists);
  if (c.lists) expect(hs.compress).toBe(c.expect);
  const data = c.push ? demux(cap.c2s.subarray(hs.c2sRaw)) : demux(cap.s2c.subarray(hs.s2cRaw));
  const records = parseSender(data, hs);
  expect(records.map((r) => r.name).sort()).toEqual(Object.keys(f.src).sort());
  return { cap, hs, data, records, f };
}

const PEERS = peersAvailable ? ['3.5', '3.2.7', '3.1.3'] : ['3.5'];
const ZLIB_LIST = { RSYNC_COMPRESS_LIST: 'zlib' };
const ZLIBX_LIST = { RSYNC_COMPRESS_LIST: 'zlibx zlib' };

function cases(): Case[] {
  const out: Case[] = [];
  for (const peer of PEERS) {
    const negotiates = peer !== '3.1.3';
    for (const push of [false, true]) {
      // -z: negotiated with 3.2+ (the list in the environment keeps zstd and lz4 out), zlib with 3.1.3.
      out.push({ peer, push, opts: ['-z'], env: ZLIBX_LIST, lists: negotiates, expect: negotiates ? 'zlibx' : 'zlib' });
      out.push({ peer, push, opts: ['-z'], env: ZLIB_LIST, lists: negotiates, expect: 'zlib' });
      out.push({ peer, push, opts: ['-zz'], env: {}, lists: false, expect: 'zlibx' });
      out.push({ peer, push, opts: ['--old-compress', '--zl=9'], env: {}, lists: false, expect: 'zlib' });
    }
  }
  for (const push of [false, true]) {
    out.push({ peer: '3.5', push, opts: ['--protocol=30', '--zc=zlib'], env: {}, lists: false, expect: 'zlib' });
    out.push({ peer: '3.5', push, opts: ['--protocol=30', '--new-compress'], env: {}, lists: false, expect: 'zlibx' });
  }
  return out;
}

describe('compressed tokens recorded between two rsyncs', () => {
  for (const c of cases()) {
    const label = `${c.push ? 'push to' : 'pull from'} rsync ${c.peer} with ${[...c.opts, ...Object.entries(c.env).map(([k, v]) => `${k}="${v}"`)].join(' ')}`;
    it(`${label}: arsync's reader rebuilds each file from the old copy`, async () => {
      const { hs, data, records, f } = await recorded(c, label);
      let matches = 0;
      let literals = 0;
      for (const rec of records) {
        const { tokens, rebuilt } = await readFile(data, rec, f.old[rec.name], c.expect, hs.protocol);
        expect(rebuilt.equals(f.src[rec.name]!), rec.name).toBe(true);
        matches += tokens.filter((t) => t.kind === 'match').length;
        literals += tokens.filter((t) => t.kind === 'literal').length;
      }
      // The delta really happened: old blocks were referred to, and new data came as literals.
      expect(matches).toBeGreaterThan(100);
      expect(literals).toBeGreaterThan(5);
    });

    if (!c.push) continue;
    it(`${label}: the receiver accepts the same push with arsync's writer's token streams`, async () => {
      const dir = join(root, `w-${label.replace(/[^a-z0-9]+/gi, '-')}`);
      const { cap, hs, data, records, f } = await recorded(c, label);
      const codec = tokenCodec({ name: c.expect, level: 6 }, hs.protocol);
      const parts: Buffer[] = [];
      let at = 0;
      for (const rec of records) {
        const { tokens } = await readFile(data, rec, f.old[rec.name], c.expect, hs.protocol);
        parts.push(data.subarray(at, rec.start));
        const w = codec.writer((b) => parts.push(Buffer.from(b)));
        const basis = f.old[rec.name];
        for (const t of tokens) {
          if (t.kind === 'literal') w.literal(t.data);
          else if (t.kind === 'match') w.match(t.block, basis!.subarray(t.block * rec.blength, Math.min(basis!.length, (t.block + 1) * rec.blength)));
          else w.end();
        }
        at = rec.end;
      }
      parts.push(data.subarray(at));
      codec.close();
      const rewritten = Buffer.concat(parts);
      // Not the same bytes as rsync's (the frames fall elsewhere), yet the same files come out.
      expect(rewritten.equals(data)).toBe(false);
      makeTree(dir);
      // Like a real client, the replay keeps its end open until the server exits: rsync's receiver waits
      // for a signal from its generator after the goodbye, and an end of input first would be an error.
      const server = spawn(cap.serverArgv[0]!, cap.serverArgv.slice(1), { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      server.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      server.stdout.resume();
      server.stdin.on('error', () => {});
      server.stdin.write(remux(cap.c2s.subarray(0, hs.c2sRaw), rewritten));
      const code = await new Promise<number | null>((r) => server.on('close', r));
      server.stdin.end();
      expect(code, stderr).toBe(0);
      for (const [name, content] of Object.entries(f.src)) expect(readFileSync(join(dir, 'dst', name)).equals(content), name).toBe(true);
    });
  }
});
