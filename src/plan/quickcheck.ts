// The generator's decisions for one entry that may already exist on the destination: transfer it, fix
// only its attributes, or leave it alone; and the 11-letter itemize string rsync prints for that choice
// (YXcstpoguax). Pure functions of (source stat, destination stat, options), unit-tested without disk.

import { symlinkTimesTold } from './old-protocol.js';
import type { Config } from '../model/config.js';
import { S_IFMT, type Stat, fileType, type FileType } from '../model/stat.js';

/** The run's comparison options (modifyWindow: seconds; negative, or 0 with nsTimes, compares nanoseconds). */
export type CheckOptions = Pick<
  Config,
  'checksum' | 'ignoreTimes' | 'sizeOnly' | 'update' | 'ignoreExisting' | 'existing' | 'modifyWindow' | 'times' | 'perms' | 'owner' | 'group'
> &
  /** -E and -J: off when absent. */
  Partial<Pick<Config, 'executability' | 'omitLinkTimes' | 'atimes'>> & {
  /**
   * Compare nanoseconds when the window is 0 (arsync's default; rsync needs --modify-window=-1).
   * The node engine can only set mtimes to about a microsecond, so it compares to the microsecond.
   */
  timeResolutionNs: number;
  isRoot: boolean;
  /**
   * Not acting as root: the groups we are a member of. rsync's FLAG_SKIP_GROUP: a source group outside
   * them is neither compared nor set (native/meta.c sets only these too). Undefined: every group counts.
   */
  memberGids?: ReadonlySet<number>;
};

export interface Changes {
  /** Content differs (-c) or a symlink/device value differs. */
  value: boolean;
  size: boolean;
  time: boolean;
  perms: boolean;
  owner: boolean;
  group: boolean;
  acl: boolean;
  xattr: boolean;
  /** -U: the access time differs (rsync's "u"; never for directories and symlinks). */
  atime?: boolean;
  /** -A with -c: `perms` as rsync itemizes it if the compare finds the data current (run/xattrs.ts). */
  permsIfCurrent?: boolean;
  /** -AX with x-rules and -c: `xattr` as rsync itemizes it if the compare finds the data current (run/xattrs.ts). */
  xattrIfCurrent?: boolean;
}

/** A -c compare's changes once it found the data current. */
export function currentChanges(c: Changes): Changes {
  if (c.permsIfCurrent === undefined && c.xattrIfCurrent === undefined) return c;
  return { ...c, perms: c.permsIfCurrent ?? c.perms, xattr: c.xattrIfCurrent ?? c.xattr };
}

export type Verdict =
  /** The destination has nothing there (or something of another type, removed first). */
  | { action: 'create' }
  /** Send the data again (regular files), or recreate (symlinks, devices with another value). */
  | { action: 'transfer'; changes: Changes }
  /** -c with equal sizes: the engine compares content and then transfers or fixes attributes. */
  | { action: 'compare'; changes: Changes }
  /** Same data: only set the attributes that differ. */
  | { action: 'attrs'; changes: Changes }
  /** Nothing to do. */
  | { action: 'none'; changes: Changes }
  /** An option says to leave it: --existing (`missing`), --ignore-existing (`exists`), -u (`newer`). */
  | { action: 'skip'; why: 'missing' | 'exists' | 'newer' };

const anyAttr = (c: Changes): boolean => c.time || c.perms || c.owner || c.group || c.acl || c.xattr || Boolean(c.atime);

/** Nanoseconds since the epoch as a bigint-free pair compare, honouring the modify window. */
export function sameTime(a: Pick<Stat, 'mtimeSec' | 'mtimeNsec'>, b: Pick<Stat, 'mtimeSec' | 'mtimeNsec'>, o: Pick<CheckOptions, 'modifyWindow' | 'timeResolutionNs'>): boolean {
  if (o.modifyWindow > 0) return Math.abs(a.mtimeSec - b.mtimeSec) <= o.modifyWindow;
  const ds = a.mtimeSec - b.mtimeSec;
  if (Math.abs(ds) > 1) return false;
  const dn = ds * 1e9 + (a.mtimeNsec - b.mtimeNsec);
  return Math.abs(dn) < Math.max(1, o.timeResolutionNs);
}

