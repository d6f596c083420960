// --files-from between two machines (rsync's server_options, forward_filesfrom_data and read_line on
// a socket): what the server is told about the list, the list's names as a client forwards them to
// a sending server (NUL-terminated, an empty name at the end), and the names a receiving server
// forwards to a sending client, read back off the connection; under -s and --iconv each name converted
// on the way (rsync's filesfrom_convert: without -s rsync's client converts none).

import { Exit } from '../util/errors.js';
import type { Conn } from './conn.js';
import { safeOptionArg } from './rsh.js';
import { ProtocolError } from './wire.js';
import { PATH_MAX as MAXPATHLEN } from '../model/path-max.js';


/** Where the list is read: on this machine (a file, or stdin for "-"), or on the far side at `path`. */
export type FilesFromPlace = { remote: false } | { remote: true; path: string };

export interface FilesFromFlags {
  /** -0: the list's names end at NUL (a remote list is read by the server with --from0). */
  from0: boolean;
  /** -R (implied by --files-from; --no-R turns it off, and the server is told). */
  relative: boolean;
  oldArgs: number;
  /** -s: the path reaches no shell, so it goes unescaped. */
  secludedArgs: boolean;
}

/**
 * What the server's command line says of the list (rsync's server_options): a sending server reads a
 * list on its own machine by name, or reads ours from the socket ("--files-from=-", always NUL-
 * separated); a receiving server is told only of a list on its machine, which it then forwards to us.
 */
export function filesFromServerArgs(place: FilesFromPlace, f: FilesFromFlags, serverSends: boolean): string[] {
  if (!place.remote && !serverSends) return [];
  const args = place.remote ? ['--files-from', f.secludedArgs ? place.path : safeOptionArg(place.path, f.oldArgs), ...(f.from0 ? ['--from0'] : [])] : ['--files-from=-', '--from0'];
  if (!f.relative) args.push('--no-relative');
  return args;
}

/**
 * A local list as rsync's client forwards it to a sending server: line ends (CR, LF) become NULs
 * unless -0, runs of NULs (empty lines) are squeezed, and an empty name ends the list. Comments go
 * as they are: the server reads forwarded names without skipping any (rsync's read_line without
 * RL_DUMP_COMMENTS).
 */
export function forwardedList(text: Buffer, from0: boolean, protocol: number, convert?: (name: Buffer) => Buffer): Buffer {
  // Before protocol 31 rsync sends these bytes outside the multiplexed stream, which this client does not do.
  if (protocol < 31) throw new ProtocolError('--files-from with a remote sender needs protocol 31 (rsync 3.1 or later) on the far side', Exit.Unsupported);
  const out = Buffer.alloc(text.length + 2);
  let n = 0;
  for (const b of text) {
    const v = !from0 && (b === 0x0a || b === 0x0d) ? 0 : b;
    if (v === 0 && (n === 0 || out[n - 1] === 0)) continue;
    out[n++] = v;
  }
  if (n > 0 && out[n - 1] !== 0) out[n++] = 0;
  out[n++] = 0;
  const list = out.subarray(0, n);
  if (!convert) return list;
  // Each name converted on its own, its NUL after it (rsync's forward_filesfrom_data).
  const parts: Buffer[] = [];
  for (let at = 0; at < list.length - 1; ) {
    const end = list.indexOf(0, at);
    parts.push(convert(list.subarray(at, end)), Buffer.of(0));
    at = end + 1;
  }
  parts.push(Buffer.of(0));
  return Buffer.concat(parts);
}

/**
 * The names a receiving server forwards from a list on its machine (rsync's read_line on the socket,
 * NUL-separated, until an empty name), as one NUL-separated buffer for the sender's own list parser.
 */
export async function readForwardedList(conn: Conn, protocol: number, convert?: (name: Buffer) => Buffer): Promise<Buffer> {
  if (protocol < 31) throw new ProtocolError('--files-from with a remote receiver needs protocol 31 (rsync 3.1 or later) on the far side', Exit.Unsupported);
  const names: Buffer[] = [];
  for (;;) {
    const name = await conn.read((c) => {
      const at = c.buf.indexOf(0, c.pos);
      if (at < 0) {
        if (c.left > MAXPATHLEN) throw new ProtocolError('files-from name from the receiver is too long', Exit.Protocol);
        c.bytes(c.left + 1); // not all here yet: wait for more
      }
      return Buffer.from(c.bytes(at - c.pos + 1));
    });
    if (name.length === 1) return Buffer.concat(names);
    names.push(convert ? Buffer.concat([convert(name.subarray(0, -1)), Buffer.of(0)]) : name);
  }
}
