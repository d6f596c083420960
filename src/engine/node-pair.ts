// The node engine's pair cursor: a source directory and its destination twin, both listed by name
// (latin1 strings: exact bytes, byte order when sorted), merged, and lstat'ed a chunk at a time, so a
// wide directory costs its names, not a Stat and a Buffer per entry. Nothing is collapsed: the node
// engine's decisions are all made in TypeScript.

import { dirPrefix, nodeListNames, nodeLstatIn, type WalkFailure } from './node-walk.js';
import type { PairCursor, PairEntry, PairListing } from './pair.js';

/**
 * At most this many entries a step: each lstat here leaves a BigIntStats behind, and a chunk that lives
 * through several young-generation collections is promoted with all it references, so small chunks
 * keep the heap from growing with the directory (1,000,000 entries: 419 MB peak with 4096).
 */
const NODE_CHUNK = 256;

/**
 * `dest`: the twin directory's absolute path, already vetted by the caller (its listing is read with
 * readdir, which follows), or undefined; `destErrno`: why there is none, to report.
 */
export function nodeOpenPair(src: Buffer, dest: Buffer | undefined, destErrno = 0): PairCursor | WalkFailure {
  const s = nodeListNames(src);
  if (!Array.isArray(s)) return s;
  let d: string[] = [];
  let derr = destErrno;
  if (dest) {
    const listed = nodeListNames(dest, true);
    if (Array.isArray(listed)) d = listed;
    else derr = listed.errno;
  }
  // Default sort compares UTF-16 code units: for latin1 strings, the bytes.
  s.sort();
  d.sort();
  const sdir = dirPrefix(src);
  const ddir = dest ? dirPrefix(dest) : Buffer.alloc(0);
  let i = 0;
  let j = 0;
  return {
    next(max: number, extrasOnly: boolean) {
      const entries: PairEntry[] = [];
      const extras: PairListing['extras'] = [];
      const extra = (): void => {
        const name = Buffer.from(d[j++]!, 'latin1');
        const r = nodeLstatIn(ddir, name);
        // A destination entry that vanished meanwhile is nothing to delete.
        if (r.st) extras.push({ name, st: r.st });
      };
      let out = 0;
      const limit = Math.min(max, NODE_CHUNK);
      while (out < limit && (i < s.length || j < d.length)) {
        out++;
        if (i === s.length || (j < d.length && d[j]! < s[i]!)) {
          extra();
          continue;
        }
        const n = s[i++]!;
        const twin = j < d.length && d[j] === n;
        if (twin) j++;
        if (extrasOnly) continue;
        const name = Buffer.from(n, 'latin1');
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
    close() {},
  };
}
