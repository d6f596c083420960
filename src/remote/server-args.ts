// The command line a client gives the remote `rsync --server` (rsync's server_options), for a server
// that sends (a pull, a listing) or receives (a push): the options that change what the server does or sends, as one cluster of single letters in rsync's own order
// followed by the capability letters (handshake.ts's CLIENT_INFO), then the long options.

import type { Config } from '../model/config.js';
import { CLIENT_INFO } from './handshake.js';
import { safeOptionArg } from './rsh.js';
import { compressLetter, compressLongArgs, type ClientCompress } from './compress.js';

/** What the server must know of the client's options (a subset of the Config, named as there). */
export interface ServerFlags {
  verbose: number;
  links: boolean;
  /** -d, or a listing without -r (rsync sends 'd' then). */
  dirs: boolean;
  recursive: boolean;
  copyLinks: boolean;
  hardLinks: boolean;
  owner: boolean;
  group: boolean;
  devices: boolean;
  specials: boolean;
  times: boolean;
  perms: boolean;
  checksum: boolean;
  relative: boolean;
  numericIds: boolean;
  /** --list-only given explicitly (a source without a destination lists without saying so). */
  listOnly: boolean;
  // What a pull adds (a listing leaves these out).
  backup?: boolean;
  update?: boolean;
  dryRun?: boolean;
  copyDirlinks?: boolean;
  wholeFile?: boolean;
  atimes?: boolean;
  acls?: boolean;
  xattrs?: boolean;
  /** -XX: rsync's own user.rsync.% records travel too (rsync's server_options sends X twice). */
  xattrsAll?: boolean;
  cvsExclude?: boolean;
  ignoreTimes?: boolean;
  /** -x count. */
  oneFileSystem?: number;
  sparse?: boolean;
  /** -B: a fixed block length; 0 = none. */
  blockSize?: number;
  /** Seconds; 0 = none. */
  timeout?: number;
  /** --bwlimit in KiB/s as rsync sends it; 0 = none. */
  bwlimitKib?: number;
  backupDir?: string;
  suffix?: string;
  ignoreErrors?: boolean;
  copyUnsafeLinks?: boolean;
  safeLinks?: boolean;
  inplace?: boolean;
  /** 1 --append, 2 --append-verify (rsync sends --append twice), 0 neither. */
  append?: number;
  noImpliedDirs?: boolean;
  /** The --info= argument for a sending server (Config.serverInfo.sender). */
  info?: string;
  /** 1 --remove-source-files, 2 --remove-sent-files. */
  removeSourceFiles?: number;
  /** --files-from as the server is told of it (remote/files-from.ts's filesFromServerArgs). */
  filesFrom?: string[];
  /** -z and its options (compress.ts): a letter and long options of their own. */
  compress?: ClientCompress;
  /** --ignore-missing-args / --delete-missing-args: the sending server does the leaving out or the listing. */
  missingArgs?: 'error' | 'ignore' | 'delete';
  /** --iconv as the server is told of it (iconvArgs). */
  iconv?: string[];
  /** --checksum-seed (not 0): the sending server seeds its sums with it. */
  checksumSeed?: number | undefined;
  /** --max-alloc as given (not rsync's default); escaped here. */
  maxAlloc?: string | undefined;
  /** -s/--old-args, for escaping --max-alloc's value as rsync's safe_arg does. */
  secludedArgs?: boolean;
  oldArgs?: number;
}

/** rsync's safe_arg("--max-alloc", value): under -s no shell reads it. */
function maxAllocArg(v: string, secluded: boolean | undefined, oldArgs: number | undefined): string {
  return `--max-alloc=${secluded ? v : safeOptionArg(v, oldArgs ?? 0)}`;
}

/**
 * --iconv=LOCAL,REMOTE tells the server its own charset, --iconv=REMOTE (rsync's server_options, right
 * after the letters), escaped as an option's value unless -s carries the arguments.
 */
export function iconvArgs(c: Pick<Config, 'iconv' | 'secludedArgs' | 'oldArgs'>): string[] {
  if (!c.iconv) return [];
  return [`--iconv=${c.secludedArgs ? c.iconv.remote : safeOptionArg(c.iconv.remote, c.oldArgs)}`];
}

