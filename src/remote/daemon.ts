// The client's half of rsync's daemon greeting (rsync's start_inband_exchange): the "@RSYNCD:" version
// lines with the daemon-auth digest lists, the module request, the daemon's answer lines (its MOTD, the
// module list, "@RSYNCD: AUTHREQD", "@RSYNCD: OK", "@ERROR", "@RSYNCD: EXIT"), the challenge-response
// login, and the server's command line sent as text. After it the session is rsync's usual one, minus
// the version exchange the greeting already did. Every line read is bounded, so a hostile daemon cannot
// make the client buffer for ever.

import { createHash, getHashes } from 'node:crypto';
import type { Conn } from './conn.js';
import { MIN_PROTOCOL, offeredProtocol } from './handshake.js';
import { openArgCount, protectedArgs } from './rsh.js';
import type { WireCharset } from './wire-charset.js';
import { Cursor, ProtocolError, Short } from './wire.js';
import { BIGPATHBUFLEN } from '../model/path-max.js';

/** rsync's RERR_STARTCLIENT: anything that goes wrong before the daemon says OK. */
export const EXIT_STARTCLIENT = 5;
/** Longer than rsync's own line buffer (BIGPATHBUFLEN) is not a daemon line. */
const MAX_LINE = BIGPATHBUFLEN;

/** The daemon-auth digests, strongest first (rsync 3.2.7+ offer the same); md4 only where OpenSSL still has it. */
let digests: string[] | undefined;
/**
 * The digests this client offers, best first, as OpenSSL here has them: asked on first use, so that a
 * local copy (which loads this module with the CLI) does not load node:crypto at start-up.
 */
export function authDigests(): string[] {
  return (digests ??= ['sha512', 'sha256', 'sha1', 'md5', 'md4'].filter((n) => getHashes().includes(n)));
}

export interface Greeting {
  /** The protocol both sides now speak. */
  protocol: number;
  /** The daemon's digest names, or undefined when it sent none (rsync before 3.2.7). */
  digests: string[] | undefined;
}

export interface DaemonAsk {
  /** The module ("" for the module list). */
  module: string;
  /** The login for AUTHREQD (user@host, else $USER, else $LOGNAME, else "nobody"). */
  user: string;
  /** The password, asked only when the daemon wants one. */
  password: () => string;
  /** --no-motd turns the daemon's lines off (the MOTD and the module list alike, as rsync does). */
  motd: boolean;
  /** Where the MOTD and module-list lines go, and the @ERROR line. */
  out: (line: string) => void;
  err: (line: string) => void;
  /** --early-input's bytes, for the module's "early exec" program (read by the caller, at most EARLY_INPUT_MAX). */
  earlyInput?: Buffer;
}

/** The most --early-input may hold: rsync's line buffer (BIGPATHBUFLEN, 4096 + 1024). */
export const EARLY_INPUT_MAX = 5120;

