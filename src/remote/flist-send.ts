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
  let lastName: Buffer = Buffer.alloc(0);
  let mode = 0;
  let mtime = 0;
  let atime = 0;
  let uid = 0;
  let gid = 0;
  let rdevMajor = 0;
  const users = new Map<number, Buffer | undefined>();
  const groups = new Map<number, Buffer | undefined>();
  const firstOfGroup = new Map<string, number>();
  const acls = o.acls ? new AclEncoder() : undefined;
  const aclName = (id: number, user: boolean): void => {
    if (o.numericIds) return;
    if (user && !users.has(id)) users.set(id, o.userName(id));
    if (!user && !groups.has(id)) groups.set(id, o.groupName(id));
  };
  /** What follows an entry's own fields, a hard link's reference included: the ACLs, then the xattr list. */
  const trailer = (e: SendEntry): void => {
    if (acls && !isLink(e.mode)) acls.encode(out, e.mode, e.aclsRead, isDir(e.mode), aclName);
    if (o.xattrSender) {
      const x = o.xattrSender.encode(e.xattrItems ?? []);
      out.bytes(x.bytes);
      e.xattr = x.ndx;
    }
  };
  entries.forEach((e, ndx) => {
    let xflags = 0;
    // An implied directory is told apart by both bits (rsync's send_file_entry, protocol 30+).
    if (isDir(e.mode)) xflags = e.contentDir ? (e.topDir ? Xmit.TopDir : 0) : e.impliedDir ? Xmit.TopDir | Xmit.NoContentDir : Xmit.NoContentDir;
    if (e.mode === mode) xflags |= Xmit.SameMode;
    else mode = e.mode;
    let minor = 0;
    if (o.devices && isDevice(e.mode)) {
      const major = e.rdev?.major ?? 0;
      minor = e.rdev?.minor ?? 0;
      if (major === rdevMajor) xflags |= Xmit.SameRdevMajor;
      else rdevMajor = major;
    } else if (o.specials && isSpecial(e.mode) && o.protocol < 31) {
      xflags |= Xmit.SameRdevMajor;
    }
    const first = ndx === 0;
    if (!o.uid || (e.uid === uid && !first)) xflags |= Xmit.SameUid;
    else {
      uid = e.uid ?? 0;
      if (!o.numericIds && !users.has(uid)) users.set(uid, o.userName(uid));
    }
    if (!o.gid || (e.gid === gid && !first)) xflags |= Xmit.SameGid;
    else {
      gid = e.gid ?? 0;
      if (!o.numericIds && !groups.has(gid)) groups.set(gid, o.groupName(gid));
    }
    if (e.mtime === mtime) xflags |= Xmit.SameTime;
    else mtime = e.mtime;
    if (e.mtimeNsec && o.protocol >= 31) xflags |= Xmit.ModNsec;
    // Like the mtime, compared with the previous entry that carried one (rsync's static atime).
    if (o.atimes && !isDir(e.mode)) {
      if ((e.atime ?? 0) === atime) xflags |= Xmit.SameAtime;
      else atime = e.atime ?? 0;
    }
    let hlinkRef = -1;
    if (o.hardLinks && e.devIno !== undefined && !isDir(e.mode)) {
      const had = firstOfGroup.get(e.devIno);
      if (had === undefined) {
        firstOfGroup.set(e.devIno, ndx);
        xflags |= Xmit.HlinkFirst;
      } else hlinkRef = had;
      xflags |= Xmit.Hlinked;
    }
    let l1 = 0;
    while (l1 < lastName.length && l1 < e.name.length && l1 < 255 && e.name[l1] === lastName[l1]) l1++;
    const l2 = e.name.length - l1;
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
    out.bytesFrom(e.name, l1);
    lastName = e.name;
    if (hlinkRef >= 0) {
      // Everything else is the group's first entry's: the receiver copies it from there.
      out.varint(hlinkRef);
      trailer(e);
      return;
    }
    out.varlong(isDevice(e.mode) || isSpecial(e.mode) ? 0 : e.size, 3);
    if (!(xflags & Xmit.SameTime)) out.varlong(mtime, 4);
    if (xflags & Xmit.ModNsec) out.varint(e.mtimeNsec);
    if (!(xflags & Xmit.SameMode)) out.int32(mode | 0);
    if (o.atimes && !isDir(e.mode) && !(xflags & Xmit.SameAtime)) out.varlong(atime, 4);
    if (o.uid && !(xflags & Xmit.SameUid)) out.varint(uid | 0);
    if (o.gid && !(xflags & Xmit.SameGid)) out.varint(gid | 0);
    if ((o.devices && isDevice(e.mode)) || (o.specials && isSpecial(e.mode) && o.protocol < 31)) {
      if (!(xflags & Xmit.SameRdevMajor)) out.varint(rdevMajor | 0);
      out.varint(minor | 0);
    }
    if (o.links && isLink(e.mode) && e.link) {
      out.varint(e.link.length);
      out.bytes(e.link);
    }
    if (o.checksumLen && isReg(e.mode)) out.bytes(e.sum ?? Buffer.alloc(o.checksumLen));
    trailer(e);
  });
  encodeFlistEnd(out, users, groups, o, ioError);
  return out.take();
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
