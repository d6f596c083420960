// The one typed description of a run. The CLI builds it from argv and checks it before any I/O; every
// later stage reads it and never argv.

import { availableParallelism } from 'node:os';
import { Preserve } from './ops.js';
import type { DebugLevels, InfoLevels } from './output-levels.js';

export type EngineName = 'uring' | 'sync' | 'node';
export type EngineChoice = EngineName | 'auto';

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
}

export type DeleteMode = 'none' | 'before' | 'during' | 'after';

export interface Config {
  /** Source operands as raw bytes (trailing slash kept: it means "the contents of"). */
  sources: Buffer[];
  /** Destination operand as raw bytes. */
  dest: Buffer;
  recursive: boolean;
  links: boolean;
  perms: boolean;
  times: boolean;
  group: boolean;
  owner: boolean;
  devices: boolean;
  specials: boolean;
  hardLinks: boolean;
  acls: boolean;
  xattrs: boolean;
  /** Local copies share one user database, so ids are always kept as numbers; kept for rsync parity. */
  numericIds: boolean;
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
  relative: boolean;
  mkpath: boolean;
  oneFileSystem: number;
  copyLinks: boolean;
  safeLinks: boolean;
  copyUnsafeLinks: boolean;
  /** --insecure-links: operator-given paths may pass through anyone's symlinks (rsync 3.5 opt-out). */
  insecureLinks: boolean;
  keepDirlinks: boolean;
  /** -O, or implied by --backup without --backup-dir (backups move directory mtimes), as in rsync. */
  omitDirTimes: boolean;
  removeSourceFiles: boolean;
  chmod: ChmodRule[];
  /**
   * rsync's incremental recursion as the line leaves it (-r without --no-i-r, --qsort, --protocol=29,
   * --delete-before/-after): only -v's first line shows it on a local copy.
   */
  incRecursive: boolean;
  /** --info/--debug levels after -v's, --stats' and --progress's defaults (cli/output-options.ts). */
  info: InfoLevels;
  debug: DebugLevels;
  /** --stderr/--msgs2stderr: errors (rsync's default), all (every message on stderr), client (all on stdout). */
  stderr: StderrMode;
  /** --log-file and --log-file-format. */
  logFile: string | undefined;
  logFileFormat: string | undefined;
  /** --list-only, or a command line with a source and no destination. */
  listOnly: boolean;
}

export type StderrMode = 'errors' | 'all' | 'client';

export const DEFAULTS = {
  queueDepth: 64,
  bufferSize: 256 * 1024,
  bufferCount: 16,
  workers: Math.max(1, availableParallelism()),
};

type BoolOption = { [K in keyof Config]: Config[K] extends boolean ? K : never }[keyof Config];

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
];

/** The Preserve bitmask the engines take. */
export function preserveFlags(c: Config): number {
  let f = 0;
  for (const [key, bit] of PRESERVE_BITS) if (c[key]) f |= bit;
  return f;
}
