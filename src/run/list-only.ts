// --list-only on a local source: the file list rsync's sender would build (operands, filters, -r or one
// level, -L, -k, -x), printed one list_file_entry line per entry in rsync's order, with nothing read from or
// written to a destination. Only metadata is read (lstat, readlink; stat for -L): no file is opened.

import { isFailure } from '../model/failure.js';
import { unmunge } from '../util/munge.js';
import { MISSING_STAT, fileType, type Stat } from '../model/stat.js';
import type { FilterList } from '../plan/filter.js';
import type { FilterScope } from '../plan/filter-scope.js';
import type { Root } from '../plan/sources.js';
import type { ListedEntry } from '../progress/list-line.js';
import { ERRNO, showPath } from '../util/errors.js';
import { errnoSuffix } from '../util/strerror.js';
import { absolutePath, joinPath } from '../util/names.js';
import { resolve as resolvePath } from 'node:path';
import type { Config } from '../model/config.js';
import type { NameCharsets } from '../engine/charset.js';
import { nameMessage, targetMessage } from './iconv-errors.js';

/** The engine's metadata helpers a listing needs (every engine has them on the main thread). */
export interface ListReader {
  scanDir(path: Buffer, anchor?: number): { names: Buffer[]; stats: (Stat | null)[]; errors: number[] } | { errno: number; syscall: string };
  lstat(path: Buffer): Stat | { errno: number; syscall: string };
  stat(path: Buffer): Stat | { errno: number; syscall: string };
  readlink(path: Buffer): Buffer | { errno: number; syscall: string };
}

export interface ListCounts {
  reg: number;
  dir: number;
  link: number;
  dev: number;
  special: number;
}

export interface ListTotals {
  counts: ListCounts;
  /** rsync's total_size: every non-directory's length (a symlink's is its target's). */
  totalSize: number;
  /** I/O errors reported (the run exits 23). */
  errors: number;
}

interface Item {
  src: Buffer;
  rel: Buffer;
  st: Stat;
  /** Walk its entries (-r, or a "dir/" operand's one level). */
  enter: boolean;
  scope: FilterScope | undefined;
  /** The device of its operand (-x). */
  dev: number;
  /**
   * Reached through a symlink the sender follows ("link/" operand, -k's link to a directory, or one
   * below either): its own path is followed to the end.
   */
  followed?: boolean;
}

const isDir = (st: Stat): boolean => fileType(st.mode) === 'dir';

/** rsync's order within a directory: non-directories, then directories, each by name bytes. */
function rsyncOrder<T extends { name: Buffer; st: Stat }>(list: T[]): T[] {
  const by = (a: T, b: T): number => Buffer.compare(a.name, b.name);
  return [...list.filter((e) => !isDir(e.st)).sort(by), ...list.filter((e) => isDir(e.st)).sort(by)];
}

/**
 * List the roots; `print` gets each entry, `error` each failure (already worded as rsync words it).
 */
