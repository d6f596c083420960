// The one typed description of a run. The CLI builds it from argv and checks it before any I/O; every
// later stage reads it and never argv.

import { availableParallelism } from 'node:os';
import { Preserve } from './ops.js';
import type { DebugLevels, InfoLevels } from './output-levels.js';

export type EngineName = 'uring' | 'sync' | 'node';
export type EngineChoice = EngineName | 'auto';
/** --reflink's WHEN (GNU cp's): clone where possible, clone or fail, never clone. */
export type ReflinkMode = 'auto' | 'always' | 'never';

/** The filter items the CLI collected, in command-line order (plan/filter.ts reads them). */
export interface FilterItem {
  kind: 'exclude' | 'include' | 'filter' | 'exclude-from' | 'include-from';
  /** A pattern, a rule, or a file name. A Buffer keeps bytes that are not valid UTF-8. */
  value: string | Buffer;
}

/** One --chmod rule, as plan/chmod.ts parses and applies it. */
export interface ChmodRule {
  only?: 'D' | 'F';
  octal?: number;
  who: number; // mask of the u/g/o bits affected
  /** No u/g/o/a was given: rsync filters the rwx bits through the umask (for +, - and =). */
  implicit?: boolean;
  op?: '+' | '-' | '=';
  perms: string;
  /** "g=o": the class whose rwx bits are copied (the shift of its bits: u 6, g 3, o 0). */
  copy?: number;
}

/** rsync's missing_args: a missing source operand is an error, ignored, or deleted at the destination. */
export type MissingArgs = 'error' | 'ignore' | 'delete';

/** One FROM:TO item of --usermap/--groupmap (plan/idmap.ts): FROM an id or range, a name, or a wildcard. */
export type IdMapRule =
  | { kind: 'ids'; low: number; high: number; to: string }
  | { kind: 'name' | 'wild'; name: string; to: string };

/** When --delete deletes; 'delay': found during the transfer pass, deleted after it (rsync's --delete-delay). */
export type DeleteMode = 'none' | 'before' | 'during' | 'delay' | 'after';

/** rsync's do_compression count, compress_choice, level and --skip-compress as the command line left them. */
export interface CompressOptions {
  /** How many -z (--no-compress sets it back to 0). */
  count: number;
  /** --compress-choice/--zc (lower case), --old-compress (zlib), --new-compress (zlibx). */
  choice: string | undefined;
  /** --compress-level/--zl. */
  level: number | undefined;
  /** --skip-compress's suffix list as given. */
  skip: string | undefined;
}

/** rsync's batch modes: write the batch while copying, write it without touching the destination, or apply one. */
export interface BatchChoice {
  mode: 'write' | 'only-write' | 'read';
  /** The batch file's name as given ("-" reads standard input). */
  file: string;
}

export interface Config {
  /** Source operands as raw bytes (trailing slash kept: it means "the contents of"). */
  sources: Buffer[];
  /** Destination operand as raw bytes. */
  dest: Buffer;
  recursive: boolean;
  /** -d/--dirs (or -r, or --files-from): directories named are transferred, not skipped. */
  dirs: boolean;
  /** -m: directories that would end up empty (filters applied) are not made. */
  pruneEmptyDirs: boolean;
  /** -k: a source symlink to a directory is the directory. */
  copyDirlinks: boolean;
  /** -R's implied directories are sent (--no-implied-dirs turns it off). */
  impliedDirs: boolean;
  missingArgs: MissingArgs;
  /** --force: a non-empty directory in the way of a non-directory is deleted even without --delete. */
  force: boolean;
  /** --remove-sent-files: only files actually sent are removed from the source (rsync's value 2). */
  removeSentOnly: boolean;
  links: boolean;
  perms: boolean;
  times: boolean;
  /**
   * The client's -t when a -M-t/--no-t gave rsync's local receiver another (`times` is then the receiver's,
   * which sets the times and decides whether -i reports one): it picks -i's letter, t or T.
   */
  itemizeTimes?: boolean;
  /**
   * The output settings of rsync's local receiver when -M values (-v, -i, --out-format, --info) gave it
   * others than the line's: it prints its own lines (created directory, skipped special files, ignored
   * unsafe symlinks) as these say, while the client's lines follow the line's settings.
   */
  receiverOutput?: ReceiverOutput;
  group: boolean;
  owner: boolean;
  devices: boolean;
  specials: boolean;
  hardLinks: boolean;
  acls: boolean;
  xattrs: boolean;
  /** -XX (rsync's preserve_xattrs 2): rsync's own user.rsync.% records are copied too (local copies only). */
  xattrsAll?: boolean;
  /** Local copies share one user database, so ids are always kept as numbers; kept for rsync parity. */
  numericIds: boolean;
  /** -z and its options as given (no effect on a local copy; a remote session compresses its file data). */
  compress?: CompressOptions;
  /** -v count (0 = quiet listing). */
  verbose: number;
  quiet: boolean;
  /** A progress bar for the whole transfer (--progress or --info=progress2; drawn on a terminal). */
  progress: boolean;
  /** rsync's --progress (and -P, --info=progress1): names as with -v, and a line per transferred file. */
  progressFiles: boolean;
  stats: boolean;
  /** rsync's -h level: 0 plain digits, 1 (default) commas, 2 units of 1000, 3 units of 1024. */
  humanReadable: number;
  /** -8: print high-bit bytes of names as they are. */
  eightBit: boolean;
  /** --iconv: the sender's (LOCAL) and receiver's (REMOTE) charsets as given ("" or "."; the locale's). */
  iconv?: { local: string; remote: string } | undefined;
  engine: EngineChoice;
  workers: number;
  queueDepth: number;
  direct: boolean;
  /** Bytes per registered buffer / chunk. */
  bufferSize: number;
  bufferCount: number;

