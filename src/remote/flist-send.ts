// The file list as a sending client transmits it (rsync's send_file_entry and write_end_of_flist,
// protocol 30 and later, without incremental recursion): the inverse of flist.ts's decoder. Each entry
// carries only what differs from the one before; hard-linked files after the first of their group are
// sent as a reference to it; the list ends with the sender's I/O-error flags, then the uid and gid
// name lists. Entries are sent in rsync's sorted order, so an entry's index on the wire (which the
// receiver asks for files by) is its place in the list both sides sort.

import { Xmit, isDevice, isDir, isLink, isReg, isSpecial, type FlistSettings, type RemoteEntry } from './flist.js';
import { ByteWriter } from './byte-writer.js';
import { compareNames } from './flist-order.js';
import { AclEncoder, type EntryAcls } from './acl-list.js';
import type { XattrItem, XattrSender } from './xattr-list.js';

/** One entry to send: a RemoteEntry as the local walk saw it, with what only the sender knows. */
export interface SendEntry extends RemoteEntry {
  /** Where the sender reads it (a path the walk resolved; never sent). */
  path: Buffer;
  /** -H: the device and inode of a non-directory with more than one link. */
  devIno?: string;
  /** -R of an absolute operand (plan/sources.ts keptFromRoot): the names this client prints start with "/", as rsync's sender's do. */
  fromRoot?: boolean;
  /** A directory whose contents are in the list (rsync's FLAG_CONTENT_DIR). */
  contentDir?: boolean;
  /** -R: a directory sent only because a listed name lies below it (rsync's FLAG_IMPLIED_DIR). */
  impliedDir?: boolean;
  /** The whole-file checksum filled in under -c. */
  sum?: Buffer;
  /** -A: the ACLs the sender read (undefined: none beyond the mode). */
  aclsRead?: EntryAcls;
  /** -X: its xattrs as the sender lists them (xattr-list.ts senderItems). */
  xattrItems?: XattrItem[];
  /** -X: the index of its list in the session's XattrSender, set as the list is encoded. */
  xattr?: number;
  /** --iconv: the name as the wire has it, when it differs (iconv-wire.ts wireEntries). */
  wireName?: Buffer;
  /** --iconv under the symlink-iconv flag: the target as the wire has it, when it differs. */
  wireLink?: Buffer;
}

export interface EncodeOptions extends FlistSettings {
  protocol: number;
  varintFlags: boolean;
  /** -c: bytes of the file checksum each regular file carries. */
  checksumLen: number;
  id0Names: boolean;
  /** -A: each entry but a symlink carries its ACLs (acl-list.ts). */
  acls?: boolean;
  /** -U: each non-directory carries its access time (the entries' `atime`). */
  atimes?: boolean;
  userName(uid: number): Buffer | undefined;
  groupName(gid: number): Buffer | undefined;
  /** -X: every entry is followed by its xattr list. */
  xattrSender?: XattrSender;
}

const dirOf = (e: SendEntry): boolean => isDir(e.mode);

/**
 * Sorts as rsync's sender and receiver both sort, and drops repeated names (the first one stays).
 * `unique`: the caller knows no name repeats (push-source.ts merged them). A list already in order (a
 * walk of one operand lists each directory sorted) is checked in one pass and kept as it is.
 */
export function sortForSend<T extends SendEntry>(entries: T[], unique = false): T[] {
  let sorted = true;
  for (let i = 1; i < entries.length && sorted; i++) {
    const a = entries[i - 1]!;
    const b = entries[i]!;
    sorted = compareNames(a.name, dirOf(a), b.name, dirOf(b)) < 0;
  }
  const inOrder = sorted ? entries : entries.slice().sort((a, b) => compareNames(a.name, dirOf(a), b.name, dirOf(b)));
  if (unique) return inOrder;
  const seen = new Set<string>();
  const out: T[] = [];
  for (const e of inOrder) {
    const k = e.name.toString('latin1');
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
  }
  return out;
}

/** Encodes a whole sorted list, its end marker with `ioError`, and (unless --numeric-ids) the id lists. */
export function encodeFlist(entries: readonly SendEntry[], o: EncodeOptions, ioError: number): Buffer {
  const out = new ByteWriter(Math.max(4096, entries.length * 48));
  const enc = new FlistEncoder(o);
  entries.forEach((e, ndx) => enc.entry(out, e, ndx));
  encodeFlistEnd(out, enc.users, enc.groups, o, ioError);
  return out.take();
}

/**
 * rsync's send_file_entry with its state: each entry carries only what differs from the one sent before
 * it (rsync keeps that state in statics, so under incremental recursion it runs on across the lists).
 * `incremental`: rsync's inc_recurse form, where an owner's or group's name follows its id the first
 * time the id is sent (no id lists at the end), and a hard link whose group's first member went in an
 * earlier list is sent whole after its reference.
 */
