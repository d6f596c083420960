// The file list as an rsync sender transmits it (protocol 30 and later, without incremental
// recursion): one entry per name, each field sent only when it differs from the previous entry's,
// then the end marker with the sender's I/O-error flags, then the uid and gid name lists. The sender
// is not trusted: every length, count, mode and name is checked here, before anything downstream can
// act on it (names with "..", absolute names, NUL bytes, nanoseconds out of range, unknown file types,
// hard-link references forward or out of range, lengths past rsync's own limits).

import { Exit, errnoText, showPath } from '../util/errors.js';
import type { WireCharset } from './wire-charset.js';
import { absolutePath } from '../util/names.js';
import { AclDecoder, type ReceivedAcls } from './acl-list.js';
import { Cursor, ProtocolError, copyBytes } from './wire.js';
import { compareNames, handedOrder, type NativeOrder } from './flist-order.js';
import type { XattrReceiver } from './xattr-list.js';

/** rsync's XMIT_* flag bits (rsync.h), the ones protocol 30+ senders use. */
export const Xmit = {
  TopDir: 1 << 0,
  SameMode: 1 << 1,
  ExtendedFlags: 1 << 2,
  SameUid: 1 << 3,
  SameGid: 1 << 4,
  SameName: 1 << 5,
  LongName: 1 << 6,
  SameTime: 1 << 7,
  SameRdevMajor: 1 << 8,
  NoContentDir: 1 << 8,
  Hlinked: 1 << 9,
  UserNameFollows: 1 << 10,
  GroupNameFollows: 1 << 11,
  HlinkFirst: 1 << 12,
  IoErrorEndlist: 1 << 12,
  ModNsec: 1 << 13,
  SameAtime: 1 << 14,
} as const;

/** rsync's MAXPATHLEN: no name or symlink target on the wire may reach it. */
const MAXPATHLEN = 1024;
const MAX_WIRE_NSEC = 999_999_999;

const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;
const TYPES = new Set([S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK]);

export const isDir = (mode: number): boolean => (mode & S_IFMT) === S_IFDIR;
export const isReg = (mode: number): boolean => (mode & S_IFMT) === S_IFREG;
export const isLink = (mode: number): boolean => (mode & S_IFMT) === S_IFLNK;
export const isDevice = (mode: number): boolean => (mode & S_IFMT) === S_IFCHR || (mode & S_IFMT) === S_IFBLK;
export const isSpecial = (mode: number): boolean => (mode & S_IFMT) === S_IFIFO || (mode & S_IFMT) === S_IFSOCK;

/** The file-list fields the command line decides (-o, -g, -l, -D's halves, -H, --numeric-ids), for the encoder and the decoder alike. */
export interface FlistSettings {
  uid: boolean;
  gid: boolean;
  links: boolean;
  devices: boolean;
  specials: boolean;
  hardLinks: boolean;
  /** --numeric-ids: no name lists follow. */
  numericIds: boolean;
}

/** What the two sides agreed on that changes which fields an entry carries. */
export interface FlistOptions extends FlistSettings {
  protocol: number;
  atimes: boolean;
  /** -c: length of the whole-file checksum each regular file carries; 0 without -c. */
  checksumLen: number;
  /** -R: names may start with "/" (stripped, as rsync strips them). */
  relative: boolean;
  /** compat flag CF_VARINT_FLIST_FLAGS (rsync 3.2+): each entry's flags are a varint, not one or two bytes. */
  varintFlags: boolean;
  /** compat flag CF_SAFE_FLIST or protocol 31: the list may end with the sender's I/O-error flags. */
  safeFlist: boolean;
  /** compat flag CF_ID0_NAMES: the id lists end with the names of uid 0 and gid 0. */
  id0Names: boolean;
  /** -A: each entry but a symlink carries its ACLs (acl-list.ts); the id lists name their ids too. */
  acls?: boolean;
  /** An incremental list (a batch rsync wrote): an ACL's names may follow their ids inline (acl-list.ts). */
  aclNamesInline?: boolean;
  /**
   * --delete-missing-args: the sender lists an operand it could not find with mode 0 (what the receiver
   * is to delete), the one mode without a file type that rsync's receiver then takes.
   */
  missingArgs?: boolean;
  /** -X: each entry is followed by its xattr list (xattr-list.ts), kept here. */
  xattrReceiver?: XattrReceiver;
  /**
   * Incremental recursion (a batch: cli/batch-read.ts): a hard link's reference is a list index, not a
   * place in `entries`; this maps it (undefined: out of range). A reference to an earlier part of the
   * list is not abbreviated (rsync sends the whole entry then).
   */
  hlinkRef?: (ref: number) => { index: number; abbreviated: boolean } | undefined;
  /**
   * --iconv (iconv-wire.ts): each name is converted from the wire's UTF-8 before it is checked, and,
   * with `links` (the symlink-iconv flag), each symlink target; `report` prints a target that does not
   * convert (the entry keeps its place in the list but is dropped).
   */
  names?: { charset: WireCharset; links: boolean; report(message: string): void };
}

