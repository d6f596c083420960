// A fresh pull's staged tree put in place whole. When the destination does not exist yet, the local
// half would walk the staging tree, plan every entry as new, link each file in under a temp name, give
// it the sender's metadata, rename it, make each directory, and at the end unlink the whole staging
// tree (the second handling of every file that kept a fresh pull slower than rsync's receiver:
// docs/benchmarks.md, "A fresh pull placed whole"). Here the staged entries take the sender's metadata
// where they are, through the same engine ops a re-sync uses for an entry whose attributes alone
// differ (OpKind.Attrs, and OpKind.DirMeta for directories, children before parents), and the tree is
// renamed to the destination's name with RENAME_NOREPLACE, or exchanged with an empty destination
// directory (RENAME_EXCHANGE, the old one then removed only while still empty, else put back): one
// rename, and the destination appears with every entry complete.
//
// Only where the outcome is the local run's own: the destination's name free (lstat ENOENT) in an
// existing directory on the staging tree's filesystem, without a default ACL the local run's mkdir
// would inherit, or an empty directory nothing of which would outlast rsync's run (replaceable
// below); the list sent "." (the `src/` form); the transfer clean (no error, nothing discarded);
// entries that are directories, regular files or symlinks kept by -l; -p; not acting as root, modes
// that leave the tree readable to us and its root movable; and no option that makes the local run
// print, log, skip, back up, compare with other trees or write otherwise (placeable below).
// Anything else, and any failure here (an op, the rename finding a name made meanwhile), leaves the
// staging tree to the ordinary local half, which takes every entry's metadata from the list, not from
// the staged files.

import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { Config } from '../model/config.js';
import { actsAsRoot, preserveFlags, receiverOutput } from '../model/config.js';
import type { InfoWord } from '../model/output-levels.js';
import { COUNTER_SLOTS, OpKind } from '../model/ops.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from '../model/stat.js';
import { BatchWriter } from '../engine/batch.js';
import { openContext, type EngineSelection } from '../engine/index.js';
import type { EngineContext } from '../engine/types.js';
import { loadAddon } from '../engine/native.js';
import { stagedStat, type StagedMeta } from '../run/staged-source.js';

/** The info words a fresh pull of directories, files and symlinks may have on and still print nothing
 * in the local half: FLIST's line is the session's (cli/pull.ts), NONREG names only other types. */
const SILENT_INFO = new Set<InfoWord>(['FLIST', 'NONREG']);

/** What a pull staged that placing it needs (cli/pull.ts's Pulled; named here so that pull.ts may import this module). */
export interface StagedPull {
  staging: string;
  operands: Buffer[];
  meta: ReadonlyMap<string, StagedMeta>;
  code: number;
  linkable: boolean;
  local?: unknown;
  current?: unknown;
  /** The destination directory was made by this pull once the list was in (cli/pull-dest-root.ts). */
  destMade?: boolean;
}

/**
 * Whether the local half, run from the staging tree onto a destination that does not exist, would do
 * nothing but make each staged entry with the sender's metadata: no line, log or event per entry, no
 * entry skipped or changed on the way, no write of another kind.
 */
export function placeable(c: Config): boolean {
  const out = receiverOutput(c);
  const quiet = (levels: Record<string, number>, allowed: Set<string>): boolean => Object.entries(levels).every(([w, n]) => n === 0 || allowed.has(w));
  return (
    // Output: nothing per entry (a line, a summary, a log, a JSON document or event, progress).
    c.verbose === 0 && c.itemize === 0 && c.outFormat === undefined && !c.progress && !c.progressFiles && !c.progressBar && !c.stats &&
    !c.json && !c.jsonEvents && c.logFile === undefined &&
    quiet(c.info, SILENT_INFO) && quiet(out.info, SILENT_INFO) && quiet(c.debug, new Set()) && quiet(out.debug, new Set()) &&
    // The entries as listed: -p's mode (no --chmod, no -E's rule), the list's owners (no map), no
    // xattrs/ACLs/fake records on the staged inodes, no access times.
    c.perms && c.chmod.length === 0 && !c.acls && !c.xattrs && !c.atimes && !c.fakeSuper && c.amRoot !== -1 &&
    c.usermap === undefined && c.groupmap === undefined &&
    // Every listed entry made, nothing selected on the receiving side.
    c.filters.length === 0 && !c.cvsExclude && c.filesFrom === undefined && !c.relative && c.recursive && !c.pruneEmptyDirs &&
    !c.existing && !c.ignoreExisting && c.maxSize === undefined && c.minSize === undefined && !c.safeLinks && !c.mungeLinks &&
    !c.removeSourceFiles && !c.dryRun && !c.listOnly && c.iconv === undefined && c.batch === undefined && c.copyAs === undefined &&
    c.confineRoot === undefined &&
    // Writes of another kind: backups, other trees, partial or delayed files, temp dirs, data in place,
    // sparse or preallocated or synced files, the run's clock.
    !c.backup && c.linkDest.length === 0 && c.compareDest.length === 0 && c.copyDest.length === 0 && c.partialDir === undefined &&
    !c.delayUpdates && c.tempDir === undefined && !c.inplace && !c.append && !c.sparse && !c.preallocate && !c.fsync && !c.writeDevices &&
    c.stopAt === undefined
  );
}

