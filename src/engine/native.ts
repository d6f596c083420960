// Loads the C addon (the prebuilt for this platform, else build/Release/arsync.node; see addon-path.ts) and
// gives its functions TypeScript types. The addon is optional: when none loads with the expected ABI, or
// ARSYNC_ADDON=none says to act as if it had not, loadAddon() returns the reason and the caller falls back
// to the pure-Node engine.

import { existsSync } from 'node:fs';
import { addonCandidates, platformTag, type AddonCandidate } from './addon-path.js';
import type { DirListing, DirectRequest, PairEntry, PairListing, RecordedLists } from '../model/listing.js';
import type { EngineOptions, EngineContext, OpFailure } from './types.js';
import type { Stat } from '../model/stat.js';
import type { PairCursor } from './pair.js';

/**
 * flistWalk's answer: every entry's name NUL-terminated (a symlink's target right after its name), where
 * each name starts, FLW_FIELDS numbers per entry (run/push-native.ts), and what was left out and why.
 */
export interface NativeSendList {
  names: Buffer;
  at: Uint32Array;
  meta: Float64Array;
  errors: { kind: number; errno: number; name: Buffer }[];
}

/** A failure returned (not thrown) by the addon. */
export interface NativeFailure {
  errno: number;
  syscall: string;
}

