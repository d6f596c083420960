// Temp entries of the node engine (DESIGN.md §3.1): something is made at a fresh `.<name>.XXXXXX` beside
// its target (node-temp.ts draws the name), finished (metadata, checks) and renamed over the target; on any
// failure the temp is removed and the failure passed on. Every kind of entry the engine writes goes
// through here; the failure is blamed on the target through the op's scope.

import type { Target } from './node-dest.js';
import { codeOf, discard, fsImpl } from './node-fs.js';
import type { OpScope } from './node-scope.js';
import { createTemp } from './node-temp.js';
import { joinPath } from '../util/names.js';

/** A temp entry beside its target: its path through the held parent, and destination-relative. */
export interface Temp {
  abs: Buffer;
  rel: Buffer;
}

export class TempPlacer {
  constructor(
    private readonly scope: OpScope,
    /** Drop the held descriptors of a directory that was removed (a directory in the target's way). */
    private readonly forget: (rel: Buffer) => void,
  ) {}

  /**
   * Create something at a fresh `.<prefix>.XXXXXX` beside the target (node-temp.ts), a failure blamed on
   * the target. `create` must fail with EEXIST rather than reuse an entry.
   */
  temp<T>(t: Target, create: (abs: Buffer, name: Buffer) => T, prefix = t.name): Temp & { made: T } {
    const tmp = createTemp(t.dir, prefix, (abs, name) => {
      this.scope.at(t.rel, true);
      return create(abs, name);
    });
    return { abs: tmp.abs, rel: joinPath(t.dirRel, tmp.name), made: tmp.made };
  }

  /** rename the temp over the target; a directory in the way is removed if empty, as the contract says. */
  commit(tmp: Temp, t: Target): void {
    // A failed rename is the target's, as the native engines report it (native/temp.c W_DST).
    this.scope.at(t.rel, true);
    try {
      fsImpl.renameSync(tmp.abs, t.abs);
    } catch (e) {
      if (codeOf(e) !== 'EISDIR') throw e;
      this.scope.at(t.rel, true);
      fsImpl.rmdirSync(t.abs);
      this.forget(t.rel);
      fsImpl.renameSync(tmp.abs, t.abs);
    }
  }

  /**
   * Finish a made temp entry: `prepare` (its metadata, a check), then commit it; on any failure it is
   * removed and the failure passed on.
   */
  finish(tmp: Temp, t: Target, prepare?: () => void): void {
    try {
      prepare?.();
      this.commit(tmp, t);
    } catch (e) {
      discard(tmp.abs);
      throw e;
    }
  }
}
