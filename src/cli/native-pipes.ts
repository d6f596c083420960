// The addon's large pipe for the remote shell's stdout (native/pipes.c, remote/shell-pipes.ts).
// The node engine stays without the addon, as for the checksums (cli/native-sums.ts): its sessions use
// Node's own socketpairs.

import type { EngineChoice } from '../model/config.js';
import { loadAddon } from '../engine/native.js';
import type { ShellPipes } from '../remote/shell-pipes.js';

/** The pipe calls for a remote session, or undefined on the node engine or without the addon. */
export function shellPipeFor(engine: EngineChoice): ShellPipes | undefined {
  if (engine === 'node') return undefined;
  const addon = loadAddon();
  if (!addon.ok || !addon.addon.pipeOpen) return undefined;
  const { pipeOpen, pipeResize } = addon.addon;
  return { open: pipeOpen, resize: pipeResize };
}