export interface RemoteEntry {
  /** The cleaned relative name ("." for the transfer root). */
  name: Buffer;
  mode: number;
  size: number;
  mtime: number;
  mtimeNsec: number;
  atime?: number;
  uid?: number;
  gid?: number;
  /** Devices (and specials before protocol 31): rsync's major and minor numbers. */
  rdev?: { major: number; minor: number };
  /** A symlink's target, as sent. */
  link?: Buffer;
  /** -H: the index of the first entry of this entry's hard-link group (itself when first). */
  hlinkGroup?: number;
  /** -c: the sender's whole-file checksum. */
  sum?: Buffer;
  /** rsync's XMIT_TOP_DIR: an operand's own directory, which --delete treats as a deletion root. */
  topDir: boolean;
  /** rsync's XMIT_NO_CONTENT_DIR: a directory sent without its contents (-d, or implied by -R): nothing is deleted in it. */
  noContent?: boolean;
  /** -A: the entry's ACLs as sent (ids the sender's). */
  acls?: ReceivedAcls;
  /** -X: the index of its xattr list in the session's XattrReceiver. */
  xattr?: number;
  /**
   * --iconv: a symlink whose target this client could not convert (rsync's receiver empties the entry):
   * it keeps its place in the list as sent and is made, listed and printed nowhere.
   */
  dropped?: true;
  /**
   * -R: the name came with leading slashes (an absolute operand's path), which cleanName dropped. rsync's
   * receiver sorts it with one leading slash and strips it only after the sort (flist_sort_and_clean's
   * strip_root), so it sorts before every name without one, as sortAndClean sorts it.
   */
  rooted?: true;
}

/**
 * rsync's FLAG_IMPLIED_DIR (protocol 30 and later): a directory the sender sent only as the way to an
 * operand of -R (XMIT_TOP_DIR with XMIT_NO_CONTENT_DIR). Under --no-implied-dirs rsync's receiver skips
 * it altogether: no line, no listing, no attributes; the way is made with default permissions.
 */
export const impliedDir = (e: Pick<RemoteEntry, 'topDir' | 'noContent'>): boolean => e.topDir && e.noContent === true;

export interface FlistEnd {
  end: true;
  /** The sender's io_error flags (IOERR_GENERAL 1, IOERR_VANISHED 2, IOERR_DEL_LIMIT 4). */
  ioError: number;
}

/** rsync's IOERR_VALID_MASK: a peer may set only these bits. */
const IOERR_VALID_MASK = 0x7;
const IOERR_GENERAL = 1;

/**
 * A name from the wire in this client's charset (--iconv). One that does not convert ends the run as
 * rsync 3.5's receiver ends it: the name it is left with (none) is not one the client asked for.
 */
function localName(names: NonNullable<FlistOptions['names']>, raw: Buffer): Buffer {
  const got = names.charset.fromWire(raw);
  if (typeof got !== 'number') return got;
  names.report(`[Receiver] cannot convert filename: ${showPath(raw)} (${errnoText(got)})`);
  throw new ProtocolError('ERROR: rejecting unrequested file-list name: ', Exit.Unsupported);
}

/**
 * Decodes entries one at a time. Each call reads a whole entry or throws `Short` having changed
 * nothing, so the caller can retry the same call after more bytes arrive.
 */
export class FlistDecoder {
  private lastName = Buffer.alloc(0);
  private mtime = 0;
  private mode = 0;
  private uid = 0;
  private gid = 0;
  private atime = 0;
  private rdevMajor = 0;
  readonly entries: RemoteEntry[] = [];
  /** uid and gid → name, as the sender named them. */
  readonly userNames = new Map<number, Buffer>();
  readonly groupNames = new Map<number, Buffer>();
  private readonly aclDecoder: AclDecoder | undefined;
  /** IOERR_GENERAL once --iconv dropped an entry (rsync's receiver counts it as its own I/O error). */
  private unconverted = 0;

