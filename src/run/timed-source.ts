// The time a run spends listing its sources, for --stats' "File list generation time": an EntrySource
// that passes every question to the one it wraps and adds up how long the answers took (reading
// directories, stat-ing entries, the native tree scan), the chunks of a directory read later included.
// rsync's figure is its sender's list building, which in a local copy runs beside the transfer; arsync
// lists and copies in one pass, so the pass's length would count the copying too.

import { isFailure, type SysFailure } from '../model/failure.js';
import type { DirectRequest, PairListing, TreeDirect, TreeScan } from '../model/listing.js';
import type { Stat } from '../model/stat.js';
import type { DirEntries, EntrySource } from './source.js';

export class TimedSource implements EntrySource {
  /** Milliseconds spent in the wrapped source so far. */
  ms = 0;

  constructor(private readonly inner: EntrySource) {}

  private timed<T>(ask: () => T): T {
    const t0 = performance.now();
    try {
      return ask();
    } finally {
      this.ms += performance.now() - t0;
    }
  }

  lstat(path: Buffer): Stat | SysFailure {
    return this.timed(() => this.inner.lstat(path));
  }

  follow(path: Buffer): Stat | undefined {
    return this.timed(() => this.inner.follow(path));
  }

  readlink(path: Buffer): Buffer | undefined {
    return this.timed(() => this.inner.readlink(path));
  }

  names(path: Buffer, anchor: number): Buffer[] | SysFailure {
    return this.timed(() => this.inner.names(path, anchor));
  }

  openDir(src: Buffer, destRel: Buffer | null, anchor: number, direct?: DirectRequest): DirEntries | SysFailure {
    // The listing is only timed, not changed: the direct path's ops pass through as they come.
    const d = this.timed(() => this.inner.openDir(src, destRel, anchor, direct));
    if (isFailure(d)) return d;
    const chunks = function* (this: TimedSource, extrasOnly?: boolean): Generator<PairListing> {
      const it = d.chunks(extrasOnly)[Symbol.iterator]();
      for (;;) {
        const next = this.timed(() => it.next());
        if (next.done) return;
        yield next.value;
      }
    };
    return { whole: d.whole, destErrno: d.destErrno, chunks: (extrasOnly?: boolean) => chunks.call(this, extrasOnly), close: () => d.close() };
  }

  dirtyDirs(src: Buffer, destRel: Buffer, recordOnly?: boolean, direct?: TreeDirect): TreeScan | SysFailure | undefined {
    // Only timed, as openDir's listings: the direct path's ops pass through.
    return this.timed(() => this.inner.dirtyDirs(src, destRel, recordOnly, direct));
  }
}
