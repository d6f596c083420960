// The file list a local rsync's sender writes to its receiver, as sizes: rsync copies locally as two
// processes talking its protocol, and its -v summary and --stats count that stream (stream-totals.ts).
// Under incremental recursion (a local copy with -r) the sender sends a first list (the operands, a
// "dir/" operand's entries with it), then one list per directory, each directory's list after its
// parent's, depth first in rsync's sorted order; within a list the entries go out in readdir() order,
// each encoded against the one sent before it (remote/flist-send.ts FlistEncoder), so the sizes depend
// on that order: the directories are read here with opendir(), as rsync's sender reads them. A re-sync
// whose scanTree recorded the lists as it listed the tree (native/streamlist.c, asked for by
// recordsLists) is not walked again: its lists are counted in C, in the same order (recordedLists).

import { opendirSync, readlinkSync } from 'node:fs';
import type { Config } from '../model/config.js';
import type { Stat } from '../model/stat.js';
import { devMajor, devMinor } from '../model/devnum.js';
import { isFailure } from '../model/failure.js';
import type { Engine } from '../engine/engine.js';
import type { RecordedLists } from '../model/listing.js';

import { FlistEncoder, type EncodeOptions, type SendEntry } from '../remote/flist-send.js';
import { flistSettings } from '../remote/flist-settings.js';
import { compareNames } from '../remote/flist-order.js';
import { users, groups } from '../util/userdb.js';
import { baseName, hasTrailingSlash, joinPath } from '../util/names.js';
import { xferSumLength } from './wire-bytes.js';
import { loadAddon, type Addon } from '../engine/native.js';
import { XattrSender } from '../remote/xattr-list.js';
import { remoteXattrs, type RemoteXattrs } from './remote-xattrs.js';
import { readSendAcls } from './acl-read.js';
import type { FilterList } from '../plan/filter.js';
import type { FilterScope } from '../plan/filter-scope.js';
import { resolve as resolvePath } from 'node:path';
import { unsafeSymlink } from '../plan/safelinks.js';
import { senderOperands } from '../plan/sources.js';
import { configXattrRules } from '../plan/xattr-rules.js';

/** Why the lists cannot be modelled for this run (the caller then keeps its plain figures). */
export function unmodelled(c: Config): string | undefined {
  if (!c.recursive) return 'no recursion';
  // Without incremental recursion the sender sends one whole list (wholeList); of one operand only.
  if (!c.incRecursive && c.sources.length > 1) return 'several operands in one list';
  if (c.protocol !== undefined) return 'protocol before 31';
  // -R (and --files-from, which implies it): the lists of relativeFirst/relativeNames, for incremental
  // recursion, the implied directories sent, no filter rules, and no operand whose transferred part
  // starts with "./" (rsync's implied "."; a --files-from list's are found as it is read again).
  if (c.relative && (!c.incRecursive || !c.impliedDirs || c.filters.length > 0 || c.cvsExclude || c.sources.some((s) => relativePart(s).subarray(0, 2).equals(DOT_SLASH)))) return '-R';
  // -A and -X: each entry's ACLs and xattrs are read through the addon; without it, no figures.
  if ((c.acls || c.xattrs) && !attrReader()) return 'no addon for -A or -X';
  if (c.iconv !== undefined) return '--iconv';
  // Several operands that send the same name (two "dir/" operands both send "."): rsync's sender marks
  // the duplicates and sends their directories' lists together.
  if (c.sources.length > 1 && !c.relative) {
    const names = c.sources.map((s) => (hasTrailingSlash(s) ? '.' : baseName(s).toString('latin1')));
    if (new Set(names).size < names.length) return 'repeated names';
  }
  return undefined;
}

/** Whether the run's -v summary, --stats or --log-file will print rsync's byte figures worked out (stream-totals.ts). */
export function streamFigures(c: Config): boolean {
  return !c.json && (c.info.STATS > 0 || c.logFile !== undefined) && unmodelled(c) === undefined;
}

