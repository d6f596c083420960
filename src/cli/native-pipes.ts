// The addon's large pipe for the remote shell's stdout (native/pipes.c, remote/shell-pipes.ts).
// The node engine stays without the addon, as for the checksums (cli/native-sums.ts): its sessions use
// Node's own socketpairs.

import type { EngineChoice } from '../model/config.js';
import { loadAddon } from '../engine/native.js';
import type { PipeOpener } from '../remote/shell-pipes.js';

/** The pipe opener for a remote session, or undefined on the node engine or without the addon. */
export function shellPipeFor(engine: EngineChoice): PipeOpener | undefined {
  if (engine === 'node') return undefined;
  const addon = loadAddon();
  return addon.ok && addon.addon.pipeOpen ? addon.addon.pipeOpen : undefined;
}
