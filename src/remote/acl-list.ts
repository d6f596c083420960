// -A on the wire (rsync's acls.c): the ACLs each file-list entry carries after its other fields, the
// access ACL of every non-symlink and the default ACL of a directory, each either the index of an
// identical ACL sent earlier (plus one) or 0 and the ACL itself. The sender leaves out what the mode
// already says (rsync_acl_strip_perms); the receiver puts it back from the mode. Named entries travel
// as ids; their names go in the file list's uid/gid lists (without incremental recursion), so the
// receiver maps them as it maps owners. Here: the kernel's ACL value (system.posix_acl_*, the form
// local -A copies) to rsync's ACL and back, the encoder and the decoder with their index caches. The
// decoder trusts nothing: counts, indices and permission bits are bounded as rsync bounds them.

import { Exit } from '../util/errors.js';
import { type Cursor, ProtocolError } from './wire.js';
import type { ByteWriter } from './byte-writer.js';

/** rsync's NO_ENTRY: this object entry is absent (left out by the sender, or not in the ACL). */
export const NO_ENTRY = 0x80;

/** rsync's MAX_WIRE_ACL_COUNT: the most named entries one ACL may carry. */
export const MAX_WIRE_ACL_COUNT = 65536;

/** A named entry: a uid (user) or gid, and its rwx bits. */
export interface IdAccess {
  id: number;
  perms: number;
  user: boolean;
}

/** rsync's rsync_acl: the four object entries (NO_ENTRY when absent) and the named entries in order. */
export interface RsyncAcl {
  userObj: number;
  groupObj: number;
  maskObj: number;
  otherObj: number;
  names: IdAccess[];
}

/** What the sender read of one entry: the kernel's ACLs, undefined where the entry has none. */
export interface EntryAcls {
  access?: RsyncAcl;
  /** A directory's default ACL. */
  def?: RsyncAcl;
}

/** A received entry's ACLs, as the receiver rebuilds them (ids still the sender's). */
export interface ReceivedAcls {
  access: RsyncAcl;
  /** A directory's default ACL; userObj NO_ENTRY means none. */
  def?: RsyncAcl;
}

const empty = (): RsyncAcl => ({ userObj: NO_ENTRY, groupObj: NO_ENTRY, maskObj: NO_ENTRY, otherObj: NO_ENTRY, names: [] });

// The kernel's posix_acl xattr: le32 version 2, then entries of le16 tag, le16 perm, le32 id.
const VERSION = 2;
const TAG = { UserObj: 0x01, User: 0x02, GroupObj: 0x04, Group: 0x08, Mask: 0x10, Other: 0x20 } as const;
const UNDEFINED_ID = 0xffffffff;

/** The kernel's ACL value as rsync's ACL (named users, then named groups, in the kernel's order). */
export function fromKernel(value: Buffer): RsyncAcl {
  if (value.length < 4 || (value.length - 4) % 8 !== 0 || value.readUInt32LE(0) !== VERSION) {
    throw new Error('not a POSIX ACL value');
  }
  const acl = empty();
  for (let at = 4; at < value.length; at += 8) {
    const tag = value.readUInt16LE(at);
    const perms = value.readUInt16LE(at + 2) & 7;
    const id = value.readUInt32LE(at + 4);
    if (tag === TAG.UserObj) acl.userObj = perms;
    else if (tag === TAG.GroupObj) acl.groupObj = perms;
    else if (tag === TAG.Mask) acl.maskObj = perms;
    else if (tag === TAG.Other) acl.otherObj = perms;
    else if (tag === TAG.User || tag === TAG.Group) acl.names.push({ id, perms, user: tag === TAG.User });
  }
  return acl;
}

/**
 * The kernel's value for a received ACL (rsync's pack_smb_acl and change_sacl_perms): for the access
 * ACL the owner, other and (with a mask) the mask come from the mode, and the owning group from the
 * mode unless the sender kept its own; undefined when the mode says everything (no named entry, no
 * mask) or, for a default ACL, when there is none. `mapId` turns the sender's ids into ours. `finalMode`
 * is the mode the receiver gives the file (the sender's after --chmod): an owning group the sender left
 * out (it equalled the sender's group bits) takes its group bits, as rsync's receiver fills it in from
 * the mode it sets.
 */
