// argv → Config. rsync's option names and meanings (-a = -rlptgoD, --no-OPTION turns one back off),
// parsed with commander; every check that needs no I/O happens here, so a usage error never leaves a
// trace on disk.

import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { DEFAULTS, type Config } from './config.js';
import { UsageError } from '../util/errors.js';
import type { EngineChoice } from '../engine/types.js';

export const VERSION = '0.1.0';

/** Things the CLI does instead of a transfer. */
export type Parsed = { kind: 'run'; config: Config } | { kind: 'print'; text: string };

const count = (_: string, prev: number): number => prev + 1;

function positiveInt(name: string, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new UsageError(`${name} takes a whole number, not "${v}"`);
    const n = Number(v);
    if (n < 1 || n > max) throw new UsageError(`${name} must be between 1 and ${max}, not ${n}`);
    return n;
  };
}

function buildProgram(): Command {
  const p = new Command('arsync');
  p.usage('[OPTION]... SRC [SRC]... DEST')
    .description("Local file copy and sync with rsync's command line, driven by io_uring.")
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(true)
    .showSuggestionAfterError(true)
    .argument('<paths...>', 'sources, then the destination')
    .option('-v, --verbose', 'list files as they are transferred (-vv for more)', count, 0)
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
    .option('-X, --xattrs', 'preserve extended attributes')
    .option('--numeric-ids', 'keep uid/gid numbers (local copies always do)')
    .option('--progress', 'show a progress bar')
    .option('--info <FLAGS>', 'rsync info flags; progress2 shows a progress bar for the whole transfer')
    .option('--stats', "print rsync's transfer statistics")
    .addOption(
      new Option('--engine <NAME>', 'copy engine').choices(['auto', 'uring', 'sync', 'node']).default('auto'),
    )
    .option('--workers <N>', 'worker threads (default: CPUs)', positiveInt('--workers', 256))
    .option('--queue-depth <N>', 'io_uring queue depth per worker', positiveInt('--queue-depth', 4096))
    .option('--direct', 'O_DIRECT for large files (uring engine): do not fill the page cache')
    .option('-V, --version', 'print the version and exit');
  p.exitOverride();
  p.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  return p;
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

export function parseArgs(argv: string[], fromProcess = false): Parsed {
  const program = buildProgram();
  const args = argv.slice(2);
  if (args.includes('-V') || args.includes('--version')) {
    return { kind: 'print', text: versionText() };
  }
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help') {
        return { kind: 'print', text: program.helpInformation() };
      }
      throw new UsageError(err.message.replace(/^error: /, ''));
    }
    throw err;
  }
  const o = program.opts();
  const operands = program.args;
  if (operands.length < 2) {
    throw new UsageError(
      operands.length === 0 ? 'no source or destination given' : 'a destination is required (SRC... DEST)',
    );
  }
  const raw = fromProcess ? rawArgs(args) : args.map((a) => Buffer.from(a));
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
  for (const b of operandBytes) {
    if (b.length === 0) throw new UsageError('empty path operand');
  }

  const archive = Boolean(o['archive']);
  const pick = (key: string, implied: boolean): boolean => (o[key] === undefined ? implied : Boolean(o[key]));
  const devicesAndSpecials = Boolean(o['D']);
  let progress = Boolean(o['progress']);
  if (o['info'] !== undefined) {
    for (const flag of String(o['info']).split(',')) {
      if (flag === 'progress2' || flag === 'progress1') progress = true;
      else if (flag === 'progress0') progress = false;
      else throw new UsageError(`--info=${flag} is not supported (supported: progress0, progress1, progress2)`);
    }
  }
  const acls = Boolean(o['acls']);
  const quiet = Boolean(o['quiet']);
  const config: Config = {
    sources: operandBytes.slice(0, -1),
    dest: operandBytes[operandBytes.length - 1]!,
    recursive: pick('recursive', archive),
    links: pick('links', archive),
    perms: pick('perms', archive) || acls,
    times: pick('times', archive),
    group: pick('group', archive),
    owner: pick('owner', archive),
    devices: pick('devices', archive || devicesAndSpecials),
    specials: pick('specials', archive || devicesAndSpecials),
    hardLinks: Boolean(o['hardLinks']),
    acls,
    xattrs: Boolean(o['xattrs']),
    numericIds: Boolean(o['numericIds']),
    verbose: quiet ? 0 : (o['verbose'] as number),
    quiet,
    progress: progress && !quiet,
    stats: Boolean(o['stats']),
    engine: o['engine'] as EngineChoice,
    workers: (o['workers'] as number | undefined) ?? DEFAULTS.workers,
    queueDepth: (o['queueDepth'] as number | undefined) ?? DEFAULTS.queueDepth,
    direct: Boolean(o['direct']),
    bufferSize: DEFAULTS.bufferSize,
    bufferCount: DEFAULTS.bufferCount,
  };
  if (config.engine === 'node' && (config.xattrs || config.acls)) {
    throw new UsageError(
      `${config.xattrs ? '-X/--xattrs' : '-A/--acls'} needs the native addon; the node engine cannot read or write extended attributes`,
    );
  }
  if (config.direct && config.engine !== 'auto' && config.engine !== 'uring') {
    throw new UsageError('--direct works with the uring engine only');
  }
  return { kind: 'run', config };
}

export function versionText(): string {
  return `arsync version ${VERSION}\nengines: uring (io_uring via liburing), sync (plain syscalls), node (node:fs)\n`;
}
