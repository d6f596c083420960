// rsync's options that change nothing in a local copy (compression, the remote shell, sockets, argument
// protection; also the delta algorithm's --no-whole-file and -B, whose local figures run/local-delta.ts
// computes), declared where rsync accepts them with their values
// checked as rsync checks them, so a command line rsync takes or rejects is taken or rejected alike; and
// the daemon and server options, refused with the reason.
// Each check names the rsync function it ports; docs/options.md says why each option has no effect.

import type { Command } from 'commander';
import type { CompressOptions } from '../model/config.js';
import { Exit, UsageError } from '../util/errors.js';

/** A usage error that rsync reports with another exit code than 1 (its RERR_* for that failure). */
export class OptionError extends UsageError {
  constructor(
    message: string,
    readonly exitCode: number,
    bare = false,
  ) {
    super(message, bare);
  }
}

/** rsync's DEFAULT_MAX_ALLOC (1 GiB): --max-alloc's value when none is given. */
const DEFAULT_MAX_ALLOC = 1024 * 1024 * 1024;

/** rsync's MAX_BLOCK_SIZE; `maxBlockSize` gives the limit as the line so far leaves it (cli/protocol-option.ts). */
export const MAX_BLOCK_SIZE = 1 << 17;

const DAEMON = 'arsync is not an rsync daemon (run rsync --daemon for that)';
const SERVER = "rsync's mode for the remote end of a transfer; arsync cannot be one";

/** An option that only a daemon or the remote end of a transfer has: exit 1 before any I/O, saying why. */
function refuse(name: string, why: string) {
  return (): never => {
    throw new UsageError(`${name}: ${why}`);
  };
}

/** valid_compressions_items[] of the rsync built here (`rsync -V`'s "Compress list"), and "auto". */
const COMPRESS_NAMES = ['zstd', 'lz4', 'zlibx', 'zlib', 'none', 'auto'];
/** valid_checksums_items[] of the rsync built here (`rsync -V`'s "Checksum list"), and "auto". */
const CHECKSUM_NAMES = ['xxh128', 'xxh3', 'xxh64', 'xxhash', 'md5', 'md4', 'sha1', 'none', 'auto'];

/** What the options of this module leave for the rest of the run. */
export interface NoEffect {
  /** rsync's allow_inc_recurse as the command line leaves it (--i-r/--no-i-r, --qsort). */
  allowIncRecurse: boolean;
  /** --old-args (also RSYNC_OLD_ARGS): an empty destination names the current directory. */
  oldArgs: boolean;
  /** rsync's old_style_args: how many --old-args (or RSYNC_OLD_ARGS's number); remote/rsh.ts's quoting. */
  oldArgsLevel: number;
  /** rsync's protect_args once settled (-s, else RSYNC_PROTECT_ARGS; never with old args): remote/rsh.ts. */
  secludedArgs: boolean;
  /** -s on the line itself (not from RSYNC_PROTECT_ARGS). */
  secludedGiven: boolean;
  /** -M/--remote-option values, in order (main's parser checks them: it knows every option). */
  remoteOptions: string[];
  /** --checksum-choice's transfer and file checksums, lower case; undefined when not given. */
  checksumChoice: [xfer: string, file: string] | undefined;
  /** -z and its options, for a remote session (src/remote/compress.ts settles them). */
  compress: CompressOptions;
  /** --checksum-seed's value (0: not given, or rsync's "the server picks one"): the server is told it. */
  checksumSeed: number;
  /** --max-alloc (or RSYNC_MAX_ALLOC) as given, when its size is not rsync's default: the server is told it. */
  maxAlloc: string | undefined;
}

/**
 * popt's POPT_ARG_INT: strtol(arg, &end, 0) must use the whole argument (leading white space, a sign,
 * 0x hex and 0 octal allowed) and fit a C int.
 */
export function poptInt(name: string, v: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(v);
  if (!m) throw new UsageError(`${name}=${v}: invalid numeric value`);
  const digits = m[2]!;
  const n = (m[1] === '-' ? -1 : 1) * (/^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits[0] === '0' ? parseInt(digits, 8) : Number(digits));
  if (n > 2 ** 31 - 1 || n < -(2 ** 31)) throw new UsageError(`${name}=${v}: number too large or too small`);
  return n;
}

/** rsync's do_big_num(n, 3, NULL) for the limits parse_size_arg prints: 128.00K, 1.00M. */
function bigNum(n: number): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P'];
  let i = 0;
  let x = n;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return i === 0 ? String(n) : `${x.toFixed(2)}${units[i]}`;
}

