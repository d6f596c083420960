// The destination filesystem's mtime granularity, found out once per run. A filesystem that keeps fewer
// digits than the source (vfat 2 s, exFAT 10 ms, many FUSE and network filesystems) stores every time
// rounded, so a quick check to the nanosecond would find every file changed on every re-sync and copy
// everything again. The quick check compares to the coarser of the engine's and the filesystem's
// resolution (plan/quickcheck.ts sameTime, native/quickcheck.c same_time).
//
// Known filesystem types are answered from statfs(2); any other one (FUSE, NFS, 9p...) is asked by
// giving a fresh O_EXCL file in the destination's top directory an mtime with nine significant digits
// of fraction and reading back what it kept. The probe changes that directory's mtime: it gets its
// times back at once, before the run compares it (so its -i line is rsync's). Nothing is probed in a dry
// run, or when the destination does not exist yet (every file is then new: nothing is compared).

import * as fs from 'node:fs';
import { constants as C } from 'node:fs';
import { joinPath } from '../util/names.js';

/** statfs f_type → granularity in ns, for the types whose answer does not depend on the mount. */
const KNOWN = new Map<number, number>([
  [0x01021994, 1], // tmpfs
  [0x858458f6, 1], // ramfs
  [0xef53, 1], // ext2/3/4 (256-byte inodes; a 128-byte-inode ext2/3 keeps seconds and is not told apart)
  [0x58465342, 1], // xfs
  [0x9123683e, 1], // btrfs
  [0xf2f52010, 1], // f2fs
  [0x2fc12fc1, 1], // zfs
  [0x794c7630, 1], // overlayfs
  [0x4d44, 2e9], // msdos, vfat
  [0x2011bab0, 1e7], // exfat
  [0x5346544e, 100], // ntfs
  [0x7366746e, 100], // ntfs3
  [0xff534d42, 100], // cifs
  [0xfe534d42, 100], // smb2
]);

/**
 * The granularities a probe can find, coarsest first. Node hands the kernel a time to the microsecond
 * only, so a probe cannot tell a microsecond filesystem from a nanosecond one: both count as 1 µs, which
 * the node engine compares to anyway.
 */
const STEPS = [2e9, 1e9, 1e8, 1e7, 1e6, 1e3];

/** The probe's mtime: odd seconds, then a fraction whose last digits a coarser filesystem drops. */
const PROBE_SEC = 1_000_000_001;
const PROBE_FRACTION = 0.123456789;

export interface Granularity {
  /** Nanoseconds between the times the filesystem can keep (1: every nanosecond). */
  ns: number;
  /** A probe file was made (and removed) in the destination's top directory, changing its mtime. */
  probed: boolean;
}

/**
 * What a probe that set PROBE_SEC + PROBE_FRACTION read back (`kept`, ns since the epoch) says: the
 * coarsest step the kept time is a whole multiple of, and within one step of what was set.
 */
export function granularityOf(kept: bigint): number {
  const set = PROBE_SEC * 1e9 + PROBE_FRACTION * 1e9;
  for (const g of STEPS) {
    // A microsecond of slack: the time goes to the kernel as a double, a few hundred ns off.
    if (kept % BigInt(g) === 0n && Math.abs(Number(kept) - set) < g + 1e3) return g;
  }
  return 1e3;
}

/** The destination's granularity; `dryRun` or a missing destination: statfs only, no probe. */
export function destGranularity(destRoot: Buffer, dryRun: boolean): Granularity {
  let type: number;
  try {
    type = fs.statfsSync(destRoot).type;
  } catch {
    return { ns: 1, probed: false };
  }
  const known = KNOWN.get(type);
  if (known !== undefined || dryRun) return { ns: known ?? 1, probed: false };
  const probe = joinPath(destRoot, Buffer.from(`.arsync-probe.${process.pid}.${Date.now().toString(36)}`));
  const top = holdTop(destRoot);
  let fd: number;
  try {
    // O_EXCL: never an entry that is there already (a planted symlink included).
    fd = fs.openSync(probe, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
  } catch {
    // A read-only or full destination (or the unlikely name taken): compare to the nanosecond.
    if (top) fs.closeSync(top.fd);
    return { ns: 1, probed: false };
  }
  try {
    const t = PROBE_SEC + PROBE_FRACTION;
    fs.futimesSync(fd, t, t);
    return { ns: granularityOf(fs.fstatSync(fd, { bigint: true }).mtimeNs), probed: true };
  } catch {
    return { ns: 1, probed: true };
  } finally {
    fs.closeSync(fd);
    try {
      fs.unlinkSync(probe);
    } catch {
      // gone already
    }
    if (top) restoreTop(top);
  }
}

interface HeldTop {
  fd: number;
  atimeNs: bigint;
  mtimeNs: bigint;
}

/** The top directory, held (never through a symlink) with the times it has before the probe. */
function holdTop(destRoot: Buffer): HeldTop | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(destRoot, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
    const st = fs.fstatSync(fd, { bigint: true });
    return { fd, atimeNs: st.atimeNs, mtimeNs: st.mtimeNs };
  } catch {
    if (fd !== undefined) fs.closeSync(fd);
    return undefined;
  }
}

/**
 * The probe's create and unlink moved the top directory's mtime: it gets back the times it had, so that
 * this run's comparison of the top directory (and an -i line for it) sees the directory as it was.
 * Node sends the time as a double, within a microsecond, which is as fine as a probed filesystem is
 * compared to (STEPS). Best effort: where it fails, the run finds the top directory's time changed and
 * sets it again, as for any directory whose time differs.
 */
function restoreTop(top: HeldTop): void {
  try {
    fs.futimesSync(top.fd, Number(top.atimeNs) / 1e9, Number(top.mtimeNs) / 1e9);
  } catch {
    // a filesystem that refuses: the run's comparison sees the change
  } finally {
    fs.closeSync(top.fd);
  }
}