/** One "\n"-terminated line, without it (and a "\r" before it); bounded. */
export function readLine(c: Cursor): string {
  const at = c.buf.indexOf(0x0a, c.pos);
  if (at < 0) {
    if (c.left > MAX_LINE) throw new ProtocolError('the daemon sent a line longer than rsync allows', EXIT_STARTCLIENT);
    throw new Short();
  }
  if (at - c.pos > MAX_LINE) throw new ProtocolError('the daemon sent a line longer than rsync allows', EXIT_STARTCLIENT);
  let line = c.bytes(at - c.pos + 1).subarray(0, -1);
  if (line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
  return line.toString('latin1');
}

/** Our greeting: the version we speak, sub-version 0, and the digests we can log in with. */
export function greetingLine(): string {
  return `@RSYNCD: ${offeredProtocol()}.0 ${authDigests().join(' ')}\n`;
}

/** rsync's exchange_protocols, client side: the daemon's greeting line and the protocol it settles. */
export function parseGreeting(line: string): Greeting {
  const m = /^@RSYNCD: (-?\d+)(?:\.(-?\d+))?/.exec(line);
  if (!m) throw new ProtocolError(`server sent "${line}" rather than greeting`, EXIT_STARTCLIENT);
  const remote = Number(m[1]);
  if (m[2] === undefined && remote >= 30) throw new ProtocolError(`the server omitted the subprotocol value: ${line}`, EXIT_STARTCLIENT);
  const sub = Number(m[2] ?? 0);
  const space = line.indexOf(' ', 9);
  const digests = space < 0 ? undefined : line.slice(space + 1).split(' ').filter(Boolean);
  if (!digests && remote > 31) throw new ProtocolError(`the server omitted the digest name list: ${line}`, EXIT_STARTCLIENT);
  // Our sub-version is 0: a daemon of our version with a pre-release sub-version speaks the one below.
  let protocol = offeredProtocol();
  if (protocol > remote) protocol = sub ? remote - 1 : remote;
  else if (protocol === remote && sub !== 0) protocol--;
  if (protocol < MIN_PROTOCOL) {
    throw new ProtocolError(`the daemon speaks protocol ${remote}; arsync needs ${MIN_PROTOCOL} or later (rsync 3.0.0 or later)`, 2);
  }
  return { protocol, digests };
}

/** rsync's negotiate_daemon_auth, client side: our most preferred digest the daemon also has; md5 from a daemon that lists none. */
export function authDigest(g: Greeting): string {
  if (!g.digests) return 'md5';
  const pick = authDigests().find((d) => g.digests!.includes(d));
  if (!pick) throw new ProtocolError(`Failed to negotiate a daemon auth checksum choice.\nServer list: ${g.digests.join(' ')}\nClient list: ${authDigests().join(' ')}`, 4);
  return pick;
}

/** rsync's generate_hash: the digest of password then challenge, in base64 without padding. */
export function authResponse(digest: string, password: string, challenge: string): string {
  return createHash(digest).update(password, 'latin1').update(challenge, 'latin1').digest('base64').replace(/=+$/, '');
}

/**
 * rsync's start_inband_exchange up to the daemon's OK. Returns the greeting, or undefined when the
 * daemon ended the session itself ("@RSYNCD: EXIT" after the module list).
 */
export async function daemonGreeting(conn: Conn, ask: DaemonAsk): Promise<Greeting | undefined> {
  conn.write(Buffer.from(greetingLine(), 'latin1'));
  let first: string;
  try {
    first = await conn.read(readLine);
  } catch (e) {
    if (e instanceof ProtocolError && e.code !== EXIT_STARTCLIENT) throw new ProtocolError('did not see server greeting', EXIT_STARTCLIENT);
    throw e;
  }
  const g = parseGreeting(first);
  // Between the versions and the module's name: "#early_input=N" and the N bytes (rsync 3.2.4+ daemons).
  if (ask.earlyInput?.length) conn.write(Buffer.concat([Buffer.from(`#early_input=${ask.earlyInput.length}\n`, 'latin1'), ask.earlyInput]));
  conn.write(Buffer.from(`${ask.module}\n`, 'latin1'));
  for (;;) {
    let line: string;
    try {
      line = await conn.read(readLine);
    } catch (e) {
      if (e instanceof ProtocolError && e.code !== EXIT_STARTCLIENT) throw new ProtocolError("didn't get server startup line", EXIT_STARTCLIENT);
      throw e;
    }
    if (line.startsWith('@RSYNCD: AUTHREQD ')) {
      const digest = authDigest(g);
      conn.write(Buffer.from(`${ask.user} ${authResponse(digest, ask.password(), line.slice(18))}\n`, 'latin1'));
      continue;
    }
    if (line === '@RSYNCD: OK') return g;
    if (line === '@RSYNCD: EXIT') return undefined;
    if (line.startsWith('@ERROR')) {
      ask.err(`${line}\n`);
      throw new ProtocolError('', EXIT_STARTCLIENT);
    }
    // A MOTD line or a module-list line: rsync cannot tell them apart either.
    if (ask.motd) ask.out(`${line}\n`);
  }
}

/**
 * The server's command line as the daemon reads it (rsync's start_inband_exchange): the options, ".",
 * then the paths, each NUL-terminated and an empty one at the end (protocol 30+; before that,
 * newline-terminated). A path that is the bare module gets its "/"; a leading "-" becomes "./-"; unless
 * --old-args, a " module/" inside a path is written "[ ]module/", so the daemon cannot split it there.
 * Under -s (rsync's send_protected_args) only the options up to the first letter cluster, "s" put first
 * in it, go that way; then "rsync", the rest of the options, "." and the paths follow, each
 * NUL-terminated (an empty one as "."), and an empty one ends them.
 */
export function daemonArgs(serverArgs: string[], paths: string[], module: string, protocol: number, oldArgs: boolean, secluded = false, charset?: WireCharset): Buffer {
  const split = ` ${module}/`;
  const named = paths.map((p) => {
    if (p === module) return `${module}/`;
    const w = p.startsWith('-') ? `./${p}` : p;
    return oldArgs ? w : w.split(split).join(`[ ]${module}/`);
  });
  const end = protocol >= 30 ? '\0' : '\n';
  const cluster = secluded ? serverArgs.findIndex((a) => /^-[^-]/.test(a)) : -1;
  if (cluster < 0) return Buffer.from([...serverArgs, '.', ...named].map((w) => w + end).join('') + end, 'latin1');
  const count = openArgCount(serverArgs);
  const open = [...serverArgs.slice(0, cluster), `-s${serverArgs[cluster]!.slice(1)}`, ...serverArgs.slice(cluster + 1, count)];
  const hidden = ['rsync', ...serverArgs.slice(count), '.', ...named];
  return Buffer.concat([Buffer.from(open.map((w) => w + end).join('') + end, 'latin1'), protectedArgs(hidden, charset)]);
}

/** The module a daemon path names: up to its first "/". */
export function moduleOf(path: string): string {
  const slash = path.indexOf('/');
  return slash < 0 ? path : path.slice(0, slash);
}