/**
 * rsync's parse_size_arg() (options.c): digits with an optional fraction, a unit (default defSuffix)
 * of b/k/m/g/t/p, then "b" for powers of 1000 or "ib"/nothing for powers of 1024, then an optional
 * +1/-1; the result must lie in [min, max] (max < 0: half of SIZE_MAX), and with unlimited0 a 0 is
 * always allowed.
 */
export function rsyncSize(opt: string, arg: string, defSuffix: string, min: number, max: number, unlimited0: boolean): number {
  const sizeMax = max >= 0 ? max : 2 ** 63 - 1;
  const fail = (err: string, limit?: number): never => {
    const tail = limit !== undefined && limit >= 0 ? ` (${err === 'too small' ? 'min' : 'max'}: ${bigNum(limit)}${unlimited0 && err === 'too small' ? ' or 0 for unlimited' : ''})` : '';
    throw new UsageError(`--${opt}=${arg} is ${err}${tail}`);
  };
  const m = /^(\d*(?:\.\d*)?)(.*)$/.exec(arg)!;
  let rest = m[2]!;
  let suffix = defSuffix;
  if (rest !== '' && rest[0] !== '+' && rest[0] !== '-') {
    suffix = rest[0]!;
    rest = rest.slice(1);
  }
  const reps = 'bkmgtp'.indexOf(suffix.toLowerCase());
  if (reps < 0) return fail('invalid');
  let mult: number;
  if (rest[0] === 'b' || rest[0] === 'B') {
    mult = 1000;
    rest = rest.slice(1);
  } else if (rest === '' || rest[0] === '+' || rest[0] === '-') mult = 1024;
  else if (rest.slice(0, 2).toLowerCase() === 'ib') {
    mult = 1024;
    rest = rest.slice(2);
  } else return fail('invalid');
  const unit = mult ** reps;
  if (unit > sizeMax) return fail('too large', max);
  // strtod() of the whole argument (it may read a sign the digit scan above did not).
  const num = /^[ \t\n\v\f\r]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(arg);
  const dsize = num ? Number(num[0].trim()) : 0;
  if (dsize < 0 || dsize > sizeMax / unit || (max < 0 && dsize >= sizeMax / unit)) return fail('too large', max);
  let size = Math.trunc(dsize * unit);
  if ((rest[0] === '+' || rest[0] === '-') && rest[1] === '1' && rest.length !== arg.length) {
    size += rest[0] === '+' ? 1 : -1;
    rest = rest.slice(2);
  }
  if (rest !== '') return fail('invalid');
  if (size < 0 || (max >= 0 && size > max)) return fail('too large', max);
  if (size < min && (!unlimited0 || size !== 0)) return fail('too small', min);
  return size;
}

/** get_nni_by_name(): a name from the list, any case, the whole of it. */
function knownName(list: string[], name: string): boolean {
  return list.includes(name.toLowerCase());
}

/**
 * Declare the options and return the check rsync makes once the whole line is read (the conflicts and
 * the checks its client makes later, still before any I/O). Commander calls each option's function in
 * argv order, flags included, so "last one wins" (-z then --no-compress, --old-args then --no-old-args)
 * comes out as in rsync's popt loop.
 */
