// Loads the C addon (build/Release/arsync.node) and gives its functions TypeScript types. The addon is
// optional: when it did not build, or ARSYNC_ADDON=none says to act as if it had not, load() returns the
// reason and the caller falls back to the pure-Node engine.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { DirListing, EngineOptions, EngineContext, OpFailure, Stat } from './types.js';
import type { PairCursor, PairEntry, PairListing } from './pair.js';

/** A failure returned (not thrown) by the addon. */
export interface NativeFailure {
  errno: number;
  syscall: string;
}

interface Addon {
  uringProbe(): number;
  scanDir(path: Buffer, anchor?: number): { names: Buffer; meta: Float64Array } | NativeFailure;
  lstat(path: Buffer): Float64Array | NativeFailure;
  readlink(path: Buffer): Buffer | NativeFailure;
  stat(path: Buffer): Float64Array | NativeFailure;
  createContext(opts: EngineOptions): object | NativeFailure;
  run(ctx: object, batch: Uint8Array, outcomes?: Uint8Array): OpFailure[];
  closeContext(ctx: object): void;
  scanDest(ctx: object, rel: Buffer): { names: Buffer; meta: Float64Array } | NativeFailure;
  readlinkDest(ctx: object, rel: Buffer): Buffer | NativeFailure;
  xattrDiff(ctx: object, src: Buffer, rel: Buffer, flags: number): number;
  removeSource(ctx: object, src: Buffer, ino: number, dev: number, anchor?: number): NativeFailure | null;
  pairOpen(ctx: object | null, src: Buffer, destRel: Buffer | null, q: Float64Array, anchor?: number): object | NativeFailure;
  pairNext(cursor: object, max: number, extrasOnly: boolean): RawPair & { done: boolean };
  pairRewind(cursor: object): void;
  pairClose(cursor: object): void;
  scanTree(ctx: object, src: Buffer, destRel: Buffer, q: Float64Array, anchor?: number): { dirty: (Partial<RawPair> & { rel: Buffer })[]; counts: Float64Array } | NativeFailure;
}

interface RawPair {
  names: Buffer;
  meta: Float64Array;
  dmeta: Float64Array;
  extra: Buffer;
  extraMeta: Float64Array;
  collapsed: Float64Array;
  destErrno: number;
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
  if (isFailure(r)) return r;
  const names = splitNames(r.names);
  const entries: PairEntry[] = names.map((name, i) => {
    const err = r.meta[i * META_FIELDS + 11]!;
    const derr = r.dmeta[i * META_FIELDS + 11]!;
    return { name, st: err ? null : statFromMeta(r.meta, i), err, dest: derr ? undefined : statFromMeta(r.dmeta, i) };
  });
  const extras = splitNames(r.extra)
    .map((name, i) => ({ name, i }))
    .filter(({ i }) => !r.extraMeta[i * META_FIELDS + 11])
    .map(({ name, i }) => ({ name, st: statFromMeta(r.extraMeta, i) }));
  const c = r.collapsed;
  return { entries, extras, collapsed: { reg: c[0]!, link: c[1]!, size: c[2]! }, destErrno: r.destErrno };
}

export const META_FIELDS = 12;

/** The addon's pair cursor (ctx null: a source-only listing, for a dry run onto a missing destination). */
export function nativeOpenPair(addon: Addon, ctx: object | null, src: Buffer, destRel: Buffer | null, q: Float64Array, anchor = 0): PairCursor | NativeFailure {
  const cursor = addon.pairOpen(ctx, src, destRel, q, anchor);
  if (isFailure(cursor)) return cursor;
  return {
    next: (max, extrasOnly) => {
      const r = addon.pairNext(cursor, max, extrasOnly);
      return { listing: decodePair(r) as PairListing, done: r.done };
    },
    rewind: () => addon.pairRewind(cursor),
    close: () => addon.pairClose(cursor),
  };
}

export type AddonState = { ok: true; addon: Addon; path: string } | { ok: false; reason: string; fix: string };

/** What to do about a missing addon, for the warning and --version. */
const BUILD_FIX =
  "install a C compiler and liburing's headers (Debian/Ubuntu: apt-get install build-essential python3 liburing-dev), " +
  "then run 'npm rebuild -g arsync' (in a checkout: 'npm run build')";

