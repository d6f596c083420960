// The node engine's pair cursor: a source directory and its destination twin, both listed by name
// (packed bytes, sorted by bytes: node-names.ts), merged, and lstat'ed a chunk at a time, so a
// wide directory costs its names, not a Stat and a Buffer per entry. Nothing is collapsed: the node
// engine's decisions are all made in TypeScript.

import { fsImpl } from './node-fs.js';
import { toFailure, type WalkFailure } from './node-fs.js';
import { dirPrefix, nodeLstatIn } from './node-walk.js';
import { NameList } from './node-names.js';
import { openSourceDir, procPath } from './node-beneath.js';
import type { PairCursor } from './pair.js';
import type { PairEntry, PairListing } from '../model/listing.js';

/**
 * At most this many entries a step: each lstat here leaves a BigIntStats behind, and a chunk that lives
 * through several young-generation collections is promoted with all it references, so small chunks
 * keep the heap from growing with the directory (1,000,000 entries: 419 MB peak with 4096).
 */
const NODE_CHUNK = 256;

/**
 * `src` and `dest`: paths the caller holds (/proc/self/fd/N of directories it opened safely: read with
 * readdir, which follows), `dest` undefined when there is no twin; `destErrno`: why there is none, to
 * report. `held`: the descriptors behind those paths, closed with the cursor.
 */
export function nodeOpenPair(src: Buffer, dest: Buffer | undefined, destErrno = 0, held: number[] = []): PairCursor | WalkFailure {
  const closeHeld = (): void => {
    for (const fd of held.splice(0)) fsImpl.closeSync(fd);
  };
  // Names packed (node-names.ts): a wide directory costs its bytes, not a JS string per name.
  let s: NameList;
  try {
    s = NameList.read(src);
  } catch (e) {
    closeHeld();
    return toFailure(e, 'scandir');
  }
  let d = NameList.empty();
  let derr = destErrno;
  if (dest) {
    try {
      d = NameList.read(dest);
    } catch (e) {
      derr = toFailure(e, 'scandir').errno;
    }
  }
  const sdir = dirPrefix(src);
  const ddir = dest ? dirPrefix(dest) : Buffer.alloc(0);
  let i = 0;
  let j = 0;
  return {
    next(max: number, extrasOnly: boolean) {
      const entries: PairEntry[] = [];
      const extras: PairListing['extras'] = [];
      const extra = (): void => {
        const name = Buffer.from(d.view(j++));
        const r = nodeLstatIn(ddir, name);
        // A destination entry that vanished meanwhile is nothing to delete.
        if (r.st) extras.push({ name, st: r.st });
      };
      let out = 0;
      const limit = Math.min(max, NODE_CHUNK);
      while (out < limit && (i < s.length || j < d.length)) {
        out++;
        const cmp = i === s.length ? 1 : j < d.length ? s.compare(i, d, j) : -1;
        if (cmp > 0) {
          extra();
          continue;
        }
        const twin = cmp === 0;
        const name = extrasOnly ? undefined : Buffer.from(s.view(i));
        i++;
        if (twin) j++;
        if (!name) continue;
        const r = nodeLstatIn(sdir, name);
        const t = twin ? nodeLstatIn(ddir, name).st ?? undefined : undefined;
        entries.push({ name, st: r.st, err: r.err, dest: t });
      }
      const listing: PairListing = { entries, extras, collapsed: { reg: 0, link: 0, size: 0 }, destErrno: derr };
      return { listing, done: i === s.length && j === d.length };
    },
    rewind() {
      i = 0;
      j = 0;
    },
    close: closeHeld,
  };
}

/** A source directory's cursor with no twin, opened beneath the first `anchor` bytes (node-beneath.ts). */
export function nodeOpenSourcePair(src: Buffer, anchor: number): PairCursor | WalkFailure {
  let fd: number;
  try {
    fd = openSourceDir(src, anchor);
  } catch (e) {
    return { errno: toFailure(e, 'scandir').errno, syscall: 'scandir' };
  }
  return nodeOpenPair(procPath(fd), undefined, 0, [fd]);
}
