// Pure decisions: what to do with one source entry under a Config. No disk access, so every rule is
// unit-tested on plain values.

import type { Config } from '../cli/config.js';
import {
  OpKind,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
  type Stat,
} from '../engine/types.js';

export type Decision = { op: OpKind } | { skip: string };

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

/** What rsync would do with an entry of this type, before comparing with the destination. */
export function decide(st: Stat, c: Config): Decision {
  switch (fileType(st.mode)) {
    case 'reg':
      return { op: OpKind.File };
    case 'dir':
      return c.recursive ? { op: OpKind.Mkdir } : { skip: 'skipping directory' };
    case 'link':
      return c.links ? { op: OpKind.Symlink } : { skip: 'skipping non-regular file' };
    case 'dev':
      return c.devices ? { op: OpKind.Special } : { skip: 'skipping non-regular file' };
    case 'special': {
      const t = st.mode & S_IFMT;
      if (t !== S_IFIFO && t !== S_IFSOCK) return { skip: 'skipping non-regular file' };
      return c.specials ? { op: OpKind.Special } : { skip: 'skipping non-regular file' };
    }
  }
}
