// A local run's standard output off a terminal, gathered into large writes. Its -v, -i and --progress
// lines were one write(2) each (20,000 files: ~22 ms of the main thread, docs/benchmarks.md), which
// rsync's own buffered stdout also avoids. Every byte the run writes to stdout goes through here, in
// order; it goes out before anything is written to stderr (the two keep their order where they share a
// pipe or a file), once 64 KiB have gathered, 100 ms after the first byte waiting (the output stays
// live), when the run ends, and before a signal ends the process. On a terminal nothing is gathered.

import { onSignalExit } from './signals.js';

/** A run's two output streams (cli/main.ts Io). */
interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** Written out once this much waits. */
const LIMIT = 64 * 1024;
/** Written out at the latest this long after the first byte waiting (ms). */
const LINGER = 100;

export interface Gathered {
  /** The streams the run writes to: stdout gathered, stderr writing the gathered bytes out first. */
  io: Io;
  /** Write out what waits and stop gathering's signal hook (the run is over). */
  close(): void;
}

/** Gathers `io.out` when it is the process's stdout and not a terminal; undefined otherwise. */
export function gatherStdout(io: Io): Gathered | undefined {
  const target = io.out as NodeJS.WriteStream;
  if (target !== process.stdout || target.isTTY) return undefined;
  const g = gather(io);
  const unhook = onSignalExit(g.flush);
  return {
    io: g.io,
    close() {
      unhook();
      g.close();
    },
  };
}

/** The gathering itself, on any pair of streams: `io.out`'s bytes held, written out as said above. */
export function gather(io: Io, limit = LIMIT, linger = LINGER): Gathered & { flush(): void } {
  const target = io.out;
  let parts: (string | Uint8Array)[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (parts.length === 0) return;
    const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    parts = [];
    size = 0;
    target.write(all);
  };
  const write = (chunk: string | Uint8Array): boolean => {
    parts.push(chunk);
    size += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (size >= limit) flush();
    else timer ??= setTimeout(flush, linger).unref();
    return true;
  };
  const err = io.err;
  const errWrite = (chunk: string | Uint8Array): boolean => {
    flush();
    return err.write(chunk);
  };
  // Only write() is used on a run's streams (cli/main.ts, progress/reporter.ts); isTTY says no bar.
  const out = { write, isTTY: false } as unknown as NodeJS.WritableStream;
  const errOut = { write: errWrite, isTTY: (err as NodeJS.WriteStream).isTTY } as unknown as NodeJS.WritableStream;
  return { io: { out, err: errOut }, flush, close: flush };
}
