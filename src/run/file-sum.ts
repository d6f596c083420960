// rsync's %C (--out-format, --log-file-format): a regular file's whole-file checksum in hex, by the
// negotiated name (rsync 3.5's local copy: xxh128, or what --checksum-choice names). rsync prints the sum
// of the data it sent for a transferred file, and under -c the list's checksum of every file it prints:
// in both cases the source's bytes, which are read here, on the main thread, only for printed entries
// and only when a format asks for %C. The file is reached beneath its anchor, opened O_NOFOLLOW (unless
// -L/--copy-unsafe-links made the walk follow it) and checked against the walk's ino and dev (DESIGN §3.3).

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { Stat } from '../model/stat.js';
import { atSourcePath } from '../engine/node-beneath.js';
import { STRONG } from '../remote/checksum.js';

/**
 * The MD4 variants of protocols before 30 (cli/protocol-option.ts), which rsync never prints (they are not
 * canonical: util2.c sum_as_hex): blanks of their length.
 */
const BLANK_ONLY: Record<string, number> = { 'md4-old': 16 };

/** Digest lengths of rsync's checksum names (csum_len_for_type), for the blanks of an unknown sum. */
const LENGTH: Record<string, number> = { none: 1, md4: 16, md5: 16, sha1: 20, sha256: 32, sha512: 64, xxh: 8, xxh64: 8, xxh3: 8, xxh128: 16, ...BLANK_ONLY };

/** Names whose digest rsync prints last byte first (its canonical_checksum() > 0: the xxhash family). */
const REVERSED = new Set(['xxh', 'xxh64', 'xxh3', 'xxh128']);

/** The name arsync's checksum module knows a choice by ("xxh" is rsync's other name for xxh64). */
const known = (name: string): string => (name === 'xxh' ? 'xxh64' : name);

/** Whether %C can print this checksum here (rsync's "none" prints blanks, which needs no hash). */
/**
 * The whole-file digest of what `fd` holds from its start, read a megabyte at a time into `h` (a
 * checksum's file hasher): one loop for %C, a pull's -c judgement and its basis directories' twins.
 */
export function digestFd(fd: number, h: { update(b: Buffer): void; digest(): Buffer }): Buffer {
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let pos = 0; ; ) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
    pos += n;
  }
  return h.digest();
}

export function canSum(name: string): boolean {
  return name === 'none' || name in BLANK_ONLY || STRONG.has(known(name));
}

export class FileSums {
  private readonly width: number;

  constructor(
    private readonly name: string,
    /** The walk followed symlinks (-L, --copy-unsafe-links): the file may be reached through one. */
    private readonly follow: boolean,
  ) {
    this.width = (LENGTH[name] ?? 16) * 2;
  }

  /** rsync's text when no sum is known for the entry. */
  blank(): string {
    return ' '.repeat(this.width);
  }

  /** A dry run's transferred file: rsync prints its never-filled sum, all zeros. */
  zeros(): string {
    return this.name === 'none' || this.name in BLANK_ONLY ? this.blank() : '0'.repeat(this.width);
  }

  /** The source file's sum, or blanks when it cannot be read as the walk saw it (the op reports that). */
  of(src: Buffer, st: Stat, anchor: number): string {
    const s = STRONG.get(known(this.name));
    if (!s) return this.blank();
    try {
      const digest = atSourcePath(src, anchor, (path) => {
        const flags = constants.O_RDONLY | constants.O_NONBLOCK | (this.follow ? 0 : constants.O_NOFOLLOW);
        const fd = openSync(path, flags);
        try {
          const now = fstatSync(fd);
          if (!now.isFile() || (st.ino !== 0 && (now.ino !== st.ino || now.dev !== st.dev))) return undefined;
          return digestFd(fd, s.file());
        } finally {
          closeSync(fd);
        }
      });
      if (!digest) return this.blank();
      return (REVERSED.has(this.name) ? Buffer.from(digest).reverse() : digest).toString('hex');
    } catch {
      return this.blank();
    }
  }
}
