// The local side of a push (rsync's send_file_list and the sender's open): walks the source operands as
// rsync's sender walks them (a trailing slash sends a directory's contents as ".", otherwise the
// directory itself under its own name; -r descends, -d lists one level, -L follows symlinks, -x stays
// on one file system) into the entries of the file list, and opens a listed file for reading
// O_NOFOLLOW, checked against what the walk saw (DESIGN §3 rule 3): a symlink in the source is sent as
// a symlink, never read through, unless -L asked for that (its target sent unmunged under --munge-links).
// An operand that is not there is rsync's error, or left out (--ignore-missing-args), or listed with mode
// 0 for the receiver to delete (--delete-missing-args).

import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { Config } from '../model/config.js';
import { devMajor, devMinor } from '../model/devnum.js';
import { isDir, isReg } from '../remote/flist.js';
import type { FilterList } from '../plan/filter.js';
import type { FilterScope } from '../plan/filter-scope.js';
import { sortForSend, type SendEntry } from '../remote/flist-send.js';
import { compareNames } from '../remote/flist-order.js';
import type { Opened, PushSource } from '../remote/push.js';
import { ERRNO, fsError, showPath } from '../util/errors.js';
import { errnoSuffix } from '../util/strerror.js';
import { NOT_LISTED, READ_FAILED, type Engine, type SendReads } from '../engine/engine.js';
import { toStat } from '../engine/node-walk.js';
import { isFailure } from '../model/failure.js';
import { MISSING_STAT as MISSING, S_IFLNK, S_IFMT, S_IFREG, type Stat } from '../model/stat.js';
import { joinPath, hasTrailingSlash, baseName, dirName } from '../util/names.js';
import type { RemoteXattrs } from './remote-xattrs.js';
import { chdirErrno, fullName, keptFromRoot, operandDir, senderOperands } from '../plan/sources.js';
import { applyChmod } from '../plan/chmod.js';
import { unsafeSymlink } from '../plan/safelinks.js';
import { unmunge } from '../util/munge.js';
import { FlwError, listNative, nativeListable, type NativeTree } from './push-native.js';
import { xattrRules } from '../plan/xattr-rules.js';
import { withRecord } from './fake-source.js';

const IOERR_GENERAL = 1;
const IOERR_VANISHED = 2;
const EMPTY = Buffer.alloc(0);

interface Seen {
  dev: number;
  ino: number;
  /** Read through its symlink (--copy-unsafe-links, -k); never for the addon's list, which follows none. */
  follow?: boolean;
}

type Entry = SendEntry & Seen;

/**
 * A listed entry. Its path is joined from its directory's and its own name only when something reads
 * it (opening, a message): a no-op push never does for most entries, and one Buffer less per entry
 * is less for the collector and the peak memory. Every field is set in the constructor, so all
 * entries share one shape.
 */
class Listed implements Entry {
  name: Buffer;
  mode: number;
  size: number;
  mtime: number;
  mtimeNsec: number;
  uid: number;
  gid: number;
  topDir: boolean;
  contentDir: boolean;
  dev: number;
  ino: number;
  atime?: number;
  rdev?: { major: number; minor: number };
  link?: Buffer;
  devIno?: string;
  impliedDir?: boolean;
  xattrItems?: SendEntry['xattrItems'];
  xattr?: number;
  sum?: Buffer;
  /** Listed as what its symlink leads to (--copy-unsafe-links, -k): opened and read through the link. */
  follow: boolean;
  fromRoot: boolean;
  private joined: Buffer | undefined;

  constructor(private readonly dir: Buffer, private readonly leaf: Buffer, name: Buffer, st: Stat, top: boolean, content: boolean) {
    this.name = name;
    this.mode = st.mode;
    this.size = st.size;
    this.mtime = st.mtimeSec;
    this.mtimeNsec = st.mtimeNsec;
    this.uid = st.uid;
    this.gid = st.gid;
    this.topDir = top && isDir(st.mode);
    this.contentDir = isDir(st.mode) && content;
    this.dev = st.dev;
    this.ino = st.ino;
    this.follow = false;
    this.fromRoot = false;
  }

  get path(): Buffer {
    return (this.joined ??= joinPath(this.dir, this.leaf));
  }
}

