// --remove-source-files in a run that may list one source file under two names: a link -L follows to a
// file of the tree, a directory link -k or -L follows (its files are listed below it and below the
// directory itself), operands that overlap or lead through such a link (--files-from's names too: a
// directory link on an operand's path is followed). rsync's sender reads the files as its generator asks for
// them and removes each only once its receiver confirms it; in a run of the size those trees have, every
// file is read before the first confirmation comes. Removing a source as soon as its op is done (what
// arsync does otherwise, which needs no memory) would take the file from under the op of its second name,
// which then finds it vanished. So in such a run every removal waits here, in list order, until the
// transfer is done, and they go then in that order: the second name's finds the file gone, which rsync's
// sender says as "sender file already removed" (run/remove-source.ts), and a link -L followed to it stays.
// The queue holds an entry per source to remove until then: the price of the two names, paid only in the
// runs that can have them.

import { realpathSync } from 'node:fs';
import type { Config } from '../model/config.js';
import type { Root } from '../plan/sources.js';
import type { Stat } from '../model/stat.js';

/** One source to remove once its entry is sent: what the engine's unlinkSource takes, and its name. */
export interface SourceRemoval {
  src: Buffer;
  st: Stat;
  anchor: number;
  /** Reached through a link -L follows: confirmed through the link, and the link goes. */
  follow: boolean;
  /** The name rsync's sender prints for it. */
  name: Buffer;
  /** False while its op has not told that it was done (an entry without an op is sent at once). */
  sent: boolean;
}

/**
 * Whether a run's removals wait for the end of the transfer: one file may be listed under two names.
 * Several operands can list one only when one of them is, or lies below, another once their links are
 * resolved (`src/ src/sub/`, a link to a directory named beside it); a --files-from list's names go
 * through directory links as given, so such a list always may.
 */
export function removalsWait(c: Config, roots: readonly Pick<Root, 'src' | 'missing'>[]): boolean {
  if (!c.removeSourceFiles || c.dryRun) return false;
  if (c.copyLinks || c.copyDirlinks || c.copyUnsafeLinks) return true;
  if (roots.length < 2) return false;
  return c.filesFrom !== undefined || overlapping(roots);
}

/** Whether any root's real path is another's or lies below it (one that cannot be resolved is left out). */
function overlapping(roots: readonly Pick<Root, 'src' | 'missing'>[]): boolean {
  const real: string[] = [];
  for (const r of roots) {
    if (r.missing) continue;
    try {
      real.push(realpathSync(r.src, { encoding: 'buffer' }).toString('latin1'));
    } catch {
      // (Not there: the transfer reports it, and it lists nothing.)
    }
  }
  const seen = new Set(real);
  if (seen.size < real.length) return true;
  for (const p of real) {
    if (p !== '/' && seen.has('/')) return true;
    for (let at = p.indexOf('/', 1); at > 0; at = p.indexOf('/', at + 1)) if (seen.has(p.slice(0, at))) return true;
  }
  return false;
}

export class RemovalQueue {
  private list: SourceRemoval[] = [];

  /** Queued at its place in the list; an op's removal is marked sent once its outcome comes. */
  add(r: SourceRemoval): SourceRemoval {
    this.list.push(r);
    return r;
  }

  /** The op of `name` was done on its second try (an EMFILE retry, which has no pending outcome). */
  confirm(name: Uint8Array): void {
    for (let i = this.list.length - 1; i >= 0; i--) {
      const r = this.list[i]!;
      if (!r.sent && r.name.equals(name)) {
        r.sent = true;
        return;
      }
    }
  }

  /** Whether the op of `name` was to remove its source and has not been done (run/redo.ts). */
  waits(name: Buffer): boolean {
    return this.list.some((r) => !r.sent && r.name.equals(name));
  }

  /** The removals of the entries that were sent, in list order; the queue is empty after. */
  take(): SourceRemoval[] {
    const sent = this.list.filter((r) => r.sent);
    this.list = [];
    return sent;
  }
}
