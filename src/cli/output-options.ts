// rsync's options that choose what a run prints and where: --info and --debug (their words, levels and
// =help), -v's mapping onto them, --stderr/--msgs2stderr, --log-file/--log-file-format, --list-only.
// Registered on the commander program like local-noops.ts; `finish()` maps them into the Config's
// output fields once the rest of the line is known.

import { constants, openSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError, errnoText, showPath } from '../util/errors.js';
import { ELOOP_TEXT, resolveOperatorPath } from '../plan/operator-path.js';
import { LogFile } from '../progress/logfile.js';
import type { Config } from '../model/config.js';
import { formatHas } from '../progress/format.js';
import { canSum } from '../run/file-sum.js';
import {
  Priority,
  applyVerbosity,
  newDebug,
  newInfo,
  serverInfoOption,
  wordsHelp,
  type DebugLevels,
  type InfoLevels,
} from '../model/output-levels.js';
import type { StderrMode } from '../model/config.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** What the output options leave in the Config. */
export interface OutputSettings {
  info: InfoLevels;
  debug: DebugLevels;
  /** The --info= argument a receiving (push) and a sending (pull) server are given, if any. */
  serverInfo: { receiver: string | undefined; sender: string | undefined };
  stderr: StderrMode;
  logFile: string | undefined;
  logFileFormat: string | undefined;
  listOnly: boolean;
}

/** What the rest of the command line tells these options. */
export interface OutputInputs {
  verbose: number;
  quiet: boolean;
  stats: boolean;
  /** --progress or -P. */
  progress: boolean;
  /** -i or --out-format given (rsync's log_before_transfer). */
  formatted: boolean;
  /** A source and no destination: rsync lists without being asked (its list_only |= 1). */
  lone: boolean;
}

export function addOutputOptions(p: Command): {
  /** The text of --info=help or --debug=help when the line asks for it (rsync prints it and exits 0). */
  help: () => string | undefined;
  finish: (i: OutputInputs) => OutputSettings;
} {
  // Both families are read in command-line order, as rsync reads them (a later word wins).
  const order: ['info' | 'debug', string][] = [];
  p.option('--info <FLAGS>', 'fine-grained informational verbosity (--info=help lists the words)', (v: string, prev: string[]) => {
    order.push(['info', v]);
    return collect(v, prev);
  }, [])
    .option('--debug <FLAGS>', 'fine-grained debug verbosity (--debug=help lists the words)', (v: string, prev: string[]) => {
      order.push(['debug', v]);
      return collect(v, prev);
    }, [])
    .option('--stderr <e|a|c>', 'change stderr output mode (default: errors)', (v: string) => stderrMode(v))
    .option('--msgs2stderr', 'output all messages to stderr (same as --stderr=all)')
    .option('--no-msgs2stderr', 'output messages to stdout (same as --stderr=client)')
    .option('--log-file <FILE>', "log what the run does to FILE (rsync's log format)")
    .option('--log-file-format <FMT>', 'log updates using the specified FMT')
    .option('--list-only', 'list the files instead of copying them');
  // --stderr and --msgs2stderr set one variable in rsync: the last on the line wins.
  p.on('option:msgs2stderr', () => p.setOptionValue('stderr', 'all'));
  p.on('option:no-msgs2stderr', () => p.setOptionValue('stderr', 'client'));

  const info = newInfo();
  const debug = newDebug();
  let help: string | undefined;
  let applied = false;
  const applyAll = (): void => {
    if (applied) return;
    applied = true;
    for (const [which, flags] of order) {
      try {
        const r = which === 'info' ? info.apply(flags, Priority.User) : debug.apply(flags, Priority.User);
        // rsync prints the help as soon as its parser reaches the word, and exits 0.
        if (r === 'help') {
          help = wordsHelp(which);
          return;
        }
      } catch (err) {
        // "Unknown --info item: ..." is one of rsync's rprintf lines, printed without its name.
        throw new UsageError((err as Error).message, true);
      }
    }
  };
  return {
    help: () => {
      applyAll();
      return help;
    },
    finish: (i) => {
      applyAll();
      const o = p.opts();
      applyVerbosity(info, debug, i.verbose);
      // rsync: --stats raises STATS to 2 (3 with -vv), beneath what --info names.
      if (i.stats) info.apply(i.verbose > 1 ? 'stats3' : 'stats2', Priority.Default);
      if (i.progress) {
        if (!i.formatted && info.levels.NAME === 0) info.apply('name', Priority.Default);
        info.apply('FLIST2,PROGRESS', Priority.Default);
      }
      // Before -q silences this side: the levels the user named are the server's to know.
      const serverInfo = { receiver: serverInfoOption(info, false), sender: serverInfoOption(info, true) };
      if (i.quiet) {
        // -q: rsync prints no informational messages (its FINFO lines are dropped), errors still show.
        for (const k of Object.keys(info.levels) as (keyof InfoLevels)[]) info.levels[k] = 0;
        for (const k of Object.keys(debug.levels) as (keyof DebugLevels)[]) debug.levels[k] = 0;
      }
      const logFileFormat = o['logFileFormat'] as string | undefined;
      return {
        info: info.levels,
        debug: debug.levels,
        serverInfo,
        stderr: (o['stderr'] as StderrMode | undefined) ?? 'errors',
        logFile: o['logFile'] as string | undefined,
        logFileFormat,
        listOnly: Boolean(o['listOnly']) || i.lone,
      };
    },
  };
}

