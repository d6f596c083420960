// The run's spec: everything derived once from the Config and the engine before the walk starts (the
// quick-check options, the native queries, preserve flags, the engines' options). Phases read it and
// never re-derive a rule from the Config themselves. What depends on the engine comes from its
// capabilities (engine/engine.ts), never from its name.

import { listWindow } from '../plan/old-protocol.js';
import { type Config, actsAsRoot, preserveFlags, receiverOutput, type EngineName } from '../model/config.js';
import { PairBits, pairChunk } from '../engine/pair.js';
import { Preserve } from '../model/ops.js';
import type { EngineOptions } from '../engine/types.js';
import type { Engine } from '../engine/engine.js';
import type { CheckOptions } from '../plan/quickcheck.js';
import type { Granularity } from './time-granularity.js';
import { recordsLists } from './stream-list.js';
import { resolve as resolvePath } from 'node:path';

export interface RunSpec {
  /** rsync's quick check for non-directories. */
  readonly check: CheckOptions;
  /** Directories compare times only when they are kept (-O, or --backup without --backup-dir). */
  readonly dirCheck: CheckOptions;
  /** The query for openPair (pair.ts): which entries the native quick check may leave out. */
  readonly pairQuery: Float64Array;
  /** scanTree's query, or undefined when some option needs the walk to see every directory. */
  readonly treeQuery: Float64Array | undefined;
  /** A scan that only records the source's lists for the byte figures, where the run itself has no treeQuery (recordQuery). */
  readonly recordQuery: Float64Array | undefined;
  /** -X/-A: the Preserve bits compared through xattrDiff. */
  readonly xattrFlags: number;
  /** What every engine context of this run is opened with (main thread, workers, the serial retry). */
  readonly engineOptions: EngineOptions;
  /** The engine that runs batches on this thread when workers cannot be used (EngineCaps.serial). */
  readonly serialEngine: EngineName;
}

export interface SpecInput {
  engine: Pick<Engine, 'name' | 'caps'>;
  destRoot: Buffer;
  backupDir: Buffer | undefined;
  /** --temp-dir, resolved: File ops make their temp files there. */
  tempDir?: Buffer | undefined;
  /** --partial-dir (relative, or absolute and resolved): where kept and delayed files wait. */
  partialDir?: Buffer | undefined;
  counters: BigInt64Array;
  /** The destination filesystem's mtime granularity (time-granularity.ts); 1 when not known. */
  destTime?: Granularity;
  /** Filters or several sources: the planner must see every entry (nothing left to the native check). */
  seesEveryEntry: boolean;
  /** -X's xattr-name filter rules as the engines take them (plan/xattr-rules.ts engineRules). */
  xattrRules?: { pattern: Buffer; bits: number }[] | undefined;
  /** A pull: the sources are this process's staged files, linked into place instead of copied (Preserve.AdoptSource). */
  adoptSources?: boolean | undefined;
}

/**
 * The quick check's options for non-directories (`files`) and for directories, which compare times only
 * when they are kept (-O). `timeResolutionNs`: what times are compared to (the engine's and the
 * destination filesystem's resolution).
 */
export function checkOptions(c: Config, timeResolutionNs: number): { files: CheckOptions; dirs: CheckOptions } {
  const files: CheckOptions = {
    checksum: c.checksum,
    ignoreTimes: c.ignoreTimes,
    sizeOnly: c.sizeOnly,
    update: c.update,
    ignoreExisting: c.ignoreExisting,
    existing: c.existing,
    modifyWindow: listWindow(c.protocol, c.modifyWindow),
    timeResolutionNs,
    times: c.times,
    perms: c.perms,
    executability: c.executability,
    omitLinkTimes: c.omitLinkTimes,
    atimes: c.atimes,
    owner: c.owner,
    group: c.group,
    isRoot: actsAsRoot(c),
    ...(actsAsRoot(c) ? {} : { memberGids: new Set([...(process.getgroups?.() ?? []), process.getegid?.() ?? 0]) }),
  };
  return { files, dirs: { ...files, times: c.times && !c.omitDirTimes } };
}

export function deriveSpec(c: Config, o: SpecInput): RunSpec {
  // Compare only to what the engine and the destination's filesystem can keep, or every re-sync would
  // find times differing.
  const { files: check, dirs: dirCheck } = checkOptions(c, Math.max(o.engine.caps.timeResolutionNs, o.destTime?.ns ?? 1));
  const pq = pairQuery(c, check, o.seesEveryEntry);
  return {
    check,
    dirCheck,
    pairQuery: pq,
    treeQuery: treeQuery(c, pq),
    recordQuery: recordQuery(c, pq),
    xattrFlags: (c.xattrs ? Preserve.Xattrs : 0) | (c.acls ? Preserve.Acls : 0),
    engineOptions: {
      engine: o.engine.name,
      destRoot: o.destRoot,
      ...(o.backupDir ? { backupDir: o.backupDir } : {}),
      ...(o.tempDir ? { tempDir: o.tempDir } : {}),
      ...(o.partialDir ? { partialDir: o.partialDir } : {}),
      ...(c.linkDest.length || c.compareDest.length ? { twinDirs: twinDirs(c, o.destRoot) } : {}),
      ...(c.xattrs && o.xattrRules?.length ? { xattrRules: o.xattrRules } : {}),
      flags: preserveFlags(c) | (o.adoptSources ? Preserve.AdoptSource : 0),
      umask: process.umask(),
      queueDepth: c.queueDepth,
      bufferSize: c.bufferSize,
      bufferCount: c.bufferCount,
      direct: c.direct,
      counters: o.counters,
    },
    serialEngine: o.engine.caps.serial,
  };
}

