// argv → Config. rsync's option names and meanings (-a = -rlptgoD, --no-OPTION turns one back off),
// parsed with commander (the program: cli/program.ts); every check that needs no I/O happens here, so a
// usage error never leaves a trace on disk. parseArgs goes in named steps, each settling one group.

import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { CommanderError } from 'commander';
import { DEFAULTS, type BatchChoice, type Config, type EngineChoice, type FilterItem, type ChmodRule } from '../model/config.js';
import { Exit, UsageError, showPath } from '../util/errors.js';
import { classifyOperand, type RemoteOperand } from './remote-operand.js';
import { pushTarget } from './remote-push.js';
import { pullOperand } from './pull-operand.js';
import { parseChmod } from '../plan/chmod.js';
import { daemonLogin } from './daemon-options.js';
import { OptionError, remoteOptionError, type NoEffect } from './local-noops.js';
import { checkMungeDir } from './meta-options.js';
import { reflinkMode, reflinkSpellings } from './reflink.js';
import { fuzzyLevel } from './fuzzy-options.js';
import { applyProtocol, autoFileSum } from './protocol-option.js';
import { confineRoot } from './confine-root.js';
import type { ClockLimits } from './clock-options.js';
import { isReceiverOption } from './fake-super.js';
import { applyReceiverOptions, isReceiverSetting } from './receiver-options.js';
import { checkXattrsAll, xattrsLevel } from './xattrs.js';
import { batchRemoteRefusal, settleBatch } from './batch-options.js';
import { percentCSum } from './output-options.js';
import { useNativeSumsFor } from './native-sums.js';
import { versionText } from './version-info.js';
import { checkBackupDirLength } from '../plan/backup.js';
import { jsonSpellings } from '../progress/json.js';
import { applyDirChoices, dirDefaults } from './dir-options.js';
import { buildProgram, parseSize, takePrebuilt, type Program } from './program.js';
import { checkRemoteOption, lastIsSource, receiverConfig, refuseRemote, remoteRequest, type RemoteOperands, type RemoteRequest } from './remote-args.js';

export { parseSize, prebuildProgram, optionSpecs, type OptionSpec } from './program.js';

/** Things the CLI does instead of a transfer. */
export type Parsed = { kind: 'run'; config: Config } | { kind: 'print'; text: string } | RemoteRequest;

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

/**
 * `receiverExtra`: in the second parse that gives the local receiver's -M settings
 * (cli/receiver-options.ts), how many values it appended to the command line; that parse leaves -M alone.
 */
export function parseArgs(argv: string[], fromProcess = false, receiverExtra = 0): Parsed {
  const receiverPass = receiverExtra > 0;
  // A commander program keeps what it parsed: the prebuilt one serves one parse.
  const ready = fromProcess ? takePrebuilt() : undefined;
  const filters: FilterItem[] = ready?.filters ?? [];
  // RSYNC_OLD_ARGS is read only for the real command line, as rsync reads it.
  const built = ready?.built ?? buildProgram(filters, fromProcess ? process.env : {});
  const args = argv.slice(2);
  const o = readLine(built, argv);
  const printed = printRequest(built, o, args);
  if (printed) return printed;
  const noEffect = built.noEffect();
  const protocolVersion = built.protocol.finish();
  const receiverOpts = receiverPass ? [] : noEffect.remoteOptions.filter(isReceiverSetting);
  const line = settleOperands(built, o, args, noEffect, fromProcess ? receiverExtra : undefined);
  const { operandBytes, listing, pushTo, pulled } = line;
  const remote = Boolean(listing ?? pushTo ?? pulled);
  // To another machine, -M values go to its server as they are, which judges them (rsync's client
  // does not parse them); a local copy's are judged here.
  if (!receiverPass && !remote) {
    // rsync's local receiver parses the -M options with --old-args in force (local_child()), so -s there
    // is the conflict of -s with --old-args, in the receiver: the run ends with exit 12.
    if (noEffect.remoteOptions.length && noEffect.secludedGiven) throw remoteOptionError('--secluded-args conflicts with --old-args.');
    for (const opt of noEffect.remoteOptions) if (!isReceiverOption(opt) && !isReceiverSetting(opt)) checkRemoteOption(parseArgs, opt);
  }
  const clockLimits = built.clock();
  settleDaemon(built, o, line, clockLimits, fromProcess);
  const { config, deleteMode, backupDir } = configFrom(built, o, filters, noEffect, clockLimits, line);
  // --files-from: -a does not imply -r (rsync), only an explicit -r does.
  if (config.filesFrom !== undefined && o['recursive'] !== true) config.recursive = false;
  applyDirChoices(config, built.dirChoices(), filters);
  const settled = settleBatch(line.batchChoice, config);
  if (settled) config.batch = settled;
  // set_allow_inc_recurse() (compat.c): only a recursive walk, and not when the receiver needs the whole
  // list first (--delete-before, --delete-after, --delay-updates, -m's pruning).
  config.incRecursive = noEffect.allowIncRecurse && config.recursive && deleteMode !== 'before' && deleteMode !== 'after' && !config.delayUpdates && !config.pruneEmptyDirs;
  checkChecksumChoice(noEffect.checksumChoice, config.checksum);
  // %C's default is rsync's xxh128, which the addon computes.
  if ([config.outFormat, config.logFileFormat].some((f) => f?.includes('%'))) useNativeSumsFor(config.engine);
  config.xferSum = noEffect.checksumChoice?.[0];
  if (noEffect.checksumSeed !== 0) config.checksumSeed = noEffect.checksumSeed;
  if (noEffect.maxAlloc !== undefined) config.maxAlloc = noEffect.maxAlloc;
  config.fileSum = percentCSum([config.outFormat, config.logFile !== undefined ? config.logFileFormat : undefined], noEffect.checksumChoice, config.checksum, autoFileSum(protocolVersion));
  applyProtocol(config, protocolVersion, {
    plainDelete: o['deleteDuringKind'] === undefined && !o['deleteBefore'] && !o['deleteAfter'],
    remote,
    filtersBefore: built.protocol.filtersBefore(),
  });
  checkConfig(config, backupDir);
  checkMungeDir(config);
  // After the line's own checks (their exit 1), so the second parse fails only on what -M adds (exit 12).
  // A remote peer, a batch or a listing (whose receiver writes nothing): these are refused as before.
  if (remote) {
    if (noEffect.remoteOptions.length) config.remoteOptions = noEffect.remoteOptions;
  } else if (settled || config.listOnly) receiverOpts.forEach((opt) => checkRemoteOption(parseArgs, opt));
  else if (receiverOpts.length) applyReceiverOptions(config, receiverConfig(parseArgs, argv, fromProcess, receiverOpts, config.suffix), receiverOpts);
  if (!remote) return { kind: 'run', config };
  return remoteRequest(o, config, operandBytes, line, noEffect.compress)!;
}

