// The command line a client gives the remote `rsync --server` (rsync's server_options): the options
// that change what the server does or sends, as one cluster of single letters in rsync's own order
// followed by the capability letters (handshake.ts's CLIENT_INFO), then the long options.

import { CLIENT_INFO } from './handshake.js';

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
  /** 1 --remove-source-files, 2 --remove-sent-files. */
  removeSourceFiles?: number;
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
  if (f.xattrs) letters += 'X';
  if (f.recursive) letters += 'r';
  if (f.checksum) letters += 'c';
  if (f.cvsExclude) letters += 'C';
  if (f.ignoreTimes) letters += 'I';
  if (f.relative) letters += 'R';
  letters += 'x'.repeat(Math.min(f.oneFileSystem ?? 0, 2));
  if (f.sparse) letters += 'S';
  const args = ['--server', '--sender', `-${letters}${CLIENT_INFO}`];
  if (f.listOnly) args.push('--list-only');
  // -D sends devices and specials; one without the other is said in a long option.
  if (f.devices && !f.specials) args.push('--no-specials');
  else if (!f.devices && f.specials) args.push('--specials');
  if (f.blockSize) args.push(`-B${f.blockSize}`);
  if (f.timeout) args.push(`--timeout=${f.timeout}`);
  if (f.bwlimitKib) args.push(`--bwlimit=${f.bwlimitKib}`);
  if (f.backupDir !== undefined) args.push('--backup-dir', f.backupDir);
  // Only a suffix other than the default is sent ("~", or "" with --backup-dir).
  if (f.suffix !== undefined && f.suffix !== (f.backupDir !== undefined ? '' : '~')) args.push(`--suffix=${f.suffix}`);
  if (f.ignoreErrors) args.push('--ignore-errors');
  if (f.copyUnsafeLinks) args.push('--copy-unsafe-links');
  if (f.safeLinks) args.push('--safe-links');
  if (f.numericIds) args.push('--numeric-ids');
  if (f.append) {
    if (f.append > 1) args.push('--append');
    args.push('--append');
  } else if (f.inplace) args.push('--inplace');
  if (f.noImpliedDirs) args.push('--no-implied-dirs');
  if (f.removeSourceFiles === 1) args.push('--remove-source-files');
  else if (f.removeSourceFiles === 2) args.push('--remove-sent-files');
  return args;
}
