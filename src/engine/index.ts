// Choosing an engine and talking to it. `auto` takes io_uring when the addon loaded and a ring can be set
// up on this host, the addon's plain-syscall engine when io_uring is refused (Docker's seccomp profile,
// kernel.io_uring_disabled, old kernels), and pure node:fs when there is no addon. Each choice carries a
// reason that -v prints.

import { statfsSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { errnoCode } from '../util/errors.js';
import {
  createNativeContext,
  isFailure,
  loadAddon,
  nativeLstat,
  nativeScanDir,
  type Addon as NativeAddon,
  type NativeFailure,
} from './native.js';
import { createNodeContext } from './node.js';
import { nodeLstat, nodeScanDir } from './node-walk.js';
import type { DirListing, EngineChoice, EngineContext, EngineName, EngineOptions, Stat } from './types.js';

export interface EngineSelection {
  name: EngineName;
  /** Why this engine, for -v. */
  reason: string;
}

// Filesystems that live in memory (statfs f_type): tmpfs and ramfs.
const MEMORY_FS = new Set([0x01021994, 0x858458f6]);

/** The statfs type of a path, or of its nearest existing ancestor (a destination may not exist yet). */
function fsType(p: Buffer): number | undefined {
  let cur = resolvePath(p.toString('latin1'));
  for (;;) {
    try {
      return statfsSync(Buffer.from(cur, 'latin1')).type;
    } catch {
      const up = dirname(cur);
      if (up === cur) return undefined;
      cur = up;
    }
  }
}

/**
 * Whether every path is on a memory filesystem. There the plain-syscall engine measured faster than
 * io_uring for small files (nothing waits on a device, so the ring only adds work); on disks io_uring
 * measured twice as fast cold (docs/benchmarks.md).
 */
export function allInMemory(paths: Buffer[]): boolean {
  return paths.length > 0 && paths.every((p) => MEMORY_FS.has(fsType(p) ?? -1));
}

/** Pick the engine for a run, or say why the requested one cannot run here. */
export function selectEngine(choice: EngineChoice, paths: Buffer[] = []): EngineSelection | { error: string } {
  if (choice === 'node') return { name: 'node', reason: 'requested with --engine=node' };
  const addon = loadAddon();
  if (!addon.ok) {
    if (choice === 'auto') return { name: 'node', reason: `${addon.reason}; using the pure-Node engine` };
    return { error: `--engine=${choice} needs the native addon, which is not available: ${addon.reason}` };
  }
  const sel = selectNative(choice, addon.addon, paths);
  // -v says which addon runs: a prebuilt from the package or a build from source.
  return 'error' in sel ? sel : { ...sel, reason: `${sel.reason}; ${addon.kind}` };
}

/** The addon's engines: uring when the kernel allows a ring, else the plain-syscall engine. */
function selectNative(choice: EngineChoice, addon: NativeAddon, paths: Buffer[]): EngineSelection | { error: string } {
  if (choice === 'sync') return { name: 'sync', reason: 'requested with --engine=sync' };
  const probe = addon.uringProbe();
  if (probe === 0) {
    if (choice === 'uring') return { name: 'uring', reason: 'requested with --engine=uring' };
    if (allInMemory(paths)) {
      return { name: 'sync', reason: 'source and destination are in memory (tmpfs), where plain syscalls measured faster than io_uring' };
    }
    return { name: 'uring', reason: 'io_uring is available' };
  }
  const why = `io_uring_setup failed: ${errnoCode(probe)}`;
  if (choice === 'uring') return { error: `--engine=uring cannot run here: ${why}` };
  return { name: 'sync', reason: `${why}; using the addon's plain-syscall engine` };
}

/** Directory listing through the engine's walker (native getdents64+statx, or node:fs). */
export function scanDir(engine: EngineName, path: Buffer): DirListing | NativeFailure {
  const addon = loadAddon();
  if (engine !== 'node' && addon.ok) return nativeScanDir(addon.addon, path);
  return nodeScanDir(path);
}

export function lstatPath(engine: EngineName, path: Buffer): Stat | NativeFailure {
  const addon = loadAddon();
  if (engine !== 'node' && addon.ok) return nativeLstat(addon.addon, path);
  return nodeLstat(path);
}

/** Open an engine context in the calling thread. Throws with a readable message when it cannot. */
export function openContext(opts: EngineOptions): EngineContext {
  if (opts.engine === 'node') return createNodeContext(opts);
  const addon = loadAddon();
  if (!addon.ok) throw new Error(`the ${opts.engine} engine needs the native addon: ${addon.reason}`);
  const ctx = createNativeContext(addon.addon, opts);
  if (isFailure(ctx)) {
    throw new Error(`cannot start the ${opts.engine} engine: ${errnoCode(ctx.errno)} (${ctx.syscall})`);
  }
  return ctx;
}

export { isFailure };
export type { NativeFailure };