/**
 * Whether scanTree records the source's lists for the byte figures as it scans (spec.ts treeQuery): only
 * when the figures will be printed (the -v summary, --stats, --log-file; not under --json) for a run
 * the model covers, with one operand, and without -H (the recorded lists carry no hard-link groups).
 */
export function recordsLists(c: Config): boolean {
  // scanTree records every entry: the sender's filter rules are applied by the walk here (rsyncLists);
  // its records are incremental recursion's lists.
  // -x: the walk here stops at another filesystem (readDir), scanTree's record does not; -A, -X and -U
  // put what scanTree does not read in each entry.
  // (-L, -k, --copy-unsafe-links: the sender lists what a link leads to, where scanTree records the
  // link; the record is used only when it holds no link: usesRecord.)
  if (c.filters.length > 0 || c.cvsExclude || !c.incRecursive || c.oneFileSystem > 0 || c.acls || c.xattrs || c.atimes || c.relative) return false;
  return !c.json && (c.info.STATS > 0 || c.logFile !== undefined) && c.info.NAME < 2 && c.itemize < 2 && !c.hardLinks && c.sources.length === 1 && unmodelled(c) === undefined;
}

/**
 * `pathname`: which source directory the sender took it from (see rsyncLists' duplicates); `within`: the
 * sender's filter rules where it was listed (its own entries are judged by that scope entered).
 */
type Named = SendEntry & { sub: boolean; pathname?: number; within?: FilterScope | undefined; anchor?: number; relnames?: Relname[]; base?: Buffer };

/**
 * -R: what is left of an operand's path below a directory the sender listed for it (rsync's relname
 * cache), sent in that directory's list; `follow`: the operand ended in "/" (stat through a link).
 */
interface Relname {
  rest: Buffer;
  follow: boolean;
}

const DOT = Buffer.from('.');
const DOT_SLASH = Buffer.from('./');
const DOT_DIR = Buffer.from('/./');
const NO_PATH = Buffer.alloc(0);
const EMPTY = Buffer.alloc(0);
const SLASH = Buffer.from('/');

/**
 * `scope`: the sender's rules in the directory listing the entry, whose per-directory files may hold
 * x-rules of their own (rsync reads an entry's xattrs while its directory's rules are pushed).
 */
function entryOf(path: Buffer, name: Buffer, st: Stat, c: Config, top: boolean, scope?: FilterScope): Named {
  const mode = st.mode;
  const type = mode & 0o170000;
  const e: Named = {
    name,
    path,
    mode,
    size: type === 0o100000 ? st.size : 0,
    mtime: st.mtimeSec,
    mtimeNsec: st.mtimeNsec,
    uid: st.uid,
    gid: st.gid,
    topDir: top,
    contentDir: type === 0o040000,
    sub: type === 0o040000,
  };
  if (type === 0o120000) {
    e.link = readlinkSync(path, { encoding: 'buffer' });
    e.size = e.link.length;
  }
  if (type === 0o020000 || type === 0o060000) {
    const rdev = st.rdev;
    e.rdev = { major: devMajor(rdev), minor: devMinor(rdev) };
  }
  if (c.hardLinks && type !== 0o040000 && st.nlink > 1) e.devIno = `${st.dev}:${st.ino}`;
  // -U: every non-directory's access time, whole seconds.
  if (c.atimes && type !== 0o040000) e.atime = st.atimeSec ?? 0;
  if (c.xattrs) {
    // rsync's get_xattr: files and directories, the other kinds where they are preserved.
    const kept = type === 0o100000 || type === 0o040000 || (type === 0o120000 ? c.links : type === 0o020000 || type === 0o060000 ? c.devices : c.specials);
    if (kept) {
      const items = attrReader()!.xattrs.source(path, mode, c.copyLinks, c.fakeSuper === true, c.xattrsAll === true, scope?.xattrRules() ?? configXattrRules(c));
      if ('message' in items) throw new Unreadable();
      e.xattrItems = items;
    }
  }
  if (c.acls) {
    let failed = false;
    readSendAcls(attrReader()!.addon, c, [e], () => (failed = true));
    if (failed) throw new Unreadable();
  }
  return e;
}

