// The CLI's entry: argv in, exit code out. Everything that can be checked without I/O is checked first
// (options, engine, operands); then one transfer runs and its outcome maps onto rsync's exit codes.

import { parseArgs } from './options.js';
import { selectEngine } from '../engine/index.js';
import { lstatPath } from '../engine/index.js';
import { resolveOperands } from '../plan/sources.js';
import { transfer } from '../transfer.js';
import { createReporter } from '../progress/reporter.js';
import { statsLines } from '../progress/stats.js';
import { Exit, UsageError, fsError, showPath, type FsError } from '../util/errors.js';

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
    if (err instanceof UsageError) return usage(io, err.message);
    throw err;
  }
  if (parsed.kind === 'print') {
    io.out.write(parsed.text);
    return Exit.Ok;
  }
  const c = parsed.config;

  const engine = selectEngine(c.engine);
  if ('error' in engine) return usage(io, engine.error);
  if (engine.name === 'node' && (c.xattrs || c.acls)) {
    return usage(io, `${c.xattrs ? '-X/--xattrs' : '-A/--acls'} needs the native addon (${engine.reason})`);
  }

  let resolved;
  try {
    resolved = resolveOperands(c, (p) => lstatPath(engine.name, p));
  } catch (err) {
    if (err instanceof UsageError) return usage(io, err.message);
    throw err;
  }

  const reporter = createReporter({ verbose: c.verbose, quiet: c.quiet, progress: c.progress, ...io });
  if (c.verbose > 0) io.out.write(`engine: ${engine.name} (${engine.reason})\n`);
  let ioErrors = 0;
  for (const m of resolved.missing) {
    ioErrors++;
    reporter.error(`link_stat "${showPath(m.src)}" failed: ${fsError(m.errno, m.syscall, showPath(m.src)).message}`);
  }

  // SIGINT/SIGTERM/SIGHUP: tell the engines to stop (they remove their temp files), then exit 20.
  const abort: { aborted: boolean; onAbort?: () => void } = { aborted: false };
  const onSignal = (): void => {
    if (abort.aborted) process.exit(Exit.Signal);
    abort.aborted = true;
    abort.onAbort?.();
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  signals.forEach((s) => process.on(s, onSignal));

  let totals;
  try {
    totals = await transfer(c, resolved.plan, engine, reporter, abort);
  } catch (err) {
    const e = err as FsError;
    if (typeof e.syscall === 'string') {
      reporter.error(e.message);
      return finish(io, Exit.FileIO);
    }
    throw err;
  } finally {
    signals.forEach((s) => process.off(s, onSignal));
  }

  if (totals.aborted) {
    io.err.write(`arsync error: received SIGINT, SIGTERM, or SIGHUP (code ${Exit.Signal})\n`);
    return Exit.Signal;
  }
  if (c.stats || (c.verbose > 0 && !c.quiet)) {
    io.out.write(statsLines(totals, performance.now() - started, c.stats).join('\n') + '\n');
  }
  ioErrors += totals.ioErrors;
  if (ioErrors > 0) return finish(io, Exit.Partial);
  if (totals.vanished > 0) return finish(io, Exit.Vanished);
  return Exit.Ok;
}

function finish(io: Io, code: number): number {
  const text =
    code === Exit.Partial
      ? 'arsync error: some files/attrs were not transferred (see previous errors)'
      : code === Exit.Vanished
        ? 'arsync warning: some files vanished before they could be transferred'
        : 'arsync error: error in file IO';
  io.err.write(`${text} (code ${code})\n`);
  return code;
}
