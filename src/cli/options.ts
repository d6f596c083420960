// argv → Config. rsync's option names and meanings (-a = -rlptgoD, --no-OPTION turns one back off),
// parsed with commander; every check that needs no I/O happens here, so a usage error never leaves a
// trace on disk.

import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { DEFAULTS, type CompressOptions, type Config, type EngineChoice, type FilterItem, type ChmodRule } from '../model/config.js';
import { Exit, UsageError, showPath } from '../util/errors.js';
import { classifyOperand, describeRemote } from './remote-operand.js';
import type { RemoteList } from './remote.js';
import { pushTarget, refuseForPush, type RemotePush } from './remote-push.js';
import { pullExtraPaths, pullOperand, pullRefusal, type RemotePull } from './pull-operand.js';
import { clientCompress, type ClientCompress } from '../remote/compress.js';
import { ProtocolError } from '../remote/wire.js';
import { parseChmod } from '../plan/chmod.js';
import { validateFormat } from '../progress/format.js';
import { addDaemonOptions, daemonLogin } from './daemon-options.js';
import { OptionError, addNoEffectOptions, remoteOptionError, type NoEffect } from './local-noops.js';
import { addReflinkOption, reflinkMode, reflinkSpellings } from './reflink.js';
import { addFuzzyOptions, fuzzyLevel } from './fuzzy-options.js';
import { addIconvOptions, refuseRemoteIconv } from './iconv-options.js';
import { addProtocolOption, applyProtocol, autoFileSum, type ProtocolOption } from './protocol-option.js';
import { addConfineRootOption, confineRoot } from './confine-root.js';
import { addClockOptions, type ClockLimits } from './clock-options.js';
import { addNegations } from './negations.js';
import { addOwnershipOptions, type Ownership } from './ownership.js';
import { addFakeSuperOptions, isReceiverOption, type FakeSuper } from './fake-super.js';
import { applyReceiverOptions, isReceiverSetting, withReceiverOptions } from './receiver-options.js';
import { checkXattrsAll, xattrsLevel } from './xattrs.js';
import { addDeviceOptions, type DeviceOptions } from './device-options.js';
import { addBatchOptions, batchRemoteRefusal, settleBatch } from './batch-options.js';
import { percentCSum, addOutputOptions } from './output-options.js';
import { useNativeSumsFor } from './native-sums.js';
import { versionText } from './version-info.js';
import { checkBackupDirLength } from '../plan/backup.js';
import { jsonSpellings } from '../progress/json.js';
import { addDirOptions, applyDirChoices, dirDefaults, type DirChoices } from './dir-options.js';
import { addWriteOptions, type WriteOptions } from './write-options.js';
import { addPartialOptions, type PartialOptions } from './partial-options.js';
import { addMetaOptions, type MetaConfig } from './meta-options.js';


/** Things the CLI does instead of a transfer. */
export type Parsed =
  | { kind: 'run'; config: Config }
  | { kind: 'print'; text: string }
  | { kind: 'remote-list'; list: RemoteList }
  | { kind: 'remote-push'; push: RemotePush }
  | { kind: 'remote-pull'; pull: RemotePull };

const count = (_: string, prev: number): number => prev + 1;

/** rsync's MAX_BASIS_DIRS. */
const MAX_BASIS_DIRS = 20;
const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** rsync's size syntax: 100, 1.5K, 10M, 2G (powers of 1024), 10KB/10MB (powers of 1000), with +1/-1. */
export function parseSize(name: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmgtp]?)(i?b)?([+-]1)?$/i.exec(v);
  if (!m) throw new UsageError(`${name}: invalid size "${v}"`);
  const unit = m[2]!.toLowerCase();
  const base = m[3] && m[3].toLowerCase() === 'b' ? 1000 : 1024;
  const pow = unit ? 'kmgtp'.indexOf(unit) + 1 : 0;
  let n = Number(m[1]) * base ** pow;
  if (m[4]) n += Number(m[4]);
  // rsync keeps sizes in a signed 64-bit integer.
  if (n > 2 ** 63 - 1) throw new UsageError(`${name}=${v} is too large`);
  return Math.round(n);
}

function nonNegativeInt(name: string) {
  return (v: string): number => {
    if (!/^-?\d+$/.test(v)) throw new UsageError(`${name} takes a whole number, not "${v}"`);
    // rsync reads these into a C int.
    const n = Number(v);
    if (n > 2 ** 31 - 1 || n < -(2 ** 31)) throw new UsageError(`${name}=${v}: number too large or too small`);
    return n;
  };
}

function positiveInt(name: string, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new UsageError(`${name} takes a whole number, not "${v}"`);
    const n = Number(v);
    if (n < 1 || n > max) throw new UsageError(`${name} must be between 1 and ${max}, not ${n}`);
    return n;
  };
}