/** The addon's ACL and xattr reads (-A, -X), loaded once; undefined without the addon. */
let attrs: { addon: Addon; xattrs: RemoteXattrs } | null | undefined;
function attrReader(): { addon: Addon; xattrs: RemoteXattrs } | undefined {
  if (attrs === undefined) {
    const a = loadAddon();
    const x = remoteXattrs();
    attrs = a.ok && !('reason' in x) ? { addon: a.addon, xattrs: x } : null;
  }
  return attrs ?? undefined;
}

/** Thrown when a directory or entry cannot be read again: no figures then. */
class Unreadable extends Error {}

/**
 * A directory's entries in readdir() order ("." and ".." left out): the order from opendir(), the
 * lstat of each from the engine's listing (one call for the directory, sorted by name).
 */
function readDir(dir: Buffer, prefix: Buffer | undefined, c: Config, engine: Engine, scope?: FilterScope, anchor = 0): Named[] {
  const list = engine.scanDir(dir, anchor);
  if (isFailure(list)) throw new Unreadable();
  const byName = new Map<string, Stat>();
  list.names.forEach((n, i) => {
    const st = list.stats[i];
    if (st) byName.set(n.toString('latin1'), st);
  });
  const out: Named[] = [];
  const d = opendirSync(dir as unknown as string, { encoding: 'buffer' as BufferEncoding, bufferSize: 256 });
  try {
    for (let de = d.readSync(); de; de = d.readSync()) {
      const n = de.name as unknown as Buffer;
      const st = byName.get(n.toString('latin1'));
      if (!st) throw new Unreadable();
      // Only a directory (listed next) and a symlink (its target read) need their path, and with -A or
      // -X every entry (its attributes read).
      const type = st.mode & 0o170000;
      const path = type === 0o040000 || type === 0o120000 || c.acls || c.xattrs ? joinPath(dir, n) : NO_PATH;
      const name = prefix ? joinPath(prefix, n) : n;
      const sent = type === 0o120000 ? sentStat(c, engine, path, name, st) : st;
      // A followed link to a directory is read through the link ("link/", the anchor the engines may
      // follow up to), and what is below it too.
      const through = sent !== st && (sent.mode & 0o170000) === 0o040000;
      const e = entryOf(through ? Buffer.concat([path, SLASH]) : path, name, sent, c, false, scope);
      if (through) e.anchor = path.length + 1;
      else if (anchor > 0) e.anchor = anchor;
      out.push(e);
    }
  } finally {
    d.closeSync();
  }
  if (out.length !== byName.size) throw new Unreadable();
  // -x: a directory on another filesystem is sent without its contents (-xx: not at all), which the
  // figures do not work out; a tree on one filesystem is listed as without -x.
  if (c.oneFileSystem > 0) {
    const here = engine.lstat(dir);
    if (isFailure(here) || list.stats.some((st) => st && (st.mode & 0o170000) === 0o040000 && st.dev !== here.dev)) throw new Unreadable();
  }
  if (!scope) return out;
  // The sender's filter rules, as its walk applied them (names relative to the transfer's root).
  const kept = out.filter((e) => scope.check(e.name, e.sub) !== 'exclude');
  for (const e of kept) if (e.sub) e.within = scope;
  return kept;
}

/** -L, -k, --copy-unsafe-links: options under which the sender lists some links as what they lead to. */
const followsLinks = (c: Config): boolean => c.copyLinks || c.copyDirlinks || c.copyUnsafeLinks;

/**
 * Whether scanTree's record is the sender's lists: always where it records them, but under -L, -k and
 * --copy-unsafe-links only for a tree without a symlink (the operand itself a directory, not a link to
 * one): there lstat and stat agree on every entry. Otherwise the lists are walked here.
 */
function usesRecord(c: Config, engine: Engine, recorded: RecordedLists): boolean {
  if (!recordsLists(c)) return false;
  if (!followsLinks(c)) return true;
  if (recorded.links > 0) return false;
  const top = engine.lstat(c.sources[0]!);
  return !isFailure(top) && (top.mode & 0o170000) === 0o040000;
}

