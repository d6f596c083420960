// Everything the user sees while a run goes on: -v listing, informational lines, errors, and the
// whole-run progress drawn from the shared counters: rsync's --info=progress2 line (rsync-progress.ts),
// or arsync's --progress-bar (a cli-progress bar, on a terminal only, with every other line printed above
// it through the library's log). Only the main thread renders; workers never print.

import type { RunTotals } from '../model/run-totals.js';
import { Counter } from '../model/ops.js';
import { outputBytes } from '../util/names.js';
import { TotalProgress, type TotalSample } from './rsync-progress.js';
import { FileProgress, type FileMark, type ListCounts } from './file-progress.js';
import type { LogFile } from './logfile.js';
import type { ProgressRecords } from './receive-progress.js';
import { loadPackage } from '../util/packages.js';

export interface Reporter {
  start(counters: BigInt64Array, totals: () => RunTotals, counts?: () => ListCounts): Promise<void>;
  stop(): void;
  /** A message line on stdout (summaries, skips), also logged to --log-file. */
  print(line: string): void;
  /** An entry's line on stdout (itemize, -v listing, progress): not logged (the log has its own format). */
  item(line: string): void;
  /** An informational line (stdout, not under -q). */
  info(line: string): void;
  /** An error line (stderr, "arsync: " prefixed). */
  error(line: string): void;
  /** A line on stderr as rsync words its receiver's WARNING:/ERROR: lines (no prefix), also logged. */
  warn(line: string): void;
  /** --log-file, when given. */
  readonly log?: LogFile;
  /**
   * --progress: a file whose op was just queued (its lines follow the ones printed so far), by its name
   * in the destination; undefined when off.
   */
  file?(size: number, rel: Buffer): FileMark | undefined;
  /**
   * --progress: a place in that queue for lines an op's outcome decides (a symlink's or device's, printed
   * only if it was made: run/entry.ts), drawing nothing of its own; settled as a file is.
   */
  hold?(): FileMark | undefined;
  /** --progress: that file's op outcome, from its batch; stdout lines printed by `before` come ahead of it. */
  settle?(m: FileMark, outcome: number, before: () => void): void;
  /**
   * --info=progress2 on a local run: a file of `size` bytes was transferred (its op is done), told in the
   * order the ops ran; the line's counts are drawn for it (rsync's end_progress). Undefined when off.
   */
  fileEnded?(size: number): void;
  /**
   * --info=progress2 on a local run: an entry itemized now without a transfer (a new directory, changed
   * attributes), which rsync's generator tells its sender of. Undefined when off.
   */
  itemized?(): void;
  /**
   * --info=progress2 under -n: rsync's receiver (a local run's, a pull's) counts each file it would be
   * sent and draws the run's line at each of its three phase ends, and nothing per file. Left open.
   */
  dryRunEnds?(s: TotalSample): void;
  /**
   * Text on stdout without a newline (rsync's file-list progress, filelist-progress.ts). `open`: the next
   * output starts with a newline, except another open draw (rsync's output_needs_newline = 2); otherwise
   * a draw left open is ended first, as any line ends it.
   */
  draw(text: string, open: boolean): void;
}

