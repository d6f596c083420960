// The file list's sort in C (native/flistsort.c) for the CLI's remote sessions and batch reads: handed to
// remote/flist-order.ts, which loads no addon. The node engine keeps the TypeScript sort.

import type { EngineChoice } from '../model/config.js';
import { loadAddon } from '../engine/native.js';
import { useNativeOrder } from '../remote/flist-order.js';

/** Hands the addon's list sort to remote/flist-order.ts unless the run is on the node engine (or the addon lacks it). */
export function useNativeOrderFor(engine: EngineChoice): void {
  if (engine === 'node') return;
  const addon = loadAddon();
  const order = addon.ok ? addon.addon.flistOrder : undefined;
  if (order) useNativeOrder((names, ends, dirs) => order(names, ends, dirs));
}
