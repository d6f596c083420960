// Choosing the engine for a run, in one place (what each engine is and can do: engine.ts). `auto` takes
// io_uring when the addon loaded and a ring can be set up on this host, the addon's plain-syscall engine
// when io_uring is refused (Docker's seccomp profile, kernel.io_uring_disabled, old kernels), and pure
// node:fs when there is no addon. Each choice carries a reason that -v prints.

import { readFileSync, statfsSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { errnoCode } from '../util/errors.js';
import { engineNamed, type Engine } from './engine.js';
import { nativeEngine, nodeEngine } from './engine.js';
import { loadAddon, type Addon as NativeAddon } from './native.js';
import type { EngineChoice, EngineName } from '../model/config.js';
import type { EngineContext, EngineOptions } from './types.js';

/** The engine a run gets: the engine itself (name, reason, caps, helpers) and what to tell the operator. */
export interface EngineSelection extends Engine {
  /**
   * Said once on stderr (unless -q) when `auto` had to take the slow node engine because the addon is
   * missing: a failed build must not pass for a good install.
   */
  warning?: string;
  /** Set when the addon is missing: why, and what fixes it (for -A/-X, which need it). */
  missingAddon?: { reason: string; fix: string };
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

/** Each addon's io_uring probe, made once: a pull selects twice (its stage, then the local run). */
const probes = new WeakMap<NativeAddon, number>();

/**
 * Whether the kernel gives this process a ring (0, or a negative errno): a ring set up and torn down,
 * which cost ~1-20 ms of a small pull on the test VM, so asked once per process (the answer does not change).
 */
function uringProbe(addon: NativeAddon): number {
  let probe = probes.get(addon);
  if (probe === undefined) probes.set(addon, (probe = addon.uringProbe()));
  return probe;
}

/** Pick the engine for a run, or say why the requested one cannot run here. */
export function selectEngine(choice: EngineChoice, paths: Buffer[] = []): EngineSelection | { error: string } {
  if (choice === 'node') return nodeEngine('requested with --engine=node');
  const addon = loadAddon();
  if (!addon.ok) {
    if (choice === 'auto') {
      return {
        ...nodeEngine(`${addon.reason}; using the pure-Node engine`),
        warning: `warning: ${addon.reason}, so this run uses the slower node engine (no io_uring, no -A/-X). To fix: ${addon.fix}.`,
        missingAddon: { reason: addon.reason, fix: addon.fix },
      };
    }
    return { error: `--engine=${choice} needs the native addon, which is not available: ${addon.reason}. To fix: ${addon.fix}` };
  }
  const sel = selectNative(choice, addon.addon, paths);
  // -v says which addon runs: a prebuilt from the package or a build from source.
  return 'error' in sel ? sel : nativeEngine(sel.name, addon.addon, `${sel.reason}; ${addon.kind}`);
}

/** Below this many descriptors `auto` leaves io_uring (measured: its copies ran out of descriptors at 28). */
const FEW_FDS = 64;

/** This process's open-file limit (Node raised it to the hard one as it started), if /proc tells it. */
function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The addon's engines: uring when the kernel allows a ring, else the plain-syscall engine. */
function selectNative(choice: EngineChoice, addon: NativeAddon, paths: Buffer[]): { name: 'uring' | 'sync'; reason: string } | { error: string } {
  if (choice === 'sync') return { name: 'sync', reason: 'requested with --engine=sync' };
  const probe = uringProbe(addon);
  if (probe === 0) {
    if (choice === 'uring') return { name: 'uring', reason: 'requested with --engine=uring' };
    if (allInMemory(paths)) {
      return { name: 'sync', reason: 'source and destination are in memory (tmpfs), where plain syscalls measured faster than io_uring' };
    }
    const limit = openFileLimit();
    if (limit !== undefined && limit < FEW_FDS) {
      return { name: 'sync', reason: `the open-file limit is ${limit}, and io_uring holds more files open at once than plain syscalls` };
    }
    return { name: 'uring', reason: 'io_uring is available' };
  }
  const why = `io_uring_setup failed: ${errnoCode(probe)}`;
  if (choice === 'uring') return { error: `--engine=uring cannot run here: ${why}` };
  return { name: 'sync', reason: `${why}; using the addon's plain-syscall engine` };
}

/** Each engine and whether it can run on this machine (with the reason), for --version. */
export function engineReport(): { name: EngineName; usable: boolean; why: string }[] {
  const addon = loadAddon();
  if (!addon.ok) {
    const why = `${addon.reason}; to fix: ${addon.fix}`;
    return [
      { name: 'uring', usable: false, why },
      { name: 'sync', usable: false, why },
      { name: 'node', usable: true, why: 'pure node:fs (slower; no -A/-X)' },
    ];
  }
  const probe = uringProbe(addon.addon);
  return [
    probe === 0
      ? { name: 'uring', usable: true, why: 'io_uring via liburing' }
      : { name: 'uring', usable: false, why: `io_uring_setup failed: ${errnoCode(probe)} (kernel.io_uring_disabled, a seccomp filter, or an old kernel)` },
    { name: 'sync', usable: true, why: 'native addon, plain syscalls' },
    { name: 'node', usable: true, why: 'pure node:fs (slower; no -A/-X)' },
  ];
}

/** Open a context of the engine `opts.engine` names in the calling thread (a pool worker has only the name). */
export function openContext(opts: EngineOptions): EngineContext {
  return engineNamed(opts.engine).openContext(opts);
}