export interface ReporterOptions {
  verbose: number;
  quiet: boolean;
  /** --info=progress2: rsync's whole-run line on stdout. */
  progress: boolean;
  /** --progress-bar: a full-width bar, when stdout is a terminal. */
  bar?: boolean;
  /** --progress: rsync's per-file lines (file-progress.ts). */
  files?: boolean;
  /** -h level for the numbers of the progress line. */
  human?: number;
  /** A pull's progress lines as its fetch drew them, printed in the files' places (cli/pull.ts receiveLines). */
  replay?: ProgressRecords;
  log?: LogFile;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

type Bars = import('cli-progress').MultiBar;
type Bar = import('cli-progress').SingleBar;

/** How often the progress line is looked at (it is redrawn at most once a second). */
const REDRAW_MS = 250;
/** How often --progress's queue is looked at: a file done shows its last line this soon. */
const FILES_MS = 100;

export function createReporter(o: ReporterOptions): Reporter {
  let bars: Bars | undefined;
  let bar: Bar | undefined;
  let line: TotalProgress | undefined;
  let files: FileProgress | undefined;
  const barOnTerminal = Boolean(o.bar && (o.out as NodeJS.WriteStream).isTTY);
  /** Lines printed while a file is being settled: they go ahead of it. */
  let ahead: (string | Buffer)[] | undefined;
  let counters: BigInt64Array | undefined;
  let listCounts: (() => ListCounts) | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** dryRunEnds' lines are out without their newline. */
  let dryOpen = false;
  /** A draw is out without its newline: the next output starts with one (the `draw` method). */
  let drawOpen = false;
  const write = (s: NodeJS.WritableStream, text: string, eol = '\n'): void => {
    if (drawOpen) {
      text = '\n' + text;
      drawOpen = false;
    }
    if (bars) {
      // The library's way to print above the bar (it redraws the bar below).
      bars.log(outputBytes(text + eol).toString('latin1'));
      return;
    }
    // --progress: stdout lines wait for the files queued before them.
    if (files && s === o.out) {
      if (ahead) ahead.push(outputBytes(text + eol));
      else files.line(outputBytes(text + eol));
      return;
    }
    if (files?.pending) {
      o.out.write('\n');
      files.pending = false;
    }
    // rsync ends an unfinished progress line before any other output (output_needs_newline).
    if (line?.pending || dryOpen) {
      o.out.write('\n');
      if (line) line.pending = false;
      dryOpen = false;
    }
    s.write(outputBytes(text + eol));
  };
  return {
    async start(c, totals, counts) {
      counters = c;
      listCounts = counts;
      const listed = (t: RunTotals): number => Object.values(t.listed).reduce((a, b) => a + b, 0);
      const sample = () => {
        const t = totals();
        return { bytes: Number(Atomics.load(c, Counter.Bytes)), size: t.totalSize, files: Number(Atomics.load(c, Counter.Files)), listed: listed(t) };
      };
      if (barOnTerminal) {
        const { MultiBar, Presets } = loadPackage('cli-progress');
        bars = new MultiBar({ format: '{bar} {percentage}% | {done}/{size} | {files} files | {rate}/s | ETA {eta_formatted}', hideCursor: true, etaBuffer: 20, fps: 5, stream: o.out as NodeJS.WriteStream }, Presets.shades_classic);
        bar = bars.create(1, 0, { done: '0B', size: '0B', files: 0, rate: '0B' });
        const started = performance.now();
        timer = setInterval(() => {
          const s = sample();
          const secs = (performance.now() - started) / 1000;
          bar!.setTotal(Math.max(1, s.size));
          bar!.update(s.bytes, { done: humanBytes(s.bytes), size: humanBytes(s.size), files: s.files, rate: humanBytes(secs > 0 ? s.bytes / secs : 0) });
        }, 200);
      } else if (o.files && counts) {
        files = new FileProgress((s) => o.out.write(s), c, counts, o.human ?? 1, undefined, o.replay);
        timer = setInterval(() => files!.pump(), FILES_MS);
      } else if (o.progress && counts?.().window) {
        // A local run's progress2: the files in list order, with rsync's counts (file-progress.ts).
        const window = counts().window!;
        files = new FileProgress((s) => o.out.write(s), c, counts, o.human ?? 1, { size: () => totals().totalSize, incremental: window.incremental }, o.replay);
        timer = setInterval(() => files!.pump(), FILES_MS);
      } else if (o.progress) {
        // Between live redraws, the counts as each file ends (rsync's end_progress under progress2).
        const withCounts = () => {
          const s = sample();
          return counts ? { ...s, toCheck: Math.max(0, counts().planned - s.files) } : s;
        };
        line = new TotalProgress((s) => o.out.write(s), withCounts, o.human ?? 1, counts !== undefined);
        line.tick();
        timer = setInterval(() => line!.tick(), REDRAW_MS);
      }
      timer?.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      const aborted = counters !== undefined && Atomics.load(counters, Counter.Abort) !== 0n;
      if (bars) {
        if (!aborted) bar!.update(bar!.getTotal());
        bars.stop();
      }
      bars = bar = undefined;
      line?.finish(aborted);
      line = undefined;
      if (dryOpen) o.out.write('\n');
      dryOpen = false;
      files?.stop(aborted);
      files = undefined;
    },
    // --progress's lines, unless the full-width bar takes the terminal (then batches need not run one by one).
    ...((o.files || o.progress) && !barOnTerminal
      ? {
          file: (size: number, rel: Buffer) => files?.file(size, rel),
          hold: () => files?.hold(),
          settle(m: FileMark, outcome: number, before: () => void) {
            if (!files) {
              before();
              return;
            }
            ahead = [];
            try {
              before();
            } finally {
              const lines = ahead;
              ahead = undefined;
              files.settle(m, outcome, lines);
            }
          },
        }
      : {}),
    ...(o.progress && !barOnTerminal
      ? {
          dryRunEnds(sample: TotalSample) {
            const ends = new TotalProgress((s) => void o.out.write(s), () => sample, o.human ?? 1);
            for (let i = 0; i < 3; i++) ends.fileDone(0);
            dryOpen = true;
          },
          itemized: () => files?.item(),
          fileEnded(size: number) {
            if (line && listCounts) line.fileEnded(size, listCounts().planned);
          },
        }
      : {}),
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
    warn(line) {
      write(o.err, line);
      o.log?.line(line);
    },
    draw(text, open) {
      // (Not above the full-width bar, which redraws itself below every line.)
      if (bars) return;
      if (open) drawOpen = false;
      write(o.out, text, '');
      drawOpen = open;
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