  constructor(private readonly o: FlistOptions) {
    const named = o.aclNamesInline ? (id: number, user: boolean, name: Buffer): void => void (user ? this.userNames : this.groupNames).set(id, name) : undefined;
    this.aclDecoder = o.acls ? new AclDecoder(named) : undefined;
  }

  /** The next entry, or the end marker. */
  next(c: Cursor): RemoteEntry | FlistEnd {
    const o = this.o;
    let flags: number;
    if (o.varintFlags) {
      flags = c.varint();
      if (flags === 0) return { end: true, ioError: (c.varint() & IOERR_VALID_MASK) | this.unconverted };
    } else {
      flags = c.byte();
      if (flags === 0) return { end: true, ioError: this.unconverted };
      if (flags & Xmit.ExtendedFlags) flags |= c.byte() << 8;
      if (flags === (Xmit.ExtendedFlags | Xmit.IoErrorEndlist)) {
        if (!o.safeFlist) throw new ProtocolError(`Invalid flist flag: ${flags.toString(16)}`, Exit.Protocol);
        return { end: true, ioError: (c.varint() & IOERR_VALID_MASK) | this.unconverted };
      }
    }
    let l1 = 0;
    if (flags & Xmit.SameName) l1 = c.byte();
    const l2 = flags & Xmit.LongName ? c.varint() : c.byte();
    if (l1 > this.lastName.length || l2 < 0 || l2 >= MAXPATHLEN - l1) {
      throw new ProtocolError(`overflow: flags=0x${flags.toString(16)} l1=${l1} l2=${l2}`, Exit.StreamIO);
    }
    // The name: the previous one's first l1 bytes, then l2 new ones (copied straight, no list of parts).
    const raw = Buffer.allocUnsafe(l1 + l2);
    c.copyTo(raw, l1, l2);
    copyBytes(this.lastName, 0, raw, 0, l1);

    let first: RemoteEntry | undefined;
    /** The group's first entry when this entry is sent whole all the same (an earlier part of an incremental list). */
    let leader: RemoteEntry | undefined;
    if (o.hardLinks && (flags & (Xmit.Hlinked | Xmit.HlinkFirst)) === Xmit.Hlinked) {
      const ref = c.varint();
      const at = o.hlinkRef ? o.hlinkRef(ref) : ref >= 0 && ref < this.entries.length ? { index: ref, abbreviated: true } : undefined;
      if (!at || at.index < 0 || at.index >= this.entries.length) {
        throw new ProtocolError(`hard-link reference out of range: ${ref} (${this.entries.length})`, Exit.Protocol);
      }
      if (at.abbreviated) first = this.entries[at.index]!;
      else leader = this.entries[at.index]!;
    }

    let size: number;
    let mtime = this.mtime;
    let nsec = 0;
    let mode = this.mode;
    let atime = this.atime;
    let uid = this.uid;
    let gid = this.gid;
    let rdevMajor = this.rdevMajor;
    let rdev: RemoteEntry['rdev'];
    let link: Buffer | undefined;
    let userName: Buffer | undefined;
    let groupName: Buffer | undefined;
    if (first) {
      // An abbreviated hard link: everything but the name comes from the group's first entry.
      ({ size, mtime, mtimeNsec: nsec, mode } = first);
      if (first.atime !== undefined) atime = first.atime;
      if (first.uid !== undefined) uid = first.uid;
      if (first.gid !== undefined) gid = first.gid;
      rdev = first.rdev;
      link = first.link;
    } else {
      size = c.varlong(3);
      if (size < 0) throw new ProtocolError('Offset underflow: file-length is negative', Exit.Unsupported);
      if (!(flags & Xmit.SameTime)) mtime = c.varlong(4);
      if (flags & Xmit.ModNsec) nsec = c.varintIn(0, MAX_WIRE_NSEC, 'modtime_nsec');
      if (!(flags & Xmit.SameMode)) mode = c.int32() >>> 0;
      if (!TYPES.has(mode & S_IFMT) && !(mode === 0 && o.missingArgs)) {
        throw new ProtocolError(`invalid file mode 0${mode.toString(8)} for ${raw.toString('latin1')}`, Exit.Protocol);
      }
      if (o.atimes && !isDir(mode) && !(flags & Xmit.SameAtime)) atime = c.varlong(4);
      if (o.uid && !(flags & Xmit.SameUid)) {
        uid = c.varint() >>> 0;
        if (flags & Xmit.UserNameFollows) userName = c.bytes(c.byte());
      }
      if (o.gid && !(flags & Xmit.SameGid)) {
        gid = c.varint() >>> 0;
        if (flags & Xmit.GroupNameFollows) groupName = c.bytes(c.byte());
      }
      if ((o.devices && isDevice(mode)) || (o.specials && isSpecial(mode) && o.protocol < 31)) {
        if (!(flags & Xmit.SameRdevMajor)) rdevMajor = c.varint() >>> 0;
        rdev = { major: rdevMajor, minor: c.varint() >>> 0 };
        size = 0;
      } else if (isDevice(mode)) {
        size = 0;
      }
      if (o.links && isLink(mode)) {
        const len = c.varint();
        if (len <= 0 || len >= MAXPATHLEN) throw new ProtocolError(`overflow: linkname_len=${len}`, Exit.StreamIO);
        link = Buffer.from(c.bytes(len));
      }
    }
    let sum: Buffer | undefined;
    if (o.checksumLen && isReg(mode)) sum = first ? first.sum : Buffer.from(c.bytes(o.checksumLen));
    if (first && o.checksumLen && isReg(mode) && !sum) sum = Buffer.alloc(o.checksumLen);
    const acls = this.aclDecoder && !isLink(mode) ? this.aclDecoder.decode(c, mode, isDir(mode)) : undefined;
    const xattrs = o.xattrReceiver?.read(c);

    // Only now, with the whole entry read, does anything change: a Short above leaves no trace.
    // Under --iconv the name is checked as converted: that is the name the destination gets.
    const given = o.names ? localName(o.names, raw) : raw;
    const name = cleanName(given, o.relative);
    // (An abbreviated hard link to a dropped symlink has its emptied target: dropped alike.)
    let dropped = first?.dropped === true;
    if (o.names?.links && link && !first) {
      const got = o.names.charset.fromWire(link);
      if (typeof got === 'number') {
        // rsync's full_fname of the name: beneath its working directory, where the list arrives.
        o.names.report(`[Receiver] cannot convert symlink data for: "${showPath(absolutePath(name))}" (${errnoText(got)})`);
        this.unconverted = IOERR_GENERAL;
        dropped = true;
      } else link = got;
    }
    if (name.length === 1 && name[0] === DOT && !isDir(mode)) {
      // "." is the transfer root: a sender that makes it a file could make a receiver replace the
      // destination directory itself.
      throw new ProtocolError(`ABORTING due to invalid root entry from sender: mode 0${mode.toString(8)}`, Exit.Protocol);
    }
    this.lastName = raw;
    this.mtime = mtime;
    this.mode = mode;
    this.uid = uid;
    this.gid = gid;
    this.atime = atime;
    this.rdevMajor = rdevMajor;
    acls?.commit();
    if (userName?.length) this.userNames.set(uid, Buffer.from(userName));
    if (groupName?.length) this.groupNames.set(gid, Buffer.from(groupName));
    const entry: RemoteEntry = { name, mode, size, mtime, mtimeNsec: nsec, topDir: (flags & Xmit.TopDir) !== 0 && isDir(mode) };
    if (isDir(mode) && flags & Xmit.NoContentDir) entry.noContent = true;
    if (o.atimes && !isDir(mode)) entry.atime = atime;
    if (o.uid) entry.uid = uid;
    if (o.gid) entry.gid = gid;
    if (rdev) entry.rdev = rdev;
    if (link) entry.link = link;
    if (sum) entry.sum = sum;
    if (acls) entry.acls = acls.acls;
    if (xattrs) entry.xattr = o.xattrReceiver!.commit(xattrs);
    if (dropped) entry.dropped = true;
    if (given[0] === SLASH && !(name.length === 1 && name[0] === DOT)) entry.rooted = true;
    if (o.hardLinks && flags & Xmit.Hlinked) {
      const head = first ?? leader;
      entry.hlinkGroup = head ? head.hlinkGroup ?? this.entries.indexOf(head) : this.entries.length;
    }
    this.entries.push(entry);
    return entry;
  }