const isLinkAt = (p: Buffer): boolean => {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

/** A source operand without -R: "dir/" (or "dir/.") is its contents, "dir" itself by its name. */
function plainOperand(src: Buffer): { src: Buffer; name: Buffer; contents: boolean; base: Buffer } {
  const contents = hasTrailingSlash(src) || /(^|\/)\.$/.test(src.toString('latin1'));
  return { src, name: baseName(src), contents, base: contents ? src : dirName(src) };
}

/**
 * A -R operand in "dir/./kept" form (plan/sources.ts's senderOperands): the name sent is the kept part
 * (leading slashes dropped), read beneath "dir"; a trailing slash or a bare "." sends the directory
 * with its contents (rsync's SLASH_ENDING_NAME and DOTDIR_NAME).
 */
function relativeOperand(op: Buffer): { src: Buffer; name: Buffer; contents: boolean; base: Buffer } {
  const s = op.toString('latin1');
  const m = s.indexOf('/./');
  // Without the marker an absolute path is kept whole from the root (its directories read from there).
  const base = m >= 0 ? s.slice(0, m) || '/' : s.startsWith('/') ? '/' : '.';
  let kept = m >= 0 ? s.slice(m + 3) : s;
  const contents = kept === '' || kept === '.' || kept.endsWith('/');
  kept = kept.replace(/\/+$/, '').replace(/^\/+/, '');
  const name = kept === '' ? '.' : kept;
  const src = m >= 0 ? (name === '.' ? base : `${base === '/' ? '' : base}/${name}`) : s.replace(/\/+$/, '') || '/';
  return { src: Buffer.from(src, 'latin1'), name: Buffer.from(name, 'latin1'), contents, base: Buffer.from(base, 'latin1') };
}


/** An operand's parts: its path, the name it is sent as, whether its contents go ("dir/"), its rules' root. */
const operandParts = (c: Config, op: Buffer): { src: Buffer; name: Buffer; contents: boolean; base: Buffer } =>
  c.relative ? relativeOperand(op) : plainOperand(op);

/** An operand's stat as rsync's sender takes it: -R follows "dir/" and "." to the directory (its link_stat for a name that is not a NORMAL_NAME). */
const operandStat = (c: Config, src: Buffer, contents: boolean, stat: (p: Buffer) => fs.BigIntStats): fs.BigIntStats =>
  c.relative && contents ? fs.statSync(src, { bigint: true }) : stat(src);

/**
 * With incremental recursion rsync's sender enters a "dir/" operand's directory as it builds its first
 * list, in the order given, and every other operand's directory later, in its sorted list's order: the
 * first it enters is the one its dir-merge rules scan the parents of (plan/filter-rules.ts ScopeRules
 * scansParents). The walk below goes in the order given (rsync's without incremental recursion), so
 * that directory is claimed first. (--files-from: one base for every name, left to the walk.)
 */
function claimParentScan(c: Config, filters: FilterList, stat: (p: Buffer) => fs.BigIntStats): void {
  let first: { name: Buffer; base: Buffer } | undefined;
  for (const op of c.sources) {
    const { src, name, contents, base } = operandParts(c, op);
    let dir: boolean;
    try {
      dir = isDir(Number(operandStat(c, src, contents, stat).mode));
    } catch {
      continue;
    }
    if (!dir) continue;
    const dot = c.relative ? name.length === 1 && name[0] === 0x2e : contents;
    const at = { name: dot ? Buffer.alloc(0) : name, base };
    if (dot) {
      first = at;
      break;
    }
    if (!first || compareNames(name, true, first.name, true) < 0) first = at;
  }
  if (first) filters.root('sender', Buffer.from(nodePath.resolve(first.base.toString('latin1')), 'latin1')).claimParentScan(first.name);
}

/** The path rsync's full_fname prints: absolute, without the "/./" of a --files-from name. */
function absolutePath(p: Buffer): Buffer {
  const s = p.toString('latin1').replace(/\/\.(?=\/)/g, '');
  return Buffer.from(s.startsWith('/') ? s : nodePath.resolve(s), 'latin1');
}

/**
 * One entry per name, as rsync's flist_sort_and_clean leaves it: a directory wins over a non-directory,
 * and a directory named twice (implied, then listed) keeps the content and top-level marks either had,
 * and is implied only if both were.
 */
function mergeRepeats<T extends SendEntry>(entries: T[]): T[] {
  const first = new Map<string, T>();
  const out: T[] = [];
  for (const e of entries) {
    const k = e.name.toString('latin1');
    const had = first.get(k);
    if (!had) {
      first.set(k, e);
      out.push(e);
    } else if (isDir(e.mode) && !isDir(had.mode)) {
      out[out.indexOf(had)] = e;
      first.set(k, e);
    } else if (isDir(e.mode)) {
      had.topDir = Boolean(had.topDir || e.topDir);
      had.contentDir = Boolean(had.contentDir || e.contentDir);
      had.impliedDir = Boolean(had.impliedDir && e.impliedDir);
    }
  }
  return out;
}


/** An errno's text as rsync prints it: "No such file or directory (2)". */
function errText(e: NodeJS.ErrnoException): string {
  return errnoSuffix(e.errno ?? ERRNO.EIO);
}

/** The bytes of a listed file from `pos`, until `len` or its end. */
function readFully(fd: number, buf: Buffer, off: number, len: number, pos: number): number {
  let got = 0;
  while (got < len) {
    const n = fs.readSync(fd, buf, off + got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** rsync's words for a listed file that could not be opened as listed (SendReads.open's answer `fd`). */
function notOpened(path: Buffer, fd: number): { message: string; vanished: boolean } {
  if (fd === NOT_LISTED || fd === -2) return { message: `file has vanished: "${showPath(path)}"`, vanished: true };
  return { message: `send_files failed to open "${showPath(path)}": ${errnoSuffix(-fd)}`, vanished: false };
}

/**
 * PushSource.open through the addon (engine.ts's SendReads): the open and its check against the walk in
 * one call, and a file sent whole read with its sum in one more; the same answers as the node:fs path.
 */
function openNative(reads: SendReads, path: Buffer, follow: boolean, seen: Seen): Opened | { message: string; vanished: boolean } {
  const fd = reads.open(path, follow, seen.dev, seen.ino);
  if (fd < 0) return notOpened(path, fd);
  let open = true;
  return {
    read: (buf, off, len, pos) => readFully(fd, buf, off, len, pos),
    readWhole(buf, at, len, kind, sumAt) {
      open = false;
      const got = reads.readWhole(fd, kind, buf, at, len, sumAt);
      if (got < 0) throw fsError(-got, 'read', showPath(path));
      return got;
    },
    close() {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}

export interface PushWalk extends PushSource {
  /**
   * A named source that does not exist (rsync's link_stat ENOENT): the run ends with exit 23, but the
   * receiver is not told of an I/O error, so its deletions go ahead (nothing existing was left out).
   */
  missingNamed: boolean;
  /** rsync's messages from the walk ("link_stat ... failed", "skipping directory ..."), in order. */
  messages: { text: string; error: boolean; plain?: boolean }[];
  /**
   * --remove-source-files, once the receiver confirmed an entry (rsync's successful_send): removed only
   * when it is still what was sent (size and time); returns rsync's line about it and whether it is an error.
   */
  removeSent(e: SendEntry): { text: string; error: boolean; removed: boolean };
}

/**
 * `engine` lists the directories (its walker); `filters`: the sending side's rules (--exclude and the
 * like): excluded names are not listed, nor read. `xattrs` (-X): each entry's xattrs are read as it is
 * listed. `listed`: a --files-from list the far side forwarded (NUL-separated names), for a list on that
 * machine. `tick`: called before each directory is listed (a push under --timeout sends its keep-alives
 * from there: the walk holds the thread).
 */
export function walkSources(c: Config, engine: Engine, filters?: FilterList, xattrs?: RemoteXattrs, listed?: Buffer, tick?: () => void): PushWalk {
  const entries: Entry[] = [];
  const messages: PushWalk['messages'] = [];
  let ioError = 0;
  let missingNamed = false;
  const reads = engine.sendReads;
  // -X's x-rules (-f '-x NAME'): which names the lists carry (plan/xattr-rules.ts).
  const xrules = xattrRules(filters);
  const umask = process.umask();
  const stat = (p: Buffer): fs.BigIntStats => (c.copyLinks ? fs.statSync(p, { bigint: true }) : fs.lstatSync(p, { bigint: true }));
  // --fake-super: the sender lists each entry as its user.rsync.%stat record describes it (rsync's
  // x_lstat), as a local copy's sender does (run/fake-source.ts): a restore from a fake-super backup
  // gets the owners, modes, devices and symlinks the records keep.
  const fakeRead = c.fakeSuper ? engine.fakeRead?.bind(engine) : undefined;
  const recorded = (st: Stat, p: Buffer): Stat =>
    withRecord(
      st,
      p,
      fakeRead!,
      (at, v) => {
        // As a local copy: rsync stops there (exit 11); the entry keeps its own stat and the run exits 23.
        ioError |= IOERR_GENERAL;
        messages.push({ text: `Corrupt user.rsync.%stat xattr attached to "${showPath(absolutePath(at))}": "${v}"`, error: true, plain: true });
      },
      (at, f) => {
        ioError |= IOERR_GENERAL;
        messages.push({ text: `failed to read xattr user.rsync.%stat for "${showPath(absolutePath(at))}": ${errnoSuffix(f.errno)}`, error: true });
      },
    );

  /** `dir` and `leaf`: where the entry is read, joined only when needed (`dir` empty: `leaf` is the whole path). */
  // -R of an absolute operand: its entries (and the directories above them) print from the root.
  let fromRoot = false;
  // `scope`: the directory listing it, whose per-directory files may hold x-rules of their own (rsync's
  // sender reads an entry's xattrs while its directory's rules are pushed: run/xattr-views.ts).
  const add = (dir: Buffer, leaf: Buffer, name: Buffer, real: Stat, top: boolean, content: boolean, follow = false, scope?: FilterScope): Entry => {
    let st = fakeRead ? recorded(real, dir.length ? joinPath(dir, leaf) : leaf) : real;
    // A fake symlink (a regular file whose record says link) holds its target as its content; one whose
    // content cannot be read is listed as the file it is.
    let stored: Buffer | undefined;
    if (st !== real && (st.mode & S_IFMT) === S_IFLNK && (real.mode & S_IFMT) === S_IFREG) {
      const v = fakeRead!(dir.length ? joinPath(dir, leaf) : leaf, true);
      if (v instanceof Buffer) stored = v;
      else st = real;
    }
    const mode = st.mode;
    const e = new Listed(dir, leaf, name, st, top, content);
    e.follow = follow;
    e.fromRoot = fromRoot;
    const path = (): Buffer => e.path;
    const type = mode & 0o170000;
    if (type === 0o020000 || type === 0o060000) {
      const rdev = st.rdev;
      e.rdev = { major: devMajor(rdev), minor: devMinor(rdev) };
    }
    if (type === 0o120000) {
      const raw = stored ?? fs.readlinkSync(path(), { encoding: 'buffer' });
      // --munge-links: a push's client is rsync's sender, which unmunges the target it sends (the
      // receiving server, not told of the option, writes it as sent); the length it lists stays the
      // link's own, as rsync's lstat gives it.
      e.link = c.mungeLinks ? unmunge(raw) : raw;
      e.size = raw.length;
    } else if (c.chmod.length && mode !== 0) {
      // --chmod on a push is the sender's: rsync's send_file_name tweaks each listed mode but a symlink's,
      // and the receiving server, which is not told of it, takes the modes as listed.
      e.mode = applyChmod(mode, c.chmod, umask);
    }
    // -U: rsync lists every non-directory's access time, whole seconds.
    if (c.atimes && !isDir(mode)) e.atime = st.atimeSec ?? 0;
    if (c.hardLinks && !isDir(mode) && st.nlink > 1) e.devIno = `${st.dev}:${st.ino}`;
    // rsync's get_xattr: files and directories, and the other kinds only when they are preserved.
    // A --delete-missing-args entry (mode 0) has none.
    const kept = type === 0o100000 || type === 0o040000 || (type === 0o120000 ? c.links : type === 0o020000 || type === 0o060000 ? c.devices : mode !== 0 && c.specials);
    if (xattrs && kept) {
      const items = xattrs.source(path(), mode, c.copyLinks || follow, c.fakeSuper === true, c.xattrsAll === true, scope?.xattrRules() ?? xrules);
      if ('message' in items) {
        ioError |= IOERR_GENERAL;
        messages.push({ text: items.message, error: true });
      } else e.xattrItems = items;
    }
    entries.push(e);
    return e;
  };

  /**
   * One entry of a listing as the walk keeps it: the listing's lstat, or under -L what a symlink leads
   * to; undefined (with rsync's message) when it cannot be had.
   */
  const entryStat = (dir: Buffer, n: Buffer, st: Stat | null, errno: number, follow: boolean): Stat | undefined => {
    if (st && !((c.copyLinks || follow) && (st.mode & 0o170000) === 0o120000)) return st;
    const p = joinPath(dir, n);
    try {
      if (!st) throw fsError(errno, 'lstat');
      return toStat(fs.statSync(p, { bigint: true }));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT' && (c.copyLinks || follow) && isLinkAt(p)) {
        // -L onto a symlink that leads nowhere: rsync's own words, and a transfer error (exit 23). rsync names
        // the path as its full_fname does, absolute, in all three messages.
        ioError |= IOERR_GENERAL;
        messages.push({ text: `symlink has no referent: "${showPath(absolutePath(p))}"`, error: true, plain: true });
      } else if (e.code === 'ENOENT') {
        // rsync's make_file says it as a warning, without the "rsync: [sender]" of an error.
        ioError |= IOERR_VANISHED;
        messages.push({ text: `file has vanished: "${showPath(absolutePath(p))}"`, error: true, plain: true });
      } else {
        ioError |= IOERR_GENERAL;
        messages.push({ text: `readlink_stat("${showPath(absolutePath(p))}") failed: ${errText(e)}`, error: true });
      }
      return undefined;
    }
  };

  /**
   * --copy-unsafe-links (without -L): whether the symlink `n` in `dir`, listed as `rel`, may lead out of
   * the transfer (plan/safelinks.ts), and so is listed as what it leads to (rsync's readlink_stat), said
   * under --info=symsafe (-v) as rsync's sender says it.
   */
  const unsafeFollowed = (dir: Buffer, n: Buffer, rel: Buffer): boolean => {
    if (!c.copyUnsafeLinks || c.copyLinks) return false;
    let target: Buffer;
    try {
      target = fs.readlinkSync(joinPath(dir, n), { encoding: 'buffer' });
    } catch {
      return false;
    }
    if (!unsafeSymlink(target, rel)) return false;
    if (c.info.SYMSAFE > 0) messages.push({ text: `copying unsafe symlink "${showPath(rel)}" -> "${showPath(target)}"`, error: false });
    return true;
  };
  /**
   * Whether the symlink `n` in `dir` is listed as what it leads to: an unsafe one under
   * --copy-unsafe-links, or under -k one that leads to a directory (rsync's scan_link_stat; one that
   * leads nowhere stays a symlink).
   */
  const followed = (dir: Buffer, n: Buffer, rel: Buffer): boolean => {
    if (c.copyLinks) return false;
    if (unsafeFollowed(dir, n, rel)) return true;
    if (!c.copyDirlinks) return false;
    try {
      return fs.statSync(joinPath(dir, n)).isDirectory();
    } catch {
      return false;
    }
  };

  // The engine's walker (getdents64 + statx in C with the addon) lists each directory with its entries'
  // lstat in one call, beneath the operand (`anchor` bytes, resolved as given): a directory swapped for
  // a symlink after it was listed is not followed. -L follows symlinked directories, so there the whole
  // path is resolved as given.
  /** One directory being walked: its entries in rsync's order, and how far the walk has got in them. */
  interface Level {
    dirPath: Buffer;
    dirName: Buffer;
    top: boolean;
    scope: FilterScope | undefined;
    anchor: number;
    kept: { n: Buffer; st: Stat; sub: boolean; follow: boolean }[];
    at: number;
  }
  /** A directory listed, its entries stated and sorted; undefined (reported) when it cannot be listed. */
  const level = (dirPath: Buffer, dirName: Buffer, parent: FilterScope | undefined, anchor: number): Level | undefined => {
    const top = dirName.length === 1 && dirName[0] === 0x2e;
    const scope = parent?.enterDir(top ? Buffer.alloc(0) : dirName, dirPath);
    tick?.();
    const list = engine.scanDir(dirPath, c.copyLinks ? dirPath.length : anchor);
    if (isFailure(list)) {
      ioError |= IOERR_GENERAL;
      messages.push({ text: `opendir "${showPath(dirPath)}" failed: ${errText(fsError(list.errno, 'opendir'))}`, error: true });
      return undefined;
    }
    // Each directory's entries in rsync's order (files, then subdirectories, each by name), every
    // subdirectory's contents right after it: the whole list comes out sorted, and sortForSend only
    // checks it. Stats (and their messages) are taken in the listing's order first.
    const kept: Level['kept'] = [];
    for (let i = 0; i < list.names.length; i++) {
      const n = list.names[i]!;
      const listed = list.stats[i] ?? null;
      const follow = listed !== null && (listed.mode & 0o170000) === 0o120000 && followed(dirPath, n, top ? n : joinPath(dirName, n));
      const st = entryStat(dirPath, n, listed, list.errors[i] ?? 0, follow);
      if (st) kept.push({ n, st, sub: isDir(st.mode), follow });
    }
    kept.sort((x, y) => compareNames(x.n, x.sub, y.n, y.sub));
    return { dirPath, dirName, top, scope, anchor, kept, at: 0 };
  };
  /**
   * A directory's tree, depth first, each subdirectory's contents right after it. With a stack of its
   * own, not the call stack: a tree thousands of levels deep (past PATH_MAX, which the addon's walk
   * leaves to this one) must not exhaust it.
   */
  const descend = (dirPath: Buffer, dirName: Buffer, rootDev: number, deep: boolean, parent: FilterScope | undefined, anchor: number): void => {
    const first = level(dirPath, dirName, parent, anchor);
    const stack: Level[] = first ? [first] : [];
    while (stack.length) {
      const l = stack[stack.length - 1]!;
      if (l.at === l.kept.length) {
        stack.pop();
        continue;
      }
      const { n, st, sub, follow } = l.kept[l.at++]!;
      const rel = l.top ? n : joinPath(l.dirName, n);
      if (l.scope && l.scope.check(rel, sub) === 'exclude') continue;
      // -x: a directory on another file system is listed, its contents are not.
      const e = add(l.dirPath, n, rel, st, false, sub && deep && (c.oneFileSystem === 0 || st.dev === rootDev), follow, xattrs ? l.scope : undefined);
      // A directory reached through a symlink (-k, an unsafe one) is read through it: resolved as given up
      // to there.
      if (sub && e.contentDir) {
        const next = level(e.path, rel, l.scope, follow ? e.path.length : l.anchor);
        if (next) stack.push(next);
      }
    }
  };
  /**
   * An implied directory (rsync's send_implied_dirs): followed if a symlink, never filtered, not entered.
   * Whether it was there. `said`: one that is missing is rsync's "file has vanished" (only a
   * --delete-missing-args name gets here with its directories missing; any other is reported itself).
   */
  const implied = (path: Buffer, name: Buffer, said = false): boolean => {
    try {
      const e = add(EMPTY, path, name, toStat(fs.statSync(path, { bigint: true })), false, false);
      if (isDir(e.mode)) e.impliedDir = true;
      return true;
    } catch (err) {
      if (said && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        ioError |= IOERR_VANISHED;
        // rsync names it from the directory before "/./" (the current one when there is none).
        const shown = path.length > 2 && path[0] === 0x2e && path[1] === 0x2f ? path.subarray(2) : path;
        messages.push({ text: `file has vanished: "${showPath(Buffer.from(fullName(shown), 'latin1'))}"`, error: true, plain: true });
      }
      return false;
    }
  };
  /**
   * The directories above `name` (beneath `base`); whether they all were there. `said`: a missing one is
   * reported (implied); with incremental recursion rsync's sender looks no further down after one.
   */
  const impliedDirs = (base: Buffer, name: Buffer, said = false): boolean => {
    let all = true;
    for (let at = name.indexOf(0x2f, 1); at > 0; at = name.indexOf(0x2f, at + 1)) {
      all = implied(joinPath(base, name.subarray(0, at)), name.subarray(0, at), said) && all;
      if (!all && said && c.incRecursive) break;
    }
    return all;
  };

  const dotDirs: Buffer[] = [];
  if (filters?.hasDirMerge && c.incRecursive && c.recursive && c.filesFrom === undefined) claimParentScan(c, filters, stat);
  let operands = 0;
  const native = engine.sendList && nativeListable(c, filters !== undefined, xattrs !== undefined, false, listed, tick) ? engine.sendList : undefined;
  let tree: NativeTree | undefined;
  for (const op of senderOperands(c, listed, dotDirs)) {
    operands++;
    fromRoot = c.relative && keptFromRoot(op);
    const { src, name: given, contents, base } = operandParts(c, op);
    // rsync's sender first changes into the operand's directory: one it cannot enter is a general I/O
    // error (no deletions on the far side), whatever --ignore/--delete-missing-args say. A --files-from
    // list's directory was entered once, before the list.
    const cd = c.filesFrom === undefined ? operandDir(op, c.relative) : undefined;
    const cdErrno = cd ? chdirErrno(cd) : 0;
    if (cdErrno) {
      ioError |= IOERR_GENERAL;
      messages.push({ text: `change_dir "${showPath(Buffer.from(fullName(cd!), 'latin1'))}" failed: ${errnoSuffix(cdErrno)}`, error: true });
      continue;
    }
    let st: Stat;
    try {
      st = toStat(operandStat(c, src, contents, stat));
    } catch (err) {
      const gone = (err as NodeJS.ErrnoException).code === 'ENOENT';
      // --ignore-missing-args: the operand is left out, said nowhere.
      if (gone && c.missingArgs === 'ignore') continue;
      if (gone && c.missingArgs === 'delete') {
        // --delete-missing-args: listed with mode 0, which the receiving server's generator takes as
        // "delete what you have here" (no filter at this end looks at it). Under -R its directories go
        // first, as for any name (below); one of them missing is "file has vanished", and with
        // incremental recursion (rsync's client with -r) the name below it is then not sent at all.
        if (c.relative && !impliedDirs(base, given, true) && c.incRecursive) continue;
        add(EMPTY, src, given, MISSING, true, false);
        continue;
      }
      if (gone) missingNamed = true;
      else ioError |= IOERR_GENERAL;
      messages.push({ text: `link_stat "${showPath(absolutePath(src))}" failed: ${errText(err as NodeJS.ErrnoException)}`, error: true });
      continue;
    }
    // A named symlink rsync's sender looks through (-k to a directory, --copy-unsafe-links out of the
    // transfer; -L and "link/" were followed by the stat above) is sent as what it leads to, as in the walk.
    let follow = false;
    if ((st.mode & S_IFMT) === S_IFLNK && followed(EMPTY, src, given)) {
      try {
        st = toStat(fs.statSync(src, { bigint: true }));
        follow = true;
      } catch {
        // Gone or leading nowhere since: sent as the symlink it was.
      }
    }
    const dir = isDir(st.mode);
    const name = !c.relative && contents && dir ? Buffer.from('.') : given;
    // (One only --copy-unsafe-links read through was judged as the symlink it is, so never skipped.)
    if (dir && !c.recursive && !c.dirs && !(follow && !c.copyDirlinks)) {
      messages.push({ text: `skipping directory ${showPath(name)}`, error: false });
      continue;
    }
    // The rules' root: the directory itself for "dir/", its parent for "dir" (rsync's current directory);
    // with -R the directory before "/./".
    // Absolute, as rsync's dirbuf: a -F parent scan reads the directories above it.
    const scope = filters?.root('sender', Buffer.from(nodePath.resolve(base.toString('latin1')), 'latin1'));
    // A dot-dir is never excluded; without -R neither is "dir/" (its rules start inside it).
    const unchecked = c.relative ? name.length === 1 && name[0] === 0x2e : contents;
    if (scope && !unchecked && scope.check(name, dir) === 'exclude') continue;
    // -R: each directory above the name goes first, so the far side makes it with its own attributes.
    // Under --no-implied-dirs too, as rsync's sender sends them: flagged implied, the receiver then
    // skips them, but rsync 3.5's receiver refuses a name whose directory is not in the list ("ABORTING
    // due to invalid path from sender", exit 2).
    if (c.relative) impliedDirs(base, name);
    // The plain case: the whole list walked, ordered and later encoded by the addon (push-native.ts).
    if (dir && native) {
      tree = listNative(native, src, name, (kind, errno, path) => {
        if (kind === FlwError.Opendir) {
          ioError |= IOERR_GENERAL;
          messages.push({ text: `opendir "${showPath(path)}" failed: ${errText(fsError(errno, 'opendir'))}`, error: true });
        } else if (errno === 2) {
          ioError |= IOERR_VANISHED;
          messages.push({ text: `file has vanished: "${showPath(path)}"`, error: true });
        } else {
          ioError |= IOERR_GENERAL;
          messages.push({ text: `readlink_stat("${showPath(path)}") failed: ${errText(fsError(errno, kind === FlwError.Stat ? 'lstat' : 'readlink'))}`, error: true });
        }
      });
      if (tree) continue;
    }
    if (dir && (c.recursive || contents)) {
      add(EMPTY, src, name, st, true, true, follow);
      descend(src, name, st.dev, c.recursive, scope, src.length);
    } else {
      add(EMPTY, src, name, st, true, false, follow);
    }
  }

  // A "./name" in -R makes rsync send its directory as "." too (flist.c's implied_dot_dir).
  for (const d of dotDirs) implied(d, Buffer.from('.'));
  // Names repeat only across operands or with -R's implied directories; one operand's walk has none.
  // The addon's list is in rsync's order by construction (held to sortForSend's by the contract tests).
  const sorted = tree ? tree.entries : sortForSend(operands > 1 || dotDirs.length > 0 || c.relative ? mergeRepeats(entries) : entries, true);
  return {
    entries: sorted,
    ...(tree ? { encodeList: tree.encodeList } : {}),
    ioError,
    missingNamed,
    messages,
    removeSent(e: SendEntry) {
      const name = showPath(e.name);
      let st: Stat;
      try {
        st = toStat(stat(e.path));
      } catch (err) {
        const x = err as NodeJS.ErrnoException;
        if (x.code === 'ENOENT') return { text: `sender file already removed: ${name}`, error: false, removed: false };
        return { text: `sender failed to re-lstat ${name}: ${errText(x)}`, error: true, removed: false };
      }
      if (st.size !== e.size || st.mtimeSec !== e.mtime || st.mtimeNsec !== e.mtimeNsec) {
        return { text: `ERROR: Skipping sender remove for changed file: ${name}`, error: true, removed: false };
      }
      try {
        fs.unlinkSync(e.path);
      } catch (err) {
        const x = err as NodeJS.ErrnoException;
        if (x.code === 'ENOENT') return { text: `sender file already removed: ${name}`, error: false, removed: false };
        return { text: `sender failed to remove ${name}: ${errText(x)}`, error: true, removed: false };
      }
      return { text: `sender removed ${name}`, error: false, removed: true };
    },
    ...(reads
      ? {
          sendWhole(e: SendEntry, buf: Buffer, at: number, len: number, kind: number, sumAt: number): number | { message: string; vanished: boolean } {
            const seen = e as Entry;
            const got = reads.file(e.path, c.copyLinks || seen.follow === true, seen.dev, seen.ino, kind, buf, at, len, sumAt);
            if (got >= 0) return got;
            // The open and its check answer as openNative's; a failed read throws as Opened.readWhole does.
            if (got > READ_FAILED) return notOpened(e.path, got);
            throw fsError(READ_FAILED - got, 'read', showPath(e.path));
          },
        }
      : {}),
    open(e: SendEntry): Opened | { message: string; vanished: boolean } {
      const seen = e as Entry;
      if (reads) return openNative(reads, e.path, c.copyLinks || seen.follow === true, seen);
      let fd: number;
      try {
        fd = fs.openSync(e.path, fs.constants.O_RDONLY | (c.copyLinks || seen.follow ? 0 : fs.constants.O_NOFOLLOW));
      } catch (err) {
        const x = err as NodeJS.ErrnoException;
        if (x.code === 'ENOENT') return { message: `file has vanished: "${showPath(e.path)}"`, vanished: true };
        return { message: `send_files failed to open "${showPath(e.path)}": ${errText(x)}`, vanished: false };
      }
      // Numbers, as the walk's: a 64-bit inode rounds alike on both sides.
      const st = fs.fstatSync(fd);
      if (st.dev !== seen.dev || st.ino !== seen.ino || !isReg(st.mode)) {
        // Something else took the listed file's place since the walk: it is not what was listed.
        fs.closeSync(fd);
        return { message: `file has vanished: "${showPath(e.path)}"`, vanished: true };
      }
      return {
        read: (buf, off, len, pos) => readFully(fd, buf, off, len, pos),
        close: () => fs.closeSync(fd),
      };
    },
  };
}
