// The own lines of the directories a re-sync's scanTree does not walk as frames of their parent: rsync's
// incremental file list gives each directory its line right before its own contents, depth first, so a
// subdirectory met in its parent's listing (clean inside, or dirty and walked later as its own frame)
// waits here until the walk reaches its place: just before the first frame that comes after it, or the
// end of the root.

/**
 * rsync's order of two directory paths in its file list: as bytes, each with its trailing "/" (so "a-b/"
 * comes before "a/", and "a/" before everything under it: depth first).
 */
export function depthFirst(a: Buffer, b: Buffer): number {
  // The root ("", its line "./") comes before all.
  if (!a.length || !b.length) return a.length - b.length;
  // Byte by byte as if each ended with "/", without making those copies: a re-sync compares every held
  // line with every walked directory.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  if (a.length === b.length) return 0;
  // One is a prefix of the other: its "/" against the longer one's next byte; when that is "/" too, the
  // shorter (now ended) comes first.
  const d = a.length < b.length ? SLASH - b[n]! : a[n]! - SLASH;
  return d !== 0 ? d : a.length - b.length;
}

const SLASH = 0x2f;

export class TreeDirLines {
  /** Kept in depthFirst order (equal paths in the order held), so what upTo prints is always a prefix. */
  private held: Array<{ rel: Buffer; print: () => void }> = [];

  /** A directory's line, printed at its place (`print` runs then). */
  hold(rel: Buffer, print: () => void): void {
    // After every held path that sorts before or equal to it (binary search): the walk's frames come in
    // the same order, so upTo never goes over the lines it leaves held.
    let lo = 0;
    let hi = this.held.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (depthFirst(this.held[mid]!.rel, rel) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.held.splice(lo, 0, { rel, print });
  }

  /** The walk is about to list `rel`: the held lines of directories up to it (itself included) go out. */
  upTo(rel: Buffer): void {
    let n = 0;
    while (n < this.held.length && depthFirst(this.held[n]!.rel, rel) <= 0) n++;
    if (n === 0) return;
    for (const h of this.held.splice(0, n)) h.print();
  }

  /** The end of a root's walk: every held line, in order. */
  flush(): void {
    const all = this.held;
    this.held = [];
    all.forEach((h) => h.print());
  }
}