/** The arguments after the remote rsync's path when the server sends (a pull or a listing). */
export function senderArgs(f: ServerFlags): string[] {
  let letters = 'v'.repeat(Math.min(f.verbose, 9));
  if (f.backup) letters += 'b';
  if (f.update) letters += 'u';
  if (f.dryRun) letters += 'n';
  if (f.links) letters += 'l';
  if (f.dirs && !f.recursive) letters += 'd';
  // The receiving client tells the sender to follow symlinks (-L, -k): the sender does the following.
  if (f.copyLinks) letters += 'L';
  if (f.copyDirlinks) letters += 'k';
  if (f.wholeFile) letters += 'W';
  if (f.hardLinks) letters += 'H';
  if (f.owner) letters += 'o';
  if (f.group) letters += 'g';
  if (f.devices) letters += 'D';
  if (f.times) letters += 't';
  if (f.atimes) letters += 'U';
  if (f.perms) letters += 'p';
  if (f.acls) letters += 'A';
  if (f.xattrs) letters += f.xattrsAll ? 'XX' : 'X';
  if (f.recursive) letters += 'r';
  if (f.checksum) letters += 'c';
  if (f.cvsExclude) letters += 'C';
  if (f.ignoreTimes) letters += 'I';
  if (f.relative) letters += 'R';
  letters += 'x'.repeat(Math.min(f.oneFileSystem ?? 0, 2));
  if (f.sparse) letters += 'S';
  const compress = f.compress ?? { mode: 'off' };
  letters += compressLetter(compress);
  const z = compressLongArgs(compress, false);
  const args = ['--server', '--sender', `-${letters}${CLIENT_INFO}`, ...(f.iconv ?? [])];
  if (f.listOnly) args.push('--list-only');
  args.push(...z.level);
  // -D sends devices and specials; one without the other is said in a long option.
  if (f.devices && !f.specials) args.push('--no-specials');
  else if (!f.devices && f.specials) args.push('--specials');
  if (f.blockSize) args.push(`-B${f.blockSize}`);
  if (f.timeout) args.push(`--timeout=${f.timeout}`);
  if (f.bwlimitKib) args.push(`--bwlimit=${f.bwlimitKib}`);
  if (f.backupDir !== undefined) args.push('--backup-dir', f.backupDir);
  // Only a suffix other than the default is sent ("~", or "" with --backup-dir).
  if (f.suffix !== undefined && f.suffix !== (f.backupDir !== undefined ? '' : '~')) args.push(`--suffix=${f.suffix}`);
  // rsync sends the compression choice after --suffix, and --skip-compress (to a sender) next.
  args.push(...z.choice, ...z.skip);
  if (f.maxAlloc !== undefined) args.push(maxAllocArg(f.maxAlloc, f.secludedArgs, f.oldArgs));
  if (f.missingArgs === 'delete') args.push('--delete-missing-args');
  else if (f.missingArgs === 'ignore') args.push('--ignore-missing-args');
  if (f.checksumSeed) args.push(`--checksum-seed=${f.checksumSeed}`);
  if (f.ignoreErrors) args.push('--ignore-errors');
  if (f.copyUnsafeLinks) args.push('--copy-unsafe-links');
  if (f.safeLinks) args.push('--safe-links');
  if (f.numericIds) args.push('--numeric-ids');
  // rsync's client tells the server the --info levels it set for the server's side, before --append.
  if (f.info !== undefined) args.push(f.info);
  if (f.append) {
    if (f.append > 1) args.push('--append');
    args.push('--append');
  } else if (f.inplace) args.push('--inplace');
  args.push(...(f.filesFrom ?? []));
  if (f.noImpliedDirs) args.push('--no-implied-dirs');
  if (f.removeSourceFiles === 1) args.push('--remove-source-files');
  else if (f.removeSourceFiles === 2) args.push('--remove-sent-files');
  return args;
}

/** What rsync's client tells a receiving server that the Config does not say in so many words. */
export interface PushExtras {
  /** -d given itself (rsync's xfer_dirs 2), which the server is told even with -r. */
  dirs: boolean;
  /** -W given (rsync sends it only when asked: whole files are no default remotely). */
  wholeFile: boolean;
  /** Plain --delete (rsync names it so); --del/--delete-during name the timing. */
  plainDelete: boolean;
  /** -B: the block size the receiver's checksums use (0: its own choice). */
  blockSize: number;
  /** -O given (a --backup without --backup-dir implies it locally; rsync does not send that). */
  omitDirTimes: boolean;
  /** --open-noatime given (arsync's default, which rsync sends only when asked for, and 3.1 does not know). */
  openNoatime: boolean;
  /** --max-delete's value as given (0 is sent as -1, rsync's "delete nothing"). */
  maxDelete: number | undefined;
  /** -z and its options (compress.ts). */
  compress?: ClientCompress;
  /** --files-from as the server is told of it (remote/files-from.ts's filesFromServerArgs). */
  filesFrom?: string[];
}

