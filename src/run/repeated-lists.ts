// What rsync's sender lists when operands repeat names (`src/ src/`, `src/a src/a`, `a/ b/` with common
// names): --stats' "Number of files" and the total size (-v's summary) count every entry the sender puts
// in its lists, duplicates included, where arsync's walk takes each name once. rsync's sender:
//  - lists each operand in its first list ("dir/": "." and the directory's entries; else the operand);
//  - without incremental recursion, walks each operand's whole tree into that one list;
//  - with it, sends the directories of one name together, one list for the lot, each duplicate scanned
//    unless the one before it was scanned from the same source directory (stream-list.ts rsyncLists:
//    `src/ src/` lists src/sub's entries once, `src/ src/ src/` twice).
// Counted here from the source with the engine's listings, for plain recursive runs only (no filter
// rules, no followed links, no -R, no -x): anything else keeps the walk's own counts.

import { isFailure } from '../model/failure.js';
import type { Config } from '../model/config.js';
import type { Counts } from '../model/run-totals.js';
import { fileType } from '../model/stat.js';
import type { Engine } from '../engine/engine.js';
import { baseName, hasTrailingSlash, joinPath } from '../util/names.js';
import { rsyncLists } from './stream-list.js';

/**
 * Do the operands repeat a name in rsync's list, and can the lists be counted from the source? A name
 * repeats only where the first list has it twice: two operands of one name ("." for each "dir/"), or an
 * operand named like an entry of a "dir/" operand's directory. Below distinct names every path is
 * distinct, so the walk's counts are rsync's and the source is not listed again (measured: this second
 * listing was a third of a no-op re-sync's CPU time on the Linux tree, docs/benchmarks.md).
 */
export function repeatsNames(c: Config, engine: Engine): boolean {
  if (c.sources.length < 2 || !c.recursive || c.relative || c.filesFrom !== undefined) return false;
  if (c.filters.length > 0 || c.cvsExclude || c.copyLinks || c.copyDirlinks || c.copyUnsafeLinks || c.oneFileSystem) return false;
  if (c.iconv !== undefined || c.missingArgs !== 'error') return false;
  const seen = new Set<string>();
  const first = (name: string): boolean => !seen.has(name) && Boolean(seen.add(name));
  for (const src of c.sources) {
    if (!hasTrailingSlash(src)) {
      if (!first(baseName(src).toString('latin1'))) return true;
      continue;
    }
    if (!first('.')) return true;
    // The directory's own entries join the first list (a listing that fails: counted the long way).
    // (The operand is the operator's path: "link/" reaches its directory through the symlink.)
    const l = engine.scanDir(src, src.length);
    if (isFailure(l)) return true;
    for (const n of l.names) if (!first(n.toString('latin1'))) return true;
  }
  return false;
}

/**
 * rsync's "Number of files" by type and its total size for this run's operands, or undefined when an
 * operand or a directory cannot be read (the walk's counts stand then).
 */
export function repeatedListCounts(c: Config, engine: Engine): { listed: Counts; totalSize: number } | undefined {
  const listed: Counts = { reg: 0, dir: 0, link: 0, dev: 0, special: 0 };
  let totalSize = 0;
  const count = (mode: number, size: number): void => {
    const t = fileType(mode);
    listed[t]++;
    if (t === 'reg' || t === 'link') totalSize += size;
  };

  if (c.incRecursive) {
    // The lists as rsync's sender sends them (stream-list.ts keeps the duplicate rule).
    try {
      for (const l of rsyncLists(c, engine)) {
        if (!('entries' in l)) return undefined;
        for (const e of l.entries) count(e.mode, e.size);
      }
    } catch {
      return undefined;
    }
    return { listed, totalSize };
  }
  // One list: every operand's whole tree, duplicates and all.
  const pending: { dir: Buffer; anchor: number }[] = [];
  for (const src of c.sources) {
    const st = engine.lstat(src);
    if (isFailure(st)) return undefined;
    count(st.mode, st.size);
    if (fileType(st.mode) === 'dir') pending.push({ dir: src, anchor: src.length });
  }
  while (pending.length) {
    const { dir, anchor } = pending.pop()!;
    const l = engine.scanDir(dir, anchor);
    if (isFailure(l)) return undefined;
    l.names.forEach((n, i) => {
      const st = l.stats[i];
      if (!st) return;
      count(st.mode, st.size);
      if (fileType(st.mode) === 'dir') pending.push({ dir: joinPath(dir, n), anchor: 0 });
    });
  }
  return { listed, totalSize };
}
