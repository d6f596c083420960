// A no-op pull's shortcut: whether the destination already is what the local run would make of the
// received list — every entry there with its type, rsync's quick check finding it unchanged and every
// attribute the options preserve the same (plan/quickcheck.ts, the planner's own rule with the run's
// own options: run/spec.ts), -H's groups already one inode, and (with --delete) no name in a sent
// directory that the list does not have. Then nothing is staged and the local run is not started: its
// summary comes from the list alone. Any option whose effect is not judged here, any entry of a kind
// not judged here, any doubt: not current, and the pull goes the whole way.

import type { Config } from '../model/config.js';
import type { Counts, RunTotals } from '../model/run-totals.js';
import { fileType, type Stat } from '../model/stat.js';
import { quickCheck, type CheckOptions } from '../plan/quickcheck.js';
import { isDir, isLink, isReg, type RemoteEntry } from '../remote/flist.js';
import { checkOptions, pairQuery } from '../run/spec.js';
import { PairBits } from '../engine/pair.js';
import type { Addon } from '../engine/native.js';
import { Tally, zeroCounts } from '../run/tally.js';
import type { StagedMeta } from '../run/staged-source.js';
import type { PullDest } from './pull-dest.js';
import { stagedTarget } from './pull-stage.js';

/** What the local run would have counted: rsync's "Number of files" by type and "Total file size". */
export interface CurrentTotals {
  listed: Counts;
  totalSize: number;
}

/**
 * Whether a pull with these options can be judged here. Left to the whole run: whatever prints or
 * changes something for an unchanged entry (-ii, -vv, --out-format, --log-file, --json, progress, -U's
 * atimes, --chmod, id maps, --fake-super), whatever reads more than the metadata (-c, -I, -A, -X, -R's
 * implied directories, alternate bases, partial directories, --append), whatever can skip an entry
 * with a message or by a rule of its own (no -r, --existing, --ignore-existing, -u, --min/max-size,
 * filters, -x, -K, -m, --safe-links, --remove-source-files), --files-from, and --info=flist2 with a
 * delete pass (which draws its progress).
 */
export function judgeable(c: Config): boolean {
  return (
    c.recursive && !c.relative && c.filesFrom === undefined && !c.checksum && !c.ignoreTimes && !c.acls && !c.xattrs && !c.atimes &&
    c.itemize < 2 && c.verbose < 2 && c.info.NAME < 2 && c.outFormat === undefined && c.logFile === undefined && !c.json &&
    !c.progress && !c.progressFiles && !c.progressBar && !c.chmod.length && !c.usermap && !c.groupmap && !c.fakeSuper &&
    c.amRoot !== -1 && !c.existing && !c.ignoreExisting && !c.update && c.minSize === undefined && c.maxSize === undefined &&
    !c.filters.length && !c.cvsExclude && !c.deleteExcluded && !c.oneFileSystem && !c.keepDirlinks && !c.pruneEmptyDirs &&
    !c.safeLinks && !c.copyUnsafeLinks && !c.copyLinks && !c.copyDirlinks && !c.removeSourceFiles && !c.linkDest.length &&
    !c.compareDest.length && !c.copyDest.length && c.partialDir === undefined && !c.delayUpdates && !c.append && !c.fuzzy &&
    c.stopAt === undefined && Object.entries(c.debug).every(([word, level]) => level === 0 || word === 'PROTO') &&
    // --info=flist2: the delete pass's file-list progress is the local run's to draw (run/delete-pass.ts).
    !(c.info.FLIST > 1 && (c.deleteMode === 'before' || c.deleteMode === 'after'))
  );
}

/**
 * The list's totals when the destination is current, else undefined. `meta` is the sender's metadata
 * of an entry as this machine maps it (the local run's source stat); `resolution` the time resolution
 * of the engine that would run (asked only when some time differs by less than a second).
 */
