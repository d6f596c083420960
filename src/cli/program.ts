// The option parser itself: every rsync option declared on one commander program, with the value
// parsers they share (sizes, whole numbers), and the help-order list of them that the generated
// documents read. What the parse means (the Config) is settled in cli/options.ts.

import { Command, Option } from 'commander';
import type { FilterItem } from '../model/config.js';
import { UsageError } from '../util/errors.js';
import { addDaemonOptions } from './daemon-options.js';
import { addNoEffectOptions, type NoEffect } from './local-noops.js';
import { addReflinkOption } from './reflink.js';
import { addFuzzyOptions } from './fuzzy-options.js';
import { addIconvOptions } from './iconv-options.js';
import { addProtocolOption, type ProtocolOption } from './protocol-option.js';
import { addConfineRootOption } from './confine-root.js';
import { addClockOptions, type ClockLimits } from './clock-options.js';
import { addNegations } from './negations.js';
import { addOwnershipOptions, type Ownership } from './ownership.js';
import { addFakeSuperOptions, type FakeSuper } from './fake-super.js';
import { addDeviceOptions, type DeviceOptions } from './device-options.js';
import { addBatchOptions } from './batch-options.js';
import { addOutputOptions } from './output-options.js';
import { addDirOptions, type DirChoices } from './dir-options.js';
import { addWriteOptions, type WriteOptions } from './write-options.js';
import { addPartialOptions, type PartialOptions } from './partial-options.js';
import { addMetaOptions, type MetaConfig } from './meta-options.js';
const count = (_: string, prev: number): number => prev + 1;

/** rsync's MAX_BASIS_DIRS. */
const MAX_BASIS_DIRS = 20;
const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** rsync's size syntax: 100, 1.5K, 10M, 2G (powers of 1024), 10KB/10MB (powers of 1000), with +1/-1. */
export function parseSize(name: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmgtp]?)(i?b)?([+-]1)?$/i.exec(v);
  if (!m) throw new UsageError(`${name}=${v} is invalid`);
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
    if (!/^-?\d+$/.test(v)) throw new UsageError(`${name}=${v}: invalid numeric value`);
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

export function buildProgram(
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

export type Program = ReturnType<typeof buildProgram>;

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

/** The program prebuilt for the real command line's parse, once (a commander program keeps what it parsed). */
export function takePrebuilt(): { filters: FilterItem[]; built: Program } | undefined {
  const ready = prebuilt;
  prebuilt = undefined;
  return ready;
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