export function toKernel(acl: RsyncAcl, mode: number, isDefault: boolean, mapId: (id: number, user: boolean) => number, finalMode = mode): Buffer | undefined {
  let user = acl.userObj;
  let group = acl.groupObj;
  let mask = acl.maskObj;
  let other = acl.otherObj;
  if (isDefault) {
    if (user === NO_ENTRY) return undefined;
  } else {
    if (!acl.names.length && mask === NO_ENTRY) return undefined;
    user = (mode >> 6) & 7;
    if (group === NO_ENTRY) group = (finalMode >> 3) & 7;
    if (mask !== NO_ENTRY) mask = (mode >> 3) & 7;
    other = mode & 7;
  }
  const named = acl.names.map((n) => ({ tag: n.user ? TAG.User : TAG.Group, perms: n.perms & 7, id: mapId(n.id, n.user) >>> 0 }));
  const entries = [
    { tag: TAG.UserObj, perms: user & 7, id: UNDEFINED_ID },
    { tag: TAG.GroupObj, perms: group & 7, id: UNDEFINED_ID },
    ...named,
    ...(mask !== NO_ENTRY ? [{ tag: TAG.Mask, perms: mask & 7, id: UNDEFINED_ID }] : []),
    { tag: TAG.Other, perms: other & 7, id: UNDEFINED_ID },
  ];
  // The kernel wants them by tag, then by id (libacl sorts the same way before it sets an ACL).
  entries.sort((a, b) => a.tag - b.tag || a.id - b.id);
  const out = Buffer.alloc(4 + 8 * entries.length);
  out.writeUInt32LE(VERSION, 0);
  entries.forEach((e, i) => {
    out.writeUInt16LE(e.tag, 4 + 8 * i);
    out.writeUInt16LE(e.perms, 6 + 8 * i);
    out.writeUInt32LE(e.id, 8 + 8 * i);
  });
  return out;
}

/** rsync's --fake-super records of an entry's ACLs (native/fakesuper.h has their layout). */
export const RECORD_ACCESS = 'user.rsync.%aacl';
export const RECORD_DEFAULT = 'user.rsync.%dacl';

/**
 * A faking sender's ACL from its record (rsync's get_rsync_acl under am_root < 0): the four object
 * entries, those the record leaves out but the mask taken from `mode`, then (id, perms) pairs whose
 * perms' bit 31 marks a user. Throws on a record of the wrong length.
 */
export function fromRecord(value: Buffer, mode: number): RsyncAcl {
  if (value.length < 16 || (value.length - 16) % 8) throw new Error('not an ACL record');
  const obj = (i: number, fill: number): number => (value.readUInt32LE(i) === NO_ENTRY ? fill : value.readUInt32LE(i));
  const names: IdAccess[] = [];
  for (let i = 16; i < value.length; i += 8) {
    const access = value.readUInt32LE(i + 4);
    names.push({ id: value.readUInt32LE(i), perms: access & 7, user: (access & 0x8000_0000) !== 0 });
  }
  return { userObj: obj(0, (mode >> 6) & 7), groupObj: obj(4, (mode >> 3) & 7), maskObj: value.readUInt32LE(8), otherObj: obj(12, mode & 7), names };
}

/**
 * The access ACL as rsync's sender sends it (send_acl): one made up from the mode when the entry has
 * none, then rsync_acl_strip_perms: the owner and other entries always go (the mode has them), the
 * owning group too unless a mask stands in its place in the mode and the two differ, and the mask when
 * named entries exist and it equals the mode's group bits (the receiver recomputes it).
 */