/** Commander's parse of the line, its errors as rsync's usage errors; the options it settled. */
function readLine(built: Program, argv: string[]): Record<string, unknown> {
  try {
    built.p.parse([...argv.slice(0, 2), ...reflinkSpellings(jsonSpellings(argv.slice(2)), built.p)]);
  } catch (err) {
    if (err instanceof CommanderError) throw new UsageError(err.message.replace(/^error: /, ''));
    throw err;
  }
  return built.p.opts();
}

/** -V, --info=help/--debug=help, --help (and -h alone, rsync's old meaning): text printed instead of a run. */
function printRequest(built: Program, o: Record<string, unknown>, args: string[]): Parsed | undefined {
  if (o['version']) return { kind: 'print', text: versionText(o['version'] as number, built.p, o['engine'] as EngineChoice) };
  const wordsHelp = built.output.help();
  if (wordsHelp !== undefined) return { kind: 'print', text: wordsHelp };
  if (o['help'] || (args.length === 1 && humanLevel(o) > 1)) return { kind: 'print', text: built.p.helpInformation() };
  return undefined;
}

/** The operands as raw bytes, and which of them is remote (a listing, a push or a pull). */
interface Operands extends RemoteOperands {
  operandBytes: Buffer[];
  /** A lone local source: listed (rsync's implicit --list-only). */
  lone: boolean;
  batchChoice: BatchChoice | undefined;
}

/**
 * The operands: the batch's destination, a remote listing, the lone source, their raw bytes (by position
 * in argv; `rawExtra` is the receiver pass's appended count when the line is the process's own), empty
 * ones refused, then the remote ones classified and any other remote spelling refused.
 */