/**
 * What the sender lists for a symlink at `path` (`name` in the list): with -L what it leads to, with
 * --copy-unsafe-links the same for an unsafe one, with -k a directory it leads to; else the link. A
 * link it must follow that leads nowhere is the sender's error: no figures (the run reported it).
 */
function sentStat(c: Config, engine: Engine, path: Buffer, name: Buffer, st: Stat): Stat {
  if (!followsLinks(c)) return st;
  let all = c.copyLinks;
  if (!all && c.copyUnsafeLinks) {
    const raw = readlinkSync(path, { encoding: 'buffer' });
    // Judged on the link as it is, before --munge-links' unmunging (rsync's readlink_stat).
    all = unsafeSymlink(raw, name);
  }
  if (!all && !c.copyDirlinks) return st;
  const through = engine.stat(path);
  if (isFailure(through)) {
    if (all) throw new Unreadable();
    return st;
  }
  return all || (through.mode & 0o170000) === 0o040000 ? through : st;
}

/** An operand as the sender lists it: a symlink followed as sentStat says (its name as listed). */
function operandStat(c: Config, engine: Engine, src: Buffer): Stat {
  const st = engine.lstat(src);
  if (isFailure(st)) throw new Unreadable();
  return (st.mode & 0o170000) === 0o120000 ? sentStat(c, engine, src, sentAsDot(src) ? DOT : baseName(src), st) : st;
}

const sorted = (l: Named[]): Named[] => l.slice().sort((a, b) => compareNames(a.name, a.sub, b.name, b.sub));

/**
 * Whether a directory operand is sent as "." followed by its entries in the first list: "dir/", and
 * "dir/." or "." (rsync's sender takes a name ending in "/." as its directory's contents, DOTDIR_NAME).
 */
const sentAsDot = (src: Buffer): boolean => hasTrailingSlash(src) || baseName(src).equals(DOT);

/** A list scanTree recorded, counted by RecordedLists.count (its arguments but the settings and state). */
export interface RecordedList {
  list: number;
  prefix: Buffer;
  top: Buffer | undefined;
  topMeta: Float64Array;
  count: number;
}

/** A list as rsync's sender sends it: its entries (or the record of them), and (but for the first) its directory's index in dir_flist. */
export type SentList = ({ entries: SendEntry[] } | { recorded: RecordedList }) & { dirNdx?: number };

const NO_META = new Float64Array(8);

/** The lists of the run's one directory operand as scanTree recorded them, in the same order as rsyncLists'. */
function* recordedLists(c: Config, engine: Engine, r: RecordedLists): Generator<SentList> {
  const src = c.sources[0]!;
  const st = engine.lstat(src);
  if (isFailure(st) || (st.mode & 0o170000) !== 0o040000) throw new Unreadable();
  const topMeta = Float64Array.of(st.mode, 0, st.mtimeSec, st.mtimeNsec, st.uid, st.gid, 0, 0);
  const o = r.order;
  const n = o.length / 3;
  // "dir/": the first list is "." and the directory's entries; "dir": the first list is "dir" alone,
  // and its entries, named below it, come as the list of directory 0.
  const slash = sentAsDot(src);
  const prefix = slash ? NO_PATH : baseName(src);
  yield slash
    ? { recorded: { list: 0, prefix, top: DOT, topMeta, count: 1 + o[2]! } }
    : { recorded: { list: -1, prefix, top: prefix, topMeta, count: 1 } };
  for (let k = slash ? 1 : 0; k < n; k++) yield { recorded: { list: k, prefix, top: undefined, topMeta: NO_META, count: o[k * 3 + 2]! }, dirNdx: o[k * 3 + 1]! };
}

/**
 * rsync's lists for this run's sources, in the order its sender sends them. Throws when a source
 * cannot be read again as the run read it: the caller then gives up on the figures.
 */