export interface Addon {
  abi(): { abi: number; napi: number };
  uringProbe(): number;
  scanDir(path: Buffer, anchor?: number): { names: Buffer; meta: Float64Array } | NativeFailure;
  lstat(path: Buffer): Float64Array | NativeFailure;
  readlink(path: Buffer): Buffer | NativeFailure;
  stat(path: Buffer): Float64Array | NativeFailure;
  createContext(opts: EngineOptions): object | NativeFailure;
  run(ctx: object, batch: Uint8Array, outcomes?: Uint8Array): OpFailure[];
  /** run() of a sync context on a libuv pool thread (native/offthread.c); an older addon lacks it. */
  runAsync?(ctx: object, batch: Uint8Array, outcomes?: Uint8Array): Promise<OpFailure[]>;
  closeContext(ctx: object): void;
  scanDest(ctx: object, rel: Buffer): { names: Buffer; meta: Float64Array } | NativeFailure;
  readlinkDest(ctx: object, rel: Buffer): Buffer | NativeFailure;
  xattrDiff(ctx: object, src: Buffer, rel: Buffer, flags: number, basis?: boolean, xrules?: Buffer): number;
  fakeRead(ctx: object | null, path: Buffer, onDest: boolean, content: boolean): Buffer | null | NativeFailure;
  /** A path's raw POSIX ACL (system.posix_acl_access, or _default), never through a symlink; null: none. */
  aclGet(path: Buffer, isDefault: boolean): Buffer | null | NativeFailure;
  /** Sets (or with null removes) a path's raw POSIX ACL, never through a symlink. */
  aclSet(path: Buffer, isDefault: boolean, value: Buffer | null): null | NativeFailure;
  /** The run's map of ACL named users (or groups) as (low, high, to) source-id ranges (native/aclids.c). */
  aclIdRules(users: boolean, ranges: Uint32Array): void;
  // Whole xattr lists and single values for the remote protocol (native/xattrio.c).
  xattrRead(target: Buffer | number): { names: Buffer[]; values: Buffer[] } | NativeFailure;
  xattrWrite(path: Buffer, name: Buffer, value: Buffer): null | NativeFailure;
  // --iconv's conversions (native/iconv.c; engine/charset.ts). An addon older than them lacks them.
  iconvCharset?(): string;
  iconvOpen?(to: string, from: string): object | number;
  iconvConvert?(handle: object, name: Buffer, flags?: number): Buffer | { errno: number; out: Buffer };
  removeSource(ctx: object, src: Buffer, ino: number, dev: number, anchor?: number, follow?: boolean): NativeFailure | null;
  pairOpen(ctx: object | null, src: Buffer, destRel: Buffer | null, q: Float64Array, anchor?: number): object | NativeFailure;
  pairNext(cursor: object, max: number, extrasOnly: boolean): RawPair & { done: boolean };
  pairRewind(cursor: object): void;
  /** The direct path (native/direct.c): new regular files of the next chunks encoded as File ops; an older addon lacks it. */
  pairDirect?(cursor: object, rel: Buffer, anchor: number, big: number, hardLinks: boolean, changed: boolean): void;
  pairClose(cursor: object): void;
  scanTree(ctx: object, src: Buffer, destRel: Buffer, q: Float64Array, anchor?: number): { dirty: (Partial<RawPair> & { rel: Buffer; self?: Float64Array })[]; counts: Float64Array; lists?: { handle: object; order: Float64Array; links: number } } | NativeFailure;
  /** One recorded list counted (native/streamlist.c; model/listing.ts RecordedLists); an older addon lacks it. */
  streamListCount?(handle: object, ...args: Parameters<RecordedLists['count']>): number;
  // rsync's transfer checksums (native/checksum.c; src/remote/checksum.ts's NativeSums).
  sumChecksum1(b: Uint8Array): number;
  /** checksum1 by each variant the CPU runs (plain, SSE2, AVX2): for the contract test. */
  sumChecksum1Variants(b: Uint8Array): number[];
  sumBlock(kind: number, b: Uint8Array, seed: number): Buffer;
  /** An addon older than this function lacks it: the caller sums block by block then (remote/checksum.ts). */
  sumBlocks?(kind: number, b: Uint8Array, blength: number, s2length: number, seed: number, out: Uint8Array, at: number): number;
  /** A basis file's block sums read and summed in C (native/basissum.c); an older addon lacks it. */
  sumFileBlocks?(kind: number, fd: number, size: number, blength: number, s2length: number, seed: number, out: Uint8Array): number;
  sumHasher(kind: number): object;
  /** A push's list of one directory operand walked in rsync's order (native/flistwalk.c); an older addon lacks it. */
  flistWalk?(path: Buffer, anchor: number, prefix: Buffer): NativeSendList | { fallback: number } | NativeFailure;
  /** That list's entries encoded as rsync's sender writes them (native/flistenc.c). */
  flistEncode?(names: Buffer, at: Uint32Array, meta: Float64Array, bits: number, protocol: number): Buffer;
  /** A received list sorted and cleared as flist.ts sortAndClean does (native/flistsort.c); an older addon lacks it. */
  flistOrder?(names: Buffer, ends: Uint32Array, dirs: Uint8Array): { order: Uint32Array; drop: Uint8Array };
  sumHasherUpdate(h: object, b: Uint8Array): void;
  sumHasherDigest(h: object): Buffer;
  sumRollScan(window: Uint8Array, base: number, from: number, to: number, k: number, state: Int32Array, bitmap: Uint8Array): number;
  sumMatcher(kind: number, seed: number, sum1: Uint32Array, sum2: Uint8Array, blength: number, s2length: number, remainder: number, len: number, inplace: boolean): object;
  sumMatchRun(matcher: object, window: Uint8Array, base: number, out: Float64Array): void;
  // A push's reads of the files it sends (native/sendread.c; engine.ts's SendReads). An addon older than
  // them lacks them: the push reads through node:fs then.
  sendOpen?(path: Buffer, follow: boolean, dev: number, ino: number): number;
  sendReadWhole?(fd: number, kind: number, buf: Buffer, at: number, len: number, sumAt: number): number;
  sendFile?(path: Buffer, follow: boolean, dev: number, ino: number, kind: number, buf: Buffer, at: number, len: number, sumAt: number): number;
  /** A close-on-exec pipe of about `size` bytes (native/pipes.c): [read end, write end, capacity], or -errno. */
  pipeOpen?(size: number): number[] | number;
  /** A pipe's room grown to about `size` bytes (native/pipes.c): its capacity, or -errno; an older addon lacks it. */
  pipeResize?(fd: number, size: number): number;
  /** Removes a tree this process made, following no symlink (native/rmtree.c): 0, or the first -errno. */
  removeTree?(path: Buffer): number;
  /**
   * Renames a staging tree to a path where nothing is yet (renameat2 RENAME_NOREPLACE), or with `swap`
   * in place of an empty directory (exchanged, the old one removed only while empty, else put back):
   * native/rmtree.c. 0, or -errno; an older addon lacks it.
   */
  moveTree?(from: Buffer, to: Buffer, swap?: boolean): number;
  /** A new file (O_EXCL, no symlink followed) written whole from `parts` and closed (native/stagefile.c): 0, or -errno; an older addon lacks it. */
  writeNew?(path: Buffer, parts: Buffer[]): number;
  /** writeNew beneath a context's root, settled as an Attrs op (native/stagefile.c). */
  writeNewSettled?(ctx: object, rel: Buffer, parts: Buffer[], mode: number, uid: number, gid: number, mtimeSec: number, mtimeNsec: number): number;
  /**
   * Whether a pull's destination already is what its received list says (native/listcurrent.c; the
   * twin of cli/pull-current.ts's loop): names as `ends` cut them, per entry [mode, uid, gid, size,
   * mtimeSec, mtimeNsec, group] in `meta`, symlink targets as `linkEnds` cut `links`, and
   * q = [PairBits, modifyWindow, resolutionNs, deleting]. An older addon lacks it.
   */
  listCurrent?(root: Buffer, names: Buffer, ends: Uint32Array, meta: Float64Array, links: Buffer, linkEnds: Uint32Array, q: Float64Array): boolean;
}