/** A staged entry's type, when it is one the tree may be placed with (a symlink only under -l). */
function placeableType(c: Config, m: StagedMeta): boolean {
  if (m.virtual) return false;
  const t = m.mode & S_IFMT;
  return t === S_IFDIR || t === S_IFREG || (t === S_IFLNK && c.links);
}

/**
 * Puts the staged tree of `r` in the destination's place when `placeable` and the state allow: true
 * when done (the destination now holds the whole tree; the staging holder is left empty), false when
 * the ordinary local half is to run instead (nothing of the destination touched), 'placed, holder
 * kept' in the one case the holder now holds something of the destination's (moveTree's 1).
 */
export function placeWhole(c: Config, r: StagedPull, engine: EngineSelection): boolean | 'placed, holder kept' {
  if (!placeable(c) || r.code !== 0 || r.current || r.local || !r.linkable) return false;
  const tree = nodePath.join(r.staging, 'tree');
  // The list sent "." (the local half's one operand is the staging root), and nothing else staged
  // that the local run would treat otherwise.
  if (r.operands.length !== 1 || r.operands[0]!.toString('latin1') !== `${tree}/`) return false;
  const root = r.meta.get(tree);
  if (!root || (root.mode & S_IFMT) !== S_IFDIR) return false;
  for (const m of r.meta.values()) if (!placeableType(c, m)) return false;
  // Not acting as root, the settled tree must stay readable by us (a failure past this point leaves it
  // to the local half, which opens the staged files and lists the staged directories) and the rename
  // must be allowed to move its root (which needs write permission on that directory itself).
  if (!actsAsRoot(c)) {
    if ((root.mode & 0o200) === 0) return false;
    for (const m of r.meta.values()) {
      const t = m.mode & S_IFMT;
      if ((t === S_IFREG && (m.mode & 0o400) === 0) || (t === S_IFDIR && (m.mode & 0o500) !== 0o500)) return false;
    }
  }
  const addon = loadAddon();
  if (!addon.ok || !addon.addon.moveTree) return false;
  const dest = c.dest.toString('latin1').replace(/\/+$/, '') || '/';
  const parent = nodePath.dirname(nodePath.resolve(dest));
  let swap: boolean;
  try {
    // The empty directory this pull made in the destination's place goes again (rmdir fails if anything
    // came into it), so that the tree takes the free name, as it would have without it.
    if (r.destMade) fs.rmdirSync(dest);
  } catch {
    // Something is in it now, or it is gone: replaceable() judges what stands there.
  }
  try {
    swap = replaceable(c, dest, parent, tree, addon.addon);
    // A destination still to be made: in an existing directory (--mkpath's parents are the local
    // run's to make), whose default ACL the local run's mkdir would inherit.
    if (!swap && (!fs.statSync(parent).isDirectory() || addon.addon.aclGet(Buffer.from(parent, 'latin1'), true) !== null)) return false;
  } catch {
    return false;
  }
  // An engine that cannot open a context here (or any other surprise) leaves it to the local half too.
  try {
    if (!settle(c, tree, r.meta, engine)) return false;
  } catch {
    return false;
  }
  const rc = addon.addon.moveTree(Buffer.from(tree, 'latin1'), Buffer.from(dest, 'latin1'), swap);
  if (rc === 1) {
    // The empty destination got an entry while it was being exchanged, and could not be put back: the
    // tree is in place and that directory is in the staging holder, which is kept (cli/main.ts).
    return 'placed, holder kept';
  }
  return rc === 0;
}

/**
 * Whether the destination exists as an empty directory the staged tree may take the place of (its
 * `swap`), false when it does not exist; throws when it is something else (the local half runs then).
 * An existing directory goes only when nothing of it would outlast rsync's run but what the list's "."
 * sets anyway: a real directory of ours (root: anyone's), not a mount point, empty, of the staging
 * root's group (not acting as root, rsync's -g may leave it), without the set-group-ID bit (its new
 * entries would take its group) and without any xattr or ACL (rsync leaves those; the default ACL
 * would pass to its entries).
 */
