// The compression of a remote session (-z and its options), as rsync's client settles it: what the
// command line asks for once read (parse_arguments), the option letter and long options that tell the
// server (server_options), the names offered in the negotiation and the pick (compat.c), and the final
// algorithm and level (parse_compress_choice, init_compression_level). arsync implements zlib and
// zlibx with Node's zlib; zstd and lz4 are not in Node 20, so they are never offered and a
// --compress-choice naming them is refused for a remote run.

import type { CompressOptions } from '../model/config.js';
import { Exit } from '../util/errors.js';
import { ProtocolError } from './wire.js';

/** The algorithms a session can end up with. */
export type Compression = 'none' | 'zlib' | 'zlibx';

/** What arsync implements, strongest first, as offered to a server ("none" is never offered by a client). */
export const COMPRESS_OFFERED: readonly Compression[] = ['zlibx', 'zlib'];
/** The names a RSYNC_COMPRESS_LIST may keep: the offered ones and "none". */
const KNOWN: readonly Compression[] = ['zlibx', 'zlib', 'none'];

/** What the client does about compression in a remote session. */
export type ClientCompress =
  /** No compression. `none`: --compress-choice=none was given, and is passed on (with any level), as rsync does. */
  | { mode: 'off'; none?: { level: number | undefined }; skip?: string }
  /** Negotiate with a server that can; an older one means zlib. `zlibLetter`: -z says "z" to the server. */
  | { mode: 'negotiate'; zlibLetter: boolean; level: number | undefined; skip: string | undefined }
  /** The algorithm the command line named; nothing is negotiated. */
  | { mode: 'fixed'; name: 'zlib' | 'zlibx'; level: number | undefined; skip: string | undefined };

/**
 * rsync's parse_arguments after the option loop: -zz means zlibx, a named choice other than "auto"
 * fixes the algorithm (none turns compression off), and a level alone turns compression on.
 * Throws for a choice arsync cannot speak (zstd, lz4).
 */
export function clientCompress(o: CompressOptions): ClientCompress {
  let choice = o.choice;
  if (choice === undefined && o.count > 1) choice = 'zlibx';
  if (choice === 'auto') choice = undefined;
  if (choice === 'none') return { mode: 'off', none: { level: o.level }, skip: o.skip };
  if (choice !== undefined) {
    if (choice !== 'zlib' && choice !== 'zlibx') {
      throw new ProtocolError(`--compress-choice=${choice}: arsync compresses with zlibx or zlib only (Node has no ${choice})`, Exit.Unsupported);
    }
    return { mode: 'fixed', name: choice, level: o.level, skip: o.skip };
  }
  if (o.count === 0 && o.level === undefined) return { mode: 'off', skip: o.skip };
  // A level without -z is rsync's CPRES_AUTO: negotiated, but no "z" letter goes to the server.
  return { mode: 'negotiate', zlibLetter: o.count > 0, level: o.level, skip: o.skip };
}

/** The option letter for the server's cluster (rsync sends "z" when do_compression is zlib then). */
export function compressLetter(c: ClientCompress): string {
  if (c.mode === 'negotiate') return c.zlibLetter ? 'z' : '';
  if (c.mode === 'fixed') return c.name === 'zlib' ? 'z' : '';
  return '';
}

/**
 * The long options that tell the server, in the groups rsync's server_options places them: `level`
 * right after the letters (and --list-only), `choice` after --checksum-choice, and `skip` among the
 * options a receiving client gives the sender (none when the client sends).
 */
export function compressLongArgs(c: ClientCompress, weSend: boolean): { level: string[]; choice: string[]; skip: string[] } {
  // --skip-compress goes to a sending server whether or not anything is compressed.
  const skip = !weSend && c.skip !== undefined ? [safeOptionArg('--skip-compress', c.skip)] : [];
  if (c.mode === 'off') {
    // rsync names the choice back once parsed, so "none" goes to the server; a level with it still turns
    // compression "on" (to be negotiated away), so the level goes too.
    if (!c.none) return { level: [], choice: [], skip };
    return { level: c.none.level !== undefined ? [`--compress-level=${c.none.level}`] : [], choice: ['--compress-choice=none'], skip };
  }
  return {
    level: c.level !== undefined ? [`--compress-level=${c.level}`] : [],
    choice: c.mode === 'fixed' ? [c.name === 'zlibx' ? '--new-compress' : '--old-compress'] : [],
    skip,
  };
}

/**
 * rsync's safe_arg for an option's value: the remote shell joins the arguments and a shell splits them
 * again, so its special characters and wildcards are escaped with a backslash.
 */
export function safeOptionArg(opt: string, arg: string): string {
  return `${opt}=${arg.replace(/[*?[\]!#$&;|<>(){}"'` \t\n\r\\]/g, '\\$&')}`;
}

/**
 * The list the client sends when it negotiates: RSYNC_COMPRESS_LIST (before any "&") reduced to the
 * names arsync knows, without repeats ("INVALID" when it named only unknown ones), else the offered list.
 */
export function clientCompressList(env: NodeJS.ProcessEnv): string[] {
  const raw = (env['RSYNC_COMPRESS_LIST'] ?? '').split('&')[0]!;
  const words = raw.split(/[ \t\n\v\f\r]+/).filter((w) => w !== '');
  if (words.length === 0) return [...COMPRESS_OFFERED];
  const kept: string[] = [];
  for (const w of words) {
    const n = w.toLowerCase();
    if ((KNOWN as readonly string[]).includes(n) && !kept.includes(n)) kept.push(n);
  }
  return kept.length ? kept : ['INVALID'];
}

/** rsync's parse_negotiate_str on the client: our most preferred name that the server also listed. */
export function pickCompression(ours: string[], theirs: string[]): Compression {
  const pick = ours.find((n) => theirs.includes(n) && (KNOWN as readonly string[]).includes(n));
  if (!pick) {
    throw new ProtocolError(`Failed to negotiate a compress choice.\nServer list: ${theirs.join(' ')}\nClient list: ${ours.join(' ')}`, Exit.Unsupported);
  }
  return pick as Compression;
}

/** The session's algorithm and deflate level (rsync's init_compression_level for zlib and zlibx). */
export interface SessionCompress {
  name: Compression;
  level: number;
}

/**
 * After the handshake: the negotiated name (or zlib with a server too old to negotiate, or the fixed
 * choice), then the level: unset or -1 is 6, 0 turns compression off, others are clamped to 1..9.
 */
export function sessionCompress(c: ClientCompress, negotiated: Compression | undefined): SessionCompress {
  if (c.mode === 'off') return { name: 'none', level: 0 };
  const name = c.mode === 'fixed' ? c.name : (negotiated ?? 'zlib');
  if (name === 'none') return { name, level: 0 };
  const level = c.level === undefined || c.level === -1 ? 6 : c.level;
  if (level === 0) return { name: 'none', level: 0 };
  return { name, level: Math.min(9, Math.max(1, level)) };
}
