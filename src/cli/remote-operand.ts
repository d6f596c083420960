// Which operands name another machine, by rsync's own rules (check_for_hostspec and parse_hostspec in
// rsync's options.c): `host:path`, `user@host:path`, `[v6addr]:path` go through a remote shell;
// `host::module/path` and `rsync://[user@]host[:port]/module/path` go to an rsync daemon. A `/` before the
// first `:` (so also a `./` prefix) keeps an operand local. Pure functions on bytes, no I/O.

import type { DaemonLogin } from '../remote/daemon-route.js';

/** `[user@]host:path`: reached through a remote shell. */
export interface ShellOperand {
  kind: 'shell';
  user: string | undefined;
  host: string;
  path: Buffer;
}

/** `host::module/path` or `rsync://[user@]host[:port]/module/path`: a module of an rsync daemon. */
export interface DaemonOperand {
  kind: 'daemon';
  user: string | undefined;
  host: string;
  port: number | undefined;
  /** The module and the path in it ("" asks for the module list). */
  path: Buffer;
  /** How to reach and log in to the daemon, once the options are read (cli/daemon-options.ts). */
  login?: DaemonLogin;
}

/** An operand on another machine: a remote shell's or a daemon's. */
export type RemoteOperand = ShellOperand | DaemonOperand;

export type Operand = { kind: 'local' } | ShellOperand | DaemonOperand;

/** The daemon login a remote run uses, when its operand is a daemon's. */
export function loginOf(op: RemoteOperand): DaemonLogin | undefined {
  return op.kind === 'daemon' ? op.login : undefined;
}

const COLON = 0x3a;
const SLASH = 0x2f;
const AT = 0x40;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const URL_PREFIX = 'rsync://';

interface HostSpec {
  user: string | undefined;
  host: string;
  /** Index in the input just past the ':' or '/' that ended the host (the path starts there). */
  rest: number;
  port: number | undefined;
}

/**
 * rsync's parse_hostspec over `s` from `start`. `url` is set for the part after "rsync://", where the
 * string may end after the host and a `:port` is allowed. Returns undefined when `s` is not a host spec.
 */
function parseHostSpec(s: Buffer, start: number, url: boolean): HostSpec | undefined {
  let hostStart = start;
  let hostLen = -1;
  let userEnd = -1;
  let port: number | undefined;
  let i = start;
  for (;; i++) {
    if (i >= s.length) {
      // Running out of string is only fine for rsync:// URLs.
      if (!url) return undefined;
      if (hostLen < 0) hostLen = i - hostStart;
      break;
    }
    const c = s[i]!;
    if (c === COLON || c === SLASH) {
      if (hostLen < 0) hostLen = i - hostStart;
      i++;
      if (c === SLASH) {
        if (!url) return undefined;
      } else if (url) {
        const digits = /^\d*/.exec(s.subarray(i, i + 20).toString('latin1'))![0];
        if (digits.length) port = Number(digits);
        i += digits.length;
        if (i < s.length && s[i++] !== SLASH) return undefined;
      }
      break;
    }
    if (c === AT) {
      userEnd = i;
      hostStart = i + 1;
    } else if (c === OPEN) {
      if (i !== hostStart) return undefined;
      hostStart++;
      while (i < s.length && s[i] !== CLOSE && s[i] !== SLASH) i++;
      hostLen = i - hostStart;
      const next = s[i + 1];
      if (s[i] !== CLOSE || (next !== undefined && next !== SLASH && next !== COLON) || hostLen === 0) return undefined;
    }
  }
  return {
    user: userEnd >= 0 ? s.subarray(start, userEnd).toString('utf8') : undefined,
    host: s.subarray(hostStart, hostStart + hostLen).toString('utf8'),
    rest: i,
    port,
  };
}

/** Classify one operand (or a --files-from name) the way rsync does. */
export function classifyOperand(arg: Buffer): Operand {
  if (arg.subarray(0, URL_PREFIX.length).toString('latin1').toLowerCase() === URL_PREFIX) {
    const h = parseHostSpec(arg, URL_PREFIX.length, true);
    if (h) return { kind: 'daemon', user: h.user, host: h.host, port: h.port, path: arg.subarray(h.rest) };
  }
  const h = parseHostSpec(arg, 0, false);
  if (!h) return { kind: 'local' };
  // h.rest is just past the ':' that ended the host; a second ':' means a daemon module.
  if (arg[h.rest] === COLON) return { kind: 'daemon', user: h.user, host: h.host, port: undefined, path: arg.subarray(h.rest + 1) };
  return { kind: 'shell', user: h.user, host: h.host, path: arg.subarray(h.rest) };
}

/** How an operand would be reached, for messages: "a remote shell to HOST" or "the rsync daemon on HOST". */
export function describeRemote(op: Exclude<Operand, { kind: 'local' }>): string {
  const who = `${op.user !== undefined ? `${op.user}@` : ''}${op.host}`;
  return op.kind === 'shell' ? `a path on "${who}" through a remote shell` : `a module of the rsync daemon on "${who}"`;
}