/**
 * rsync's perms_differ: with -p any permission bit; with -E alone, whether the entry is executable by
 * anyone (for every type but symlinks, directories included, as rsync reports them).
 */
function permsDiffer(src: Stat, dst: Stat, o: Pick<CheckOptions, 'perms' | 'executability'>): boolean {
  if (o.perms) return (src.mode & 0o7777) !== (dst.mode & 0o7777);
  return Boolean(o.executability) && (src.mode & 0o111 ? 1 : 0) !== (dst.mode & 0o111 ? 1 : 0);
}

/** Which preserved attributes differ (the ones rsync would report and fix). */
export function attrChanges(src: Stat, dst: Stat, o: CheckOptions): Changes {
  const type = fileType(src.mode);
  // One literal of every field (no spread of a constant): the planner and a pull's no-op judgement make one
  // of these per entry.
  return {
    value: false,
    size: false,
    // Times only count with -t (and for symlinks not with -J); a file's own mtime is also part of the
    // quick check.
    time: o.times && !(type === 'link' && o.omitLinkTimes) && !sameTime(src, dst, o),
    perms: type !== 'link' && permsDiffer(src, dst, o),
    owner: o.owner && o.isRoot && src.uid !== dst.uid,
    group: o.group && src.gid !== dst.gid && (o.isRoot || !o.memberGids || o.memberGids.has(src.gid)),
    acl: false,
    xattr: false,
    // rsync's same_time(F_ATIME, 0, st_atime, 0): whole seconds.
    atime: Boolean(o.atimes) && type !== 'dir' && type !== 'link' && src.atimeSec !== dst.atimeSec,
  };
}

/**
 * --existing (`missing`) and --ignore-existing (`exists`): rsync's generator leaves a non-directory
 * alone on these before anything else about it counts (its type included: a special file it would not
 * make, an unsafe symlink it would ignore, a hard link it would link).
 */
export function leftAlone(dst: Stat | undefined, o: Pick<CheckOptions, 'existing' | 'ignoreExisting'>): 'missing' | 'exists' | undefined {
  if (!dst) return o.existing ? 'missing' : undefined;
  return o.ignoreExisting ? 'exists' : undefined;
}

/**
 * The quick check. `dst` is the destination's lstat (undefined when missing). `linkDiffers` says whether
 * a symlink's target differs (the caller reads both targets only for symlinks).
 */
/**
 * -u: whether a destination file is newer than the source's, and so left alone. rsync's generator compares
 * whole seconds here (`file->modtime - st_mtime < modify_window`) whatever the quick check's precision: a
 * file newer only within the same second goes on to the quick check, and with --modify-window=N one up to
 * N seconds older counts as newer. One rule for the local planner and a pull's staging (cli/pull-stage.ts).
 */
export function newerOnReceiver(srcSec: number, dstSec: number, modifyWindow: number): boolean {
  return srcSec - dstSec < Math.max(0, modifyWindow);
}