  // What to transfer (issue 3).
  dryRun: boolean;
  /** -i count: 1 prints changes, 2 (-ii) also unchanged entries. */
  itemize: number;
  outFormat: string | undefined;
  /** --json or --json-events: stdout carries JSON only. */
  json: boolean;
  /** --json-events (--json=events): JSON lines as the run goes instead of one document at the end. */
  jsonEvents: boolean;
  checksum: boolean;
  ignoreTimes: boolean;
  sizeOnly: boolean;
  update: boolean;
  ignoreExisting: boolean;
  existing: boolean;
  minSize: number | undefined;
  maxSize: number | undefined;
  /** Seconds; 0 = arsync's default of comparing nanoseconds. */
  modifyWindow: number;
  deleteMode: DeleteMode;
  deleteExcluded: boolean;
  maxDelete: number | undefined;
  ignoreErrors: boolean;
  filters: FilterItem[];
  cvsExclude: boolean;
  filesFrom: string | undefined;
  /** rsync's old_style_args (--old-args, RSYNC_OLD_ARGS): 1 leaves remote file names unescaped, 2 option values too. */
  oldArgs: number;
  /** rsync's protect_args (-s, RSYNC_PROTECT_ARGS): a remote server gets its arguments through the connection, not the remote shell. */
  secludedArgs: boolean;
  /** -M/--remote-option values of a push, pull or remote listing: the remote server's, after its options. */
  remoteOptions?: readonly string[];
  /** -0/--from0: --files-from, --exclude-from, --include-from and merge files are NUL-separated. */
  from0: boolean;
  linkDest: string[];
  compareDest: string[];
  copyDest: string[];
  backup: boolean;
  backupDir: string | undefined;
  suffix: string;
  inplace: boolean;
  partial: boolean;
  sparse: boolean;
  /** --reflink: clone file data before copying it (auto), only clone (always), or never clone. */
  reflink: ReflinkMode;
  /** -y: rsync's fuzzy_basis (1: the destination directory, 2: also the --*-dest ones); 0 off. */
  fuzzy: number;
  /** -T/--temp-dir as given (relative: to the destination directory); undefined: temps beside targets. */
  tempDir: string | undefined;
  /**
   * --partial-dir (or RSYNC_PARTIAL_DIR with --partial, or `.~tmp~` for --delay-updates), cleaned as rsync
   * cleans it: relative (per destination directory) or absolute (the operator's); undefined: none.
   */
  partialDir?: string | undefined;
  /** --delay-updates: updated files wait in the partial dir and are all renamed into place at the end. */
  delayUpdates?: boolean;
  /**
   * An interrupted pull's salvage under --delay-updates (cli/pull-salvage.ts): the files are left waiting
   * in the partial dir, as rsync's interrupted receiver leaves them, and no waiting partial file is used up.
   */
  leaveDelayed?: boolean;
  /** --append (implies inplace): a shorter regular target gets only the rest of the source. */
  append: boolean;
  /** --append-verify: --append, and the kept bytes must be the source's (else the whole file is written). */
  appendVerify: boolean;
  /** --fsync: each written file is fsync'd before it takes its name. */
  fsync: boolean;
  /** --preallocate: a file's blocks are allocated (fallocate) before its data is written. */
  preallocate: boolean;
  /**
   * --no-whole-file/--no-W (the last of them and -W): a local copy runs rsync's delta search against
   * each replaced file for rsync's figures (run/local-delta.ts); `blockSize` is -B's (0: rsync's rule).
   */
  localDelta?: { blockSize: number } | undefined;
  relative: boolean;
  mkpath: boolean;
  oneFileSystem: number;
  copyLinks: boolean;
  safeLinks: boolean;
  copyUnsafeLinks: boolean;
  /** --insecure-links: operator-given paths may pass through anyone's symlinks (rsync 3.5 opt-out). */
  insecureLinks: boolean;
  /** --confine-root: confined operator paths must resolve inside this absolute directory (undefined: none). */
  confineRoot?: Buffer;
  keepDirlinks: boolean;
  /** -E (cli/meta-options.ts): without -p, a regular file's execute bits follow the source's. */
  executability: boolean;
  /** -J (cli/meta-options.ts): symlinks' mtimes are neither compared nor set. */
  omitLinkTimes: boolean;
  /** -U (cli/meta-options.ts): non-directories get the source's access time, compared in whole seconds. */
  atimes: boolean;
  /** --munge-links (cli/meta-options.ts): a local copy is its sending side, so source links are unmunged. */
  mungeLinks: boolean;
  /**
   * -M--munge-links on a local copy: rsync's receiving side (its forked child starts with munging off and
   * takes only the -M value) writes every symlink target behind "/rsyncd-munged/" (util/munge.ts).
   */
  receiverMungeLinks?: boolean;
  /** --open-noatime (cli/meta-options.ts): sources are opened with O_NOATIME; on unless --no-open-noatime. */
  openNoatime: boolean;
  /** -O, or implied by --backup without --backup-dir (backups move directory mtimes), as in rsync. */
  omitDirTimes: boolean;
  removeSourceFiles: boolean;
  chmod: ChmodRule[];
  /** --usermap (or --chown's user): the source's uids mapped by these rules (with -o, as root). */
  usermap?: IdMapRule[];
  /** --groupmap (or --chown's group): the source's gids mapped by these rules (with -g). */
  groupmap?: IdMapRule[];
  /** The two maps as written (--chown's as rsync rewrites it, "*:USER"): a push passes them to the receiving server. */
  idmapArgs?: { user?: string; group?: string };
  /**
   * rsync's am_root: 1 running as root, 0 not; --super makes it 2 (act as root: set owners, make
   * devices), --no-super 0 even as root, --fake-super -1 (owners, modes and devices kept in the
   * user.rsync.%stat xattr). Absent: from the effective uid.
   */
  amRoot?: number;
  /**
   * --fake-super on the line (not only through -M): the sending side reads each source entry's
   * user.rsync.%stat record as its type, permissions, device numbers and owner (rsync's x_lstat).
   */
  fakeSuper?: boolean;
  /** --copy-devices: a char or block device is sent as a regular file holding its contents. */
  copyDevices?: boolean;
  /** --write-devices: a file's data goes into an existing char or block device in its place (implies --inplace). */
  writeDevices?: boolean;
  /** --copy-as=USER[:GROUP]: the CLI becomes this user (and group) before any I/O, as rsync does. */
  copyAs?: string;
  /**
   * rsync's incremental recursion as the line leaves it (-r without --no-i-r, --qsort, --protocol=29,
   * --delete-before/-after): only -v's first line shows it on a local copy.
   */
  incRecursive: boolean;
  /**
   * A pull's local half (which runs without incremental recursion): whether rsync's receiving client
   * would have had it, which decides how it maps the ACLs' ids under --numeric-ids (run/id-source.ts).
   */
  receiverIncRecursive?: boolean;
  /** --write-batch, --only-write-batch, --read-batch (cli/batch-options.ts): the batch file and what is done with it. */
  batch?: BatchChoice;
  /**
   * --protocol below 31 on a local copy (cli/protocol-option.ts): what rsync's older protocols change
   * (plan/old-protocol.ts); undefined for 31 and 32, which copy alike.
   */
  protocol?: number;
  /** With `protocol` before 29: how many of `filters` came before --protocol on the line (rsync parsed them at 32). */
  filtersBeforeProtocol?: number;
  /** --bwlimit in bytes per second (rsync's KiB/s × 1024); 0 = no limit. */
  bwlimit?: number;
  /** --timeout: seconds without progress before the run stops with exit 30; 0 = none. */
  timeout?: number;
  /** --progress-bar: arsync's full-width bar for the whole run, on a terminal only. */
  progressBar?: boolean;
  /** --stop-after/--stop-at: when the run stops with exit 30, in ms since the epoch; undefined = never. */
  stopAt?: number;
  /** --info/--debug levels after -v's, --stats' and --progress's defaults (cli/output-options.ts). */
  info: InfoLevels;
  debug: DebugLevels;
  /** The --info= argument rsync's client gives a receiving (push) or sending (pull) server (model/output-levels.ts serverInfoOption). */
  serverInfo?: { receiver: string | undefined; sender: string | undefined };
  /** --stderr/--msgs2stderr: errors (rsync's default), all (every message on stderr), client (all on stdout). */
  stderr: StderrMode;
  /** --log-file and --log-file-format. */
  logFile: string | undefined;
  logFileFormat: string | undefined;
  /** --list-only, or a command line with a source and no destination. */
  listOnly: boolean;
  /** The checksum --out-format's or --log-file-format's %C prints (rsync's negotiated name), when one uses it. */
  fileSum?: string | undefined;
  /**
   * --checksum-choice's transfer checksum (its first name), whose length rsync's per-file byte counts
   * include (run/wire-bytes.ts); undefined: rsync's negotiated default.
   */
  xferSum?: string | undefined;
  /** --checksum-seed when given and not 0: a server is told it (rsync's server_options), a batch holds it. */
  checksumSeed?: number | undefined;
  /** --max-alloc (or RSYNC_MAX_ALLOC) as given, when not rsync's default: a server is told it. */
  maxAlloc?: string | undefined;
}

