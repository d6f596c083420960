// Errors and exit codes. Native code and the node engine report failures as (errno, syscall, path,
// dest); this module is the one place that turns them into Errors shaped exactly like Node's fs errors,
// and that maps what went wrong in a run onto rsync's exit codes.

import { getSystemErrorName } from 'node:util';
import { constants as os } from 'node:os';
import { escapeName } from './names.js';
import { strerror } from './strerror.js';

/** rsync's exit codes, the ones arsync can produce. */
export const Exit = {
  Ok: 0,
  Usage: 1,
  Protocol: 2,
  Unsupported: 4,
  FileSelect: 3,
  FileIO: 11,
  Signal: 20,
  Partial: 23,
  Vanished: 24,
  StreamIO: 12,
  MaxDelete: 25,
  Timeout: 30,
} as const;
export type ExitCode = (typeof Exit)[keyof typeof Exit];

/** rsync's closing line for a failed run, "arsync error: ... (code N)". */
export function exitMessage(code: number): string {
  return `${CLOSING[code] ?? 'arsync error: error in file IO'} (code ${code})`;
}

/** rsync's errcode.h texts for the codes arsync exits with (11, file I/O, is also the fallback). */
const CLOSING: Record<number, string> = {
  [Exit.Usage]: 'arsync error: syntax or usage error',
  [Exit.Protocol]: 'arsync error: protocol incompatibility',
  [Exit.FileSelect]: 'arsync error: errors selecting input/output files, dirs',
  [Exit.Unsupported]: 'arsync error: requested action not supported',
  [Exit.FileIO]: 'arsync error: error in file IO',
  [Exit.StreamIO]: 'arsync error: error in rsync protocol data stream',
  [Exit.Signal]: 'arsync error: received SIGINT, SIGTERM, or SIGHUP',
  [Exit.Partial]: 'arsync error: some files/attrs were not transferred (see previous errors)',
  [Exit.Vanished]: 'arsync warning: some files vanished before they could be transferred',
  [Exit.MaxDelete]: 'arsync error: the --max-delete limit stopped deletions',
  [Exit.Timeout]: 'arsync error: timeout in data send/receive',
  // The codes of a remote session: the remote shell could not be started, or it exited with its own code.
  5: 'arsync error: error starting client-server protocol',
  10: 'arsync error: error in socket IO',
  35: 'arsync error: timeout waiting for daemon connection',
  14: 'arsync error: error in IPC code',
  124: 'arsync error: remote command failed',
  125: 'arsync error: remote command killed',
  126: 'arsync error: remote command could not be run',
  127: 'arsync error: remote command not found',
  255: 'arsync error: unexplained error',
};

/** Node's fs error: `code`, `errno` (negative), `syscall`, `path`, `dest`. */
export interface FsError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
  dest?: string;
}

const describe = (errno: number): string => {
  // Node's own wording for the common errors (uv_strerror), falling back to the code.
  const text: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EEXIST: 'file already exists',
    ENOTDIR: 'not a directory',
    EISDIR: 'illegal operation on a directory',
    ENOTEMPTY: 'directory not empty',
    ENOSPC: 'no space left on device',
    EMFILE: 'too many open files',
    ENFILE: 'file table overflow',
    EXDEV: 'cross-device link not permitted',
    ELOOP: 'too many symbolic links encountered',
    EROFS: 'read-only file system',
    EIO: 'i/o error',
    EDQUOT: 'disk quota exceeded',
    ENAMETOOLONG: 'name too long',
    ENOTSUP: 'operation not supported on socket',
    EOPNOTSUPP: 'operation not supported on socket',
    ESTALE: 'stale file handle',
    EINVAL: 'invalid argument',
    ENOSYS: 'function not implemented',
    EBUSY: 'resource busy or locked',
    ENODATA: 'no data available',
    EFBIG: 'file too large',
  };
  const code = errnoCode(errno);
  return text[code] ?? code.toLowerCase();
};

/** The symbolic name of a positive errno ("ENOENT"). */
export function errnoCode(errno: number): string {
  try {
    return getSystemErrorName(-Math.abs(errno));
  } catch {
    return `E${errno}`;
  }
}

/** Build an Error exactly as Node's fs would: "ENOENT: no such file or directory, open 'a' -> 'b'". */
export function fsError(errno: number, syscall: string, path?: string, dest?: string): FsError {
  const code = errnoCode(errno);
  let message = `${code}: ${describe(errno)}, ${syscall}`;
  if (path !== undefined) message += ` '${path}'`;
  if (dest !== undefined) message += ` -> '${dest}'`;
  const err = new Error(message) as FsError;
  err.code = code;
  err.errno = -Math.abs(errno);
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  if (dest !== undefined) err.dest = dest;
  return err;
}

/**
 * An extended attribute (or ACL) the destination refused, in rsync's words: the entry was copied without
 * it. `setxattr("/dst/f","user.a") failed: Operation not supported (95)` (rsync prefixes its internal
 * function name, `rsync_xal_set:`, and names the temp file; this names the final path).
 */
export function attrRefusedMessage(errno: number, syscall: string, path: string, attr: Uint8Array): string {
  const text = errnoText(errno);
  return `${syscall}("${path}","${escapeName(Buffer.from(attr))}") failed: ${text} (${Math.abs(errno)})`;
}

/** An errno's text as rsync prints it (its strerror): "Permission denied". */
export function errnoText(errno: number): string {
  return strerror(errno);
}

/** Path bytes for messages: control characters and invalid UTF-8 escaped as rsync does (\#ooo). */
export function showPath(p: Buffer | string): string {
  return escapeName(typeof p === 'string' ? Buffer.from(p) : p);
}

export const ERRNO = os.errno;

/**
 * A usage error: reported as "arsync: <message>" and exit 1, before any I/O; `bare`: as it is, for a line
 * rsync prints without its name.
 */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly bare = false,
  ) {
    super(message);
  }
}

/**
 * rsync's "errors selecting input/output files, dirs": exit 3. Reported as "arsync: <message>", or as it
 * is when it starts with "ERROR:" (rsync prints those without its name). `before`: the sender's errors
 * about operands it could not read, which rsync prints first.
 */
export class FileSelectError extends Error {
  override name = 'FileSelectError';
  constructor(
    message: string,
    /** The sender's lines about operands, printed first; `bare` ones without the program name. */
    readonly before: readonly { message: string; bare?: boolean }[] = [],
  ) {
    super(message);
  }
}

/**
 * rsync's io timeout line (io.c check_timeout), printed as it is, with no program-name prefix: `who`
 * is the side that gave up ("sender", "Receiver", ...).
 */
export function ioTimeoutLine(who: string, seconds: number): string {
  return `[${who}] io timeout after ${seconds} seconds -- exiting`;
}

/** rsync's line when --stop-after/--stop-at ends a run (io.c perform_io), printed as it is. */
export const STOP_LINE = 'stopping at requested limit';