export function listRoots(
  c: Config,
  roots: readonly Root[],
  reader: ListReader,
  filters: FilterList | undefined,
  print: (e: ListedEntry) => void,
  error: (message: string) => void,
  charsets?: NameCharsets,
): ListTotals {
  const t: ListTotals = { counts: { reg: 0, dir: 0, link: 0, dev: 0, special: 0 }, totalSize: 0, errors: 0 };
  // rsync's sender's words (`what`, naming the path) and glibc's text for the errno.
  const fail = (_path: Buffer, errno: number, _syscall: string, what: string): void => {
    t.errors++;
    error(`${what}: ${errnoSuffix(errno)}`);
  };

  /**
   * An entry as the sender puts it in the list (-L follows links; -k a link to a directory, whatever
   * else it leads to, or nothing, stays a link), or undefined when it is left out.
   */
  const resolveEntry = (src: Buffer, st: Stat): Stat | undefined => {
    if (fileType(st.mode) !== 'link') return st;
    if (!c.copyLinks) {
      if (!c.copyDirlinks) return st;
      const to = reader.stat(src);
      return !isFailure(to) && isDir(to) ? to : st;
    }
    const to = reader.stat(src);
    if (isFailure(to)) {
      if (to.errno === ERRNO.ENOENT) {
        t.errors++;
        error(`symlink has no referent: "${showPath(resolvePath(src.toString('latin1')))}"`);
      } else fail(src, to.errno, to.syscall, `[sender] readlink_stat("${showPath(absolutePath(src))}") failed`);
      return undefined;
    }
    return to;
  };

  /** --iconv: whether the name (and a link's target) converts both ways; reported when not (rsync lists it as a transfer would). */
  const converts = (item: Item): boolean => {
    if (!charsets) return true;
    const d = charsets.toDest(item.rel);
    if (!Buffer.isBuffer(d)) {
      t.errors++;
      error(nameMessage(charsets, item.rel, d));
      return false;
    }
    if (fileType(item.st.mode) !== 'link' || !c.links) return true;
    const l = reader.readlink(item.src);
    const target = isFailure(l) ? undefined : charsets.linkTarget(l);
    if (target === undefined || Buffer.isBuffer(target)) return true;
    t.errors++;
    error(targetMessage(item.src, d, target));
    return false;
  };

  /** Prints the entry; false when --iconv left it out (a directory is then not entered). */
  const emit = (item: Item, name: Buffer): boolean => {
    if (!converts(item)) return false;
    const type = fileType(item.st.mode);
    t.counts[type]++;
    if (type !== 'dir') t.totalSize += type === 'reg' || type === 'link' ? item.st.size : 0;
    let link: Buffer | undefined;
    if (type === 'link' && c.links) {
      const l = reader.readlink(item.src);
      if (isFailure(l)) fail(item.src, l.errno, l.syscall, `[sender] readlink "${showPath(absolutePath(item.src))}" failed`);
      // --munge-links: the sender's side unmunges (a local listing prints what the sender lists); the
      // length listed stays the link's own.
      else link = c.mungeLinks ? unmunge(l) : l;
    }
    print({ mode: item.st.mode, size: type === 'reg' || type === 'link' || type === 'dir' ? item.st.size : 0, mtime: item.st.mtimeSec, name, link, ...(charsets ? { raw: true } : {}), ...(item.st.atimeSec !== undefined ? { atime: item.st.atimeSec } : {}) });
    return true;
  };

  /** One directory's entries, then each subdirectory's, depth first (rsync's list order). */
  const walk = (dir: Item): void => {
    // -L: the walk goes wherever the links lead (the operator asked for it); else through no symlink.
    const l = c.copyLinks || dir.followed ? reader.scanDir(dir.src, dir.src.length) : reader.scanDir(dir.src);
    if (isFailure(l)) {
      fail(dir.src, l.errno, l.syscall, `[sender] opendir "${showPath(absolutePath(dir.src))}" failed`);
      return;
    }
    const entries: { name: Buffer; st: Stat; link: boolean }[] = [];
    l.names.forEach((name, i) => {
      const st = l.stats[i];
      const src = joinPath(dir.src, name);
      if (!st) {
        fail(src, l.errors[i] || ERRNO.ENOENT, 'lstat', `[sender] readlink_stat("${showPath(absolutePath(src))}") failed`);
        return;
      }
      const seen = resolveEntry(src, st);
      if (seen) entries.push({ name, st: seen, link: fileType(st.mode) === 'link' });
    });
    const subdirs: Item[] = [];
    for (const e of rsyncOrder(entries)) {
      const rel = dir.rel.length ? joinPath(dir.rel, e.name) : e.name;
      const d = isDir(e.st);
      if (dir.scope && dir.scope.check(rel, d) === 'exclude') continue;
      const item: Item = { src: joinPath(dir.src, e.name), rel, st: e.st, enter: d && c.recursive, scope: undefined, dev: dir.dev, followed: dir.followed === true || (d && e.link) };
      if (d) subdirs.push(item);
      else emit(item, rel);
    }
    // Each directory's line comes right before its own entries (rsync's list order).
    for (const s of subdirs) {
      if (!emit(s, s.rel)) continue;
      // -x: a mount point is listed, not entered.
      if (!s.enter || (c.oneFileSystem > 0 && s.st.dev !== dir.dev)) continue;
      s.scope = dir.scope?.enterDir(s.rel, s.src);
      walk(s);
    }
  };

  // The operands are one sorted list, as in rsync's file list: files first, then directories.
  const tops: { name: Buffer; st: Stat; root: Root; followed: boolean }[] = [];
  for (const root of roots) {
    // --delete-missing-args: listed with an all-zero stat, as rsync's sender lists it ("*missing").
    if (root.missing) {
      tops.push({ name: root.rel, st: MISSING_STAT, root, followed: false });
      continue;
    }
    const st0 = reader.lstat(root.src);
    if (isFailure(st0)) {
      fail(root.src, st0.errno, st0.syscall, `[sender] link_stat "${showPath(absolutePath(root.src))}" failed`);
      continue;
    }
    // "link/" is the directory it points to; -L follows any link.
    const st = root.contents && fileType(st0.mode) === 'link' ? reader.stat(root.src) : resolveEntry(root.src, st0);
    if (st === undefined) continue;
    if (isFailure(st)) {
      fail(root.src, st.errno, st.syscall, `[sender] change_dir "${showPath(absolutePath(root.src))}" failed`);
      continue;
    }
    tops.push({ name: root.rel.length ? root.rel : Buffer.from('.'), st, root, followed: root.contents || (isDir(st) && fileType(st0.mode) === 'link') });
  }
  const ordered = tops.length > 1 ? rsyncOrder(tops) : tops;
  // -R: the directories above each operand's path are in the list too (unless --no-implied-dirs), once.
  const implied = new Set<string>();
  for (const { name, st, root, followed } of ordered) {
    const base = root.src.subarray(0, root.src.length - root.rel.length).toString('latin1') || '.';
    const scope = filters?.root('sender', Buffer.from(resolvePath(base), 'latin1'));
    if (root.rel.length && scope && scope.check(root.rel, isDir(st)) === 'exclude') continue;
    if (c.relative && c.impliedDirs) {
      for (let i = root.rel.indexOf(0x2f); i > 0; i = root.rel.indexOf(0x2f, i + 1)) {
        const rel = root.rel.subarray(0, i);
        if (implied.has(rel.toString('latin1'))) continue;
        implied.add(rel.toString('latin1'));
        const src = root.src.subarray(0, root.src.length - root.rel.length + i);
        const dst = reader.lstat(src);
        // One missing above a missing name was reported with the operands (plan/sources.ts ImpliedParents).
        if (isFailure(dst)) {
          if (!root.lostParent) fail(src, dst.errno, dst.syscall, `[sender] link_stat "${showPath(absolutePath(src))}" failed`);
        } else emit({ src, rel, st: dst, enter: false, scope: undefined, dev: dst.dev }, rel);
      }
    }
    // Incremental recursion: rsync's sender left the name out after its missing directory.
    if (root.lostParent?.leftOut) continue;
    if (root.missing) {
      // rsync's statistics count it with the regular files (its type is none of the others).
      t.counts.reg++;
      print({ mode: 0, size: 0, mtime: 0, name });
      continue;
    }
    const item: Item = { src: root.src, rel: root.rel, st, enter: isDir(st) && (c.recursive || root.contents), scope, dev: st.dev, followed };
    if (!emit(item, name) || !item.enter) continue;
    item.scope = scope?.enterDir(root.rel, root.src);
    walk(item);
  }
  return t;
}