export type StderrMode = 'errors' | 'all' | 'client';

export const DEFAULTS = {
  queueDepth: 64,
  bufferSize: 256 * 1024,
  bufferCount: 16,
  // A getter: the CPUs of the machine that runs, not of the one where the start-up snapshot was built.
  get workers(): number {
    return Math.max(1, availableParallelism());
  },
};

type BoolOption = { [K in keyof Config]-?: Config[K] extends boolean ? K : never }[keyof Config];

/** Each boolean option that sets a Preserve bit, and its bit. */
const PRESERVE_BITS: ReadonlyArray<readonly [BoolOption, number]> = [
  ['perms', Preserve.Perms],
  ['owner', Preserve.Owner],
  ['group', Preserve.Group],
  ['times', Preserve.Times],
  ['xattrs', Preserve.Xattrs],
  ['acls', Preserve.Acls],
  ['devices', Preserve.Devices],
  ['specials', Preserve.Specials],
  ['sparse', Preserve.Sparse],
  ['inplace', Preserve.Inplace],
  ['partial', Preserve.Partial],
  ['keepDirlinks', Preserve.KeepDirlinks],
  ['omitDirTimes', Preserve.OmitDirTimes],
  ['fsync', Preserve.Fsync],
  ['preallocate', Preserve.Preallocate],
  ['append', Preserve.Append],
  ['appendVerify', Preserve.AppendVerify],
  ['omitLinkTimes', Preserve.OmitLinkTimes],
  ['atimes', Preserve.Atimes],
  ['mungeLinks', Preserve.UnmungeLinks],
];

