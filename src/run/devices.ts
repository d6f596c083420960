// --copy-devices and --write-devices on the planner's side: a char or block device taken as a regular
// file of the device's size (rsync's get_device_size: a block device's size, 0 for a character device),
// on the source (sent as a file, its mtime "now" as rsync's flist sets it: a device's own mtime says
// nothing about its contents) or on the destination (written into in place).

import { readFileSync } from 'node:fs';
import { S_IFBLK, S_IFCHR, S_IFMT, S_IFREG, type Stat } from '../model/stat.js';
import { devMajor, devMinor } from '../model/devnum.js';

export function isDevice(st: Stat): boolean {
  const t = st.mode & S_IFMT;
  return t === S_IFCHR || t === S_IFBLK;
}

/**
 * A device's size in bytes: a block device's from sysfs (its 512-byte sectors), so the device itself
 * is not opened here; a character device has none (rsync's lseek to the end gives 0).
 */
export function deviceSize(st: Stat): number {
  if ((st.mode & S_IFMT) !== S_IFBLK) return 0;
  const major = devMajor(st.rdev);
  const minor = devMinor(st.rdev);
  try {
    return Number(readFileSync(`/sys/dev/block/${major}:${minor}/size`, 'latin1').trim()) * 512;
  } catch {
    return 0;
  }
}

/**
 * --copy-devices: the source device as the regular file it is sent as. Its time is rsync's: "now" in
 * whole seconds (a device's mtime says nothing of its contents), the device's own nanoseconds kept (rsync's
 * sender replaces st_mtime only).
 */
export function deviceAsSource(st: Stat): Stat {
  return { ...st, mode: S_IFREG | (st.mode & 0o777), size: deviceSize(st), mtimeSec: Math.floor(Date.now() / 1000), blocks: 0 };
}

/** --write-devices: the destination device as the file whose data it receives. */
export function deviceAsTarget(st: Stat): Stat {
  return { ...st, mode: S_IFREG | (st.mode & 0o7777), size: deviceSize(st) };
}
