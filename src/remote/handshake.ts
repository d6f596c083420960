// The start of every rsync session, client side (rsync's setup_protocol for a client): the protocol
// version exchange, the server's compatibility flags, the checksum (and compression) name
// negotiation, and the checksum seed. arsync speaks protocol 30 and 31; an older server is refused
// with rsync's exit code for a protocol mismatch.

import { Exit } from '../util/errors.js';
import type { Conn } from './conn.js';
import { CHECKSUMS } from './checksum.js';
import { clientCompressList, pickCompression, sessionCompress, type ClientCompress, type Compression, type SessionCompress } from './compress.js';
import { ProtocolError, int32, vstring } from './wire.js';

/** The protocol arsync implements and offers. */
export const PROTOCOL = 31;
export const MIN_PROTOCOL = 30;

/**
 * What this run offers: PROTOCOL, or the older one `--protocol` asked for (30), as rsync's client then
 * offers its protocol_version. A run makes one session, so the choice is the process's (set once by the
 * option parser, read by the handshake and a daemon greeting).
 */
let offered = PROTOCOL;
export function offerProtocol(p: number): void {
  offered = Math.max(MIN_PROTOCOL, Math.min(PROTOCOL, p));
}
export const offeredProtocol = (): number => offered;

/** rsync's CF_* compatibility flags (compat.c). */
export const Cf = {
  IncRecurse: 1 << 0,
  SymlinkTimes: 1 << 1,
  SymlinkIconv: 1 << 2,
  SafeFlist: 1 << 3,
  AvoidXattrOptim: 1 << 4,
  ChksumSeedFix: 1 << 5,
  InplacePartialDir: 1 << 6,
  VarintFlistFlags: 1 << 7,
  Id0Names: 1 << 8,
} as const;

/**
 * The capability letters of the `-e.` option a client sends (rsync's maybe_add_e_option), and why
 * each is or is not offered: no 'i' (incremental recursion is not implemented, so the server sends the
 * whole list first). 's' symlink targets converted under --iconv, as rsync built with iconv always
 * offers it: with --iconv both sides convert targets (remote/iconv-wire.ts), without it this client
 * converts nothing, as rsync's does not. 'L' symlink times, 'f' the safe file-list end, 'x'
 * no xattr shortcut for hard links (CF_AVOID_XATTR_OPTIM: -X requests ride on every index), 'C' the
 * fixed seed order, 'I' --inplace with a partial dir, 'v' varint flags and negotiated checksums, 'u'
 * names for uid/gid 0.
 */
export const CLIENT_INFO = 'e.LsfxCIvu';


export interface Session {
  protocol: number;
  compat: number;
  /** The negotiated whole-file and block checksum. */
  checksum: string;
  seed: number;
  /** The file data's compression (compress.ts): negotiated, fixed by the command line, or none. */
  compress: SessionCompress;
}

/**
 * `compress` is what the command line asked (compress.ts); `env` gives RSYNC_COMPRESS_LIST. As rsync
 * does, the client sends all its lists before it reads the server's.
 */
export async function handshake(conn: Conn, compress: ClientCompress = { mode: 'off' }, env: NodeJS.ProcessEnv = {}): Promise<Session> {
  // After a daemon's greeting the versions are agreed (rsync's setup_protocol skips its exchange then).
  if (conn.agreedProtocol === undefined) conn.write(int32(offered));
  const remote = conn.agreedProtocol ?? (await conn.read((c) => c.int32()));
  if (remote < 20 || remote > 40) {
    throw new ProtocolError('protocol version mismatch -- is your shell clean?\n(see the rsync manpage for an explanation)', Exit.Protocol);
  }
  const protocol = Math.min(offered, remote);
  if (protocol < MIN_PROTOCOL) {
    throw new ProtocolError(`the remote rsync speaks protocol ${remote}; arsync needs ${MIN_PROTOCOL} or later (rsync 3.0.0 or later)`, Exit.Protocol);
  }
  const compat = await conn.read((c) => c.varint());
  if (compat & Cf.IncRecurse) throw new ProtocolError('the server turned on incremental recursion, which arsync did not offer', Exit.Protocol);
  let checksum = 'md5';
  let negotiated: Compression | undefined;
  if (compat & Cf.VarintFlistFlags) {
    conn.write(vstring(CHECKSUMS.join(' ')));
    const ourCompress = compress.mode === 'negotiate' ? clientCompressList(env) : undefined;
    if (ourCompress) conn.write(vstring(ourCompress.join(' ')));
    const theirs = (await conn.read((c) => c.vstring(1024))).toString('latin1').split(' ');
    const pick = CHECKSUMS.find((n) => theirs.includes(n));
    if (!pick) {
      throw new ProtocolError(`Failed to negotiate a checksum choice.\nServer list: ${theirs.join(' ')}\nClient list: ${CHECKSUMS.join(' ')}`, Exit.Unsupported);
    }
    checksum = pick;
    if (ourCompress) negotiated = pickCompression(ourCompress, (await conn.read((c) => c.vstring(1024))).toString('latin1').split(' '));
  } else if (compress.mode === 'negotiate') {
    // A server too old to negotiate compresses with zlib: the client's list must allow it.
    negotiated = pickCompression(clientCompressList(env), ['zlib']);
  }
  const seed = await conn.read((c) => c.int32());
  return { protocol, compat, checksum, seed, compress: sessionCompress(compress, negotiated) };
}
