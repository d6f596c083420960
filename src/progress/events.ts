// `--json=events`: one JSON object per line on stdout as the run goes (schema/events.v1.json), for
// monitors and CI logs that want to follow a long copy: a start, each entry done or failed, periodic
// progress from the shared counters, and an end that carries the --json summary document.

import { Counter } from '../model/ops.js';

/** Bump on any change a reader could notice (a field removed, renamed or retyped); adding a field is not one. */
export const EVENTS_FORMAT_VERSION = 1;

/** How often a progress event is written while data moves. */
export const PROGRESS_INTERVAL_MS = 1000;

export interface EntryDone {
  /** The entry's path as rsync prints it (`\#ooo` escapes for bytes that are not printable UTF-8). */
  path: string;
  /** rsync's itemize string (`>f+++++++++`, `.d..t......`, `*deleting`). */
  itemize: string;
  /** Bytes of file data (0 for anything but a regular file). */
  size: number;
}

export interface PlannedSoFar {
  files: number;
  bytes: number;
}

export class EventStream {
  private readonly started = performance.now();
  private timer: NodeJS.Timeout | undefined;
  /**
   * Files whose data is being written: their entry event waits for the op's outcome (fileDone), so an
   * entry event means the file is in place; a failed one gets an error event instead (fileFailed).
   */
  private readonly inFlight = new Map<string, EntryDone>();

  constructor(private readonly out: NodeJS.WritableStream) {}

  private write(event: string, fields: object): void {
    this.out.write(JSON.stringify({ event, elapsedMs: Math.round((performance.now() - this.started) * 1000) / 1000, ...fields }) + '\n');
  }

  start(version: string, engine: { name: string; reason: string }, dryRun: boolean): void {
    this.write('start', { format: 'arsync-events', formatVersion: EVENTS_FORMAT_VERSION, version, engine: { name: engine.name, reason: engine.reason }, dryRun });
  }

  /** Progress every PROGRESS_INTERVAL_MS from the engines' counters, until stopProgress(). */
  startProgress(counters: BigInt64Array, planned: () => PlannedSoFar): void {
    this.timer = setInterval(() => this.progress(counters, planned()), PROGRESS_INTERVAL_MS);
    this.timer.unref();
  }

  stopProgress(counters: BigInt64Array, planned: PlannedSoFar): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.progress(counters, planned);
  }

  private progress(counters: BigInt64Array, planned: PlannedSoFar): void {
    this.write('progress', {
      files: { done: Number(Atomics.load(counters, Counter.Files)), planned: planned.files },
      bytes: { done: Number(Atomics.load(counters, Counter.Bytes)), planned: planned.bytes },
    });
  }

  entry(e: EntryDone): void {
    this.write('entry', { path: e.path, itemize: e.itemize, size: e.size });
  }

  /** A file whose data an op is writing: its entry event is written when the op is done. */
  deferEntry(e: EntryDone): void {
    this.inFlight.set(e.path, e);
  }

  fileDone(path: string): void {
    const e = this.inFlight.get(path);
    if (!e) return;
    this.inFlight.delete(path);
    this.entry(e);
  }

  /** The op failed or did not run: its error event says so, no entry event follows. */
  fileFailed(path: string): void {
    this.inFlight.delete(path);
  }

  error(message: string, path?: string, code?: string): void {
    this.write('error', { ...(path !== undefined ? { path } : {}), message, ...(code !== undefined ? { code } : {}) });
  }

  end(summary: object): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.write('end', { summary });
  }
}
