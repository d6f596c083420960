// Choosing an engine and talking to it. `auto` takes io_uring when the addon loaded and a ring can be set
// up on this host, the addon's plain-syscall engine when io_uring is refused (Docker's seccomp profile,
// kernel.io_uring_disabled, old kernels), and pure node:fs when there is no addon. Each choice carries a
// reason that -v prints.

import { errnoCode } from '../util/errors.js';
import {
  createNativeContext,
  isFailure,
  loadAddon,
  nativeLstat,
  nativeScanDir,
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

/** Pick the engine for a run, or say why the requested one cannot run here. */
export function selectEngine(choice: EngineChoice): EngineSelection | { error: string } {
  if (choice === 'node') return { name: 'node', reason: 'requested with --engine=node' };
  const addon = loadAddon();
  if (!addon.ok) {
    if (choice === 'auto') return { name: 'node', reason: `${addon.reason}; using the pure-Node engine` };
    return { error: `--engine=${choice} needs the native addon, which is not available: ${addon.reason}` };
  }
  if (choice === 'sync') return { name: 'sync', reason: 'requested with --engine=sync' };
  const probe = addon.addon.uringProbe();
  if (probe === 0) {
    return { name: 'uring', reason: choice === 'uring' ? 'requested with --engine=uring' : 'io_uring is available' };
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
