// The engines as objects: each has a name, its capabilities, and the main-thread helpers (walker, stat,
// readlink, a source-only pair cursor, opening a context), so the rest of arsync asks the engine what it
// can do instead of testing its name. Which engine a run gets is decided in index.ts; this module only
// says what each one is.

import { errnoCode, fsError, showPath } from '../util/errors.js';
import { createNativeContext, loadAddon, nativeLstat, nativeOpenPair, nativeReadlink, nativeScanDir, nativeStat, type Addon } from './native.js';
import { isFailure } from '../model/failure.js';
import type { NativeFailure, NativeSendList } from './native.js';
import { createNodeContext } from './node.js';
import { nodeOpenSourcePair } from './node-pair.js';
import { nodeLstat, nodeReadlink, nodeScanDir, nodeStat } from './node-walk.js';
import type { PairCursor } from './pair.js';
import type { DirListing } from '../model/listing.js';
import type { EngineContext, EngineOptions } from './types.js';
import type { EngineName } from '../model/config.js';
import type { Stat } from '../model/stat.js';

/** What an engine can do, so callers ask it instead of inferring it from the name. */
export interface EngineCaps {
  /**
   * The finest mtime step the engine sets, in nanoseconds; the quick check compares times to it. The node
   * engine sets times through a double, to the microsecond (1000); the addon to the nanosecond (1).
   */
  timeResolutionNs: number;
  /** Reads and writes xattrs and ACLs (-X/-A). Node has no xattr API. */
  xattrs: boolean;
  /** Its contexts have scanTree (the quick check over a whole tree on a thread pool, in C). */
  treeScan: boolean;
  /**
   * The engine to run batches with on the main thread when workers cannot be used (the EMFILE retries):
   * one that keeps one file open at a time. uring → sync; the others are themselves.
   */
  serial: EngineName;
  /**
   * The engine whose contexts are lent to native threads for batches with much data (EngineContext.runOff),
   * or undefined. uring → sync: a ring belongs to the thread that made it, and a large file's data goes by
   * copy_file_range or a clone, in the kernel, where a ring adds nothing (a uring run used to start its
   * pool's two Node workers for two 1 GiB files instead: docs/benchmarks.md, "Session 41").
   */
  offThread: EngineName | undefined;
}

/**
 * A push's reads of the files it sends, one call each (native/sendread.c): `open` answers a file
 * descriptor, -errno, or NOT_LISTED when the path is no longer the regular file the walk saw (device and
 * inode); `readWhole` reads a file's first `len` bytes into `buf` at `at` (zeros after a shorter file),
 * writes the whole-file sum of kind `kind` (remote/checksum.ts's numbering) at `sumAt`, closes `fd`, and
 * answers the bytes read or -errno; `file` is both in one call for a small file sent whole (open's
 * answers for a file not opened as listed, or READ_FAILED - errno for a read that failed).
 */
export interface SendReads {
  open(path: Buffer, follow: boolean, dev: number, ino: number): number;
  readWhole(fd: number, kind: number, buf: Buffer, at: number, len: number, sumAt: number): number;
  file(path: Buffer, follow: boolean, dev: number, ino: number, kind: number, buf: Buffer, at: number, len: number, sumAt: number): number;
}

/** A push's list walked and encoded in C (native engines with an addon that has them: run/push-native.ts). */
export interface SendList {
  walk(path: Buffer, anchor: number, prefix: Buffer): NativeSendList | { fallback: number } | NativeFailure;
  encode(names: Buffer, at: Uint32Array, meta: Float64Array, bits: number, protocol: number): Buffer;
}

/** SendReads.open's answer for a path that is not the listed file any more. */
export const NOT_LISTED = -0x10000;
/** SendReads.file's answer for a read that failed: this minus errno. */
export const READ_FAILED = -0x20000;