  /**
   * The uid and gid lists that follow the end marker (rsync's recv_id_list): (id, name) pairs up to
   * a zero id, then the names of id 0 when the sender includes them.
   */
  idLists(c: Cursor): void {
    const o = this.o;
    const users = new Map<number, Buffer>();
    const groups = new Map<number, Buffer>();
    const list = (into: Map<number, Buffer>): void => {
      for (let n = 0; ; n++) {
        if (n > 1_000_000) throw new ProtocolError('id list too long', Exit.Protocol);
        const id = c.varint() >>> 0;
        if (id === 0) break;
        const len = c.byte();
        into.set(id, Buffer.from(c.bytes(len)));
      }
      if (o.id0Names) {
        const len = c.byte();
        if (len) into.set(0, Buffer.from(c.bytes(len)));
      }
    };
    // -A's named entries are named in these lists too, so they come even without -o/-g.
    if ((o.uid || o.acls) && !o.numericIds) list(users);
    if ((o.gid || o.acls) && !o.numericIds) list(groups);
    for (const [k, v] of users) this.userNames.set(k, v);
    for (const [k, v] of groups) this.groupNames.set(k, v);
  }
}

const DOT = 0x2e;
const SLASH = 0x2f;

/**
 * rsync's clean_fname with CFN_REFUSE_DOT_DOT_DIRS, plus the refusals of recv_file_entry: no ".."
 * component, no NUL byte, no absolute name unless -R (whose leading slashes are dropped); repeated
 * slashes, "." components and a trailing slash are removed. The empty name is ".".
 */
