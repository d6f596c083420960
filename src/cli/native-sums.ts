// rsync's checksums in C (native/checksum.c) for the CLI's remote sessions and %C: the addon brings the
// xxhash family to the negotiation and to %C's default (xxh128). The node engine stays pure JavaScript
// (MD5 only, which rsync 3.1 peers have anyway).

import type { EngineChoice } from '../model/config.js';
import { loadAddon } from '../engine/native.js';
import { useNativeSums } from '../remote/checksum.js';

/** Hands the addon's checksums to remote/checksum.ts unless the run is on the node engine. */
export function useNativeSumsFor(engine: EngineChoice): void {
  if (engine === 'node') return;
  const addon = loadAddon();
  if (addon.ok) useNativeSums(addon.addon);
}