export class FlistEncoder {
  private lastName: Buffer = Buffer.alloc(0);
  private mode = 0;
  private mtime = 0;
  private atime = 0;
  private uid = 0;
  private gid = 0;
  private rdevMajor = 0;
  private sent = 0;
  /** The ids the entries carried, in the order they were first sent, with their names. */
  readonly users = new Map<number, Buffer | undefined>();
  readonly groups = new Map<number, Buffer | undefined>();
  private readonly firstOfGroup = new Map<string, number>();
  private readonly acls: AclEncoder | undefined;

  constructor(
    private readonly o: EncodeOptions,
    private readonly incremental = false,
  ) {
    this.acls = o.acls ? new AclEncoder() : undefined;
  }

  /** An ACL entry's id (AclEncoder.encode): its name to send inline, under incremental recursion the first time. */
  private aclName = (id: number, user: boolean): Buffer | undefined => {
    if (this.o.numericIds) return undefined;
    const ids = user ? this.users : this.groups;
    if (ids.has(id)) return undefined;
    const name = user ? this.o.userName(id) : this.o.groupName(id);
    ids.set(id, name);
    return this.incremental ? name : undefined;
  };

  /** What follows an entry's own fields, a hard link's reference included: the ACLs, then the xattr list. */
  private trailer(out: ByteWriter, e: SendEntry): void {
    if (this.acls && !isLink(e.mode)) this.acls.encode(out, e.mode, e.aclsRead, isDir(e.mode), this.aclName);
    if (this.o.xattrSender) {
      const x = this.o.xattrSender.encode(e.xattrItems ?? []);
      out.bytes(x.bytes);
      e.xattr = x.ndx;
    }
  }

  /**
   * An id seen for the first time: its name when rsync's sender sends one inline (incremental lists:
   * add_uid()/add_gid() name every new id, root's too, when it has a name).
   */
  private newId(ids: Map<number, Buffer | undefined>, id: number, user: boolean): Buffer | undefined {
    if (this.o.numericIds || ids.has(id)) return undefined;
    const n = user ? this.o.userName(id) : this.o.groupName(id);
    ids.set(id, n);
    return this.incremental ? n : undefined;
  }