function buildProgram(
  filters: FilterItem[],
  env: NodeJS.ProcessEnv,
): {
  p: Command;
  noEffect: () => NoEffect;
  protocol: ProtocolOption;
  clock: () => ClockLimits;
  dirChoices: () => DirChoices;
  writes: (o: Record<string, unknown>) => WriteOptions & PartialOptions;
  meta: () => MetaConfig;
  ownership: () => Ownership;
  fakeSuper: (remoteOptions: string[]) => FakeSuper;
  devices: () => Partial<DeviceOptions>;
  output: ReturnType<typeof addOutputOptions>;
  daemon: ReturnType<typeof addDaemonOptions>;
  iconv: ReturnType<typeof addIconvOptions>;
  batch: ReturnType<typeof addBatchOptions>;
} {
  // Filter options keep their command-line order across kinds: commander calls these in argv order.
  const rule = (kind: FilterItem['kind']) => (v: string, prev: number): number => {
    filters.push({ kind, value: v });
    return prev + 1;
  };
  // rsync takes one kind of --*-dest per run, at most 20 of them, and names the later option first.
  let altKind: string | undefined;
  const altDest = (name: string) => (v: string, prev: string[]): string[] => {
    if (altKind !== undefined && altKind !== name) throw new UsageError(`ERROR: the ${name} option conflicts with the ${altKind} option`);
    altKind = name;
    if (prev.length >= MAX_BASIS_DIRS) throw new UsageError(`ERROR: at most ${MAX_BASIS_DIRS} ${name} args may be specified`);
    return [...prev, v];
  };
  const p = new Command('arsync');
  p.usage('[OPTION]... SRC [SRC]... DEST')
    .description("Local file copy and sync with rsync's command line, driven by io_uring.")
    // Help is not commander's early-exit option: every option on the line is checked first (an unknown
    // one is exit 1 even next to --help), and -h is rsync's --human-readable unless it is alone.
    .helpOption(false)
    .allowExcessArguments(true)
    .showSuggestionAfterError(true)
    .argument('[paths...]', 'sources, then the destination')
    .option('-v, --verbose', 'list files as they are transferred (-vv for more)', count, 0)
    .option('--no-verbose', 'turn off -v')
    .option('--no-v', 'same as --no-verbose')
    .option('-q, --quiet', 'print no informational messages')
    .option('-a, --archive', 'archive mode: -rlptgoD')
    .option('-r, --recursive', 'recurse into directories')
    .option('--no-recursive', 'turn off -r')
    .option('-l, --links', 'copy symlinks as symlinks')
    .option('--no-links', 'turn off -l')
    .option('-p, --perms', 'preserve permissions')
    .option('--no-perms', 'turn off -p')
    .option('-t, --times', 'preserve modification times')
    .option('--no-times', 'turn off -t')
    .option('-g, --group', 'preserve group')
    .option('--no-group', 'turn off -g')
    .option('-o, --owner', 'preserve owner (as root)')
    .option('--no-owner', 'turn off -o')
    .option('-D', 'same as --devices --specials')
    .option('--devices', 'preserve device files (as root)')
    .option('--no-devices', 'turn off --devices')
    .option('--specials', 'preserve FIFOs and sockets')
    .option('--no-specials', 'turn off --specials')
    .option('-H, --hard-links', 'preserve hard links')
    .option('-A, --acls', 'preserve POSIX ACLs (implies -p)')
    .option('-X, --xattrs', 'preserve extended attributes', count, 0)
    .option('--numeric-ids', 'keep uid/gid numbers (local copies always do)')
    .option('-n, --dry-run', 'show what would be done, change nothing')
    .option('-i, --itemize-changes', "print a change summary for each entry (rsync's YXcstpoguax)", count, 0)
    .option('--out-format <FORMAT>', 'print updates with this rsync format (%n %i %l %L %b ...)')
    .option('--log-format <FORMAT>', "same as --out-format (rsync's deprecated name)")
    .option('--json', 'print one JSON summary on stdout and nothing else (--json=summary; schema/summary.v1.json)')
    .option('--json-events', 'print one JSON object per line on stdout as the run goes: start, each entry done, errors, progress, end (--json=events; schema/events.v1.json)')
    .option('-c, --checksum', 'compare file contents, not size and mtime')
    .option('-I, --ignore-times', 'do not skip files that match size and mtime')
    .option('--size-only', 'skip files that match in size')
    .option('-u, --update', 'skip files that are newer on the destination')
    .option('--ignore-existing', 'skip files that exist on the destination')
    .option('--existing', 'skip creating new files on the destination')
    .option('--ignore-non-existing', 'same as --existing')
    .option('--min-size <SIZE>', "don't transfer files smaller than SIZE")
    .option('--max-size <SIZE>', "don't transfer files larger than SIZE")
    .option('-W, --whole-file', 'copy files whole (always so for local copies)')
    .option('-@, --modify-window <NUM>', 'compare mtimes with this many seconds of slack (0: nanoseconds)', nonNegativeInt('--modify-window'))
    .option('--delete', 'delete extraneous files from the destination (during the transfer)')
    .option('--delete-before', 'delete before the transfer')
    .option('--delete-during', 'delete during the transfer')
    .option('--del', 'same as --delete-during')
    .option('--delete-after', 'delete after the transfer')
    .option('--delete-delay', 'find deletions during the transfer, delete after it')
    .option('--delete-excluded', 'also delete excluded files on the destination')
    .option('--max-delete <NUM>', "don't delete more than NUM files (exit 25)", nonNegativeInt('--max-delete'))
    .option('--ignore-errors', 'delete even when there were I/O errors')
    .option('--exclude <PATTERN>', 'exclude files matching PATTERN', rule('exclude'), 0)
    .option('--include <PATTERN>', "don't exclude files matching PATTERN", rule('include'), 0)
    .option('-f, --filter <RULE>', 'add a filter rule', rule('filter'), 0)
    .option('--exclude-from <FILE>', 'read exclude patterns from FILE', rule('exclude-from'), 0)
    .option('--include-from <FILE>', 'read include patterns from FILE', rule('include-from'), 0)
    .option('-F', "same as --filter='dir-merge /.rsync-filter'; twice also excludes the .rsync-filter files", (_v: string, prev: number) => {
      filters.push({ kind: 'filter', value: prev === 0 ? 'dir-merge /.rsync-filter' : '- .rsync-filter' });
      return prev + 1;
    }, 0)
    .option('-C, --cvs-exclude', 'auto-ignore files the way CVS does')
    .option('--files-from <FILE>', 'read the list of source files from FILE')
    .option('-0, --from0', 'all *-from and merge files are NUL-separated')
    .option('--no-from0', 'turn off -0')
    .option('--link-dest <DIR>', 'hard-link unchanged files to those in DIR', altDest('--link-dest'), [])
    .option('--compare-dest <DIR>', 'skip files that are unchanged in DIR', altDest('--compare-dest'), [])
    .option('--copy-dest <DIR>', 'copy unchanged files from DIR', altDest('--copy-dest'), [])
    .option('-b, --backup', 'keep replaced and deleted files (suffix ~ or --backup-dir)')
    .option('--backup-dir <DIR>', 'put backups into DIR (implies -b)')
    .option('--suffix <SUFFIX>', 'backup suffix (default ~, or none with --backup-dir)')
    .option('--inplace', 'update destination files in place (no temp file)')
    .option('--partial', 'keep partially transferred files')
    .option('-P', 'same as --partial --progress')
    .option('-S, --sparse', 'turn runs of zeros into holes')
    .option('-R, --relative', 'use full source path names at the destination')
    .option('--no-relative', 'turn off -R')
    .option('--mkpath', "create the destination's missing path components")
    .option('-x, --one-file-system', "don't cross filesystem boundaries (-xx: not even to create the mount point)", count, 0)
    .option('-L, --copy-links', 'copy what symlinks point to, not the links')
    .option('--safe-links', 'ignore symlinks that point outside the tree')
    .option('--copy-unsafe-links', 'copy what unsafe symlinks point to')
    .option('--insecure-links', 'follow attacker-owned symlinks in operator paths (destination, --*-dest, --backup-dir, rule files)')
    .option('--no-insecure-links', 'turn off --insecure-links')
    .option('-O, --omit-dir-times', "don't set directories' modification times")
    .option('-K, --keep-dirlinks', 'treat symlinked directories on the destination as directories')
    .option('--remove-source-files', 'remove transferred files (not directories) from the source')
    .option('--chmod <CHMOD>', 'change permissions of transferred entries (rsync syntax)', collect, [])
    .option('--progress', 'show progress per file')
    .option('--stats', "print rsync's transfer statistics")
    .option('-8, --8-bit-output', 'leave high-bit bytes of names unescaped in output')
    .option('--no-8-bit-output', 'turn off -8')
    .option('--no-8', 'turn off -8')
    .option('-h, --human-readable', 'numbers in units (-h: powers of 1000, -hh: of 1024); alone: this help', count, 1)
    .option('--no-human-readable', 'plain digits, no commas')
    .option('--no-h', 'same as --no-human-readable')
    .addOption(
      new Option('--engine <NAME>', 'copy engine').choices(['auto', 'uring', 'sync', 'node']).default('auto'),
    )
    .option('--workers <N>', 'worker threads (default: CPUs)', positiveInt('--workers', 256))
    .option('--queue-depth <N>', 'io_uring queue depth per worker', positiveInt('--queue-depth', 4096))
    .option('--direct', 'O_DIRECT for large files (uring engine): do not fill the page cache');
  // rsync's options that change nothing in a local copy (their value checks are rsync's).
  const ownership = addOwnershipOptions(p);
  const fakeSuper = addFakeSuperOptions(p);
  const daemon = addDaemonOptions(p);
  const devices = addDeviceOptions(p);
  const batch = addBatchOptions(p);
  const protocol = addProtocolOption(p, filters);
  const noEffect = addNoEffectOptions(p, env, protocol.maxBlockSize);
  addReflinkOption(p);
  addFuzzyOptions(p);
  const iconv = addIconvOptions(p, env);
  addConfineRootOption(p);
  const clock = addClockOptions(p);
  const dirChoices = addDirOptions(p);
  // Where and how destination files are written (cli/write-options.ts).
  const writeOpts = addWriteOptions(p);
  const partials = addPartialOptions(p, env);
  const writes = (o: Record<string, unknown>): WriteOptions & PartialOptions => {
    const w = writeOpts(o);
    return { ...w, ...partials(o, w, filters) };
  };
  const meta = addMetaOptions(p);
  addNegations(p);
  const output = addOutputOptions(p);
  p.option('-V, --version', 'print the version and exit (-VV: as JSON)', count, 0)
    .option('--help', 'show this help (so does -h on its own)');
  p.exitOverride();
  p.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  // rsync keeps one variable behind each pair of names, so the last one on the line wins: commander
  // fires these events in argv order, and each writes the shared attribute.
  p.on('option:no-v', () => p.setOptionValue('verbose', 0));
  p.on('option:log-format', (v: string) => p.setOptionValue('outFormat', v));
  for (const [name, kind] of [['del', 'during'], ['delete-during', 'during'], ['delete-delay', 'delay']]) {
    p.on(`option:${name}`, () => p.setOptionValue('deleteDuringKind', kind));
  }
  return { p, noEffect, protocol, clock, dirChoices, writes, meta, ownership, fakeSuper, devices, output, daemon, iconv, batch };
}

