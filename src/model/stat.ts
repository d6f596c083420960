// What the walk knows about an entry: its lstat fields and the file-type bits of its mode, with the
// five kinds of entry rsync treats differently. Shared by the planner, the engines and the C addon.

/** File types as they appear in Stat.mode & S_IFMT. */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;
export const S_IFSOCK = 0o140000;
/** The set-group-ID bit: on a directory, what is made inside takes its group (a subdirectory the bit too). */
export const S_ISGID = 0o2000;

/** What the walk knows about one entry (lstat semantics: symlinks are not followed). */
export interface Stat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeSec: number;
  mtimeNsec: number;
  /** Access time, whole seconds (what -U compares and sets, as rsync: its nanoseconds are dropped). */
  atimeSec?: number;
  ino: number;
  dev: number;
  nlink: number;
  rdev: number;
  blocks: number;
  /**
   * The file's own mode and ids on disk, kept when the run sees it otherwise (--chmod, --fake-super's
   * record, --usermap/--groupmap): what the kernel checks this process's open against (run/unopenable.ts).
   * Unset when mode, uid and gid are the file's own.
   */
  own?: Access;
}

/** The fields of a Stat a permission check reads. */
export interface Access {
  mode: number;
  uid: number;
  gid: number;
}

/** `st` as the run sees it, with `view`'s mode or ids in place of its own (which stay in `own`). */
export function seenAs(st: Stat, view: Partial<Access> & { rdev?: number }): Stat {
  return { ...st, ...view, own: st.own ?? { mode: st.mode, uid: st.uid, gid: st.gid } };
}

/** The five kinds of entry rsync treats differently. */
export type FileType = 'reg' | 'dir' | 'link' | 'dev' | 'special';

export function fileType(mode: number): FileType {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return 'reg';
    case S_IFDIR:
      return 'dir';
    case S_IFLNK:
      return 'link';
    case S_IFCHR:
    case S_IFBLK:
      return 'dev';
    case S_IFIFO:
    case S_IFSOCK:
    default:
      return 'special';
  }
}

/**
 * rsync's dest_mode under -E without -p, for an existing regular file (native/meta.c meta_exec_mode is
 * the same rule; test/contract/engine-ops.test.ts holds them together): its own bits, execute taken
 * away when the source has none, or given to whoever may read when the source has some and it had none.
 */
export function execMode(src: number, cur: number): number {
  let m = cur & 0o7777;
  if (!(src & 0o111)) m &= ~0o111;
  else if (!(cur & 0o111)) m |= (m & 0o444) >> 2;
  return m;
}

/** A --delete-missing-args operand's entry: rsync's sender lists what it could not find with an all-zero stat. */
export const MISSING_STAT: Stat = { mode: 0, uid: 0, gid: 0, size: 0, mtimeSec: 0, mtimeNsec: 0, atimeSec: 0, ino: 0, dev: 0, nlink: 0, rdev: 0, blocks: 0 };
