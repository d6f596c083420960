// A real `rsync --server --sender` on this machine, driven through arsync's client code: for tests of
// the wire decoders against the bytes rsync actually sends, and to capture those bytes as the seed of
// the decoder fuzzer.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Conn } from '../../src/remote/conn.js';
import { receiveList, finishReceive, type ListOptions, type Listing } from '../../src/remote/listing.js';
import type { Cursor } from '../../src/remote/wire.js';

const PEERS = process.env['ARSYNC_PEERS'] ?? join(homedir(), '.cache/arsync/peers');
const ARCHIVES = join(dirname(fileURLToPath(import.meta.url)), '../../../shared/rsync-versions');

/**
 * Whether the older rsync releases can be had: built already, or their source archives are beside the
 * project (scripts/build-peers.sh, run by `npm test`, builds them). Without either, interop tests skip.
 */
export const peersAvailable = existsSync(PEERS) || existsSync(ARCHIVES);

// `npm test` builds the peers while its first steps and the other test files run (scripts/test.sh); the
// build holds this lock exclusively until they are in place. Waiting here, while the importing test file
// is collected, keeps the wait out of every test's and hook's timeout.
const BUILD_LOCK = join(PEERS, '.build.lock');
if (existsSync(BUILD_LOCK)) {
  const w = spawnSync('flock', ['-s', BUILD_LOCK, 'true'], { stdio: 'ignore' });
  if (w.status !== 0) throw new Error(`waiting for the peers' build (flock -s ${BUILD_LOCK}) failed: ${w.error?.message ?? `exit ${w.status}`}`);
}

/** An older rsync built by scripts/build-peers.sh; missing while its archive exists is a failure. */
export function peerRsync(version: string): string {
  const bin = join(PEERS, `rsync-${version}`, 'rsync');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run bash scripts/build-peers.sh`);
  return bin;
}

export const LIST_OPTS: ListOptions = {
  uid: true,
  gid: true,
  links: true,
  devices: true,
  specials: true,
  hardLinks: false,
  atimes: false,
  checksumLen: 0,
  relative: false,
  numericIds: false,
};

export interface Served extends Listing {
  /** The data-stream bytes of the file list and id lists exactly as received. */
  wire: Buffer;
  exitCode: number | null;
  stderr: string;
  messages: string[];
}

/** Runs a listing session against `rsync` (or another binary) serving `path` with `flags` (e.g. "-logDtpr"). */
export async function serveList(path: string, flags: string, opts: ListOptions = LIST_OPTS, rsync = 'rsync'): Promise<Served> {
  const child = spawn(rsync, ['--server', '--sender', `${flags}e.LfxCIvu`, '.', path], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const messages: string[] = [];
  const conn = new Conn(child.stdout, child.stdin, (f) => messages.push(`${f.tag}:${f.payload.toString()}`));
  // Record every byte the list decoders consume once they are past the handshake.
  const chunks: Buffer[] = [];
  const read = conn.read.bind(conn);
  let recording = false;
  conn.read = async <T,>(decode: (c: Cursor) => T): Promise<T> =>
    read((c) => {
      const from = c.pos;
      const v = decode(c);
      if (recording) chunks.push(Buffer.from(c.buf.subarray(from, c.pos)));
      return v;
    });
  const startMuxIn = conn.startMuxIn.bind(conn);
  conn.startMuxIn = () => {
    startMuxIn();
    recording = true;
  };
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const list = await receiveList(conn, opts);
  recording = false;
  const stats = await finishReceive(conn, list.entries.length === 0);
  const exitCode = await exited;
  return { ...list, stats, wire: Buffer.concat(chunks), exitCode, stderr, messages };
}