/** The raw bytes of each argument: Node decodes argv as UTF-8 and loses invalid bytes; /proc does not. */
function rawArgs(args: string[]): Buffer[] {
  try {
    const all = readFileSync('/proc/self/cmdline');
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < all.length; i++) {
      if (all[i] === 0) {
        parts.push(all.subarray(start, i));
        start = i + 1;
      }
    }
    const tail = parts.slice(parts.length - args.length);
    if (tail.length === args.length && tail.every((b, i) => b.toString('utf8') === args[i])) return tail;
  } catch {
    // no /proc: fall through to the decoded strings
  }
  return args.map((a) => Buffer.from(a));
}

/** A remote session's compression; a choice arsync cannot speak (zstd, lz4) is refused before any I/O. */
function remoteCompress(o: CompressOptions): ClientCompress {
  try {
    return clientCompress(o);
  } catch (e) {
    if (e instanceof ProtocolError) throw new OptionError(e.message, e.code);
    throw e;
  }
}

/**
 * A program built ahead of the run, for the real command line's parse: the start-up snapshot builds it
 * while its blob is made (src/snapshot.ts), so a run from the blob does not register ~300 options. The
 * environment is read only once the parse settles its options, so it goes through a view of process.env
 * at that moment, not the build's.
 */
let prebuilt: { filters: FilterItem[]; built: ReturnType<typeof buildProgram> } | undefined;
export function prebuildProgram(): void {
  const filters: FilterItem[] = [];
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get: (_t, k) => (typeof k === 'string' ? process.env[k] : undefined),
    has: (_t, k) => typeof k === 'string' && k in process.env,
  });
  prebuilt = { filters, built: buildProgram(filters, env) };
}

