// Everything the user sees while a run goes on: -v listing, informational lines, errors, and the
// progress bar drawn from the shared counters. Only the main thread renders; workers never print.

import type { RunTotals } from '../model/run-totals.js';
import { Counter } from '../model/ops.js';
import { outputBytes } from '../util/names.js';
import type { LogFile } from './logfile.js';

export interface Reporter {
  start(counters: BigInt64Array, totals: () => RunTotals): Promise<void>;
  stop(): void;
  /** A message line on stdout (summaries, skips), also logged to --log-file. */
  print(line: string): void;
  /** An entry's line on stdout (itemize, -v listing, progress): not logged (the log has its own format). */
  item(line: string): void;
  /** An informational line (stdout, not under -q). */
  info(line: string): void;
  /** An error line (stderr, "arsync: " prefixed). */
  error(line: string): void;
  /** --log-file, when given. */
  readonly log?: LogFile;
}

export interface ReporterOptions {
  verbose: number;
  quiet: boolean;
  progress: boolean;
  log?: LogFile;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

type Bar = import('cli-progress').SingleBar;

export function createReporter(o: ReporterOptions): Reporter {
  let bar: Bar | undefined;
  let timer: NodeJS.Timeout | undefined;
  const started = performance.now();
  const write = (s: NodeJS.WritableStream, line: string): void => {
    if (bar) bar.stop();
    s.write(outputBytes(line + '\n'));
    if (bar) bar.start(bar.getTotal(), bar.getProgress() * bar.getTotal());
  };
  return {
    async start(counters, totals) {
      if (!o.progress) return;
      const { SingleBar, Presets } = await import('cli-progress');
      const fmtBytes = (n: number): string => humanBytes(n);
      bar = new SingleBar(
        {
          format: '{bar} {percentage}% | {done}/{size} | {files} files | {rate}/s | ETA {eta_formatted}',
          hideCursor: true,
          noTTYOutput: false,
          etaBuffer: 20,
          fps: 5,
        },
        Presets.shades_classic,
      );
      bar.start(1, 0, { done: '0B', size: '0B', files: 0, rate: '0B' });
      timer = setInterval(() => {
        const t = totals();
        const bytes = Number(Atomics.load(counters, Counter.Bytes));
        const files = Number(Atomics.load(counters, Counter.Files));
        const secs = (performance.now() - started) / 1000;
        bar!.setTotal(Math.max(1, t.plannedBytes));
        bar!.update(bytes, {
          done: fmtBytes(bytes),
          size: fmtBytes(t.plannedBytes),
          files,
          rate: fmtBytes(secs > 0 ? bytes / secs : 0),
        });
      }, 200);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      if (bar) {
        bar.update(bar.getTotal());
        bar.stop();
      }
      bar = undefined;
    },
    log: o.log,
    print(line) {
      write(o.out, line);
      o.log?.line(line);
    },
    item(line) {
      write(o.out, line);
    },
    info(line) {
      if (!o.quiet) write(o.out, line);
      o.log?.line(line);
    },
    error(line) {
      write(o.err, `arsync: ${line}`);
      o.log?.line(`arsync: ${line}`);
    },
  };
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)}${units[i]}`;
}