export function cleanName(raw: Buffer, relative: boolean): Buffer {
  // Most names need nothing: checked in one pass, without splitting them.
  if (alreadyClean(raw)) return raw;
  if (raw.includes(0)) throw unsafe(raw);
  if (raw[0] === SLASH && !relative) throw unsafe(raw);
  const parts: Buffer[] = [];
  let at = 0;
  while (at <= raw.length) {
    let end = raw.indexOf(SLASH, at);
    if (end < 0) end = raw.length;
    const part = raw.subarray(at, end);
    at = end + 1;
    if (part.length === 0 || (part.length === 1 && part[0] === DOT)) continue;
    if (part.length === 2 && part[0] === DOT && part[1] === DOT) throw unsafe(raw);
    parts.push(part);
  }
  if (!parts.length) return Buffer.from('.');
  const out: Buffer[] = [];
  for (const p of parts) {
    if (out.length) out.push(Buffer.from('/'));
    out.push(p);
  }
  return Buffer.concat(out);
}

/** A name with no NUL, no leading, trailing or doubled "/", and no "." or ".." component: cleanName's own result. */
function alreadyClean(raw: Buffer): boolean {
  const n = raw.length;
  if (n === 0 || raw[0] === SLASH || raw[n - 1] === SLASH) return false;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    const b = i < n ? raw[i] : SLASH;
    if (b === 0) return false;
    if (b !== SLASH) continue;
    const len = i - start;
    if (len === 0 || (raw[start] === DOT && (len === 1 || (len === 2 && raw[start + 1] === DOT)))) return false;
    start = i + 1;
  }
  return true;
}

const unsafe = (raw: Buffer): ProtocolError =>
  new ProtocolError(`ABORTING due to unsafe pathname from sender: ${raw.toString('latin1').replace(/\0/g, '\\0')}`, Exit.Unsupported);

/**
 * rsync's file-list order (f_name_cmp, protocol 29+): within a directory its files come before its
 * subdirectories, a directory sorts as its name with a "/" after it, and a directory's contents come
 * right after it. The root "." sorts first.
 */
export function compareEntries(a: RemoteEntry, b: RemoteEntry): number {
  return compareSortKeys(sortKey(a), sortKey(b));
}

/** compareEntries over keys made once per entry (sortKey), for sorting many entries. */
export function compareSortKeys(ka: readonly KeyPart[], kb: readonly KeyPart[]): number {
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const x = ka[i]!;
    const y = kb[i]!;
    if (x.dir !== y.dir) return x.dir ? 1 : -1;
    const c = Buffer.compare(x.name, y.name);
    if (c) return c;
  }
  return ka.length - kb.length;
}

export interface KeyPart {
  dir: boolean;
  name: Buffer;
}

