// --partial-dir: which up-to-date files have a partial file waiting for them (rsync's generator removes
// it when the quick check finds the target current, and a relative partial dir left empty with it). A
// relative partial dir is listed once per destination directory as the walk reaches it; an absolute
// one once for the run. Only regular files there count, as in rsync.

import { S_IFMT, S_IFREG, type Stat } from '../model/stat.js';
import { joinPath } from '../util/names.js';

/** The regular files of a listing by name, as latin1 strings (names are bytes). */
export function regularNames(names: readonly Buffer[], stats: readonly (Stat | null | undefined)[]): Map<string, Stat> {
  const out = new Map<string, Stat>();
  names.forEach((n, i) => {
    const st = stats[i];
    if (st && (st.mode & S_IFMT) === S_IFREG) out.set(n.toString('latin1'), st);
  });
  return out;
}

export class PartialLeftovers {
  private dirKey: string | undefined;
  private names = new Map<string, Stat>();
  private readonly absolute: Map<string, Stat> | undefined;

  /**
   * `pdir`: the partial dir as the engines take it. `listDest(rel)`: the regular files of the destination
   * directory `rel` (empty when missing); `listAbsolute()`: those of the absolute partial dir.
   */
  constructor(
    private readonly pdir: Buffer,
    private readonly listDest: (rel: Buffer) => Map<string, Stat>,
    listAbsolute: () => Map<string, Stat>,
  ) {
    this.absolute = pdir[0] === 0x2f ? listAbsolute() : undefined;
  }

  /** How many times has() found a partial file waiting (rsync then names it as a basis: the byte figures). */
  found = 0;

  /** Whether a partial file waits in the partial dir for the destination file `rel`. */
  has(rel: Buffer): boolean {
    const there = this.waiting(rel) !== undefined;
    if (there) this.found++;
    return there;
  }

  /** The partial file waiting for `rel` as the walk listed it (rsync's receiver opens it as the basis), uncounted. */
  stat(rel: Buffer): Stat | undefined {
    return this.waiting(rel);
  }

  private waiting(rel: Buffer): Stat | undefined {
    const slash = rel.lastIndexOf(0x2f);
    const name = rel.subarray(slash + 1).toString('latin1');
    if (this.absolute) return this.absolute.get(name);
    const parent = slash < 0 ? Buffer.alloc(0) : rel.subarray(0, slash);
    const key = parent.toString('latin1');
    if (key !== this.dirKey) {
      this.dirKey = key;
      this.names = this.listDest(joinPath(parent, this.pdir));
    }
    return this.names.get(name);
  }
}