interface RawPair {
  names: Buffer;
  meta: Float64Array;
  dmeta: Float64Array;
  extra: Buffer;
  extraMeta: Float64Array;
  collapsed: Float64Array;
  destErrno: number;
  /** After pairDirect: the chunk's File ops, how many, their files' bytes, and how many replace a file. */
  ops?: Buffer;
  opCount?: number;
  opBytes?: number;
  opReplaced?: number;
}

/** NUL-separated names as views into one buffer. */
function splitNames(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let p = b.indexOf(0); p >= 0; p = b.indexOf(0, start)) {
    out.push(b.subarray(start, p));
    start = p + 1;
  }
  return out;
}

function decodePair(r: RawPair | NativeFailure): PairListing | NativeFailure {
  return unwrap(r, (p) => {
    // Once per entry of the walk: plain loops, no intermediate arrays.
    const names = splitNames(p.names);
    const entries: PairEntry[] = [];
    for (let i = 0; i < names.length; i++) {
      const err = errnoAt(p.meta, i);
      entries.push({ name: names[i]!, st: err ? null : statFromMeta(p.meta, i), err, dest: errnoAt(p.dmeta, i) ? undefined : statFromMeta(p.dmeta, i) });
    }
    const extras: PairListing['extras'] = [];
    const extraNames = p.extra.length ? splitNames(p.extra) : [];
    for (let i = 0; i < extraNames.length; i++) {
      if (!errnoAt(p.extraMeta, i)) extras.push({ name: extraNames[i]!, st: statFromMeta(p.extraMeta, i) });
    }
    const c = p.collapsed;
    const listing: PairListing = { entries, extras, collapsed: { reg: c[0]!, link: c[1]!, size: c[2]! }, destErrno: p.destErrno };
    if (p.opCount) listing.direct = { ops: p.ops!, count: p.opCount, bytes: p.opBytes!, replaced: p.opReplaced ?? 0 };
    return listing;
  });
}

export const META_FIELDS = 13;

/** The addon's pair cursor (ctx null: a source-only listing, for a dry run onto a missing destination). */
export function nativeOpenPair(addon: Addon, ctx: object | null, src: Buffer, destRel: Buffer | null, q: Float64Array, anchor = 0): PairCursor | NativeFailure {
  return unwrap(addon.pairOpen(ctx, src, destRel, q, anchor), (cursor) => ({
    next: (max: number, extrasOnly: boolean) => {
      const r = addon.pairNext(cursor, max, extrasOnly);
      return { listing: decodePair(r) as PairListing, done: r.done };
    },
    rewind: () => addon.pairRewind(cursor),
    ...(addon.pairDirect ? { direct: (r: DirectRequest) => addon.pairDirect!(cursor, r.rel, r.anchor, r.big, r.hardLinks, r.changed) } : {}),
    close: () => addon.pairClose(cursor),
  }));
}