export function addNoEffectOptions(p: Command, env: NodeJS.ProcessEnv = {}, maxBlockSize: () => number = () => MAX_BLOCK_SIZE): () => NoEffect {
  let compressChoice: string | undefined;
  let compressCount = 0;
  let compressLevel: number | undefined;
  let skipCompress: string | undefined;
  let checksumChoice: string | undefined;
  let oldArgs = -1;
  let secluded = -1;
  let allowIncRecurse = true;
  let qsort = false;
  let maxAlloc: string | undefined;
  let checksumSeed = 0;
  const remoteOptions: string[] = [];
  const int = (name: string, then?: (n: number) => void) => (v: string): number => {
    const n = poptInt(name, v);
    then?.(n);
    return n;
  };

  p
    // Compression only shapes the bytes on a wire a local copy does not have.
    .option('-z, --compress', 'compress file data during the transfer (no effect locally)', () => (compressCount++, true))
    .option('--no-compress', 'turn off -z', () => ((compressCount = 0), (compressChoice = undefined)))
    .option('--no-z', 'same as --no-compress', () => ((compressCount = 0), (compressChoice = undefined)))
    .option('--old-compress', 'same as --compress-choice=zlib', () => (compressChoice = 'zlib'))
    .option('--new-compress', 'same as --compress-choice=zlibx', () => (compressChoice = 'zlibx'))
    .option('--compress-choice <STR>', 'choose the compression algorithm (no effect locally)', (v: string) => (compressChoice = v))
    .option('--zc <STR>', 'same as --compress-choice', (v: string) => (compressChoice = v))
    .option('--compress-level <NUM>', 'compression level (no effect locally)', int('--compress-level', (n) => (compressLevel = n)))
    .option('--zl <NUM>', 'same as --compress-level', int('--zl', (n) => (compressLevel = n)))
    .option('--compress-threads <NUM>', 'compression threads (no effect locally)', int('--compress-threads'))
    .option('--zt <NUM>', 'same as --compress-threads', int('--zt'))
    .option('--skip-compress <LIST>', 'skip compressing files with these suffixes (no effect locally; sent to a remote sender)', (v: string) => (skipCompress = v))
    // The remote shell and the program it starts: a local copy starts neither.
    .option('-e, --rsh <COMMAND>', 'remote shell (no effect locally)')
    .option('--rsync-path <PROGRAM>', 'rsync to run on the remote machine (no effect locally)')
    .option('-M, --remote-option <OPT>', "send OPT to the remote side only (a local copy: its receiving side)", (v: string) => {
      // rsync's popt loop, case 'M'.
      if (!v.startsWith('-')) throw new UsageError(`Remote option must start with a dash: ${v}`);
      remoteOptions.push(v);
      return v;
    })
    // The delta algorithm: locally its search gives rsync's figures (run/local-delta.ts, settled by
    // write-options.ts); the files are still written whole, which is the same bytes.
    .option('--no-whole-file', 'use the delta-xfer algorithm (locally: its figures; files still written whole)')
    .option('--no-W', 'same as --no-whole-file')
    .option('-B, --block-size <SIZE>', 'fixed checksum block size', (v: string) =>
      rsyncSize('block-size', v, 'b', 0, maxBlockSize(), false),
    )
    .option('--checksum-choice <STR>', 'choose the checksum algorithms (no effect locally)', (v: string) => (checksumChoice = v))
    .option('--cc <STR>', 'same as --checksum-choice', (v: string) => (checksumChoice = v))
    .option('--checksum-seed <NUM>', 'block/file checksum seed (no effect locally; sent to a server)', int('--checksum-seed', (n) => (checksumSeed = n)))
    // Incremental recursion is how rsync streams its file list to a peer; it only shows in -v's first line.
    .option('--inc-recursive', 'enable incremental recursion', () => (allowIncRecurse = true))
    .option('--no-inc-recursive', 'disable incremental recursion', () => (allowIncRecurse = false))
    .option('--i-r', 'same as --inc-recursive', () => (allowIncRecurse = true))
    .option('--no-i-r', 'same as --no-inc-recursive', () => (allowIncRecurse = false))
    .option('--qsort', 'sort the file list with qsort (turns off incremental recursion)', () => (qsort = true))
    // How arguments reach a remote shell; a local copy passes none (only --old-args' empty destination shows).
    .option('--old-args', 'disable the modern argument-protection idiom', () => (oldArgs = oldArgs <= 0 ? 1 : oldArgs + 1))
    .option('--no-old-args', 'turn off --old-args', () => (oldArgs = 0))
    .option('-s, --secluded-args', 'send the arguments through the protocol (no effect locally)', () => (secluded = 1))
    .option('--no-secluded-args', 'turn off -s', () => (secluded = 0))
    .option('--protect-args', 'same as --secluded-args', () => (secluded = 1))
    .option('--no-protect-args', 'same as --no-secluded-args', () => (secluded = 0))
    .option('--no-s', 'same as --no-secluded-args', () => (secluded = 0))
    .option('--trust-sender', "trust the remote sender's file list (the local sender is arsync itself)")
    // Buffers: a local copy has no socket (the daemon connection's options are cli/daemon-options.ts).
    .option('--outbuf <N|L|B>', 'set stdout buffering to None, Line, or Block', (v: string) => {
      // rsync's parse_arguments(): the first letter, any case.
      if (v === '' || !'NULBF'.includes(v[0]!.toUpperCase())) throw new UsageError('Invalid --outbuf setting -- specify N, L, or B.');
      return v;
    })
    .option('--max-alloc <SIZE>', 'limit on one memory allocation (no effect: arsync has no such allocator)', (v: string) => (maxAlloc = v))
    .option('--blocking-io', 'use blocking I/O for the remote shell (no effect locally)')
    .option('--no-blocking-io', 'turn off --blocking-io')
    .option('--early-input <FILE>', "file for a daemon's early exec input (no effect locally)")
    // Daemon mode and the server side of rsync's protocol: arsync is neither.
    .option('--daemon', 'refused: arsync is not an rsync daemon', refuse('--daemon', DAEMON))
    .option('--config <FILE>', 'refused: a daemon option', refuse('--config', DAEMON))
    .option('--dparam <OVERRIDE>', 'refused: a daemon option', refuse('--dparam', DAEMON))
    .option('--detach', 'refused: a daemon option', refuse('--detach', DAEMON))
    .option('--no-detach', 'refused: a daemon option', refuse('--no-detach', DAEMON))
    .option('--server', "refused: rsync's remote end", refuse('--server', SERVER))
    .option('--sender', "refused: rsync's remote end", refuse('--sender', SERVER));

  return (): NoEffect => {
    // parse_arguments(): --old-args from RSYNC_OLD_ARGS when neither it nor -s is on the line.
    let protect = secluded;
    if (oldArgs < 0) {
      const fromEnv = secluded <= 0 && Boolean(env['RSYNC_OLD_ARGS']);
      oldArgs = fromEnv ? Number.parseInt(env['RSYNC_OLD_ARGS']!, 10) || 0 : 0;
      if (fromEnv) protect = 0;
    } else if (oldArgs > 0 && secluded > 0) throw new UsageError('--secluded-args conflicts with --old-args.');
    else if (oldArgs > 0) protect = 0;
    // Then RSYNC_PROTECT_ARGS when nothing above decided (this rsync is not built to seclude by default).
    if (protect < 0) protect = env['RSYNC_PROTECT_ARGS'] ? (Number.parseInt(env['RSYNC_PROTECT_ARGS'], 10) ? 1 : 0) : 0;
    // parse_arguments(): --max-alloc, else RSYNC_MAX_ALLOC when set and not empty; its size rule still
    // names 0 ("unlimited"), but rsync 3.5 then refuses 0 on its own.
    const alloc = maxAlloc ?? (env['RSYNC_MAX_ALLOC'] || undefined);
    const allocSize = alloc === undefined ? DEFAULT_MAX_ALLOC : rsyncSize('max-alloc', alloc, 'B', 1024 * 1024, -1, true);
    if (allocSize === 0) throw new UsageError('max-alloc must be greater than zero');
    // parse_compress_choice() and parse_checksum_choice(): checked even when -z/-c is not given.
    if (compressChoice !== undefined && !knownName(COMPRESS_NAMES, compressChoice)) {
      throw new OptionError(`unknown compress name: ${compressChoice} (--compress-choice)`, Exit.Unsupported);
    }
    let choice: [string, string] | undefined;
    if (checksumChoice !== undefined) {
      const comma = checksumChoice.indexOf(',');
      const names = comma < 0 ? [checksumChoice] : [checksumChoice.slice(0, comma), checksumChoice.slice(comma + 1)];
      for (const n of names) {
        if (!knownName(CHECKSUM_NAMES, n)) throw new OptionError(`unknown checksum name: ${n}`, Exit.Unsupported, true);
      }
      choice = [names[0]!.toLowerCase(), names[names.length - 1]!.toLowerCase()];
    }
    return {
      // set_allow_inc_recurse(): no incremental recursion with --qsort.
      allowIncRecurse: allowIncRecurse && !qsort,
      oldArgs: oldArgs > 0,
      oldArgsLevel: Math.max(oldArgs, 0),
      secludedArgs: protect > 0,
      secludedGiven: secluded > 0,
      remoteOptions,
      checksumChoice: choice,
      compress: { count: compressCount, choice: compressChoice?.toLowerCase(), level: compressLevel, skip: skipCompress },
      checksumSeed,
      // server_options(): only a limit other than the default goes, spelled as given.
      maxAlloc: allocSize !== DEFAULT_MAX_ALLOC ? alloc : undefined,
    };
  };
}

/** An -M value rsync's receiver rejects: the receiver dies, so the run ends with exit 12. */
export function remoteOptionError(message: string): OptionError {
  return new OptionError(message, Exit.StreamIO);
}