function settleOperands(built: Program, o: Record<string, unknown>, args: string[], noEffect: NoEffect, rawExtra: number | undefined): Operands {
  const operands = built.p.args;
  // --read-batch: the batch stands for the sources; the last operand is the destination (rsync's rule).
  const batchChoice = built.batch();
  const readBatch = batchChoice?.mode === 'read';
  if (readBatch) {
    if (operands.length === 0) throw new UsageError('--read-batch needs a destination');
    operands.splice(0, operands.length - 1);
    if (classifyOperand(Buffer.from(operands[0]!)).kind !== 'local') throw new UsageError(batchRemoteRefusal(batchChoice)!);
  }
  // `host:path` alone lists a directory on another machine (rsync's implicit --list-only).
  // With --list-only a destination may follow; rsync lists the source all the same.
  // So does `--list-only host:a :b ...`, whose last operand starting with ":" is a source, not a destination.
  const listed = operands.length === 1 || (o['listOnly'] && lastIsSource(operands.map((a) => Buffer.from(a)))) || (o['listOnly'] && operands.length === 2 && classifyOperand(Buffer.from(operands[1]!)).kind === 'local');
  const remoteList = readBatch ? undefined : listed ? classifyOperand(Buffer.from(operands[0]!)) : undefined;
  const listing = remoteList?.kind === 'local' ? undefined : remoteList;
  // A lone local source is listed (rsync's implicit --list-only); the "." stands for the destination
  // a listing never uses.
  const lone = operands.length === 1 && !readBatch;
  // rsync refuses --files-from with one operand (a lone source is no listing there): its usage, exit 1.
  if (lone && o['filesFrom'] !== undefined) throw new UsageError('--files-from needs a source directory and a destination');
  if (lone) operands.push('.');
  if (operands.length < (readBatch ? 1 : 2)) {
    throw new UsageError('no source or destination given');
  }
  const raw = rawExtra !== undefined ? [...rawArgs(args.slice(0, args.length - rawExtra)), ...args.slice(args.length - rawExtra).map((a) => Buffer.from(a))] : args.map((a) => Buffer.from(a));
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
  if (operandBytes.slice(0, -1).some((b) => b.length === 0)) throw new UsageError('Empty source arg specified.', true);
  if (operandBytes[operandBytes.length - 1]!.length === 0) {
    // rsync's dot_dir_or_error(): --old-args keeps the old reading of an empty destination.
    if (!noEffect.oldArgs) throw new UsageError('Empty destination arg specified (use "." or see --old-args).', true);
    operandBytes[operandBytes.length - 1] = Buffer.from('.');
  }
  // `arsync src/ host:dst/`: a push (src/cli/remote-push.ts); `host:src dst`: a pull (cli/pull-operand.ts);
  // any other remote operand is refused.
  const pushTo = listing ? undefined : pushTarget(operandBytes);
  const pulled = listing || pushTo ? undefined : pullOperand(operandBytes);
  if (!listing && !pushTo && !pulled) refuseRemote(operandBytes, o['filesFrom'] as string | undefined);
  if (batchChoice && (listing || pushTo || pulled)) {
    const why = batchRemoteRefusal(batchChoice, pulled ? 'pull' : pushTo ? 'push' : 'other');
    if (why) throw new UsageError(why);
  }
  return { operandBytes, listing, pushTo, pulled, lone, batchChoice };
}

/** A daemon operand's login: from the daemon options, the environment and the line's -e/--rsync-path. */
function settleDaemon(built: Program, o: Record<string, unknown>, line: Operands, clockLimits: ClockLimits, fromProcess: boolean): void {
  const daemonOp: RemoteOperand | undefined = [line.listing, line.pushTo, line.pulled].find((op) => op?.kind === 'daemon');
  const daemonChoices = built.daemon(daemonOp !== undefined);
  if (daemonOp?.kind === 'daemon') {
    daemonOp.login = daemonLogin(daemonOp, daemonChoices, o['rsh'] as string | undefined, o['rsyncPath'] as string | undefined, fromProcess ? process.env : {}, Boolean(o['insecureLinks']), clockLimits.timeout);
    if (o['earlyInput'] !== undefined) daemonOp.login.earlyInput = o['earlyInput'] as string;
  }
}

/** The Config's fields from the parsed options, each with rsync's defaults and implications. */
function configFrom(built: Program, o: Record<string, unknown>, filters: FilterItem[], noEffect: NoEffect, clockLimits: ClockLimits, line: Operands): { config: Config; deleteMode: Config['deleteMode']; backupDir: string | undefined } {
  const { operandBytes, lone, listing } = line;
  const { writes, meta, ownership, fakeSuper, devices, iconv, output } = built;
  const human = humanLevel(o);
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
  // rsync's words name the whole --chmod argument (options.c), whichever of its rules is wrong.
  const chmod: ChmodRule[] = (o['chmod'] as string[]).flatMap((c) => {
    try {
      return parseChmod(c);
    } catch {
      throw new UsageError(`Invalid argument passed to --chmod (${c})`);
    }
  });
  const outFormat = o['outFormat'] as string | undefined;
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
    // A remote server's -M values are its own (cli/remote-args.ts): only a local copy's receiver takes them here.
    ...fakeSuper(line.listing ?? line.pushTo ?? line.pulled ? [] : noEffect.remoteOptions),
    ...devices(),
    ...iconv(o),
    ...outputs,
  };
  return { config, deleteMode, backupDir };
}

/** The checks on the settled Config that need no I/O (rsync's, and what an engine cannot do). */
function checkConfig(config: Config, backupDir: string | undefined): void {
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
    throw new UsageError('--suffix cannot be empty without a --backup-dir');
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
