// rsync's checksums in C (native/checksum.c) for the CLI's remote sessions and %C: the addon brings the
// xxhash family to the negotiation and to %C's default (xxh128); and the received file list's decoder
// (native/flistdec.c). The node engine stays pure JavaScript (MD5 only, which rsync 3.1 peers have anyway).

import type { EngineChoice } from '../model/config.js';
import { loadAddon } from '../engine/native.js';
import { useNativeSums } from '../remote/checksum.js';
import { useNativeFlist } from '../remote/flist-native.js';

/** Hands the addon's checksums to remote/checksum.ts, and its list decoder to remote/flist-native.ts, unless the run is on the node engine. */
export function useNativeSumsFor(engine: EngineChoice): void {
  if (engine === 'node') return;
  const addon = loadAddon();
  if (!addon.ok) return;
  useNativeSums(addon.addon);
  const decode = addon.addon.flistDecode;
  if (decode) useNativeFlist({ flistDecode: decode });
}
