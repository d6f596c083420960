// A push's list walked and encoded in C (native/flistwalk.c, native/flistenc.c) for the plain case:
// one directory operand, recursive, nothing that selects, follows or adds to what the walk sees (no
// filters, -x, -L, -k, --copy-unsafe-links, -R, --files-from) and nothing the C encoder does not write
// (-H, -A, -X, -U, -c) nor anything that changes a listed field (--chmod, --munge-links). The walk,
// rsync's order and each entry's fields then cost no object but one small one per entry, whose name,
// path and symlink target are made only when something reads them (a request, a line, a message); the end marker and the id lists stay in TypeScript (flist-send.ts encodeFlistEnd).
// Any other push walks in push-source.ts, and so does this one when the addon cannot finish the walk
// (descriptors, memory, a name past PATH_MAX). test/contract/flist-encode.test.ts holds the C walk's
// order and encoding to the TypeScript walk's and encodeFlist's bytes.

import type { Config } from '../model/config.js';
import type { SendList } from '../engine/engine.js';
import type { NativeSendList } from '../engine/native.js';
import { isFailure } from '../model/failure.js';
import { ByteWriter } from '../remote/byte-writer.js';
import { encodeFlistEnd, type EncodeOptions, type SendEntry } from '../remote/flist-send.js';
import { isDir, isLink } from '../remote/flist.js';
import { joinPath } from '../util/names.js';

/** The places of one entry's numbers in flistWalk's meta (native/flistwalk.h FLW_*). */
export const Flw = { Mode: 0, Size: 1, Mtime: 2, Nsec: 3, Uid: 4, Gid: 5, Dev: 6, Ino: 7, RdevMajor: 8, RdevMinor: 9, Fields: 10 } as const;
/** What an error record of flistWalk is about (native/flistwalk.h FLW_ERR_*). */
export const FlwError = { Opendir: 1, Stat: 2, Readlink: 3 } as const;
/** flistEncode's option bits (native/flistenc.h FLE_*). */
export const Fle = { VarintFlags: 1, Uid: 2, Gid: 4, Links: 8, Devices: 16, Specials: 32, NumericIds: 64 } as const;

/** Whether a push with these options lists its one operand through the addon (the plain case above). */
export function nativeListable(c: Config, hasFilters: boolean, hasXattrs: boolean, hasAcls: boolean, listed: Buffer | undefined, tick: unknown): boolean {
  return (
    c.sources.length === 1 && c.recursive && c.filesFrom === undefined && listed === undefined && tick === undefined && !c.relative &&
    !hasFilters && !c.filters.length && !c.cvsExclude && !hasXattrs && !hasAcls && !c.xattrs && !c.acls && !c.copyLinks && !c.copyDirlinks && !c.copyUnsafeLinks &&
    !c.hardLinks && !c.atimes && !c.checksum && !c.oneFileSystem && c.iconv === undefined && c.chmod.length === 0 && !c.mungeLinks && !c.fakeSuper
  );
}

/** One entry of the native list: its numbers read from the walk's arrays, its bytes made when asked for. */
class NativeEntry implements SendEntry {
  constructor(
    private readonly list: NativeList,
    private readonly i: number,
  ) {}

  private num(f: number): number {
    return this.list.meta[this.i * Flw.Fields + f]!;
  }

  get mode(): number {
    return this.num(Flw.Mode);
  }
  get size(): number {
    return this.num(Flw.Size);
  }
  get mtime(): number {
    return this.num(Flw.Mtime);
  }
  get mtimeNsec(): number {
    return this.num(Flw.Nsec);
  }
  get uid(): number {
    return this.num(Flw.Uid);
  }
  get gid(): number {
    return this.num(Flw.Gid);
  }
  get dev(): number {
    return this.num(Flw.Dev);
  }
  get ino(): number {
    return this.num(Flw.Ino);
  }
  get topDir(): boolean {
    return this.i === 0;
  }
  get contentDir(): boolean {
    return isDir(this.mode);
  }
  get rdev(): { major: number; minor: number } | undefined {
    const t = this.mode & 0o170000;
    return t === 0o020000 || t === 0o060000 ? { major: this.num(Flw.RdevMajor), minor: this.num(Flw.RdevMinor) } : undefined;
  }
  get name(): Buffer {
    return this.list.name(this.i);
  }
  get link(): Buffer | undefined {
    return isLink(this.mode) ? this.list.target(this.i) : undefined;
  }
  get path(): Buffer {
    return this.list.path(this.i);
  }
}