export type AddonState = { ok: true; addon: Addon; path: string; kind: AddonCandidate['kind'] } | { ok: false; reason: string; fix: string };

/** What to do about a missing addon, for the warning and --version. */
const BUILD_FIX =
  "install a C compiler and liburing's headers (Debian/Ubuntu: apt-get install build-essential python3 liburing-dev), " +
  "then run 'npm rebuild -g arsync' (in a checkout: 'npm run build')";

let state: AddonState | undefined;

/** The addon contract version this JavaScript speaks (native/abi.h ARSYNC_ADDON_ABI). */
export const ADDON_ABI = 7;

/** Loads one candidate and checks its ABI; the reason it cannot be used, or the addon. */
function tryLoad(c: AddonCandidate): { addon: Addon } | { reason: string } {
  let addon: Addon;
  try {
    // process.dlopen, as require does for a .node file, without the module loader's resolution (its
    // first use sets up the loader's conditions: ~2 ms of a run from the start-up snapshot).
    const m = { exports: {} as Addon };
    process.dlopen(m, c.path);
    addon = m.exports;
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0] ?? String(err);
    return { reason: `${c.kind} ${c.path} did not load (${msg})` };
  }
  const abi = typeof addon.abi === 'function' ? addon.abi().abi : 0;
  if (abi !== ADDON_ABI) return { reason: `${c.kind} ${c.path} has ABI ${abi}, this arsync needs ${ADDON_ABI} (rebuild it)` };
  return { addon };
}

/**
 * The first usable addon: the prebuilt for this platform, else the from-source build (addon-path.ts).
 * When none is usable the reason names what each candidate said, because a silent fall back to the
 * slow engine is the defect users cannot see.
 */
export function loadAddon(): AddonState {
  if (state) return state;
  if (process.env['ARSYNC_ADDON'] === 'none') {
    state = { ok: false, reason: 'native addon switched off with ARSYNC_ADDON=none', fix: 'unset ARSYNC_ADDON' };
    return state;
  }
  const reasons: string[] = [];
  for (const c of addonCandidates()) {
    if (c.kind === 'addon built from source' && !existsSync(c.path)) {
      reasons.push(reasons.length === 0 ? `native addon not loaded (no prebuilt for ${platformTag()} and no build in ${c.path})` : `no build from source in ${c.path}`);
      continue;
    }
    const r = tryLoad(c);
    if ('addon' in r) {
      state = { ok: true, addon: r.addon, path: c.path, kind: c.kind };
      return state;
    }
    reasons.push(r.reason);
  }
  state = { ok: false, reason: reasons.join('; '), fix: BUILD_FIX };
  return state;
}

export const isFailure = (v: unknown): v is NativeFailure =>
  typeof v === 'object' && v !== null && 'errno' in v && 'syscall' in v && !ArrayBuffer.isView(v);

/** An addon answer decoded, or its failure passed on as it came (failures are values, not throws). */
function unwrap<T, R>(r: T | NativeFailure, decode: (v: T) => R): R | NativeFailure {
  return isFailure(r) ? r : decode(r);
}

/** The errno field of stat record `i` (0: the stat succeeded). */
const errnoAt = (m: Float64Array, i: number): number => m[i * META_FIELDS + 11]!;

/** Decode one 12-double stat record. */
export function statFromMeta(m: Float64Array, i: number): Stat {
  const o = i * META_FIELDS;
  return {
    mode: m[o]!,
    uid: m[o + 1]!,
    gid: m[o + 2]!,
    size: m[o + 3]!,
    mtimeSec: m[o + 4]!,
    mtimeNsec: m[o + 5]!,
    ino: m[o + 6]!,
    dev: m[o + 7]!,
    nlink: m[o + 8]!,
    rdev: m[o + 9]!,
    blocks: m[o + 10]!,
    atimeSec: m[o + 12]!,
  };
}

export function nativeScanDir(addon: Addon, path: Buffer, anchor = 0): DirListing | NativeFailure {
  return decodeListing(addon.scanDir(path, anchor));
}