export function quickCheck(src: Stat, dst: Stat | undefined, o: CheckOptions, linkDiffers = false): Verdict {
  const left = leftAlone(dst, o);
  if (left) return { action: 'skip', why: left };
  if (!dst) return { action: 'create' };
  const type = fileType(src.mode);
  if (type !== fileType(dst.mode)) {
    // rsync replaces an entry of another type, whatever its age: -u only protects a newer entry of the
    // same type. A char and a block device are of one type to it, as are a FIFO and a socket (its
    // FT_DEVICE, FT_SPECIAL): the one replaces the other as a change, not as new.
    return { action: 'create' };
  }
  const changes = attrChanges(src, dst, o);
  switch (type) {
    case 'dir':
      return anyAttr(changes) ? { action: 'attrs', changes } : { action: 'none', changes };
    case 'link': {
      // A recreated link reports its time when -t does not keep it (rsync's keep_time, -J included).
      if (linkDiffers) return { action: 'transfer', changes: { ...changes, value: true, time: o.times && !o.omitLinkTimes ? changes.time : true } };
      return anyAttr(changes) ? { action: 'attrs', changes } : { action: 'none', changes };
    }
    case 'dev':
    case 'special': {
      // rsync's quick_check_ok compares a device's numbers only: a block device where a char device of
      // the same numbers is wanted (or the reverse) is left as it is.
      if (type === 'dev' ? src.rdev !== dst.rdev : (src.mode & S_IFMT) !== (dst.mode & S_IFMT)) {
        return { action: 'transfer', changes: { ...changes, value: true } };
      }
      return anyAttr(changes) ? { action: 'attrs', changes } : { action: 'none', changes };
    }
    case 'reg':
      break;
  }
  if (o.update && newerOnReceiver(src.mtimeSec, dst.mtimeSec, o.modifyWindow)) {
    return { action: 'skip', why: 'newer' };
  }
  const size = src.size !== dst.size;
  const fileTimeDiffers = !sameTime(src, dst, o);
  // The file's own mtime difference is reported as 't' with -t and 'T' (set to now) without.
  const withTime = { ...changes, size, time: fileTimeDiffers };
  if (o.checksum) {
    if (size) return { action: 'transfer', changes: { ...withTime, value: true } };
    return { action: 'compare', changes: withTime };
  }
  // --size-only before -I, as rsync's quick_check_ok (with both, a file of the same size is current).
  let transfer: boolean;
  if (o.sizeOnly) transfer = size;
  else if (o.ignoreTimes) transfer = true;
  else transfer = size || fileTimeDiffers;
  if (transfer) return { action: 'transfer', changes: withTime };
  return anyAttr(changes) ? { action: 'attrs', changes } : { action: 'none', changes };
}

const typeChar: Record<FileType, string> = { reg: 'f', dir: 'd', link: 'L', dev: 'D', special: 'S' };

/**
 * rsync's itemize string for an action. `hardlinked` marks an entry made as a hard link (-H, or
 * --link-dest). Returns undefined when rsync prints nothing at -i (an unchanged entry); `all` is -ii.
 */
export function itemize(
  type: FileType,
  verdict: Verdict | { action: 'attrs' | 'transfer'; changes: Changes },
  o: Pick<CheckOptions, 'times'> & { protocol?: number | undefined; itemizeTimes?: boolean | undefined },
  opts: { hardlinked?: boolean; all?: boolean; local?: boolean } = {},
): string | undefined {
  const X = typeChar[type];
  if (verdict.action === 'skip') return undefined;
  if (verdict.action === 'create') {
    const Y = opts.hardlinked ? 'h' : type === 'reg' ? '>' : 'c';
    return `${Y}${X}+++++++++`;
  }
  const c = verdict.changes;
  const sent = verdict.action === 'transfer';
  const Y = opts.hardlinked ? 'h' : opts.local ? 'c' : sent ? (type === 'reg' ? '>' : 'c') : '.';
  // Without -t a transferred file or recreated symlink gets the transfer time: 'T'.
  // Before protocol 30 rsync's sender, which prints the line, is not told that symlink times are set: 'T'.
  const linkTimesUntold = type === 'link' && !symlinkTimesTold(o.protocol);
  // Whether a time is reported is the receiver's decision (its -t); t or T is the printing client's.
  // Without -t, rsync's itemize reports a time for anything it transfers and any local change (an entry
  // made from an alternate directory's twin): 'T'.
  const reported = c.time ? (o.times && !linkTimesUntold) || sent || linkTimesUntold : ((sent && type !== 'dir') || opts.local === true) && !o.times;
  const t = !reported ? '.' : (o.itemizeTimes ?? o.times) && !linkTimesUntold ? 't' : 'T';
  const attrs = [c.value ? 'c' : '.', c.size && type === 'reg' ? 's' : '.', t, c.perms ? 'p' : '.', c.owner ? 'o' : '.', c.group ? 'g' : '.', c.atime ? 'u' : '.', c.acl ? 'a' : '.', c.xattr ? 'x' : '.'].join('');
  if (!sent && attrs === '.........') return opts.all ? `${Y}${X}         ` : undefined;
  return `${Y}${X}${attrs}`;
}
