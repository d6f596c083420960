// --iconv's side of the first transport seam: a source directory's names converted into the
// receiver's charset (engine/charset.ts) before they are paired with the destination's, so that the
// pairing, the planner, deletions, hard links and backups all key on the one name the destination
// has, while each entry keeps its source bytes (`srcName`) for the reads. A name that cannot be
// converted stays in the listing, marked, for the walk to report and skip (run/walk.ts classify).
// Without its pair cursor the walk has no native quick check over the tree: every directory is listed.

import type { NameCharsets } from '../engine/charset.js';
import type { DirEntries, EntrySource } from './source.js';
import { isFailure, type SysFailure } from '../model/failure.js';
import { ERRNO } from '../util/errors.js';
import type { DirListing, PairEntry, PairListing, TreeScan } from '../model/listing.js';
import type { Stat } from '../model/stat.js';

const NO_COLLAPSED = { reg: 0, link: 0, size: 0 };

export class IconvSource implements EntrySource {
  constructor(
    private readonly inner: EntrySource,
    private readonly charsets: NameCharsets,
    /** The destination directory's listing beneath the held root; undefined when there is no root yet. */
    private readonly scanDest: ((rel: Buffer) => DirListing | SysFailure) | undefined,
  ) {}

  lstat(path: Buffer): Stat | SysFailure {
    return this.inner.lstat(path);
  }

  follow(path: Buffer): Stat | undefined {
    return this.inner.follow(path);
  }

  /** A symlink's target as the source has it (run/entry.ts converts it for the op). */
  readlink(path: Buffer): Buffer | undefined {
    return this.inner.readlink(path);
  }


  names(path: Buffer, anchor: number): Buffer[] | SysFailure {
    const l = this.inner.names(path, anchor);
    if (isFailure(l)) return l;
    return l.map((n) => this.charsets.toDestOrSelf(n));
  }

  openDir(src: Buffer, destRel: Buffer | null, anchor: number): DirEntries | SysFailure {
    const listed = this.inner.openDir(src, null, anchor);
    if (isFailure(listed)) return listed;
    const entries: PairEntry[] = [];
    try {
      for (const chunk of listed.chunks()) {
        for (const e of chunk.entries) {
          const d = this.charsets.toDest(e.name);
          if (Buffer.isBuffer(d) && isName(d)) entries.push({ name: d, srcName: e.name, st: e.st, err: e.err, dest: undefined });
          else entries.push({ ...e, unconvertible: Buffer.isBuffer(d) ? { side: 'Receiver', errno: ERRNO.EILSEQ, name: this.charsets.wire(e.name) } : d });
        }
      }
    } finally {
      listed.close();
    }
    // The receiver's list order: by the names it has.
    entries.sort((a, b) => Buffer.compare(a.name, b.name));
    const extras: { name: Buffer; st: Stat }[] = [];
    let destErrno = 0;
    if (destRel !== null && this.scanDest) {
      const there = this.scanDest(destRel);
      if (isFailure(there)) destErrno = there.errno;
      else pairWith(entries, there, extras);
    }
    const whole: PairListing = { entries, extras, collapsed: NO_COLLAPSED, destErrno };
    return {
      whole,
      destErrno,
      chunks: (extrasOnly = false) => [extrasOnly ? { ...whole, entries: [] } : whole],
      close: () => undefined,
    };
  }

  /** No native scan over the tree: its pairing is by byte-equal names. */
  dirtyDirs(): TreeScan | SysFailure | undefined {
    return undefined;
  }
}

/** A converted name is still one name: never empty, ".", "..", nor holding a '/' or a NUL (checked, not assumed). */
function isName(n: Buffer): boolean {
  if (n.length === 0 || n.includes(0x2f) || n.includes(0)) return false;
  return !(n[0] === 0x2e && (n.length === 1 || (n.length === 2 && n[1] === 0x2e)));
}

/** Each converted entry gets its destination twin; destination names no entry has are the extras. */
function pairWith(entries: PairEntry[], there: DirListing, extras: { name: Buffer; st: Stat }[]): void {
  const byName = new Map<string, PairEntry>();
  for (const e of entries) if (!e.unconvertible) byName.set(e.name.toString('latin1'), e);
  for (let i = 0; i < there.names.length; i++) {
    const st = there.stats[i];
    if (!st) continue;
    const name = there.names[i]!;
    const e = byName.get(name.toString('latin1'));
    if (e) e.dest = st;
    else extras.push({ name, st });
  }
  extras.sort((a, b) => Buffer.compare(a.name, b.name));
}