/** An entry's place in rsync's order, as its name's components (see compareEntries). */
export function sortKey(e: RemoteEntry): KeyPart[] {
  if (e.name.length === 1 && e.name[0] === DOT) return [];
  const parts: KeyPart[] = [];
  let at = 0;
  for (;;) {
    const end = e.name.indexOf(SLASH, at);
    if (end < 0) break;
    parts.push({ dir: true, name: Buffer.concat([e.name.subarray(at, end), Buffer.from('/')]) });
    at = end + 1;
  }
  const leaf = e.name.subarray(at);
  parts.push(isDir(e.mode) ? { dir: true, name: Buffer.concat([leaf, Buffer.from('/')]) } : { dir: false, name: leaf });
  return parts;
}

/**
 * Sorts as rsync's receiver does and clears duplicate names (keeping a directory over a
 * non-directory, else the first sent), so a sender cannot make one name mean two entries. Cleared
 * slots stay as `undefined`: the index a peer uses for an entry is its place in this list.
 */
export function sortAndClean(entries: RemoteEntry[]): (RemoteEntry | undefined)[] {
  if (!entries.some((e) => e.rooted)) return sortAndCleanNames(entries);
  // Rooted names (-R) sorted with their leading slash, given back without it.
  const slash = Buffer.from('/');
  const keyed = entries.map((e) => (e.rooted ? { ...e, name: Buffer.concat([slash, e.name]) } : e));
  const back = new Map<RemoteEntry, RemoteEntry>(keyed.map((k, i) => [k, entries[i]!]));
  return sortAndCleanNames(keyed).map((k) => k && back.get(k));
}

function sortAndCleanNames(entries: RemoteEntry[]): (RemoteEntry | undefined)[] {
  // In C when the CLI handed the addon's copy in (flist-order.ts): sort and clearing in one call, on
  // keys memcmp orders as compareNames does (a list from rsync's sender comes a directory at a time in
  // readdir order, so there is always a sort to do).
  const inC = entries.length > 1 ? handedOrder() : undefined;
  if (inC) return sortAndCleanInC(entries, inC);
  // Compared on the names' bytes, with no key made for each entry (flist-order.ts, held equal to
  // compareEntries by its tests); the sort is stable, so of equal names the first sent stays first. A
  // list already in order (as a sorting sender sends it) is checked in one pass and not sorted.
  const sorted = entries.slice();
  let inOrder = true;
  for (let i = 1; i < sorted.length && inOrder; i++) inOrder = byName(sorted[i - 1]!, sorted[i]!) <= 0;
  if (!inOrder) sorted.sort(byName);
  // Duplicates found in the sorted list, with no name kept aside: the same name and kind sit side by
  // side (the first sent stays); a non-directory of a directory's name sorts among its parent's files,
  // found by a binary search per directory (the directory stays).
  const drop: number[] = [];
  for (let i = 1; i < sorted.length; i++) if (byName(sorted[i - 1]!, sorted[i]!) === 0) drop.push(i);
  for (const d of sorted) {
    if (!isDir(d.mode) || (d.name.length === 1 && d.name[0] === DOT)) continue;
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const m = sorted[mid]!;
      const cmp = compareNames(m.name, isDir(m.mode), d.name, false);
      if (cmp < 0) lo = mid + 1;
      else if (cmp > 0) hi = mid - 1;
      else {
        // The first of its run: the others went above.
        let first = mid;
        while (first > 0 && compareNames(sorted[first - 1]!.name, isDir(sorted[first - 1]!.mode), d.name, false) === 0) first--;
        drop.push(first);
        break;
      }
    }
  }
  const out: (RemoteEntry | undefined)[] = sorted;
  for (const i of drop) out[i] = undefined;
  return out;
}

/** sortAndClean through the addon: the names packed back to back for one call. */
function sortAndCleanInC(entries: RemoteEntry[], inC: NativeOrder): (RemoteEntry | undefined)[] {
  const n = entries.length;
  const ends = new Uint32Array(n);
  const dirs = new Uint8Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    ends[i] = total += e.name.length;
    if (isDir(e.mode)) dirs[i] = 1;
  }
  const names = Buffer.allocUnsafe(total);
  for (let i = 0, at = 0; i < n; i++) {
    const name = entries[i]!.name;
    names.set(name, at);
    at += name.length;
  }
  const { order, drop } = inC(names, ends, dirs);
  const out = new Array<RemoteEntry | undefined>(n);
  for (let i = 0; i < n; i++) out[i] = drop[i] ? undefined : entries[order[i]!]!;
  return out;
}

const byName = (a: RemoteEntry, b: RemoteEntry): number => compareNames(a.name, isDir(a.mode), b.name, isDir(b.mode));