function replaceable(c: Config, dest: string, parent: string, tree: string, addon: { xattrRead(target: Buffer): { names: Buffer[] } | object }): boolean {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const ours = actsAsRoot(c) || (st.uid === process.geteuid?.() && st.gid === fs.lstatSync(tree).gid);
  const xattrs = addon.xattrRead(Buffer.from(dest, 'latin1'));
  if (!st.isDirectory() || !ours || st.dev !== fs.statSync(parent).dev || (st.mode & 0o2000) !== 0 || fs.readdirSync(dest).length > 0 || !('names' in xattrs) || xattrs.names.length > 0) {
    throw new Error('not a destination the tree may replace');
  }
  return true;
}

/**
 * An engine context on the staging tree with the local run's rules for metadata. Its ops (Attrs,
 * DirMeta, writeNewSettled) move no file data, so an addon engine's context is the sync one with the
 * least buffer memory: no ring, and no registered buffers charged to the user's lockable memory, which
 * every process of that user shares (a second uring context here once left a --copy-as run none).
 */
function treeContext(c: Config, tree: string, engine: EngineSelection): EngineContext {
  return openContext({
    engine: engine.name === 'node' ? 'node' : 'sync',
    destRoot: Buffer.from(tree, 'latin1'),
    flags: preserveFlags(c),
    umask: process.umask(),
    queueDepth: 1,
    bufferSize: 4096,
    bufferCount: 1,
    direct: false,
    counters: new BigInt64Array(new SharedArrayBuffer(COUNTER_SLOTS * 8)),
  });
}

/**
 * Where a fresh pull will likely be placed whole (placeable, a native engine, the destination missing
 * or an empty directory now): a context on the staging tree whose writeNewSettled gives each file its
 * metadata as it is written, so that the settle at the end does not open every file again (it skips the
 * ones marked settled). Undefined otherwise. Settling early is harmless where the tree is not placed
 * after all: the local half takes each entry's metadata from the list, not from the staged file; and
 * only files that stay readable and writable to us are settled so (a redo rewrites a file in place).
 */
export function earlySettler(c: Config, tree: string, engine: EngineSelection | undefined): EngineContext | undefined {
  if (!engine || engine.name === 'node' || !placeable(c) || c.copyAs !== undefined) return undefined;
  const dest = c.dest.toString('latin1').replace(/\/+$/, '') || '/';
  try {
    const st = fs.lstatSync(dest);
    if (!st.isDirectory() || fs.readdirSync(dest).length > 0) return undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
  }
  try {
    const ctx = treeContext(c, tree, engine);
    if (ctx.writeNewSettled) return ctx;
    ctx.close();
  } catch {
    // No context here: the files are settled at the end, as before.
  }
  return undefined;
}

/** Whether a staged file with mode `mode` may be settled as it is written (earlySettler). */
export function settlesEarly(c: Config, mode: number): boolean {
  return actsAsRoot(c) || (mode & 0o600) === 0o600;
}

/** Every staged entry given the sender's metadata by the engine's own ops; false on any failure. */
function settle(c: Config, tree: string, meta: ReadonlyMap<string, StagedMeta>, engine: EngineSelection): boolean {
  const ctx = treeContext(c, tree, engine);
  try {
    const prefix = tree.length + 1;
    const ops = new BatchWriter();
    const dirs: [string, StagedMeta][] = [];
    const flush = (): boolean => ops.count === 0 || ctx.run(ops.finish()).length === 0;
    for (const [path, m] of meta) {
      if ((m.mode & S_IFMT) === S_IFDIR) {
        dirs.push([path, m]);
        continue;
      }
      if (m.settled) continue;
      ops.add(OpKind.Attrs, Buffer.from(path, 'latin1'), Buffer.from(path.slice(prefix), 'latin1'), stagedStat(m));
      if (ops.byteLength >= 4 << 20 && !flush()) return false;
    }
    // Directories last, deepest first (the list names a directory before its contents), as the local
    // run's DirMeta ops come: a directory's mode may take away the write or search bit its entries need.
    for (let i = dirs.length - 1; i >= 0; i--) {
      const [path, m] = dirs[i]!;
      ops.add(OpKind.DirMeta, Buffer.from(path, 'latin1'), Buffer.from(path === tree ? '' : path.slice(prefix), 'latin1'), stagedStat(m));
      if (ops.byteLength >= 4 << 20 && !flush()) return false;
    }
    return flush();
  } finally {
    ctx.close();
  }
}