/**
 * `receiverExtra`: in the second parse that gives the local receiver's -M settings
 * (cli/receiver-options.ts), how many values it appended to the command line; that parse leaves -M alone.
 */
export function parseArgs(argv: string[], fromProcess = false, receiverExtra = 0): Parsed {
  const receiverPass = receiverExtra > 0;
  // A commander program keeps what it parsed: the prebuilt one serves one parse.
  const ready = fromProcess ? prebuilt : undefined;
  if (ready) prebuilt = undefined;
  const filters: FilterItem[] = ready?.filters ?? [];
  // RSYNC_OLD_ARGS is read only for the real command line, as rsync reads it.
  const { p: program, noEffect: finishNoEffect, protocol, clock, dirChoices, writes, meta, ownership, fakeSuper, devices, output, daemon: finishDaemon, iconv, batch } = ready?.built ?? buildProgram(filters, fromProcess ? process.env : {});
  const args = argv.slice(2);
  try {
    program.parse([...argv.slice(0, 2), ...reflinkSpellings(jsonSpellings(args), program)]);
  } catch (err) {
    if (err instanceof CommanderError) throw new UsageError(err.message.replace(/^error: /, ''));
    throw err;
  }
  const o = program.opts();
  const human = humanLevel(o);
  if (o['version']) return { kind: 'print', text: versionText(o['version'] as number, program, o['engine'] as EngineChoice) };
  const wordsHelp = output.help();
  if (wordsHelp !== undefined) return { kind: 'print', text: wordsHelp };
  // rsync keeps the old meaning of -h (help) when it is the only argument.
  if (o['help'] || (args.length === 1 && human > 1)) return { kind: 'print', text: program.helpInformation() };
  const noEffect = finishNoEffect();
  const protocolVersion = protocol.finish();
  const receiverOpts = receiverPass ? [] : noEffect.remoteOptions.filter(isReceiverSetting);
  if (!receiverPass) for (const opt of noEffect.remoteOptions) if (!isReceiverOption(opt) && !isReceiverSetting(opt)) checkRemoteOption(opt);
  const operands = program.args;
  // --read-batch: the batch stands for the sources; the last operand is the destination (rsync's rule).
  const batchChoice = batch();
  const readBatch = batchChoice?.mode === 'read';
  if (readBatch) {
    if (operands.length === 0) throw new UsageError('--read-batch needs a destination');
    operands.splice(0, operands.length - 1);
    if (classifyOperand(Buffer.from(operands[0]!)).kind !== 'local') throw new UsageError(batchRemoteRefusal(batchChoice)!);
  }
  // `host:path` alone lists a directory on another machine (rsync's implicit --list-only).
  // With --list-only a destination may follow; rsync lists the source all the same.
  const remoteList = readBatch ? undefined : operands.length === 1 || (o['listOnly'] && operands.length === 2) ? classifyOperand(Buffer.from(operands[0]!)) : undefined;
  const listing = remoteList?.kind === 'local' ? undefined : remoteList;
  // A lone local source is listed (rsync's implicit --list-only); the "." stands for the destination
  // a listing never uses.
  const lone = operands.length === 1 && !readBatch;
  if (lone) operands.push('.');
  if (operands.length < (readBatch ? 1 : 2)) {
    throw new UsageError('no source or destination given');
  }
  const raw = fromProcess ? [...rawArgs(args.slice(0, args.length - receiverExtra)), ...args.slice(args.length - receiverExtra).map((a) => Buffer.from(a))] : args.map((a) => Buffer.from(a));
  // Commander hands back operands as strings; map each back to its raw bytes by position in argv.
  const used = new Set<number>();
  const operandBytes = operands.map((s) => {
    for (let i = 0; i < args.length; i++) {
      if (!used.has(i) && args[i] === s) {
        used.add(i);
        return raw[i]!;
      }
    }
    return Buffer.from(s);
  });
  // rsync 3.5: an empty source or destination is an error (only its --old-args reads an empty
  // destination as the current directory; a script that meant "." must say so).
  if (operandBytes.slice(0, -1).some((b) => b.length === 0)) throw new UsageError('Empty source arg specified.');
  if (operandBytes[operandBytes.length - 1]!.length === 0) {
    // rsync's dot_dir_or_error(): --old-args keeps the old reading of an empty destination.
    if (!noEffect.oldArgs) throw new UsageError('Empty destination arg specified (use "." or see --old-args).');
    operandBytes[operandBytes.length - 1] = Buffer.from('.');
  }
  // `arsync src/ host:dst/`: a push (src/cli/remote-push.ts); `host:src dst`: a pull (cli/pull-operand.ts);
  // any other remote operand is refused.
  const pushTo = listing ? undefined : pushTarget(operandBytes);
  const pulled = listing || pushTo ? undefined : pullOperand(operandBytes);
  if (!listing && !pushTo && !pulled) refuseRemote(operandBytes, o['filesFrom'] as string | undefined);
  if (batchChoice && (listing || pushTo || pulled)) {
    const why = batchRemoteRefusal(batchChoice, pulled ? 'pull' : pushTo ? 'push' : 'other', { compress: (noEffect.compress?.count ?? 0) > 0, hardLinks: Boolean(o['hardLinks']), xattrs: Number(o['xattrs'] ?? 0) > 0 });
    if (why) throw new UsageError(why);
  }

  const clockLimits = clock();
  const daemonOp = [listing, pushTo, pulled].find((op) => op?.kind === 'daemon');
  const daemonChoices = finishDaemon(daemonOp !== undefined);
  if (daemonOp?.kind === 'daemon') {
    daemonOp.login = daemonLogin(daemonOp, daemonChoices, o['rsh'] as string | undefined, o['rsyncPath'] as string | undefined, fromProcess ? process.env : {}, Boolean(o['insecureLinks']), clockLimits.timeout);
    if (o['earlyInput'] !== undefined) daemonOp.login.earlyInput = o['earlyInput'] as string;
  }
  const archive = Boolean(o['archive']);
  const pick = (key: string, implied: boolean): boolean => (o[key] === undefined ? implied : Boolean(o[key]));
  const devicesAndSpecials = Boolean(o['D']);
  const acls = Boolean(o['acls']);
  const jsonEvents = Boolean(o['jsonEvents']);
  const json = Boolean(o['json']) || jsonEvents;
  const quiet = Boolean(o['quiet']) || json;
  const outputs = output.finish({
    verbose: quiet ? 0 : Number(o['verbose']), quiet, stats: Boolean(o['stats']),
    // -P writes --progress in argv order (cli/negations.ts): a later --no-progress has cleared it.
    progress: Boolean(o['progress']) || (Boolean(o['P']) && !clockLimits.progressOff),
    formatted: o['itemizeChanges'] as number > 0 || o['outFormat'] !== undefined,
    lone: lone && !listing,
  });
  const progress = outputs.info.PROGRESS > 0;
  const progressFiles = outputs.info.PROGRESS === 1;
  // --del, --delete-during and --delete-delay set one rsync variable (delete_during): the last one wins.
  const duringKind = o['deleteDuringKind'] as 'during' | 'delay' | undefined;
  if (Number(Boolean(o['deleteBefore'])) + Number(duringKind !== undefined) + Number(Boolean(o['deleteAfter'])) > 1) {
    throw new UsageError('You may not combine multiple --delete-WHEN options.');
  }
  const deleteMode = o['deleteBefore'] ? 'before' : o['deleteAfter'] ? 'after' : duringKind ?? (o['delete'] || o['deleteExcluded'] ? 'during' : 'none');
  let chmod: ChmodRule[];
  try {
    chmod = (o['chmod'] as string[]).flatMap((c) => parseChmod(c));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const outFormat = o['outFormat'] as string | undefined;
  if (outFormat !== undefined) {
    const bad = validateFormat(outFormat);
    if (bad) throw new UsageError(bad);
  }
  const backupDir = o['backupDir'] as string | undefined;
  if (backupDir !== undefined) checkBackupDirLength(backupDir);
  const config: Config = {
    sources: operandBytes.slice(0, -1),
    dest: operandBytes[operandBytes.length - 1]!,
    recursive: pick('recursive', archive),
    links: pick('links', archive),
    perms: pick('perms', archive),
    times: pick('times', archive),
    group: pick('group', archive),
    owner: pick('owner', archive),
    devices: pick('devices', archive || devicesAndSpecials),
    specials: pick('specials', archive || devicesAndSpecials),
    hardLinks: Boolean(o['hardLinks']),
    acls,
    ...xattrsLevel(Number(o['xattrs'] ?? 0)),
    numericIds: Boolean(o['numericIds']),
    compress: noEffect.compress,
    // --no-verbose leaves `false` behind (a later -v counts on from it).
    verbose: quiet ? 0 : Number(o['verbose']),
    quiet,
    progress: progress && !quiet,
    progressFiles: progressFiles && !quiet,
    stats: Boolean(o['stats']),
    humanReadable: human,
    eightBit: o['8BitOutput'] === true && o['8'] !== false,
    engine: o['engine'] as EngineChoice,
    workers: (o['workers'] as number | undefined) ?? DEFAULTS.workers,
    queueDepth: (o['queueDepth'] as number | undefined) ?? DEFAULTS.queueDepth,
    direct: Boolean(o['direct']),
    bufferSize: DEFAULTS.bufferSize,
    bufferCount: DEFAULTS.bufferCount,
    dryRun: Boolean(o['dryRun']),
    itemize: quiet ? 0 : Number(o['itemizeChanges']),
    outFormat: quiet ? undefined : outFormat,
    json,
    jsonEvents,
    checksum: Boolean(o['checksum']),
    ignoreTimes: Boolean(o['ignoreTimes']),
    sizeOnly: Boolean(o['sizeOnly']),
    update: Boolean(o['update']),
    ignoreExisting: Boolean(o['ignoreExisting']),
    existing: Boolean(o['existing']) || Boolean(o['ignoreNonExisting']),
    minSize: o['minSize'] !== undefined ? parseSize('--min-size', String(o['minSize'])) : undefined,
    maxSize: o['maxSize'] !== undefined ? parseSize('--max-size', String(o['maxSize'])) : undefined,
    modifyWindow: (o['modifyWindow'] as number | undefined) ?? 0,
    deleteMode,
    deleteExcluded: Boolean(o['deleteExcluded']),
    maxDelete: o['maxDelete'] as number | undefined,
    ignoreErrors: Boolean(o['ignoreErrors']),
    filters,
    cvsExclude: Boolean(o['cvsExclude']),
    filesFrom: o['filesFrom'] as string | undefined,
    oldArgs: noEffect.oldArgsLevel,
    secludedArgs: noEffect.secludedArgs,
    from0: o['from0'] === true,
    linkDest: o['linkDest'] as string[],
    compareDest: o['compareDest'] as string[],
    copyDest: o['copyDest'] as string[],
    backup: Boolean(o['backup']) || backupDir !== undefined,
    backupDir,
    suffix: (o['suffix'] as string | undefined) ?? (backupDir !== undefined ? '' : '~'),
    ...writes(o),
    reflink: reflinkMode(o['reflink'], Boolean(o['sparse'])),
    fuzzy: fuzzyLevel(o),
    relative: Boolean(o['relative']) || (o['filesFrom'] !== undefined && o['relative'] !== false),
    mkpath: Boolean(o['mkpath']),
    oneFileSystem: Number(o['oneFileSystem']),
    copyLinks: Boolean(o['copyLinks']),
    safeLinks: Boolean(o['safeLinks']),
    copyUnsafeLinks: Boolean(o['copyUnsafeLinks']),
    insecureLinks: Boolean(o['insecureLinks']),
    confineRoot: confineRoot(o),
    keepDirlinks: Boolean(o['keepDirlinks']),
    omitDirTimes: Boolean(o['omitDirTimes']) || ((Boolean(o['backup']) || backupDir !== undefined) && backupDir === undefined),
    removeSourceFiles: Boolean(o['removeSourceFiles']),
    chmod,
    incRecursive: false,
    bwlimit: clockLimits.bwlimit,
    timeout: clockLimits.timeout,
    stopAt: clockLimits.stopAt,
    progressBar: clockLimits.progressBar,
    ...dirDefaults(),
    ...meta(),
    ...ownership(),
    ...fakeSuper(noEffect.remoteOptions),
    ...devices(),
    ...iconv(o),
    ...outputs,
  };
  // --files-from: -a does not imply -r (rsync), only an explicit -r does.
  if (config.filesFrom !== undefined && o['recursive'] !== true) config.recursive = false;
  applyDirChoices(config, dirChoices(), filters);
  const settled = settleBatch(batchChoice, config);
  if (settled) config.batch = settled;
  // set_allow_inc_recurse() (compat.c): only a recursive walk, and not when the receiver needs the whole
  // list first (--delete-before, --delete-after, --delay-updates).
  config.incRecursive = noEffect.allowIncRecurse && config.recursive && deleteMode !== 'before' && deleteMode !== 'after' && !config.delayUpdates;
  checkChecksumChoice(noEffect.checksumChoice, config.checksum);
  // %C's default is rsync's xxh128, which the addon computes.
  if ([config.outFormat, config.logFileFormat].some((f) => f?.includes('%'))) useNativeSumsFor(config.engine);
  config.xferSum = noEffect.checksumChoice?.[0];
  config.fileSum = percentCSum([config.outFormat, config.logFile !== undefined ? config.logFileFormat : undefined], noEffect.checksumChoice, config.checksum, autoFileSum(protocolVersion));
  applyProtocol(config, protocolVersion, {
    plainDelete: o['deleteDuringKind'] === undefined && !o['deleteBefore'] && !o['deleteAfter'],
    remote: Boolean(listing ?? pushTo ?? pulled),
    filtersBefore: protocol.filtersBefore(),
  });
  // Deleting needs whole directories to compare: -r, or the directories --files-from transfers.
  if (config.deleteMode !== 'none' && !config.dirs) {
    throw new UsageError('--delete does not work without --recursive (-r) or --dirs (-d).');
  }
  // A suffix is part of a file name: a slash would put the backup somewhere else.
  if (config.suffix.includes('/')) throw new UsageError(`--suffix cannot contain slashes: ${showPath(config.suffix)}`);
  // An empty suffix with the destination itself as the backup directory would make each backup the
  // file itself (rsync's check, by spelling; the engines refuse it however it is spelled).
  if (config.backup && config.suffix === '' && backupDir !== undefined && sameSpelledDir(backupDir, config.dest)) {
    throw new UsageError('--suffix cannot be empty when --backup-dir is the same as the dest dir');
  }
  if (config.backup && config.suffix === '' && backupDir === undefined) {
    throw new UsageError('--suffix cannot be empty without --backup-dir');
  }

  checkXattrsAll(config);
  if (config.engine === 'node' && (config.xattrs || config.acls)) {
    throw new UsageError(
      `${config.xattrs ? '-X/--xattrs' : '-A/--acls'} needs the native addon; the node engine cannot read or write extended attributes`,
    );
  }
  if (config.reflink === 'always' && config.engine === 'node') {
    throw new UsageError('--reflink=always needs the native addon; the node engine cannot clone files');
  }
  if (config.direct && config.engine !== 'auto' && config.engine !== 'uring') {
    throw new UsageError('--direct works with the uring engine only');
  }
  // After the line's own checks (their exit 1), so the second parse fails only on what -M adds (exit 12).
  // A remote peer, a batch or a listing (whose receiver writes nothing): these are refused as before.
  if (listing || pushTo || pulled || settled || config.listOnly) receiverOpts.forEach(checkRemoteOption);
  else if (receiverOpts.length) applyReceiverOptions(config, receiverConfig(argv, fromProcess, receiverOpts, config.suffix), receiverOpts);
  if (listing || pushTo || pulled) refuseRemoteIconv(config);
  if (listing) {
    const path = operandBytes[0]!.subarray(operandBytes[0]!.length - listing.path.length);
    const list: RemoteList = {
      // An empty path is the remote user's home directory, as rsync sends it: "." (a daemon's: its module list).
      operand: { ...listing, path: path.length || listing.kind === 'daemon' ? path : Buffer.from('.') },
      rsh: o['rsh'] as string | undefined,
      rsyncPath: o['rsyncPath'] as string | undefined,
      config,
      listOnly: Boolean(o['listOnly']),
      compress: remoteCompress(noEffect.compress),
    };
    return { kind: 'remote-list', list };
  }
  if (pushTo) {
    refuseForPush(config, pushTo.host);
    const push: RemotePush = {
      operand: { ...pushTo, path: pushTo.path.length || pushTo.kind === 'daemon' ? pushTo.path : Buffer.from('.') },
      rsh: o['rsh'] as string | undefined,
      rsyncPath: o['rsyncPath'] as string | undefined,
      config,
      wholeFile: Boolean(o['wholeFile']),
      plainDelete: o['deleteDuringKind'] === undefined,
      dirs: o['dirs'] === 2,
      maxDelete: o['maxDelete'] as number | undefined,
      openNoatime: o['openNoatime'] === true,
      omitDirTimes: Boolean(o['omitDirTimes']),
      blockSize: (o['blockSize'] as number | undefined) ?? 0,
      compress: remoteCompress(noEffect.compress),
    };
    return { kind: 'remote-push', push };
  }
  if (pulled) {
    const refused = pullRefusal(config, pulled.host);
    if (refused) throw new UsageError(refused);
    const extraPaths = pullExtraPaths(operandBytes, pulled);
    const pull: RemotePull = { operand: pulled, extraPaths, rsh: o['rsh'] as string | undefined, rsyncPath: o['rsyncPath'] as string | undefined, config, wholeFile: o['wholeFile'] === true, blockSize: Number(o['blockSize'] ?? 0), compress: remoteCompress(noEffect.compress) };
    return { kind: 'remote-pull', pull };
  }
  return { kind: 'run', config };
}

/**
 * Operands in rsync's remote syntax that are neither a push (`src/ host:dst/`) nor a pull (`host:src dst`)
 * would otherwise become local directories named "host:dir": refuse them (and a remote --files-from)
 * before any I/O, in rsync's words where rsync refuses the same line.
 */
function refuseRemote(operands: Buffer[], filesFrom: string | undefined): void {
  const kinds = operands.map((b) => classifyOperand(b));
  kinds.forEach((op, i) => {
    if (op.kind === 'local') return;
    const b = operands[i]!;
    if (op.kind === 'daemon') {
      throw new UsageError(
        `${showPath(b)} is ${describeRemote(op)}, and rsync daemons are not supported yet ` +
          `(for a local path of that name, write ./${showPath(b)})`,
      );
    }
    throw new UsageError(`Unexpected remote arg: ${showPath(b)}`);
  });
  if (filesFrom !== undefined) {
    const op = classifyOperand(Buffer.from(filesFrom));
    if (op.kind !== 'local') throw new UsageError('--files-from cannot be remote when the transfer is local');
  }
}

/**
 * -M/--remote-option: rsync's local copy gives it to its forked receiver, which parses it (an unknown or
 * invalid one ends the run with exit 12). arsync has no second process: it takes a value that changes
 * nothing in the Config (itself an option without local effect), applies the receiver settings of
 * cli/receiver-options.ts elsewhere, and refuses the others rather than ignore them.
 */
function checkRemoteOption(opt: string): void {
  // -r: the receiver of a copy that lists directories (so --delete and the like parse).
  const plain = parseArgs(['node', 'arsync', '-r', 'a', 'b']);
  let withOpt: Parsed;
  try {
    withOpt = parseArgs(['node', 'arsync', '-r', opt, 'a', 'b']);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    throw remoteOptionError(/^unknown option/.test(err.message) ? `on remote machine: ${opt}: unknown option` : err.message);
  }
  if (JSON.stringify(withOpt) !== JSON.stringify(plain)) {
    throw new UsageError(
      `-M/--remote-option=${opt}: not supported here: arsync takes -M values that change nothing, and applies only the receiver settings its -M row lists, to a local copy (give ${opt} as an option of its own)`,
    );
  }
}

/** The Config rsync's local receiver works with: the command line parsed again with its -M values last. */
function receiverConfig(argv: string[], fromProcess: boolean, opts: string[], clientSuffix: string): Config {
  let parsed: Parsed;
  try {
    // The same environment and operand bytes as the client's parse: only the -M values differ.
    const line = withReceiverOptions(argv, opts, clientSuffix);
    parsed = parseArgs(line, fromProcess, line.length - argv.length);
  } catch (err) {
    // The receiver dies on a value it rejects: exit 12, as checkRemoteOption says it.
    if (!(err instanceof UsageError)) throw err;
    throw remoteOptionError(err.message);
  }
  if (parsed.kind !== 'run') throw new UsageError(`-M/--remote-option=${opts.join(' ')}: not a receiver setting of a local copy`);
  return parsed.config;
}

/**
 * --checksum-choice's file checksum is what -c compares: rsync's file_checksum() fails on "none" with
 * exit 4 as soon as it sums a file; arsync says so before any I/O.
 */
function checkChecksumChoice(choice: NoEffect['checksumChoice'], checksum: boolean): void {
  if (checksum && choice?.[1] === 'none') throw new OptionError('Invalid checksum-choice for --checksum: none (0)', Exit.Unsupported);
}

/** rsync's -h level: 1 by default, +1 per -h, 0 after --no-h/--no-human-readable. */
function humanLevel(o: Record<string, unknown>): number {
  if (o['h'] === false) return 0;
  const v = o['humanReadable'];
  return typeof v === 'number' ? v : 0;
}

/** Whether --backup-dir names the destination directory (relative to it, as rsync takes it). */
function sameSpelledDir(backupDir: string, dest: Buffer): boolean {
  const d = posix.resolve(dest.toString('latin1'));
  return posix.resolve(d, Buffer.from(backupDir).toString('latin1')) === d;
}


/** One command-line option as `--help` lists it: the source of the man page and the shell completions. */
export interface OptionSpec {
  /** As written in the help: `-v, --verbose`, `--out-format <FORMAT>`. */
  flags: string;
  short?: string;
  long?: string;
  description: string;
  /** The value's name (`FORMAT`) when the option takes one. */
  value?: string;
  /** The values it accepts, when it names them. */
  choices?: readonly string[];
}

/** Every option of the parser, in `--help` order, so generated documents cannot drift from it. */
export function optionSpecs(): OptionSpec[] {
  return buildProgram([], {}).p.options.map((o) => ({
    flags: o.flags,
    ...(o.short ? { short: o.short } : {}),
    ...(o.long ? { long: o.long } : {}),
    description: o.description,
    ...(o.required || o.optional ? { value: /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] ?? 'VALUE' } : {}),
    ...(o.argChoices ? { choices: o.argChoices } : {}),
  }));
}
