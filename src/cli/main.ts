// The CLI's entry: argv in, exit code out. Everything that can be checked without I/O is checked first
// (options, engine, operands); then one transfer runs and its outcome maps onto rsync's exit codes.

import { parseArgs } from './options.js';
import { OptionError } from './local-noops.js';
import { selectEngine } from '../engine/index.js';
import { lstatPath } from '../engine/index.js';
import { resolveOperands } from '../plan/sources.js';
import { transfer, type RunTotals } from '../transfer.js';
import type { Config } from './config.js';
import type { EngineSelection } from '../engine/index.js';
import { Counter } from '../engine/types.js';
import { createReporter } from '../progress/reporter.js';
import { statsLines } from '../progress/stats.js';
import { Exit, FileSelectError, UsageError, exitMessage, showPath, type FsError } from '../util/errors.js';
import { setAbortHandler } from './signals.js';
import { ELOOP_TEXT, UNTRUSTED_SYMLINK, resolveOperatorPath } from '../plan/operator-path.js';
import { resolve as resolvePath } from 'node:path';
import { FilterError, FilterList } from '../plan/filter.js';
import { VERSION } from './options.js';
import { setEightBitOutput } from '../util/names.js';

export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

const usage = (io: Io, message: string): number => {
  io.err.write(`arsync: ${message}\narsync error: syntax or usage error (code ${Exit.Usage})\n`);
  return Exit.Usage;
};

export async function main(argv: string[], io: Io = { out: process.stdout, err: process.stderr }): Promise<number> {
  const started = performance.now();
  let parsed;
  try {
    parsed = parseArgs(argv, true);
  } catch (err) {
    if (err instanceof OptionError) {
      io.err.write(`arsync: ${err.message}\n`);
      return finish(io, err.exitCode);
    }
    if (err instanceof UsageError) return usage(io, err.message);
    throw err;
  }
  if (parsed.kind === 'print') {
    io.out.write(parsed.text);
    return Exit.Ok;
  }
  const c = parsed.config;
  setEightBitOutput(c.eightBit);

  const engine = selectEngine(c.engine, [...c.sources, c.dest]);
  if ('error' in engine) return usage(io, engine.error);
  if (engine.name === 'node' && (c.xattrs || c.acls)) {
    const why = engine.missingAddon ? `${engine.missingAddon.reason}. To fix: ${engine.missingAddon.fix}` : engine.reason;
    return usage(io, `${c.xattrs ? '-X/--xattrs' : '-A/--acls'} needs the native addon: ${why}`);
  }
  if (engine.warning && !c.quiet) io.err.write(`arsync: ${engine.warning}\n`);

  let filters: FilterList | undefined;
  try {
    if (c.filters.length || c.cvsExclude) {
      filters = FilterList.fromOptions(c.filters, {
        cvsExclude: c.cvsExclude,
        deleteExcluded: c.deleteExcluded,
        insecureLinks: c.insecureLinks,
        eolNulls: c.from0,
        onRefusal: (m) => io.err.write(`arsync: ${m}\n`),
      });
    }
  } catch (err) {
    if (err instanceof FilterError) {
      io.err.write(`arsync: ${err.message}\n`);
      return finish(io, err.exitCode);
    }
    throw err;
  }

  let resolved;
  try {
    resolved = await resolveOperands(c, (p) => lstatPath(engine.name, p));
  } catch (err) {
    if (err instanceof UsageError) return usage(io, err.message);
    if (err instanceof FileSelectError) {
      io.err.write(`arsync: ${err.message}\n`);
      return finish(io, Exit.FileSelect);
    }
    const e = err as FsError;
    if (typeof e.syscall === 'string') {
      // The destination cannot be made (a missing parent without --mkpath): rsync's code 11.
      io.err.write(`arsync: ${e.syscall} "${e.path ?? ''}" failed: ${e.message}\n`);
      return finish(io, Exit.FileIO);
    }
    throw err;
  }

  const checked = checkOperatorPaths(c, resolved.plan.destRoot);
  if ('message' in checked) {
    io.err.write(`arsync: ${UNTRUSTED_SYMLINK}\narsync: ${checked.message}\n`);
    return finish(io, checked.code);
  }
  // From here on the destination is named without symlinks, and the engines open it following none:
  // a symlink swapped in after this check cannot redirect the run.
  resolved.plan.destRoot = checked.destRoot;

  const reporter = createReporter({ verbose: c.verbose, quiet: c.quiet, progress: c.progress, ...io });
  if (c.verbose > 0) io.out.write(`engine: ${engine.name} (${engine.reason})\n`);
  // rsync's send_file_list(): an incremental list announces itself; a whole one is built first, and only
  // when directories are transferred (-r, --files-from).
  if ((c.verbose > 0 || c.progressFiles) && !c.json) {
    if (c.incRecursive) io.out.write('sending incremental file list\n');
    else if (c.recursive || c.filesFrom !== undefined) io.out.write('building file list ... done\n');
  }
  let ioErrors = 0;
  const preErrors: { path: string; message: string; code?: string }[] = [];
  for (const m of resolved.missing) {
    ioErrors++;
    preErrors.push({ path: m.display, message: m.message, code: m.code });
    reporter.error(m.message);
  }

  // SIGINT/SIGTERM/SIGHUP during the transfer: tell the engines to stop (they remove their temp files),
  // then exit 20. Before and after it, cli/signals.ts exits 20 at once.
  const abort: { aborted: boolean; onAbort?: () => void } = { aborted: false };
  // A signal that arrived while the checks above ran synchronously (a --files-from FIFO, say) is only
  // seen when the event loop turns (measured: only in the second turn when it came during start-up): let
  // it end the run here, before anything is written.
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
  setAbortHandler(() => {
    abort.aborted = true;
    abort.onAbort?.();
  });

  let totals;
  try {
    totals = await transfer({ config: c, plan: resolved.plan, engine, reporter, filters, abort, priorErrors: resolved.missing.length });
  } catch (err) {
    // A bad rule in a per-directory merge file ends the run, as in rsync (1, or 11 for the depth cap).
    if (err instanceof FilterError) {
      reporter.error(err.message);
      return finish(io, err.exitCode);
    }
    const e = err as FsError;
    if (typeof e.syscall === 'string') {
      reporter.error(e.message);
      return finish(io, Exit.FileIO);
    }
    throw err;
  } finally {
    setAbortHandler(undefined);
  }

  ioErrors += totals.ioErrors;
  let code: number = Exit.Ok;
  if (totals.aborted || abort.aborted) code = Exit.Signal;
  else if (ioErrors > 0) code = Exit.Partial;
  else if (totals.deleteSkipped > 0) code = Exit.MaxDelete;
  else if (totals.vanished > 0) code = Exit.Vanished;
  const elapsedMs = performance.now() - started;

  if (c.json) {
    io.out.write(JSON.stringify(jsonSummary(c, engine, totals, code, elapsedMs, [...preErrors, ...totals.errors]), null, 2) + '\n');
  } else if (code !== Exit.Signal && (c.stats || (c.verbose > 0 && !c.quiet))) {
    io.out.write(statsLines(totals, elapsedMs, c.stats, c.dryRun, c.humanReadable).join('\n') + '\n');
  }
  if (totals.deleteSkipped > 0) {
    io.err.write(`Deletions stopped due to --max-delete limit (${totals.deleteSkipped} skipped)\n`);
  }
  return code === Exit.Ok ? code : finish(io, code);
}