export function stripForSend(acl: RsyncAcl | undefined, mode: number): RsyncAcl {
  const a: RsyncAcl = acl ? { ...acl, names: acl.names } : { userObj: (mode >> 6) & 7, groupObj: (mode >> 3) & 7, maskObj: NO_ENTRY, otherObj: mode & 7, names: [] };
  const groupPerms = (mode >> 3) & 7;
  a.userObj = NO_ENTRY;
  if (a.maskObj === NO_ENTRY) a.groupObj = NO_ENTRY;
  else {
    if (a.groupObj === groupPerms) a.groupObj = NO_ENTRY;
    if (a.names.length && a.maskObj === groupPerms) a.maskObj = NO_ENTRY;
  }
  a.otherObj = NO_ENTRY;
  return a;
}

const keyOf = (a: RsyncAcl): string => `${a.userObj},${a.groupObj},${a.maskObj},${a.otherObj};${a.names.map((n) => `${n.user ? 'u' : 'g'}${n.id}:${n.perms}`).join(',')}`;

// rsync's XMIT_* bits of an ACL's flag byte, and the low bits of a named entry's access value.
const XMIT_USER_OBJ = 1 << 0;
const XMIT_GROUP_OBJ = 1 << 1;
const XMIT_MASK_OBJ = 1 << 2;
const XMIT_OTHER_OBJ = 1 << 3;
const XMIT_NAME_LIST = 1 << 4;
const XFLAG_NAME_FOLLOWS = 1;
const XFLAG_NAME_IS_USER = 2;

/** The sending side's two caches (access and default ACLs already sent, by content). */
export class AclEncoder {
  private readonly sent = [new Map<string, number>(), new Map<string, number>()];

  /**
   * One entry's ACLs (rsync's send_acl) onto `out`. `addName` is told every named entry's id each time
   * its ACL is sent, so the id lists after a whole file list carry its name (unless --numeric-ids); under
   * incremental recursion it returns the name the first time an id is seen (file owners included), and
   * the name follows the id inline, as rsync's send_ida_entries writes it.
   */
  encode(out: ByteWriter, mode: number, acls: EntryAcls | undefined, isDir: boolean, addName: (id: number, user: boolean) => Buffer | undefined): void {
    this.one(out, stripForSend(acls?.access, mode), 0, addName);
    if (isDir) this.one(out, acls?.def ?? empty(), 1, addName);
  }

  private one(out: ByteWriter, acl: RsyncAcl, type: 0 | 1, addName: (id: number, user: boolean) => Buffer | undefined): void {
    const cache = this.sent[type]!;
    const key = keyOf(acl);
    const had = cache.get(key);
    if (had !== undefined) {
      out.varint(had + 1);
      return;
    }
    cache.set(key, cache.size);
    let flags = 0;
    if (acl.userObj !== NO_ENTRY) flags |= XMIT_USER_OBJ;
    if (acl.groupObj !== NO_ENTRY) flags |= XMIT_GROUP_OBJ;
    if (acl.maskObj !== NO_ENTRY) flags |= XMIT_MASK_OBJ;
    if (acl.otherObj !== NO_ENTRY) flags |= XMIT_OTHER_OBJ;
    if (acl.names.length) flags |= XMIT_NAME_LIST;
    out.varint(0);
    out.u8(flags);
    if (flags & XMIT_USER_OBJ) out.varint(acl.userObj);
    if (flags & XMIT_GROUP_OBJ) out.varint(acl.groupObj);
    if (flags & XMIT_MASK_OBJ) out.varint(acl.maskObj);
    if (flags & XMIT_OTHER_OBJ) out.varint(acl.otherObj);
    if (flags & XMIT_NAME_LIST) {
      out.varint(acl.names.length);
      for (const n of acl.names) {
        const name = addName(n.id, n.user);
        const bits = ((n.perms & 7) << 2) | (n.user ? XFLAG_NAME_IS_USER : 0);
        out.varint(n.id | 0);
        if (name) {
          out.varint(bits | XFLAG_NAME_FOLLOWS);
          out.u8(Math.min(name.length, 255));
          out.bytes(name.subarray(0, 255));
        } else out.varint(bits);
      }
    }
  }
}