class NativeList {
  readonly names: Buffer;
  readonly at: Uint32Array;
  readonly meta: Float64Array;

  constructor(
    l: NativeSendList,
    /** The operand as given (where entry 0 is read) and the length of its name in the list (0: "."). */
    private readonly src: Buffer,
    private readonly prefixLength: number,
  ) {
    this.names = l.names;
    this.at = l.at;
    this.meta = l.meta;
  }

  private end(from: number): number {
    const z = this.names.indexOf(0, from);
    return z < 0 ? this.names.length : z;
  }

  name(i: number): Buffer {
    const from = this.at[i]!;
    return this.names.subarray(from, this.end(from));
  }

  target(i: number): Buffer {
    const from = this.end(this.at[i]!) + 1;
    return this.names.subarray(from, this.end(from));
  }

  path(i: number): Buffer {
    if (i === 0) return this.src;
    const name = this.name(i);
    return joinPath(this.src, this.prefixLength ? name.subarray(this.prefixLength + 1) : name);
  }
}

export interface NativeTree {
  entries: SendEntry[];
  /** The list encoded (entries by the addon, then the end and id lists), or undefined for options the addon does not encode. */
  encodeList(o: EncodeOptions, ioError: number): Buffer | undefined;
}

/**
 * The list of the directory operand `src` (named `name` in the list: "." for "dir/"), or undefined when
 * the addon could not finish it (the caller walks in TypeScript). `report` is told each entry or
 * directory left out, with its path as the TypeScript walk names it, in the walk's order.
 */
export function listNative(sendList: SendList, src: Buffer, name: Buffer, report: (kind: number, errno: number, path: Buffer) => void): NativeTree | undefined {
  const dot = name.length === 1 && name[0] === 0x2e;
  const prefix = dot ? Buffer.alloc(0) : name;
  const r = sendList.walk(src, src.length, prefix);
  if (isFailure(r) || 'fallback' in r) return undefined;
  const list = new NativeList(r, src, prefix.length);
  for (const e of r.errors) {
    const rel = prefix.length ? e.name.subarray(prefix.length + 1) : e.name;
    report(e.kind, e.errno, rel.length ? joinPath(src, rel) : src);
  }
  const n = r.at.length;
  const entries: SendEntry[] = new Array<SendEntry>(n);
  for (let i = 0; i < n; i++) entries[i] = new NativeEntry(list, i);
  return {
    entries,
    encodeList(o, ioError) {
      if (o.hardLinks || o.acls || o.atimes || o.checksumLen || o.xattrSender || o.protocol < 30) return undefined;
      const bits =
        (o.varintFlags ? Fle.VarintFlags : 0) | (o.uid ? Fle.Uid : 0) | (o.gid ? Fle.Gid : 0) | (o.links ? Fle.Links : 0) |
        (o.devices ? Fle.Devices : 0) | (o.specials ? Fle.Specials : 0);
      const head = sendList.encode(list.names, list.at, list.meta, bits, o.protocol);
      // The ids in the order the entries first carried them, as encodeFlist gathers them.
      const users = new Map<number, Buffer | undefined>();
      const groups = new Map<number, Buffer | undefined>();
      if (!o.numericIds) {
        const m = list.meta;
        let lastUid = -1;
        let lastGid = -1;
        for (let at = 0; at < m.length; at += Flw.Fields) {
          const uid = m[at + Flw.Uid]!;
          const gid = m[at + Flw.Gid]!;
          if (o.uid && uid !== lastUid && !users.has(uid)) users.set(uid, o.userName(uid));
          if (o.gid && gid !== lastGid && !groups.has(gid)) groups.set(gid, o.groupName(gid));
          lastUid = uid;
          lastGid = gid;
        }
      }
      const tail = new ByteWriter(256);
      encodeFlistEnd(tail, users, groups, o, ioError);
      return Buffer.concat([head, tail.take()]);
    },
  };
}