  /** One entry, `ndx` its index in the whole session (rsync's first_ndx + ndx), into `out`. */
  entry(out: ByteWriter, e: SendEntry, ndx: number, listStart = 0): void {
    const o = this.o;
    let xflags = 0;
    // An implied directory is told apart by both bits (rsync's send_file_entry, protocol 30+).
    if (isDir(e.mode)) xflags = e.contentDir ? (e.topDir ? Xmit.TopDir : 0) : e.impliedDir ? Xmit.TopDir | Xmit.NoContentDir : Xmit.NoContentDir;
    if (e.mode === this.mode) xflags |= Xmit.SameMode;
    else this.mode = e.mode;
    let minor = 0;
    if (o.devices && isDevice(e.mode)) {
      const major = e.rdev?.major ?? 0;
      minor = e.rdev?.minor ?? 0;
      if (major === this.rdevMajor) xflags |= Xmit.SameRdevMajor;
      else this.rdevMajor = major;
    } else if (o.specials && isSpecial(e.mode) && o.protocol < 31) {
      xflags |= Xmit.SameRdevMajor;
    }
    const first = this.sent++ === 0;
    let userName: Buffer | undefined;
    let groupName: Buffer | undefined;
    if (!o.uid || (e.uid === this.uid && !first)) xflags |= Xmit.SameUid;
    else {
      this.uid = e.uid ?? 0;
      userName = this.newId(this.users, this.uid, true);
      if (userName) xflags |= Xmit.UserNameFollows;
    }
    if (!o.gid || (e.gid === this.gid && !first)) xflags |= Xmit.SameGid;
    else {
      this.gid = e.gid ?? 0;
      groupName = this.newId(this.groups, this.gid, false);
      if (groupName) xflags |= Xmit.GroupNameFollows;
    }
    if (e.mtime === this.mtime) xflags |= Xmit.SameTime;
    else this.mtime = e.mtime;
    if (e.mtimeNsec && o.protocol >= 31) xflags |= Xmit.ModNsec;
    // Like the mtime, compared with the previous entry that carried one (rsync's static atime).
    if (o.atimes && !isDir(e.mode)) {
      if ((e.atime ?? 0) === this.atime) xflags |= Xmit.SameAtime;
      else this.atime = e.atime ?? 0;
    }
    let hlinkRef = -1;
    if (o.hardLinks && e.devIno !== undefined && !isDir(e.mode)) {
      const had = this.firstOfGroup.get(e.devIno);
      if (had === undefined) {
        this.firstOfGroup.set(e.devIno, ndx);
        xflags |= Xmit.HlinkFirst;
      } else hlinkRef = had;
      xflags |= Xmit.Hlinked;
    }
    const lastName = this.lastName;
    const name = e.wireName ?? e.name;
    let l1 = 0;
    while (l1 < lastName.length && l1 < name.length && l1 < 255 && name[l1] === lastName[l1]) l1++;
    const l2 = name.length - l1;
    if (l1 > 0) xflags |= Xmit.SameName;
    if (l2 > 255) xflags |= Xmit.LongName;

    if (o.varintFlags) out.varint(xflags || Xmit.ExtendedFlags);
    else {
      if (!xflags && !isDir(e.mode)) xflags |= Xmit.TopDir;
      if (xflags & 0xff00 || !xflags) {
        xflags |= Xmit.ExtendedFlags;
        out.u8(xflags);
        out.u8(xflags >> 8);
      } else out.u8(xflags);
    }
    if (xflags & Xmit.SameName) out.u8(l1);
    if (xflags & Xmit.LongName) out.varint(l2);
    else out.u8(l2);
    out.bytesFrom(name, l1);
    this.lastName = name;
    if (hlinkRef >= 0) {
      out.varint(hlinkRef);
      // Everything else is the group's first entry's, which the receiver copies from there, when that
      // entry is in this list; one in an earlier list is sent whole again (rsync's "unabbrev").
      if (hlinkRef >= listStart) {
        this.trailer(out, e);
        return;
      }
    }
    out.varlong(isDevice(e.mode) || isSpecial(e.mode) ? 0 : e.size, 3);
    if (!(xflags & Xmit.SameTime)) out.varlong(this.mtime, 4);
    if (xflags & Xmit.ModNsec) out.varint(e.mtimeNsec);
    if (!(xflags & Xmit.SameMode)) out.int32(this.mode | 0);
    if (o.atimes && !isDir(e.mode) && !(xflags & Xmit.SameAtime)) out.varlong(this.atime, 4);
    if (o.uid && !(xflags & Xmit.SameUid)) {
      out.varint(this.uid | 0);
      if (userName) idName(out, userName);
    }
    if (o.gid && !(xflags & Xmit.SameGid)) {
      out.varint(this.gid | 0);
      if (groupName) idName(out, groupName);
    }
    if ((o.devices && isDevice(e.mode)) || (o.specials && isSpecial(e.mode) && o.protocol < 31)) {
      if (!(xflags & Xmit.SameRdevMajor)) out.varint(this.rdevMajor | 0);
      out.varint(minor | 0);
    }
    if (o.links && isLink(e.mode) && e.link) {
      const link = e.wireLink ?? e.link;
      out.varint(link.length);
      out.bytes(link);
    }
    if (o.checksumLen && isReg(e.mode)) out.bytes(e.sum ?? Buffer.alloc(o.checksumLen));
    this.trailer(out, e);
  }
}

/** A name after its id: one length byte (rsync's write_byte of strlen, so the length's low byte), then the name. */
function idName(out: ByteWriter, name: Buffer): void {
  out.u8(name.length);
  out.bytes(name);
}

/**
 * The list's end, with the I/O-error flags, then (unless --numeric-ids) the uid and gid name lists:
 * `users` and `groups` hold the ids the entries carried, in the order they were first sent, with their
 * names. Written after encodeFlist's entries, or after those the addon encoded (run/push-native.ts).
 */
export function encodeFlistEnd(
  out: ByteWriter,
  users: ReadonlyMap<number, Buffer | undefined>,
  groups: ReadonlyMap<number, Buffer | undefined>,
  o: Pick<EncodeOptions, 'varintFlags' | 'numericIds' | 'id0Names' | 'uid' | 'gid' | 'acls' | 'userName' | 'groupName'>,
  ioError: number,
): void {
  // The end, with the I/O-error flags (rsync's safe list end: every peer of protocol 31 and later
  // reads it, and arsync refuses older ones that did not say CF_SAFE_FLIST).
  if (o.varintFlags) out.varint(0);
  else {
    out.u8(Xmit.ExtendedFlags);
    out.u8(Xmit.IoErrorEndlist >> 8);
  }
  out.varint(ioError);
  if (!o.numericIds) {
    const list = (ids: ReadonlyMap<number, Buffer | undefined>, zeroName: Buffer | undefined): void => {
      for (const [id, name] of ids) {
        if (id === 0 || !name) continue;
        out.varint(id | 0);
        out.u8(Math.min(name.length, 255));
        out.bytes(name.subarray(0, 255));
      }
      out.varint(0);
      if (o.id0Names) {
        const z = zeroName ?? Buffer.alloc(0);
        out.u8(Math.min(z.length, 255));
        out.bytes(z.subarray(0, 255));
      }
    };
    if (o.uid || o.acls) list(users, o.userName(0));
    if (o.gid || o.acls) list(groups, o.groupName(0));
  }
}