export function* rsyncLists(c: Config, engine: Engine, recorded?: RecordedLists, filters?: FilterList): Generator<SentList> {
  if (recorded && usesRecord(c, engine, recorded)) {
    yield* recordedLists(c, engine, recorded);
    return;
  }
  // The first list: each operand, and a "dir/" operand's entries after its ".". Consecutive operands in
  // one source directory share the sender's pathname (flist.c send_file_list's lastdir).
  const first: Named[] = [];
  const implied = new ImpliedDirs(c, engine);
  if (c.relative) first.push(...relativeFirst(c, engine, implied));
  let pathname = -1;
  let lastDir: string | undefined;
  for (const src of c.relative ? [] : c.sources) {
    const st = operandStat(c, engine, src);
    const dir = (st.mode & 0o170000) === 0o040000;
    const where = sourceDir(src);
    if (where !== lastDir) pathname++;
    lastDir = where;
    const from = (e: Named): Named => Object.assign(e, { pathname });
    const scope = senderScope(filters, src, dir);
    if (dir && sentAsDot(src)) {
      first.push(from(entryOf(src, DOT, st, c, true)));
      // Its entries with its own per-directory files read (rsync pushes them before it lists them).
      // ("link/": the operator's path reaches its directory through the symlink.)
      first.push(...readDir(src, undefined, c, engine, scope?.enterDir(EMPTY, src), src.length).map(from));
    } else {
      const e = entryOf(src, baseName(src), st, c, true);
      if (scope && scope.check(e.name, e.sub) === 'exclude') continue;
      if (scope && e.sub) e.within = scope;
      first.push(from(e));
    }
  }
  yield { entries: first };

  // The directories each list adds, numbered in the order rsync's dir_flist takes them; the lists go
  // out depth first, each directory's subdirectories in sorted order right after it. Directories of one
  // name (two operands sending "sub") go out in one list (flist.c send_extra_file_list), announced by
  // the first one's index; each duplicate's entries are scanned unless the one before it was scanned
  // from the same source directory.
  let dirIndex = 0;
  interface Node {
    dups: Named[];
    ndx: number;
  }
  const addDirs = (entries: Named[]): Node[] => {
    const nodes: Node[] = [];
    for (const e of sorted(entries.filter((x) => x.sub))) {
      const ndx = dirIndex++;
      // "." takes an index but is never sent a list of its own (its entries are in the first list).
      if (e.name.length === 1 && e.name[0] === 0x2e) continue;
      const last = nodes[nodes.length - 1];
      if (last && last.dups[0]!.name.equals(e.name)) last.dups.push(e);
      else nodes.push({ dups: [e], ndx });
    }
    return nodes;
  };
  const stack: Node[] = addDirs(first).reverse();
  while (stack.length) {
    const node = stack.pop()!;
    const entries: Named[] = [];
    let prev: Named | undefined;
    let prevScanned = false;
    for (const d of node.dups) {
      const scanned: boolean = !(prev && prevScanned && prev.pathname === d.pathname);
      // -R: an implied directory's list holds only the names listed below it.
      if (scanned && d.contentDir) entries.push(...readDir(d.path, d.name, c, engine, d.within?.enterDir(d.name, d.path), d.anchor).map((e) => Object.assign(e, { pathname: d.pathname, base: d.base })));
      if (d.relnames) entries.push(...relativeNames(c, engine, d, implied));
      prev = d;
      prevScanned = scanned;
    }
    yield { entries, dirNdx: node.ndx };
    stack.push(...addDirs(entries).reverse());
  }
}

/** -R: an operand's transferred part (after "/./", or the whole path). */
function relativePart(src: Buffer): Buffer {
  const at = src.indexOf(DOT_DIR);
  return at < 0 ? src : src.subarray(at + 3);
}

/**
 * -R's implied directories as rsync's send_implied_dirs sends them under incremental recursion: the
 * first component of what is left of a name, stat()ed through links, sent unless it is the one sent
 * last from the same source directory; the rest of the name is kept for that directory's own list.
 */
class ImpliedDirs {
  private last: Named | undefined;
  private lastName: Buffer | undefined;