export function currentDest(
  c: Config,
  entries: readonly (RemoteEntry | undefined)[],
  meta: (e: RemoteEntry) => StagedMeta,
  dest: Pick<PullDest, 'dest' | 'entryIn' | 'readlink' | 'names'>,
  resolution: () => number,
  native?: NativeCurrent,
): CurrentTotals | undefined {
  if (!judgeable(c) || 'file' in dest.dest || !entries.some((e) => e !== undefined)) return undefined;
  if (native) return nativeVerdict(c, entries, meta, dest.dest.dir, resolution(), native) ? listTotals(entries) : undefined;
  // Times are judged apart: any resolution here, then the largest difference against the engine's.
  const { files, dirs } = checkOptions(c, Infinity);
  const inodes = new Map<number, string>();
  const children = c.deleteMode !== 'none' ? new Map<string, Set<string>>() : undefined;
  let skew = 0;
  // Each entry sits in a directory the list sent (the stage refuses any other, with an error).
  const sentDirs = new Set<string>(['.']);
  for (const e of entries) {
    if (!e) continue;
    const rel = e.name.toString('latin1');
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? '.' : rel.slice(0, slash);
    if (rel !== '.' && !sentDirs.has(parent)) return undefined;
    if (isDir(e.mode)) sentDirs.add(rel);
    const m = meta(e);
    const src: Stat = { mode: m.mode, uid: m.uid, gid: m.gid, size: m.size, mtimeSec: m.mtimeSec, mtimeNsec: m.mtimeNsec, ino: 0, dev: 0, nlink: 1, rdev: 0, blocks: 0 };
    const type = fileType(src.mode);
    if (type === 'dev' || type === 'special') return undefined;
    const dst = dest.entryIn(rel, parent, rel.slice(slash + 1));
    if (!dst) return undefined;
    const o: CheckOptions = type === 'dir' ? dirs : files;
    const linkDiffers = isLink(e.mode) && !dest.readlink(rel)?.equals(stagedTarget(c, e) ?? Buffer.alloc(0));
    if (quickCheck(src, dst, o, linkDiffers).action !== 'none') return undefined;
    // A time the check compares (a file's always, for the quick check), within a second: how far apart.
    const timed = type === 'reg' ? o.times || !o.sizeOnly : type === 'dir' ? o.times : o.times && !o.omitLinkTimes;
    if (timed && o.modifyWindow <= 0) skew = Math.max(skew, Math.abs((src.mtimeSec - dst.mtimeSec) * 1e9 + (src.mtimeNsec - dst.mtimeNsec)));
    if (e.hlinkGroup !== undefined) {
      const at = `${dst.dev}:${dst.ino}`;
      const first = inodes.get(e.hlinkGroup);
      if (first === undefined) inodes.set(e.hlinkGroup, at);
      else if (first !== at) return undefined;
    }
    if (children) {
      if (isDir(e.mode)) children.set(rel, children.get(rel) ?? new Set());
      if (rel !== '.') {
        let names = children.get(parent);
        if (!names) children.set(parent, (names = new Set()));
        names.add(rel.slice(slash + 1));
      }
    }
  }
  if (skew > 0 && skew >= resolution()) return undefined;
  // --delete: every name in a directory the list sent is the list's (nothing would be deleted).
  for (const e of children ? entries : []) {
    if (!e || !isDir(e.mode)) continue;
    const rel = e.name.toString('latin1');
    const there = dest.names(rel);
    const listed = children!.get(rel)!;
    if (!there || there.some((n) => !listed.has(n))) return undefined;
  }
  return listTotals(entries);
}

/** The addon's judgement of the same question (native/listcurrent.c), bound to the addon. */
export type NativeCurrent = NonNullable<Addon['listCurrent']>;

/**
 * The verdict of native/listcurrent.c: the list packed as it wants it (names and their ends, seven
 * numbers an entry, symlink targets, -H groups renumbered from 0) and the quick check's query as the
 * planner's pair cursor takes it (run/spec.ts pairQuery), with directories' times as -t without -O
 * compares them, the engine's time resolution, and whether --delete would look for extraneous names.
 */
function nativeVerdict(c: Config, entries: readonly (RemoteEntry | undefined)[], meta: (e: RemoteEntry) => StagedMeta, root: Buffer, resolution: number, native: NativeCurrent): boolean {
  const listed = entries.filter((e): e is RemoteEntry => e !== undefined);
  const n = listed.length;
  const ends = new Uint32Array(n);
  const linkEnds = new Uint32Array(n);
  const nums = new Float64Array(n * 7);
  const names: Buffer[] = [];
  const links: Buffer[] = [];
  const groups = new Map<number, number>();
  let at = 0;
  let linkAt = 0;
  for (let i = 0; i < n; i++) {
    const e = listed[i]!;
    names.push(e.name);
    ends[i] = at += e.name.length;
    const target = isLink(e.mode) ? stagedTarget(c, e) : undefined;
    if (target) {
      links.push(target);
      linkAt += target.length;
    }
    linkEnds[i] = linkAt;
    const m = meta(e);
    let group = -1;
    if (e.hlinkGroup !== undefined) {
      group = groups.get(e.hlinkGroup) ?? groups.size;
      groups.set(e.hlinkGroup, group);
    }
    const o = i * 7;
    nums[o] = m.mode;
    nums[o + 1] = m.uid;
    nums[o + 2] = m.gid;
    nums[o + 3] = m.size;
    nums[o + 4] = m.mtimeSec;
    nums[o + 5] = m.mtimeNsec;
    nums[o + 6] = group;
  }
  const check = checkOptions(c, resolution).files;
  const pair = pairQuery(c, check, false);
  const bits = (pair[0]! & ~(PairBits.Collapse | PairBits.HardLinks)) | (c.times && !c.omitDirTimes ? PairBits.DirTimes : 0);
  const q = Float64Array.of(bits, pair[1]!, pair[2]!, c.deleteMode !== 'none' ? 1 : 0);
  return native(root, Buffer.concat(names), ends, nums, Buffer.concat(links), linkEnds, q);
}

/**
 * The list's counts by type and its total size (what the local run would have counted): the staged
 * size of a file or a symlink is the one listed (pull-stage.ts metaOf), so no metadata is made here.
 */
function listTotals(entries: readonly (RemoteEntry | undefined)[]): CurrentTotals {
  const totals: CurrentTotals = { listed: zeroCounts(), totalSize: 0 };
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (!e) continue;
    totals.listed[fileType(e.mode)]++;
    if (isReg(e.mode) || isLink(e.mode)) totals.totalSize += e.size;
  }
  return totals;
}

/** The local run's totals when it is not started: the list's counts, nothing created, sent or deleted. */
export function currentRunTotals(t: CurrentTotals, destRoot: Buffer): RunTotals {
  const totals = new Tally(() => undefined, destRoot).totals;
  totals.listed = { ...t.listed };
  totals.totalSize = t.totalSize;
  return totals;
}