/**
 * rsync 3.5's operator-path rule for the destination and --backup-dir, before anything is written
 * (returns the destination root resolved to hold no symlink):
 * the destination exits 3 as rsync's failed change_dir does, the backup directory 11 as its failed
 * backup does (rsync finds out only at the first backup; here nothing is touched first).
 */
function checkOperatorPaths(c: Config, destRoot: Buffer): { destRoot: Buffer } | { message: string; code: number } {
  const o = { insecure: c.insecureLinks };
  const dest = resolveOperatorPath(destRoot, o);
  if (!dest.ok) {
    return { message: `change_dir "${showPath(destRoot)}" failed: ${ELOOP_TEXT}`, code: Exit.FileSelect };
  }
  if (c.backupDir !== undefined) {
    const dir = Buffer.from(resolvePath(destRoot.toString('latin1'), c.backupDir), 'latin1');
    if (!resolveOperatorPath(dir, o).ok) {
      return { message: `backup-dir "${showPath(dir)}" failed: ${ELOOP_TEXT}`, code: Exit.FileIO };
    }
  }
  return { destRoot: dest.path };
}

function jsonSummary(
  c: Config,
  engine: EngineSelection,
  t: RunTotals,
  exitCode: number,
  elapsedMs: number,
  errors: { path: string; message: string; code?: string }[],
): object {
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
  return {
    version: VERSION,
    exitCode,
    dryRun: c.dryRun,
    engine: { name: engine.name, reason: engine.reason },
    elapsedMs: Math.round(elapsedMs * 1000) / 1000,
    files: {
      total: sum(t.listed),
      ...t.listed,
      created: sum(t.created),
      deleted: sum(t.deleted),
      transferred: c.dryRun ? t.plannedFiles : Number(Atomics.load(t.counters, Counter.Files)),
      deleteSkipped: t.deleteSkipped,
    },
    bytes: {
      total: t.totalSize,
      transferred: c.dryRun ? t.plannedBytes : Number(Atomics.load(t.counters, Counter.Bytes)),
    },
    errors,
  };
}

function finish(io: Io, code: number): number {
  io.err.write(`${exitMessage(code)}\n`);
  return code;
}