  constructor(
    private readonly c: Config,
    private readonly engine: Engine,
  ) {}

  /** The implied directory `name` (read at `base`/`name`), with `rest` kept for its list; the entry when sent anew. */
  send(base: Buffer, pathname: number, name: Buffer, rest: Relname): Named | undefined {
    if (this.last && this.last.pathname === pathname && this.lastName!.equals(name)) {
      this.last.relnames!.push(rest);
      return undefined;
    }
    const path = joinPath(base, name);
    const st = this.engine.stat(path);
    if (isFailure(st)) throw new Unreadable();
    const e: Named = Object.assign(entryOf(path, name, st, this.c, false), { pathname, base, contentDir: false, impliedDir: true });
    // Only a directory keeps names for its list (a file there is the run's error: no figures then).
    if (!e.sub) throw new Unreadable();
    e.relnames = [rest];
    this.last = e;
    this.lastName = name;
    return e;
  }
}

/** Strips a trailing "/" (kept: "/" itself); whether there was one. */
function trimSlash(b: Buffer): [Buffer, boolean] {
  let n = b.length;
  while (n > 1 && b[n - 1] === 0x2f) n--;
  return [b.subarray(0, n), n < b.length];
}

/**
 * -R's first list (flist.c send_file_list): per operand, the first component of a path with more than
 * one as an implied directory (the rest kept for its list), or the operand itself as a top directory.
 */
function relativeFirst(c: Config, engine: Engine, implied: ImpliedDirs): Named[] {
  const first: Named[] = [];
  let pathname = -1;
  let lastBase: Buffer | undefined;
  // --files-from: the list's names, each "SRC/./NAME" (plan/sources.ts; the list is read once per run).
  const dotDirs: Buffer[] = [];
  const operands = c.filesFrom !== undefined ? senderOperands(c, undefined, dotDirs) : c.sources;
  if (dotDirs.length > 0 || (c.filesFrom !== undefined && operands.some((s) => relativePart(s).subarray(0, 2).equals(DOT_SLASH)))) throw new Unreadable();
  for (const src of operands) {
    const at = src.indexOf(DOT_DIR);
    const base = at < 0 ? Buffer.alloc(0) : src.subarray(0, at);
    if (!lastBase || !lastBase.equals(base)) pathname++;
    lastBase = base;
    const [fn, slash] = trimSlash(relativePart(src));
    if (fn.length === 0 || fn.equals(DOT)) {
      // "dir/./": the directory's contents, as a "dir/" operand sends them.
      const st = operandStat(c, engine, base.length ? base : DOT);
      first.push(Object.assign(entryOf(base, DOT, st, c, true), { pathname, base }));
      first.push(...readDir(base.length ? base : DOT, undefined, c, engine).map((e) => Object.assign(e, { pathname, base })));
      continue;
    }
    const cut = fn.indexOf(0x2f, 1);
    if (cut > 0) {
      const e = implied.send(base, pathname, fn.subarray(0, cut), { rest: fn.subarray(cut + 1), follow: slash });
      if (e) first.push(e);
      continue;
    }
    first.push(relativeTop(c, engine, base, fn, slash, pathname));
  }
  return first;
}

/** A name of an -R operand sent as a top directory (or file): stat()ed through a link when it ended in "/" (or under -k). */
function relativeTop(c: Config, engine: Engine, base: Buffer, name: Buffer, follow: boolean, pathname: number): Named {
  const path = joinPath(base, name);
  const st = follow || c.copyDirlinks ? engine.stat(path) : engine.lstat(path);
  if (isFailure(st)) throw new Unreadable();
  const sent = follow || (st.mode & 0o170000) !== 0o120000 ? st : sentStat(c, engine, path, name, st);
  const e = entryOf(path, name, sent, c, true);
  return Object.assign(e, { pathname, base, contentDir: e.sub });
}

