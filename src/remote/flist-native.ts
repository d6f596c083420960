// The received file list's common entries decoded by the addon (native/flistdec.c): many entries per
// call into flat arrays, turned here into the same entries src/remote/flist.ts's decoder makes, with
// the names as views of one buffer per call instead of one allocation and two copies each. The
// TypeScript decoder keeps every entry the C one leaves (the end, -H, names after ids, names to
// clean, anything to refuse) and every list with -A, -X or incremental parts; both read and advance
// the same PrevEntry. test/contract/flist-decode.test.ts holds the two to the same entries. This layer
// loads no addon: the CLI hands the function in (useNativeFlist), unless the run is on the node engine.

import type { FlistOptions, PrevEntry, RemoteEntry } from './flist.js';
import type { Cursor } from './wire.js';

/** The addon's decoder (src/engine/native.ts Addon). */
export interface NativeFlist {
  flistDecode(input: Uint8Array, bits: number, protocol: number, sumLen: number, state: Float64Array, last: Uint8Array, nums: Float64Array, bytes: Uint8Array): number;
}

/** native/flistdec.h's enums (test/contract/native-constants.test.ts compares them). */
export const FldBit = { VarintFlags: 1, Uid: 2, Gid: 4, Links: 8, Devices: 16, Specials: 32, HardLinks: 64, Atimes: 128 } as const;
export const FldState = { Mtime: 0, Mode: 1, Uid: 2, Gid: 3, Atime: 4, RdevMajor: 5, LastLen: 6, Pos: 7, Used: 8, Stop: 9, Len: 10 } as const;
export const FldStop = { Short: 0, Other: 1, Full: 2 } as const;
export const FldField = {
  NameLen: 0,
  Mode: 1,
  Size: 2,
  Mtime: 3,
  Nsec: 4,
  Atime: 5,
  Uid: 6,
  Gid: 7,
  RdevMajor: 8,
  RdevMinor: 9,
  LinkLen: 10,
  Flags: 11,
  Entry: 12,
} as const;
export const FldFlag = { TopDir: 1, NoContent: 2, Rdev: 4 } as const;

/** rsync's MAXPATHLEN (native/xmit.h XMIT_MAXPATHLEN): the longest name the previous-name buffer holds. */
const MAXPATHLEN = 1024;
/** Entries and name bytes per call: an 80,000-entry list takes a few dozen calls. */
const SLOTS = 4096;
const BYTES = 256 * 1024;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

let native: NativeFlist | undefined;

/** Decodes the common entries in C from now on (undefined: in TypeScript again, for the tests). */
export function useNativeFlist(n: NativeFlist | undefined): void {
  native = n;
}

/** The C path for a list with these options, when the addon was handed in. */
export function nativeFlistPath(o: FlistOptions): NativeFlistPath | undefined {
  return native ? new NativeFlistPath(native, o) : undefined;
}

export class NativeFlistPath {
  private readonly state = new Float64Array(FldState.Len);
  private readonly last = Buffer.alloc(MAXPATHLEN);
  /** The previous name whose bytes `last` holds (copied again only when TypeScript decoded one since). */
  private lastName: Buffer | undefined;
  private readonly nums = new Float64Array(SLOTS * FldField.Entry);
  private readonly scratch = Buffer.allocUnsafeSlow(BYTES);
  private readonly bits: number;
  private readonly sumLen: number;

  constructor(
    private readonly n: NativeFlist,
    private readonly o: FlistOptions,
  ) {
    this.bits =
      (o.varintFlags ? FldBit.VarintFlags : 0) |
      (o.uid ? FldBit.Uid : 0) |
      (o.gid ? FldBit.Gid : 0) |
      (o.links ? FldBit.Links : 0) |
      (o.devices ? FldBit.Devices : 0) |
      (o.specials ? FldBit.Specials : 0) |
      (o.hardLinks ? FldBit.HardLinks : 0) |
      (o.atimes ? FldBit.Atimes : 0);
    this.sumLen = o.checksumLen;
  }

  /** Entries decoded from `c` into `entries` (prev advanced past them); the last, or undefined when none. */
  run(c: Cursor, prev: PrevEntry, entries: RemoteEntry[]): RemoteEntry | undefined {
    const st = this.state;
    // (The TypeScript decoder refuses a name that long: never the case.)
    if (prev.name.length >= MAXPATHLEN) return undefined;
    if (prev.name !== this.lastName) {
      prev.name.copy(this.last);
      this.lastName = prev.name;
    }
    st[FldState.Mtime] = prev.mtime;
    st[FldState.Mode] = prev.mode;
    st[FldState.Uid] = prev.uid;
    st[FldState.Gid] = prev.gid;
    st[FldState.Atime] = prev.atime;
    st[FldState.RdevMajor] = prev.rdevMajor;
    st[FldState.LastLen] = prev.name.length;
    st[FldState.Pos] = c.pos;
    const count = this.n.flistDecode(c.buf, this.bits, this.o.protocol, this.sumLen, st, this.last, this.nums, this.scratch);
    if (count === 0) return undefined;
    c.pos = st[FldState.Pos]!;
    const used = st[FldState.Used]!;
    const bytes = Buffer.allocUnsafeSlow(used);
    this.scratch.copy(bytes, 0, 0, used);
    const nums = this.nums;
    const o = this.o;
    const sumLen = this.sumLen;
    let at = 0;
    let entry: RemoteEntry | undefined;
    for (let i = 0; i < count; i++) {
      const k = i * FldField.Entry;
      const nameLen = nums[k + FldField.NameLen]!;
      const mode = nums[k + FldField.Mode]!;
      const flags = nums[k + FldField.Flags]!;
      const dir = (mode & S_IFMT) === S_IFDIR;
      // Built in the order flist.ts builds its entries, so both have one shape.
      entry = {
        name: bytes.subarray(at, at + nameLen),
        mode,
        size: nums[k + FldField.Size]!,
        mtime: nums[k + FldField.Mtime]!,
        mtimeNsec: nums[k + FldField.Nsec]!,
        topDir: (flags & FldFlag.TopDir) !== 0,
      };
      at += nameLen;
      if (flags & FldFlag.NoContent) entry.noContent = true;
      if (o.atimes && !dir) entry.atime = nums[k + FldField.Atime]!;
      if (o.uid) entry.uid = nums[k + FldField.Uid]!;
      if (o.gid) entry.gid = nums[k + FldField.Gid]!;
      if (flags & FldFlag.Rdev) entry.rdev = { major: nums[k + FldField.RdevMajor]!, minor: nums[k + FldField.RdevMinor]! };
      const linkLen = nums[k + FldField.LinkLen]!;
      if (linkLen) {
        entry.link = bytes.subarray(at, at + linkLen);
        at += linkLen;
      }
      if (sumLen && (mode & S_IFMT) === S_IFREG) {
        entry.sum = bytes.subarray(at, at + sumLen);
        at += sumLen;
      }
      entries.push(entry);
    }
    // What the next entry may share: the last one's fields, its name as sent (a clean name, so its own).
    prev.name = entry!.name;
    this.lastName = prev.name;
    prev.mtime = st[FldState.Mtime]!;
    prev.mode = st[FldState.Mode]!;
    prev.uid = st[FldState.Uid]!;
    prev.gid = st[FldState.Gid]!;
    prev.atime = st[FldState.Atime]!;
    prev.rdevMajor = st[FldState.RdevMajor]!;
    return entry;
  }
}