let state: AddonState | undefined;

/**
 * The addon's default location: <package>/build/Release/arsync.node, seen from the bundle (dist/) or
 * from the sources (src/engine/, when tests import them).
 */
function defaultPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'build', 'Release', 'arsync.node'), join(here, '..', '..', 'build', 'Release', 'arsync.node')];
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

export function loadAddon(): AddonState {
  if (state) return state;
  const override = process.env['ARSYNC_ADDON'];
  if (override === 'none') {
    state = { ok: false, reason: 'native addon switched off with ARSYNC_ADDON=none', fix: 'unset ARSYNC_ADDON' };
    return state;
  }
  const path = override && override.length > 0 ? override : defaultPath();
  if (!existsSync(path)) {
    state = { ok: false, reason: `native addon not built (${path} is missing)`, fix: BUILD_FIX };
    return state;
  }
  try {
    const addon = createRequire(import.meta.url)(path) as Addon;
    state = { ok: true, addon, path };
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0] ?? String(err);
    state = { ok: false, reason: `native addon not loaded (${msg})`, fix: BUILD_FIX };
  }
  return state;
}

export const isFailure = (v: unknown): v is NativeFailure =>
  typeof v === 'object' && v !== null && 'errno' in v && 'syscall' in v && !ArrayBuffer.isView(v);

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
  };
}

export function nativeScanDir(addon: Addon, path: Buffer, anchor = 0): DirListing | NativeFailure {
  return decodeListing(addon.scanDir(path, anchor));
}

function decodeListing(r: { names: Buffer; meta: Float64Array } | NativeFailure): DirListing | NativeFailure {
  if (isFailure(r)) return r;
  const names: Buffer[] = [];
  const stats: (Stat | null)[] = [];
  const errors: number[] = [];
  let start = 0;
  let i = 0;
  for (let p = 0; p < r.names.length; p++) {
    if (r.names[p] !== 0) continue;
    names.push(r.names.subarray(start, p));
    const err = r.meta[i * META_FIELDS + 11]!;
    stats.push(err ? null : statFromMeta(r.meta, i));
    errors.push(err);
    start = p + 1;
    i++;
  }
  return { names, stats, errors };
}

export function nativeLstat(addon: Addon, path: Buffer): Stat | NativeFailure {
  const r = addon.lstat(path);
  if (isFailure(r)) return r;
  return statFromMeta(r, 0);
}

export function nativeStat(addon: Addon, path: Buffer): Stat | NativeFailure {
  const r = addon.stat(path);
  if (isFailure(r)) return r;
  return statFromMeta(r, 0);
}

export function nativeReadlink(addon: Addon, path: Buffer): Buffer | NativeFailure {
  return addon.readlink(path);
}

export function createNativeContext(addon: Addon, opts: EngineOptions): EngineContext | NativeFailure {
  const ctx = addon.createContext(opts);
  if (isFailure(ctx)) return ctx;
  let open = true;
  return {
    name: opts.engine,
    run: (batch, outcomes) => (outcomes ? addon.run(ctx, batch, outcomes) : addon.run(ctx, batch)),
    scanDest: (rel) => decodeListing(addon.scanDest(ctx, rel)),
    readlinkDest: (rel) => addon.readlinkDest(ctx, rel),
    xattrDiff: (src, rel, flags) => addon.xattrDiff(ctx, src, rel, flags),
    unlinkSource: (src, st, anchor = 0) => addon.removeSource(ctx, src, st.ino, st.dev, anchor),
    openPair: (src, destRel, q, anchor = 0) => nativeOpenPair(addon, ctx, src, destRel, q, anchor),
    scanTree: (src, destRel, q, anchor = src.length) => {
      const r = addon.scanTree(ctx, src, destRel, q, anchor);
      if (isFailure(r)) return r;
      const n = r.counts;
      const dirty = r.dirty.map((d) => ({
        rel: d.rel,
        pair: d.names ? (decodePair({ ...(d as RawPair), destErrno: 0 }) as PairListing) : undefined,
      }));
      return { dirty, counts: { dir: n[0]!, reg: n[1]!, link: n[2]!, dev: n[3]!, special: n[4]!, size: n[5]! } };
    },
    close: () => {
      if (open) addon.closeContext(ctx);
      open = false;
    },
  };
}
