// The file list as a sending client transmits it (rsync's send_file_entry and write_end_of_flist,
// protocol 30 and later, without incremental recursion): the inverse of flist.ts's decoder. Each entry
// carries only what differs from the one before; hard-linked files after the first of their group are
// sent as a reference to it; the list ends with the sender's I/O-error flags, then the uid and gid
// name lists. Entries are sent in rsync's sorted order, so an entry's index on the wire (which the
// receiver asks for files by) is its place in the list both sides sort.

import { Xmit, compareEntries, isDevice, isDir, isLink, isReg, isSpecial, type RemoteEntry } from './flist.js';
import { varint, varlong, int32 } from './wire.js';

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
}

export interface EncodeOptions {
  protocol: number;
  varintFlags: boolean;
  uid: boolean;
  gid: boolean;
  links: boolean;
  devices: boolean;
  specials: boolean;
  hardLinks: boolean;
  /** -c: bytes of the file checksum each regular file carries. */
  checksumLen: number;
  numericIds: boolean;
  id0Names: boolean;
  userName(uid: number): Buffer | undefined;
  groupName(gid: number): Buffer | undefined;
}

/** Sorts as rsync's sender and receiver both sort, and drops repeated names (the first one stays). */
export function sortForSend<T extends SendEntry>(entries: T[]): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const e of [...entries].sort(compareEntries)) {
    const k = e.name.toString('latin1');
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
  }
  return out;
}

/** Encodes a whole sorted list, its end marker with `ioError`, and (unless --numeric-ids) the id lists. */
export function encodeFlist(entries: readonly SendEntry[], o: EncodeOptions, ioError: number): Buffer {
  const out: Buffer[] = [];
  let lastName: Buffer = Buffer.alloc(0);
  let mode = 0;
  let mtime = 0;
  let uid = 0;
  let gid = 0;
  let rdevMajor = 0;
  const users = new Map<number, Buffer | undefined>();
  const groups = new Map<number, Buffer | undefined>();
  const firstOfGroup = new Map<string, number>();
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

    if (o.varintFlags) out.push(varint(xflags || Xmit.ExtendedFlags));
    else {
      if (!xflags && !isDir(e.mode)) xflags |= Xmit.TopDir;
      if (xflags & 0xff00 || !xflags) {
        xflags |= Xmit.ExtendedFlags;
        out.push(Buffer.from([xflags & 0xff, (xflags >> 8) & 0xff]));
      } else out.push(Buffer.from([xflags]));
    }
    if (xflags & Xmit.SameName) out.push(Buffer.from([l1]));
    out.push(xflags & Xmit.LongName ? varint(l2) : Buffer.from([l2]));
    out.push(e.name.subarray(l1));
    lastName = e.name;
    if (hlinkRef >= 0) {
      // Everything else is the group's first entry's: the receiver copies it from there.
      out.push(varint(hlinkRef));
      return;
    }
    out.push(varlong(isDevice(e.mode) || isSpecial(e.mode) ? 0 : e.size, 3));
    if (!(xflags & Xmit.SameTime)) out.push(varlong(mtime, 4));
    if (xflags & Xmit.ModNsec) out.push(varint(e.mtimeNsec));
    if (!(xflags & Xmit.SameMode)) out.push(int32(mode | 0));
    if (o.uid && !(xflags & Xmit.SameUid)) out.push(varint(uid | 0));
    if (o.gid && !(xflags & Xmit.SameGid)) out.push(varint(gid | 0));
    if ((o.devices && isDevice(e.mode)) || (o.specials && isSpecial(e.mode) && o.protocol < 31)) {
      if (!(xflags & Xmit.SameRdevMajor)) out.push(varint(rdevMajor | 0));
      out.push(varint(minor | 0));
    }
    if (o.links && isLink(e.mode) && e.link) {
      out.push(varint(e.link.length));
      out.push(e.link);
    }
    if (o.checksumLen && isReg(e.mode)) out.push(e.sum ?? Buffer.alloc(o.checksumLen));
  });
  // The end, with the I/O-error flags (rsync's safe list end: every peer of protocol 31 and later
  // reads it, and arsync refuses older ones that did not say CF_SAFE_FLIST).
  if (o.varintFlags) out.push(varint(0), varint(ioError));
  else out.push(Buffer.from([Xmit.ExtendedFlags, Xmit.IoErrorEndlist >> 8]), varint(ioError));
  if (!o.numericIds) {
    const list = (ids: Map<number, Buffer | undefined>, zeroName: Buffer | undefined): void => {
      for (const [id, name] of ids) {
        if (id === 0 || !name) continue;
        out.push(varint(id | 0), Buffer.from([Math.min(name.length, 255)]), name.subarray(0, 255));
      }
      out.push(varint(0));
      if (o.id0Names) {
        const z = zeroName ?? Buffer.alloc(0);
        out.push(Buffer.from([Math.min(z.length, 255)]), z.subarray(0, 255));
      }
    };
    if (o.uid) list(users, o.userName(0));
    if (o.gid) list(groups, o.groupName(0));
  }
  return Buffer.concat(out);
}