function decodeListing(r: { names: Buffer; meta: Float64Array } | NativeFailure): DirListing | NativeFailure {
  return unwrap(r, ({ names, meta }) => {
    // Once per entry of every walk (a push lists each entry this way): one loop, no arrays mapped twice.
    const list = splitNames(names);
    const stats: (Stat | null)[] = new Array<Stat | null>(list.length);
    const errors: number[] = new Array<number>(list.length);
    for (let i = 0; i < list.length; i++) {
      const err = errnoAt(meta, i);
      errors[i] = err;
      stats[i] = err ? null : statFromMeta(meta, i);
    }
    return { names: list, stats, errors };
  });
}

export function nativeLstat(addon: Addon, path: Buffer): Stat | NativeFailure {
  return unwrap(addon.lstat(path), (m) => statFromMeta(m, 0));
}

export function nativeStat(addon: Addon, path: Buffer): Stat | NativeFailure {
  return unwrap(addon.stat(path), (m) => statFromMeta(m, 0));
}

export function nativeReadlink(addon: Addon, path: Buffer): Buffer | NativeFailure {
  return addon.readlink(path);
}

export function createNativeContext(addon: Addon, opts: EngineOptions): EngineContext | NativeFailure {
  // Preserve.XattrsAll is bit 31: a mask built with `|` is a negative int32, the addon takes a uint32.
  return unwrap(addon.createContext({ ...opts, flags: opts.flags >>> 0 }), (ctx) => contextOf(addon, ctx, opts));
}

/** The EngineContext over a context the addon made. */
function contextOf(addon: Addon, ctx: object, opts: EngineOptions): EngineContext {
  let open = true;
  return {
    name: opts.engine,
    run: (batch, outcomes) => (outcomes ? addon.run(ctx, batch, outcomes) : addon.run(ctx, batch)),
    ...(opts.engine === 'sync' && addon.runAsync
      ? { runOff: (batch: Uint8Array, outcomes?: Uint8Array) => (outcomes ? addon.runAsync!(ctx, batch, outcomes) : addon.runAsync!(ctx, batch)) }
      : {}),
    scanDest: (rel) => decodeListing(addon.scanDest(ctx, rel)),
    readlinkDest: (rel) => addon.readlinkDest(ctx, rel),
    ...(addon.writeNewSettled
      ? { writeNewSettled: (rel: Buffer, parts: Buffer[], st: Stat) => addon.writeNewSettled!(ctx, rel, parts, st.mode, st.uid, st.gid, st.mtimeSec, st.mtimeNsec) }
      : {}),
    xattrDiff: (src, rel, flags, basis = false, xrules?: Buffer) => (xrules ? addon.xattrDiff(ctx, src, rel, flags, basis, xrules) : addon.xattrDiff(ctx, src, rel, flags, basis)),
    fakeReadDest: (rel, content) => addon.fakeRead(ctx, rel, true, content),
    unlinkSource: (src, st, anchor = 0, follow = false) => addon.removeSource(ctx, src, st.ino, st.dev, anchor, follow),
    openPair: (src, destRel, q, anchor = 0) => nativeOpenPair(addon, ctx, src, destRel, q, anchor),
    scanTree: (src, destRel, q, anchor = src.length) =>
      unwrap(addon.scanTree(ctx, src, destRel, q, anchor), (r) => {
        const n = r.counts;
        const dirty = r.dirty.map((d) => ({
          rel: d.rel,
          pair: d.names ? (decodePair({ ...(d as RawPair), destErrno: 0 }) as PairListing) : undefined,
          self: d.self && statFromMeta(d.self, 0),
        }));
        const counts = { dir: n[0]!, reg: n[1]!, link: n[2]!, dev: n[3]!, special: n[4]!, size: n[5]! };
        const count = addon.streamListCount?.bind(addon);
        const rec = r.lists;
        if (!rec || !count) return { dirty, counts };
        return { dirty, counts, lists: { order: rec.order, links: rec.links, count: (...a) => count(rec.handle, ...a) } };
      }),
    close: () => {
      if (open) addon.closeContext(ctx);
      open = false;
    },
  };
}