const TYPE_NAME = ['ACL_TYPE_ACCESS', 'ACL_TYPE_DEFAULT'] as const;

/** The receiving side's two caches: every ACL received, by its index. */
export class AclDecoder {
  private readonly lists: RsyncAcl[][] = [[], []];

  /**
   * `named`: told a name that follows its id inline (incremental recursion's form, which a batch rsync
   * wrote may hold); without it such a name is refused, as a session that asked for no incremental
   * recursion must not get one.
   */
  constructor(private readonly named?: (id: number, user: boolean, name: Buffer) => void) {}

  /**
   * One entry's ACLs (rsync's receive_acl). Reads everything before it changes anything: a `Short`
   * leaves the caches as they were; `commit()` adds what was new once the whole entry is read.
   */
  decode(c: Cursor, mode: number, isDir: boolean): { acls: ReceivedAcls; commit(): void } {
    const fresh: [RsyncAcl | undefined, RsyncAcl | undefined] = [undefined, undefined];
    const access = this.one(c, 0, mode, fresh);
    const def = isDir ? this.one(c, 1, 0, fresh) : undefined;
    return {
      acls: def ? { access, def } : { access },
      commit: () => {
        fresh.forEach((a, type) => a && this.lists[type]!.push(a));
      },
    };
  }

  private one(c: Cursor, type: 0 | 1, mode: number, fresh: (RsyncAcl | undefined)[]): RsyncAcl {
    const list = this.lists[type]!;
    const ndx = c.varint();
    if (ndx < 0 || ndx > list.length) {
      throw new ProtocolError(`recv_acl_index: ${TYPE_NAME[type]} ACL index ${ndx} > ${list.length}`, Exit.StreamIO);
    }
    if (ndx !== 0) return list[ndx - 1]!;
    const acl = empty();
    const flags = c.byte();
    const obj = (): number => {
      const v = c.varint();
      if (v < 0 || v > 7) throw new ProtocolError(`recv_acl_access: value out of range: ${(v >>> 0).toString(16)}`, Exit.StreamIO);
      return v;
    };
    if (flags & XMIT_USER_OBJ) acl.userObj = obj();
    if (flags & XMIT_GROUP_OBJ) acl.groupObj = obj();
    if (flags & XMIT_MASK_OBJ) acl.maskObj = obj();
    if (flags & XMIT_OTHER_OBJ) acl.otherObj = obj();
    let computed = 0;
    if (flags & XMIT_NAME_LIST) {
      const count = c.varint();
      if (count < 0 || count > MAX_WIRE_ACL_COUNT) {
        throw new ProtocolError(`wire value ACL count out of range: ${count} not in [0,${MAX_WIRE_ACL_COUNT}]`, Exit.Protocol);
      }
      for (let i = 0; i < count; i++) {
        const id = c.varint() >>> 0;
        const v = c.varint();
        const perms = v >>> 2;
        if (v < 0 || perms > 7) throw new ProtocolError(`recv_acl_access: value out of range: ${perms.toString(16)}`, Exit.StreamIO);
        // A name inline is incremental recursion's form, which arsync asks for in no session.
        if (v & XFLAG_NAME_FOLLOWS) {
          if (!this.named) throw new ProtocolError('recv_acl: a name inline without incremental recursion', Exit.Protocol);
          const len = c.byte();
          this.named(id, (v & XFLAG_NAME_IS_USER) !== 0, Buffer.from(c.bytes(len)));
        }
        acl.names.push({ id, perms, user: (v & XFLAG_NAME_IS_USER) !== 0 });
        computed |= perms;
      }
    }
    // A list of names needs a mask: the access ACL's is the mode's group bits, a default ACL's covers
    // every named entry and the owning group.
    if (acl.names.length && acl.maskObj === NO_ENTRY) {
      acl.maskObj = type === 0 ? (mode >> 3) & 7 : computed | (acl.groupObj & ~NO_ENTRY & 7);
    }
    fresh[type] = acl;
    return acl;
  }
}
