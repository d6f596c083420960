// Source anchors: which leading part of a source path is the operator's (an operand, or a symlink the
// run chose to follow), resolved as given, and which part the walk found beneath it, which the engines
// resolve without following any symlink. Engines receive the anchor as a byte length (batch.ts).

const SLASH = 0x2f;

/** A path as a map key, without trailing slashes ("/" stays "/"). */
function key(p: Buffer): string {
  let end = p.length;
  while (end > 1 && p[end - 1] === SLASH) end--;
  return p.toString('latin1', 0, end);
}

export class SourceAnchors {
  private readonly dirs = new Set<string>();

  /** A directory the run resolves as given: a directory operand, or a followed link to a directory. */
  add(dir: Buffer): void {
    this.dirs.add(key(dir));
  }

  /**
   * How many leading bytes of `src` are its anchor: the longest registered directory it is, or lies
   * beneath; 0 when none (the engines then take the path's own directory, checking only its last part).
   */
  of(src: Buffer): number {
    if (this.dirs.size === 0) return 0;
    if (this.dirs.has(key(src))) return src.length;
    for (let i = src.length - 1; i > 0; i--) {
      if (src[i] === SLASH && this.dirs.has(key(src.subarray(0, i)))) return i;
    }
    return 0;
  }
}