/** rsync's stdout_format as a pushing client sees it: what the server needs to know of it. */
function logFormatArg(c: Config): string | undefined {
  const fmt = c.outFormat ?? (c.itemize > 0 ? '%i %n%L' : undefined);
  if (fmt !== undefined && /%[-'\d]*i/.test(fmt)) return c.itemize > 1 ? '--log-format=%i%I' : '--log-format=%i';
  if (fmt !== undefined && /%[-'\d]*o/.test(fmt)) return '--log-format=%o';
  // --progress (or a format) without -v: the server is told there is a format, and no more.
  if ((fmt !== undefined || c.progressFiles) && c.verbose === 0) return '--log-format=X';
  return undefined;
}

/**
 * The arguments after the remote rsync's path when the server receives (a push): rsync's
 * server_options for a sending client, in its order. The server does the deciding (quick check,
 * deletions, backups, alternate destinations), so every option that shapes a decision goes along.
 */
export function receiverArgs(c: Config, x: PushExtras): string[] {
  let letters = 'v'.repeat(Math.min(c.verbose, 9));
  if (c.backup) letters += 'b';
  if (c.update) letters += 'u';
  if (c.dryRun) letters += 'n';
  if (c.links) letters += 'l';
  if (c.dirs && !c.recursive && (x.dirs || c.deleteMode !== 'none')) letters += 'd';
  if (c.keepDirlinks) letters += 'K';
  if (c.pruneEmptyDirs) letters += 'm';
  if (x.omitDirTimes) letters += 'O';
  if (c.omitLinkTimes) letters += 'J';
  if (x.wholeFile) letters += 'W';
  if (c.hardLinks) letters += 'H';
  if (c.owner) letters += 'o';
  if (c.group) letters += 'g';
  if (c.devices) letters += 'D';
  if (c.times) letters += 't';
  if (c.atimes) letters += 'U';
  if (c.perms) letters += 'p';
  else if (c.executability) letters += 'E';
  if (c.acls) letters += 'A';
  if (c.xattrs) letters += c.xattrsAll ? 'XX' : 'X';
  if (c.recursive) letters += 'r';
  if (c.checksum) letters += 'c';
  if (c.cvsExclude) letters += 'C';
  if (c.ignoreTimes) letters += 'I';
  if (c.relative) letters += 'R';
  letters += 'x'.repeat(Math.min(c.oneFileSystem, 2));
  if (c.sparse) letters += 'S';
  const z = compressLongArgs(x.compress ?? { mode: 'off' }, true);
  letters += compressLetter(x.compress ?? { mode: 'off' });
  const args = ['--server', `-${letters}${CLIENT_INFO}`, ...iconvArgs(c)];
  // --list-only given on a push: the receiving server's generator lists the entries, writes nothing.
  if (c.listOnly) args.push('--list-only');
  if (c.dirs && !c.recursive && c.deleteMode !== 'none') args.push('--no-r');
  args.push(...z.level);
  if (c.devices && !c.specials) args.push('--no-specials');
  else if (!c.devices && c.specials) args.push('--specials');
  const log = logFormatArg(c);
  if (log) args.push(log);
  if (x.blockSize) args.push(`-B${x.blockSize}`);
  if (c.timeout) args.push(`--timeout=${c.timeout}`);
  if (c.bwlimit) args.push(`--bwlimit=${Math.floor(c.bwlimit / 1024)}`);
  // Under -s no shell reads them: they go as they are.
  const val = (v: string): string => (c.secludedArgs ? v : safeOptionArg(v, c.oldArgs));
  if (c.backupDir !== undefined) args.push('--backup-dir', val(c.backupDir));
  if (c.suffix !== (c.backupDir !== undefined ? '' : '~')) args.push(`--suffix=${val(c.suffix)}`);
  args.push(...z.choice);
  if (x.maxDelete !== undefined) args.push(`--max-delete=${x.maxDelete > 0 ? x.maxDelete : -1}`);
  if (c.minSize !== undefined) args.push(`--min-size=${c.minSize}`);
  if (c.maxSize !== undefined) args.push(`--max-size=${c.maxSize}`);
  if (c.deleteMode === 'before') args.push('--delete-before');
  else if (c.deleteMode === 'delay') args.push('--delete-delay');
  else if (c.deleteMode === 'during' && !x.plainDelete) args.push('--delete-during');
  else if (c.deleteMode === 'after') args.push('--delete-after');
  else if (c.deleteMode !== 'none' && !c.deleteExcluded) args.push('--delete');
  if (c.deleteExcluded) args.push('--delete-excluded');
  if (c.force) args.push('--force');
  // --only-write-batch: the receiving server runs dry and its receiver reads no file data (rsync's
  // server_options names no file: the server writes no batch).
  if (c.batch?.mode === 'only-write') args.push('--only-write-batch=X');
  if (c.sizeOnly) args.push('--size-only');
  if (c.stats) args.push('--stats');
  if (c.maxAlloc !== undefined) args.push(maxAllocArg(c.maxAlloc, c.secludedArgs, c.oldArgs));
  // --ignore-missing-args is the sender's alone: rsync's client, sending, keeps it.
  if (c.missingArgs === 'delete') args.push('--delete-missing-args');
  if (c.modifyWindow !== 0) args.push(c.modifyWindow < 0 ? `-@${c.modifyWindow}` : `--modify-window=${c.modifyWindow}`);
  if (c.checksumSeed) args.push(`--checksum-seed=${c.checksumSeed}`);
  // rsync's server_options: the receiving server is given the partial dir by name (not --delay-updates'
  // own `.~tmp~`, its default: cli/partial-options.ts DELAY_DIR) and --delay-updates, else --partial.
  if (c.partialDir !== undefined) {
    if (!(c.delayUpdates && c.partialDir === '.~tmp~')) args.push('--partial-dir', val(c.partialDir));
    if (c.delayUpdates) args.push('--delay-updates');
  } else if (c.partial) args.push('--partial');
  if (c.ignoreErrors) args.push('--ignore-errors');
  if (c.copyUnsafeLinks) args.push('--copy-unsafe-links');
  if (c.safeLinks) args.push('--safe-links');
  if (c.numericIds) args.push('--numeric-ids');
  // rsync's client passes its maps (--chown as the maps it stands for) to a receiving server, which maps.
  if (c.idmapArgs?.user !== undefined) args.push(`--usermap=${val(c.idmapArgs.user)}`);
  if (c.idmapArgs?.group !== undefined) args.push(`--groupmap=${val(c.idmapArgs.group)}`);
  if (c.ignoreExisting) args.push('--ignore-existing');
  if (c.existing) args.push('--existing');
  if (c.tempDir !== undefined) args.push('--temp-dir', val(c.tempDir));
  if (c.fsync) args.push('--fsync');
  for (const [opt, dirs] of [['--compare-dest', c.compareDest], ['--copy-dest', c.copyDest], ['--link-dest', c.linkDest]] as const) {
    for (const d of dirs) args.push(opt, val(d));
  }
  // (rsync's client tells the server the --info levels it set for the server's side, before --append.)
  if (c.serverInfo?.receiver !== undefined) args.push(c.serverInfo.receiver);
  if (c.append) {
    if (c.appendVerify) args.push('--append');
    args.push('--append');
  } else if (c.inplace) {
    // (rsync 3.5 would add --no-W for -S only after an explicit --no-W, which changes nothing here.)
    args.push('--inplace');
  }
  args.push(...(x.filesFrom ?? []));
  if (c.relative && !c.impliedDirs) args.push('--no-implied-dirs');
  if (c.removeSourceFiles) args.push(c.removeSentOnly ? '--remove-sent-files' : '--remove-source-files');
  if (c.preallocate) args.push('--preallocate');
  if (c.openNoatime && x.openNoatime) args.push('--open-noatime');
  if (c.mkpath) args.push('--mkpath');
  return args;
}

/**
 * The -M/--remote-option values, after every other server option (rsync's server_options ends with
 * them). Each is one argument, escaped for the remote shell as an option's value is (safeOptionArg); not
 * under -s (they travel through the connection) nor under --old-args, where rsync lets the remote shell
 * split them.
 */
export function remoteOptionArgs(c: Pick<Config, 'remoteOptions' | 'secludedArgs' | 'oldArgs'>): string[] {
  return (c.remoteOptions ?? []).map((v) => (c.secludedArgs || c.oldArgs > 0 ? v : safeOptionArg(v)));
}
