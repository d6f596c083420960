// The destination root before the run opens its engine context there: made when the plan says so (one
// level, or the levels --mkpath's make_path makes, as the plan judged them: util/mkpath.ts, the one
// main-thread write outside the engines), and said as rsync says it.

import { receiverHasI } from '../progress/output.js';
import type { Engine } from '../engine/engine.js';
import { isFailure } from '../model/failure.js';
import { receiverOutput, type Config } from '../model/config.js';
import type { Plan } from '../plan/sources.js';
import type { Reporter } from '../progress/reporter.js';
import { ERRNO, fsError, showPath } from '../util/errors.js';
import { makeDir, makeDirs } from '../util/mkpath.js';
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
 * Makes the destination directory rsync's receiver makes before it forks its generator (with --mkpath,
 * the directories its make_path makes: plan.pathMade), and returns the lines it printed ("created
 * directory ...", "created N directories for ..."), which rsync's receiver sends its client as messages.
 */
export function makeDestRoot(c: Config, engine: Engine, plan: Plan, reporter: Reporter, mode?: number, madeBefore = false): string[] {
  const path = plan.destRoot;
  // `madeBefore`: a pull made it once the list was in (cli/pull-dest-root.ts); only its line is left to say.
  if (!madeBefore && destRootExists(engine, plan)) return [];
  const pathMade = c.mkpath ? plan.pathMade : undefined;
  // (A pull's directory that went again, cli/pull-place.ts having tried to put its tree there, is made now.)
  if (!c.dryRun && !(madeBefore && destRootExists(engine, plan))) {
    try {
      if (pathMade) makeDirs(pathMade);
      else makeDir(path, mode);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const fail = fsError(-(e.errno ?? -ERRNO.EIO), 'mkdir', e.path ?? showPath(path));
      // rsync's receiver makes it before it forks the generator (main.c get_local_name).
      fail.message = destMkdirFailure(c, -(e.errno ?? -ERRNO.EIO), pathMade !== undefined);
      throw fail;
    }
  }
  // rsync: INFO_GTE(NAME, 1) or a stdout format with %i (its stdout_format_has_i).
  // The receiver's settings (-M-v, -M-i ...): it prints this line before it forks its generator.
  const r = receiverOutput(c);
  if (c.json || (r.info.NAME <= 0 && receiverHasI(c) <= 0)) return [];
  // Named as the user wrote it: the operand, or its directory when a file gets a new name.
  const shown = showPath(withoutTrailingSlashes(plan.renamed ? dirName(c.dest) : c.dest));
  const lines: string[] = [];
  if (pathMade) lines.push(`created ${pathMade.length} director${pathMade.length === 1 ? 'y' : 'ies'} for ${shown}`);
  // A directory that is to be the root and is still missing after make_path is made by rsync's plain
  // mkdir, whose line follows: so in a dry run, which makes nothing (not for a file's new name).
  if (!pathMade || (c.dryRun && !plan.renamed)) lines.push(`created directory ${shown}`);
  for (const line of lines) reporter.print(line);
  return lines;
}

/**
 * rsync's line for a destination root it could not make: the destination as the user wrote it, less its
 * trailing slashes (when `byMakePath`, --mkpath's make_path failed: with them), made absolute from the
 * working directory as its full_fname makes every relative name: mkdir "/home/u/ro/dst" failed (for
 * "ro/dst/").
 */
export function destMkdirFailure(c: Config, errno: number, byMakePath = false): string {
  return `[Receiver] mkdir "${showPath(absolutePath(byMakePath ? c.dest : withoutTrailingSlashes(c.dest)))}" failed: ${errnoSuffix(errno)}`;
}

/**
 * A destination to be made whose own name is a symlink that leads nowhere: rsync's mkdir of the name
 * fails there (EEXIST), exit 11. Resolving the link as the operator's own would make the directory, and
 * write the tree, wherever it points. Its message, or undefined. A dry run makes nothing, so it has
 * nothing to refuse. (Under --mkpath, a link that leads nowhere in the path above is judged with the
 * plan, as rsync's make_path meets it: util/mkpath.ts.)
 */
export function danglingDestination(c: Config, destRoot: Buffer): string | undefined {
  if (c.dryRun) return undefined;
  try {
    if (!lstatSync(destRoot).isSymbolicLink()) return undefined;
  } catch {
    return undefined;
  }
  try {
    statSync(destRoot);
    return undefined;
  } catch {
    return `[Receiver] mkdir "${showPath(absolutePath(withoutTrailingSlashes(c.dest)))}" failed: ${errnoSuffix(ERRNO.EEXIST)}`;
  }
}

/** `p` without its trailing slashes ("/" stays). */
function withoutTrailingSlashes(p: Buffer): Buffer {
  let end = p.length;
  while (end > 1 && p[end - 1] === 0x2f) end--;
  return p.subarray(0, end);
}