/** The settings rsync's receiver prints its own lines by. */
export type ReceiverOutput = Pick<Config, 'info' | 'debug' | 'itemize' | 'outFormat'> & {
  /** rsync's stdout_format_has_i on the receiving side (cli/receiver-options.ts); absent: the line's. */
  hasI?: number;
};

/** The receiver's output settings: its -M ones, else the line's (one process prints both in arsync). */
export function receiverOutput(c: Config): ReceiverOutput {
  return c.receiverOutput ?? c;
}

/** rsync's am_root != 0: owners are set and devices made (root, or --super; not under --no-super). */
export function actsAsRoot(c: Config): boolean {
  return (c.amRoot ?? (process.geteuid?.() === 0 ? 1 : 0)) !== 0;
}

/** The Preserve bitmask the engines take. */
export function preserveFlags(c: Config): number {
  let f = 0;
  for (const [key, bit] of PRESERVE_BITS) if (c[key]) f |= bit;
  if (c.reflink === 'never') f |= Preserve.ReflinkNever;
  if (c.reflink === 'always') f |= Preserve.ReflinkAlways;
  // -p already sets every mode bit: -E only matters without it (rsync's dest_mode).
  if (c.executability && !c.perms) f |= Preserve.Executability;
  if (!c.openNoatime) f |= Preserve.AtimeOnRead;
  if (c.delayUpdates) f |= Preserve.DelayUpdates;
  // --super/--no-super decide for the engines; without them each engine asks the effective uid.
  if (c.amRoot !== undefined) f |= c.amRoot !== 0 ? Preserve.Super : Preserve.NoSuper;
  if (c.amRoot === -1) f |= Preserve.FakeSuper;
  if (c.fakeSuper) f |= Preserve.FakeSource;
  if (c.writeDevices) f |= Preserve.WriteDevices;
  if (c.xattrs && c.xattrsAll) f |= Preserve.XattrsAll;
  return f >>> 0;
}
