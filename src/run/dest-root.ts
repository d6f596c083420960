// The destination root before the run opens its engine context there: made when the plan says so (one
// level, or every missing level under --mkpath: util/mkpath.ts, the one main-thread write outside the
// engines), and said as rsync says it.

import { receiverHasI } from '../progress/output.js';
import type { Engine } from '../engine/engine.js';
import { isFailure } from '../model/failure.js';
import { receiverOutput, type Config } from '../model/config.js';
import type { Plan } from '../plan/sources.js';
import type { Reporter } from '../progress/reporter.js';
import { ERRNO, fsError, showPath } from '../util/errors.js';
import { makeDir, makePath } from '../util/mkpath.js';
import { applyChmod } from '../plan/chmod.js';
import { lstatSync, statSync } from 'node:fs';
import { absolutePath, dirName } from '../util/names.js';
import { errnoSuffix } from '../util/strerror.js';

export function destRootExists(engine: Engine, plan: Plan): boolean {
  return !isFailure(engine.lstat(plan.destRoot));
}

/**
 * Without -p, the mode a destination root made by this run is made with. rsync's receiver marks "." as a
 * directory it has just made (main.c get_local_name, FLAG_DIR_CREATED), so it gets a new directory's
 * permissions: the source root's, after --chmod, less the umask (a private 0700 source stays private;
 * arsync made it 0755). Owner-writable as well, as a new directory's Mkdir op makes it (native/ops.c), so
 * that the copy can fill it. Undefined (0777 less the umask) when "." is not in the list (no operand
 * copies a directory's contents), with -p (the end of the run sets the mode), and for a pull, whose
 * local source is the staging area (`local`: false).
 */
export function newRootMode(c: Config, plan: Plan, local: boolean): number | undefined {
  if (c.perms || !local) return undefined;
  const top = plan.roots.find((r) => r.rel.length === 0 && r.contents && !r.missing);
  if (!top) return undefined;
  let st;
  try {
    st = statSync(top.src);
  } catch {
    return undefined;
  }
  if (!st.isDirectory()) return undefined;
  const mode = c.chmod.length ? applyChmod(st.mode, c.chmod, process.umask()) : st.mode;
  return (mode & 0o777) | 0o700;
}

/**
 * Makes the destination directory rsync's receiver makes before it forks its generator, and returns the
 * line it printed ("created directory ..."), which rsync's receiver sends its client as a message.
 */
export function makeDestRoot(c: Config, engine: Engine, plan: Plan, reporter: Reporter, mode?: number, madeBefore = false): string | undefined {
  const path = plan.destRoot;
  // `madeBefore`: a pull made it once the list was in (cli/pull-dest-root.ts); only its line is left to say.
  if (!madeBefore && destRootExists(engine, plan)) return undefined;
  let made = 1;
  if (c.mkpath) {
    made = 0;
    for (let p = path; p.length > 1 && isFailure(engine.lstat(p)); p = dirName(p)) made++;
  }
  // (A pull's directory that went again, cli/pull-place.ts having tried to put its tree there, is made now.)
  if (!c.dryRun && !(madeBefore && destRootExists(engine, plan))) {
    try {
      if (c.mkpath) makePath(path);
      else makeDir(path, mode);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const fail = fsError(-(e.errno ?? -ERRNO.EIO), 'mkdir', e.path ?? showPath(path));
      // rsync's receiver makes it before it forks the generator (main.c get_local_name).
      fail.message = destMkdirFailure(c, -(e.errno ?? -ERRNO.EIO));
      throw fail;
    }
  }
  // rsync: INFO_GTE(NAME, 1) or a stdout format with %i (its stdout_format_has_i).
  // The receiver's settings (-M-v, -M-i ...): it prints this line before it forks its generator.
  const r = receiverOutput(c);
  if (!c.json && (r.info.NAME > 0 || receiverHasI(c) > 0)) {
    // Named as the user wrote it: the operand, or its directory when a file gets a new name.
    const shown = withoutTrailingSlashes(plan.renamed ? dirName(c.dest) : c.dest);
    const line = c.mkpath ? `created ${made} director${made === 1 ? 'y' : 'ies'} for ${showPath(shown)}` : `created directory ${showPath(shown)}`;
    reporter.print(line);
    return line;
  }
  return undefined;
}

/**
 * rsync's line for a destination root it could not make: the destination as the user wrote it, less its
 * trailing slashes (with --mkpath, its make_path's, slashes and all), made absolute from the working
 * directory as its full_fname makes every relative name: mkdir "/home/u/ro/dst" failed (for "ro/dst/").
 */
export function destMkdirFailure(c: Config, errno: number): string {
  return `[Receiver] mkdir "${showPath(absolutePath(c.mkpath ? c.dest : withoutTrailingSlashes(c.dest)))}" failed: ${errnoSuffix(errno)}`;
}

/**
 * A destination to be made whose own name is a symlink that leads nowhere, or whose deepest existing
 * ancestor under --mkpath is one: rsync's mkdir of the name fails there (EEXIST; ELOOP for a path
 * --mkpath makes below such a link, as its make_path follows no link), exit 11. Resolving the link as the
 * operator's own would make the directory, and write the tree, wherever it points. Its message, or
 * undefined. A dry run makes nothing, so it has nothing to refuse.
 */
export function danglingDestination(c: Config, destRoot: Buffer): string | undefined {
  if (c.dryRun) return undefined;
  const dangling = (p: Buffer): boolean => {
    try {
      if (!lstatSync(p).isSymbolicLink()) return false;
    } catch {
      return false;
    }
    try {
      statSync(p);
      return false;
    } catch {
      return true;
    }
  };
  if (dangling(destRoot)) return `[Receiver] mkdir "${showPath(absolutePath(withoutTrailingSlashes(c.dest)))}" failed: ${errnoSuffix(ERRNO.EEXIST)}`;
  if (!c.mkpath) return undefined;
  for (let p = dirName(destRoot); p.length > 1; p = dirName(p)) {
    try {
      lstatSync(p);
    } catch {
      continue;
    }
    return dangling(p) ? destMkdirFailure(c, ERRNO.ELOOP) : undefined;
  }
  return undefined;
}

/** `p` without its trailing slashes ("/" stays). */
function withoutTrailingSlashes(p: Buffer): Buffer {
  let end = p.length;
  while (end > 1 && p[end - 1] === 0x2f) end--;
  return p.subarray(0, end);
}