/** rsync's --stderr: any non-empty prefix of errors, all or client. */
function stderrMode(v: string): StderrMode {
  for (const m of ['errors', 'all', 'client'] as const) if (v.length && m.startsWith(v)) return m;
  throw new UsageError(`--stderr mode "${v}" is not one of errors, all, or client`);
}

/**
 * Open --log-file for appending (rsync's fopen "a": created 0666 less the umask). The path is an
 * operator path (DESIGN §3.8): a symlink on it is followed only when root or the running user owns it.
 * A log that cannot be opened is reported (`say`, stderr) and the run goes on without it, as in rsync,
 * which says so on stdout (`info`).
 */
export function openLogFile(c: Config, say: (line: string) => void, info: (line: string) => void): LogFile | undefined {
  if (c.logFile === undefined) return undefined;
  const shown = showPath(c.logFile);
  const where = resolveOperatorPath(Buffer.from(c.logFile), { insecure: c.insecureLinks });
  let fd: number;
  try {
    if (!where.ok) throw Object.assign(new Error(ELOOP_TEXT), { reason: ELOOP_TEXT });
    fd = openSync(where.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o666);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { reason?: string };
    // rsync's words: strerror's text (Node's own differ: "illegal operation on a directory"), and the
    // role it has while starting up.
    const why = e.reason ?? (e.errno !== undefined ? `${errnoText(-e.errno)} (${-e.errno})` : e.message);
    say(`arsync: [client] failed to open log-file ${shown}: ${why}`);
    // (rsync's FINFO: on stdout.)
    info('Ignoring "log file" setting.');
    return undefined;
  }
  return new LogFile(fd, c.logFileFormat, c.dryRun);
}

/**
 * The checksum %C prints, when a format in use has %C: rsync's negotiated one (for a local copy rsync
 * 3.5 settles on xxh128), or what --checksum-choice names (its second name under -c). A name this build
 * cannot compute is refused before any I/O rather than printed wrong.
 */
export function percentCSum(formats: (string | undefined)[], choice: [string, string] | undefined, checksum: boolean, auto = 'xxh128'): string | undefined {
  if (!formats.some((f) => f !== undefined && formatHas(f, 'C'))) return undefined;
  const picked = choice ? (checksum ? choice[1] : choice[0]) : 'auto';
  const name = picked === 'auto' ? auto : picked;
  if (!canSum(name)) {
    const why = picked === 'auto' ? `rsync's default checksum for a local copy, ${name},` : `the ${name} checksum`;
    throw new UsageError(`%C needs ${why} which this build of arsync cannot compute (--checksum-choice=md5 prints MD5 sums)`);
  }
  return name;
}