/**
 * The query for scanPair. Unchanged files are left to the native quick check only when nothing needs
 * to see each entry: no filters, no -c/-I/--size-only, no -ii or -vv, no special file skipped with rsync's
 * message, no --chmod, no -X/-A (their attributes are compared here), no --remove-source-files, no -m (a
 * directory's files decide whether it is made), no -E without -p, no -J and no -U (the native check knows
 * none of these rules), no --usermap/--groupmap (the ids compared are mapped), no --fake-super
 * (the stats compared are the user.rsync.%stat records). Under --link-dest/--compare-dest an unchanged
 * file whose twin there may be an exact match on another inode is handed on all the same (the cursor is
 * given their directories: engineOptions.twinDirs, native/scanpair.c twin_candidate).
 */
export function pairQuery(c: Config, check: CheckOptions, filters: boolean): Float64Array {
  // --info=nonreg (on by default) names each special file a run without -l/-D skips, unchanged or not.
  const nonregSilent = receiverOutput(c).info.NONREG === 0 || (c.links && c.devices && c.specials);
  const collapse = !filters && !c.checksum && !c.ignoreTimes && !c.sizeOnly && c.itemize < 2 && c.info.NAME < 2 && !c.chmod.length &&
    !c.xattrs && !c.acls && !c.removeSourceFiles && nonregSilent && !c.pruneEmptyDirs && !(c.executability && !c.perms) &&
    !c.omitLinkTimes && !c.atimes && !c.usermap && !c.groupmap && !c.fakeSuper && c.amRoot !== -1;
  let bits = collapse ? PairBits.Collapse : 0;
  if (c.perms) bits |= PairBits.Perms;
  if (c.owner && check.isRoot) bits |= PairBits.Owner;
  if (c.group) bits |= PairBits.Group;
  if (c.times) bits |= PairBits.Times;
  if (c.hardLinks) bits |= PairBits.HardLinks;
  // Without -l each symlink prints rsync's "skipping non-regular file": none may be left out. Under
  // -M--munge-links (a local receiver that munges) the target to compare is not the one on disk, which is
  // all the native check reads: every link goes to the planner.
  if (c.links && !c.copyLinks && !c.safeLinks && !c.copyUnsafeLinks && !c.copyDirlinks && !c.receiverMungeLinks) bits |= PairBits.Links;
  return Float64Array.of(bits, check.modifyWindow > 0 ? check.modifyWindow : 0, check.timeResolutionNs);
}

/**
 * The query for scanTree: as scanPair's when unchanged entries may be left out, plus directory times,
 * and only when no option needs to see every directory in order (--delete-before/-after, -x, -L,
 * --copy-unsafe-links, -k, -K, --files-from, --progress, --info=progress2).
 */
export function treeQuery(c: Config, pair: Float64Array): Float64Array | undefined {
  const bits = pair[0]!;
  if (!(bits & PairBits.Collapse) || !c.recursive) return undefined;
  if (c.deleteMode === 'before' || c.deleteMode === 'after' || c.deleteMode === 'delay' || c.oneFileSystem || c.copyLinks || c.copyUnsafeLinks || c.copyDirlinks || c.keepDirlinks || c.filesFrom !== undefined) return undefined;
  // --link-dest/--compare-dest: a clean directory may still hold files to relink to (or remove for)
  // their twins, which only the pair cursor looks for.
  if (c.linkDest.length || c.compareDest.length) return undefined;
  // --progress and --info=progress2 count rsync's lists, one per directory in its order (model/list-window.ts,
  // progress/list-ends.ts): the scan would leave the clean directories out of them.
  if (c.progress) return undefined;
  const dirTimes = c.times && !c.omitDirTimes ? 128 : 0;
  // A dirty directory's listing comes back whole only when it fits in one chunk of the walk's cursor; the
  // source's lists are recorded as it goes when the run's byte figures will count them (stream-list.ts).
  return Float64Array.of(bits | dirTimes, pair[1]!, pair[2]!, Math.max(1, Math.min(c.workers, 8)), pairChunk(), recordsLists(c) ? 1 : 0);
}

/**
 * The query of a scan made only to record the source's lists for the byte figures (run/transfer-pass.ts
 * recordLists), in a run whose own walk takes no scanTree because it follows links (-L, -k,
 * --copy-unsafe-links) or keeps the destination's (-K): the record is the sender's lists whenever the
 * tree holds no symlink (stream-list.ts usesRecord). Undefined when the run has a treeQuery (its scan
 * records them) or would have none for another reason.
 */
export function recordQuery(c: Config, pair: Float64Array): Float64Array | undefined {
  if (!(c.copyLinks || c.copyDirlinks || c.copyUnsafeLinks || c.keepDirlinks) || treeQuery(c, pair)) return undefined;
  const q = treeQuery({ ...c, copyLinks: false, copyDirlinks: false, copyUnsafeLinks: false, keepDirlinks: false }, pair);
  return q && q[5] === 1 ? q : undefined;
}

/**
 * The --link-dest and --compare-dest directories, absolute, for the pair cursors' look at an unchanged
 * file's twin (engineOptions.twinDirs): relative ones from the destination, as rsync takes them. Only a
 * hint (which files go on to the planner, where run/alt-dest.ts resolves them exactly).
 */
function twinDirs(c: Config, destRoot: Buffer): Buffer[] {
  return [...c.linkDest, ...c.compareDest].slice(0, 20).map((d) => Buffer.from(resolvePath(destRoot.toString('latin1'), d), 'latin1'));
}
