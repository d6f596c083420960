// Device numbers: the one encoding Stat.rdev carries (glibc's makedev, which Node's stat and the addon's
// statx both report) and the major and minor numbers rsync's file list sends, -vvv's trace prints and
// mknod(1) takes. Plain arithmetic on doubles rather than 32-bit operators, so a major past 12 bits or a
// minor past 20 (which glibc's encoding puts above bit 31) survives; every value stays below 2^53.

/** glibc's makedev(major, minor). */
export function makedev(major: number, minor: number): number {
  return (minor % 256) + (major % 4096) * 2 ** 8 + Math.floor(minor / 256) * 2 ** 20 + Math.floor(major / 4096) * 2 ** 44;
}

/** glibc's gnu_dev_major of a makedev-encoded number. */
export function devMajor(rdev: number): number {
  return (Math.floor(rdev / 2 ** 8) % 4096) + Math.floor(rdev / 2 ** 44) * 4096;
}

/** glibc's gnu_dev_minor of a makedev-encoded number. */
export function devMinor(rdev: number): number {
  return (rdev % 256) + (Math.floor(rdev / 2 ** 20) % 2 ** 24) * 256;
}