/** An engine: what it is, what it can do, and how the main thread walks and opens a context with it. */
export interface Engine {
  readonly name: EngineName;
  /** Why this engine was chosen, for -v. */
  readonly reason: string;
  readonly caps: EngineCaps;
  /**
   * A directory's listing through the engine's walker (native getdents64+statx, or node:fs). Below the
   * first `anchor` bytes of `path` (the operator's part; 0: all but the last component) no symlink is
   * followed.
   */
  scanDir(path: Buffer, anchor?: number): DirListing | NativeFailure;
  /** A source directory's paired listing with no destination twin (no context needed: a dry run onto a missing destination). */
  openSourcePair(path: Buffer, q: Float64Array, anchor?: number): PairCursor | NativeFailure;
  lstat(path: Buffer): Stat | NativeFailure;
  /** stat(2), following symlinks (native: any path length; node:fs: up to PATH_MAX). */
  stat(path: Buffer): Stat | NativeFailure;
  /** A source symlink's target (native: any path length; node:fs: up to PATH_MAX). */
  readlink(path: Buffer): Buffer | NativeFailure;
  /**
   * --fake-super (native engines only): a source entry's user.rsync.%stat record (content false) or a
   * regular file's bytes (content true: a fake symlink's target); null when there is none.
   */
  fakeRead?(path: Buffer, content: boolean): Buffer | null | NativeFailure;
  /** A push's reads of the files it sends in C (native engines with an addon that has them). */
  sendReads?: SendReads;
  /** A push's list of one plain directory operand walked and encoded in C (native engines). */
  sendList?: SendList;
  /**
   * A context of this engine in the calling thread (`opts.engine` is overridden by this engine's name).
   * Throws with a readable message when it cannot be opened.
   */
  openContext(opts: EngineOptions): EngineContext;
}

/** The destination root could not be opened: a file-I/O error on that path, not an engine fault. */
const rootError = (errno: number, opts: EngineOptions): Error => fsError(errno, 'open', showPath(opts.destRoot));

const NODE_CAPS: EngineCaps = { timeResolutionNs: 1000, xattrs: false, treeScan: false, serial: 'node', offThread: undefined };

/** The pure node:fs engine. */
export function nodeEngine(reason = ''): Engine {
  return {
    name: 'node',
    reason,
    caps: NODE_CAPS,
    scanDir: (path, anchor = 0) => nodeScanDir(path, false, anchor),
    openSourcePair: (path, _q, anchor = 0) => nodeOpenSourcePair(path, anchor),
    lstat: nodeLstat,
    stat: nodeStat,
    readlink: nodeReadlink,
    openContext: (opts) => {
      try {
        return createNodeContext({ ...opts, engine: 'node' });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.syscall === 'open' && typeof err.errno === 'number') throw rootError(err.errno, opts);
        throw e;
      }
    },
  };
}

/** One of the addon's engines: `uring` (io_uring) or `sync` (the same ops with plain syscalls). */
export function nativeEngine(name: 'uring' | 'sync', addon: Addon, reason = ''): Engine {
  return {
    name,
    reason,
    // Only sync contexts are lent, to either engine's runs (EngineCaps.offThread).
    caps: { timeResolutionNs: 1, xattrs: true, treeScan: true, serial: 'sync', offThread: addon.runAsync !== undefined ? 'sync' : undefined },
    scanDir: (path, anchor = 0) => nativeScanDir(addon, path, anchor),
    openSourcePair: (path, q, anchor = 0) => nativeOpenPair(addon, null, path, null, q, anchor),
    lstat: (path) => nativeLstat(addon, path),
    stat: (path) => nativeStat(addon, path),
    readlink: (path) => nativeReadlink(addon, path),
    fakeRead: (path, content) => addon.fakeRead(null, path, false, content),
    ...(addon.sendOpen && addon.sendReadWhole && addon.sendFile ? { sendReads: { open: addon.sendOpen, readWhole: addon.sendReadWhole, file: addon.sendFile } } : {}),
    ...(addon.flistWalk && addon.flistEncode ? { sendList: { walk: addon.flistWalk, encode: addon.flistEncode } } : {}),
    openContext: (opts) => {
      const ctx = createNativeContext(addon, { ...opts, engine: name });
      if (!isFailure(ctx)) return ctx;
      if (ctx.syscall === 'open') throw rootError(ctx.errno, opts);
      throw new Error(`cannot start the ${name} engine: ${errnoCode(ctx.errno)} (${ctx.syscall})`);
    },
  };
}

/**
 * An addon engine named where the addon does not load (a worker thread that could not load what the main
 * thread did): its walker is node:fs, and a context cannot be opened.
 */
function withoutAddon(name: 'uring' | 'sync', why: string): Engine {
  return {
    ...nodeEngine(),
    name,
    openContext: () => {
      throw new Error(`the ${name} engine needs the native addon: ${why}`);
    },
  };
}

const byName = new Map<EngineName, Engine>();

/**
 * The engine of a name, for code that has only the name (a worker thread, from its EngineOptions).
 * Engines of one name are made once: the walker helpers are called per entry.
 */
export function engineNamed(name: EngineName): Engine {
  let e = byName.get(name);
  if (!e) {
    if (name === 'node') e = nodeEngine();
    else {
      const addon = loadAddon();
      e = addon.ok ? nativeEngine(name, addon.addon) : withoutAddon(name, addon.reason);
    }
    byName.set(name, e);
  }
  return e;
}
