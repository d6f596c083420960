// -m/--prune-empty-dirs: a directory is left out of the transfer when nothing but directories would
// end up inside it, filters applied (rsync prunes such chains from the receiver's file list, so they are
// neither made nor kept from deletion). A directory a receiver-side rule protects stays, with the chain
// above it (rsync's way to keep one: --filter 'protect dir/'). The walk asks before it makes a directory,
// so the subtree is looked at first, each directory once per run.

import { isFailure } from '../model/failure.js';
import { S_IFDIR, S_IFMT } from '../model/stat.js';
import type { FilterScope } from '../plan/filter-scope.js';
import { absolutePath, joinPath } from '../util/names.js';
import { ERRNO, showPath } from '../util/errors.js';
import type { RunContext } from './context.js';

/**
 * Per run: source directory path → 0 when something is transferred inside it, else the directories of
 * the pruned subtree, itself included (rsync's sender still lists them: --stats counts them).
 */
const known = new WeakMap<RunContext, Map<string, number>>();

/**
 * Whether -m leaves out the source directory `src` (at `rel`). `sender` and `receiver` are the filter
 * scopes of its parent directory; `listed` as for prunedDirs.
 */
export function pruned(rc: RunContext, src: Buffer, rel: Buffer, sender: FilterScope | undefined, receiver: FilterScope | undefined, listed = rc.c.recursive): boolean {
  return prunedDirs(rc, src, rel, sender, receiver, listed) > 0;
}

/**
 * The directories -m leaves out with `src` (itself and the directories below it, as rsync's sender
 * lists them), or 0 when it stays in the transfer. `listed`: its entries are in rsync's list (-r; under
 * -d only an operand named "dir/" or "."): one whose entries are not is empty there, so left out.
 */
export function prunedDirs(rc: RunContext, src: Buffer, rel: Buffer, sender: FilterScope | undefined, receiver: FilterScope | undefined, listed = rc.c.recursive): number {
  if (!rc.c.pruneEmptyDirs) return 0;
  let cache = known.get(rc);
  if (!cache) known.set(rc, (cache = new Map()));
  return emptyDirs(rc, cache, src, rel, sender, receiver, listed);
}

/** Source directories whose opendir failure was reported here (each once: the walk does not enter them). */
const reported = new WeakMap<RunContext, Set<string>>();

function unreadable(rc: RunContext, src: Buffer): void {
  let done = reported.get(rc);
  if (!done) reported.set(rc, (done = new Set()));
  const key = src.toString('latin1');
  if (done.has(key)) return;
  done.add(key);
  rc.tally.ioError(src, ERRNO.EACCES, 'opendir', `[sender] opendir "${showPath(absolutePath(src))}" failed`);
}

/** 0 when something is transferred inside `src`, else the directories of its subtree (see known). */
function emptyDirs(rc: RunContext, cache: Map<string, number>, src: Buffer, rel: Buffer, sender: FilterScope | undefined, receiver: FilterScope | undefined, listed: boolean): number {
  const key = `${listed ? 'L' : 'U'}${src.toString('latin1')}`;
  const seen = cache.get(key);
  if (seen !== undefined) return seen;
  let dirs = 1;
  let found = receiver !== undefined && receiver.isProtected(rel, true);
  if (!found && listed) {
    const inSender = sender?.enterDir(rel, src);
    const inReceiver = receiver?.enterDir(rel);
    const pair = rc.source.openDir(src, null, rc.anchors.of(src));
    // One this user may not read: rsync's sender lists it and cannot open it ("opendir ... failed", an
    // I/O error), so nothing of it is in the list and its receiver prunes it. Any other failure keeps it
    // in the transfer, where the walk reports it.
    if (isFailure(pair)) {
      if (pair.errno === ERRNO.EACCES) unreadable(rc, src);
      else found = true;
    } else {
      const subdirs: Buffer[] = [];
      try {
        for (const chunk of pair.whole ? [pair.whole] : pair.chunks()) {
          for (const e of chunk.entries) {
            // Not searchable: its names list, none of them stats (walk.ts classify: the same line).
            if (!e.st) {
              if (e.err === ERRNO.EACCES) unreadable(rc, src);
              continue;
            }
            const isDir = (e.st.mode & S_IFMT) === S_IFDIR;
            const childRel = joinPath(rel, e.name);
            if (inSender && inSender.check(childRel, isDir) === 'exclude') continue;
            if (!isDir) found = true;
            else subdirs.push(e.name);
            if (found) break;
          }
          if (found) break;
        }
      } finally {
        pair.close();
      }
      for (const name of subdirs) {
        if (found) break;
        const below = emptyDirs(rc, cache, joinPath(src, name), joinPath(rel, name), inSender, inReceiver, rc.c.recursive);
        if (below === 0) found = true;
        else dirs += below;
      }
    }
  }
  const n = found ? 0 : dirs;
  cache.set(key, n);
  return n;
}