/** -R: the names kept below directory `d`, sent at the end of its list (flist.c send1extra). */
function relativeNames(c: Config, engine: Engine, d: Named, implied: ImpliedDirs): Named[] {
  const out: Named[] = [];
  for (const r of d.relnames!) {
    const cut = r.rest.indexOf(0x2f);
    if (cut > 0) {
      const e = implied.send(d.base!, d.pathname!, joinPath(d.name, r.rest.subarray(0, cut)), { rest: r.rest.subarray(cut + 1), follow: r.follow });
      if (e) out.push(e);
      continue;
    }
    out.push(relativeTop(c, engine, d.base!, joinPath(d.name, r.rest), r.follow, d.pathname!));
  }
  d.relnames = undefined;
  return out;
}

/**
 * The one list rsync's sender sends without incremental recursion, for the run's one operand, in the
 * order it sends the entries: the operand ("." for "dir/"), then each directory's entries in readdir()
 * order followed by its subdirectories' in the same order, depth first (flist.c send_directory). Throws
 * as rsyncLists does.
 */
export function* wholeList(c: Config, engine: Engine, filters?: FilterList): Generator<SendEntry> {
  const src = c.sources[0]!;
  const st = operandStat(c, engine, src);
  const dir = (st.mode & 0o170000) === 0o040000;
  const scope = senderScope(filters, src, dir);
  const down = function* (d: Named, own: FilterScope | undefined): Generator<SendEntry> {
    const entries = readDir(d.path, d.name.equals(DOT) ? undefined : d.name, c, engine, own, d.anchor);
    yield* entries;
    for (const e of entries) if (e.sub) yield* down(e, e.within?.enterDir(e.name, e.path));
  };
  if (dir && sentAsDot(src)) {
    const top = entryOf(src, DOT, st, c, true);
    yield top;
    yield* down(top, scope?.enterDir(EMPTY, src));
    return;
  }
  const top = entryOf(src, baseName(src), st, c, true);
  if (scope && scope.check(top.name, top.sub) === 'exclude') return;
  yield top;
  if (dir) yield* down(top, scope?.enterDir(top.name, src));
}

/**
 * The sender's filter rules for an operand, rooted where the transfer's names start (run/walk.ts
 * rootScopes): in a "dir/" operand, else in the directory holding it.
 */
function senderScope(filters: FilterList | undefined, src: Buffer, dir: boolean): FilterScope | undefined {
  return filters?.root('sender', Buffer.from(resolvePath(dir && sentAsDot(src) ? src.toString('latin1') : sourceDir(src) || '.'), 'latin1'));
}

/** The directory rsync's sender changes to for an operand ("dir" for "dir/" and "dir/x"; "" for "x"). */
function sourceDir(src: Buffer): string {
  let n = src.length;
  while (n > 1 && src[n - 1] === 0x2f) n--;
  const s = src.subarray(0, n);
  if (sentAsDot(src)) return s.toString('latin1');
  const at = s.lastIndexOf(0x2f);
  return at < 0 ? '' : s.subarray(0, at).toString('latin1');
}

/** rsync's send_file_entry as a local copy's sender runs it: protocol `protocol`, rsync 3.5's compat flags, incremental lists. */
export function listEncoder(c: Config, protocol: number, incremental = true): FlistEncoder {
  return new FlistEncoder(listOptions(c, protocol), incremental);
}

/** The encoder's settings for a local copy's lists (listEncoder). */
export function listOptions(c: Config, protocol: number): EncodeOptions {
  return {
    ...flistSettings(c),
    protocol,
    varintFlags: true,
    id0Names: true,
    checksumLen: c.checksum ? xferSumLength(c.xferSum) : 0,
    acls: c.acls,
    atimes: c.atimes,
    userName: (id) => nameBytes(users.nameOf(id)),
    groupName: (id) => nameBytes(groups.nameOf(id)),
    // -X: the sender's cache of lists sent, one per encoder (an entry's list after it, or its index).
    ...(c.xattrs ? { xattrSender: new XattrSender() } : {}),
  };
}

const nameBytes = (n: string | undefined): Buffer | undefined => (n === undefined ? undefined : Buffer.from(n));
