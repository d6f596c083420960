// Which command lines are a pull (`arsync [options] [user@]host:src dst`, or a daemon's `host::module/src`):
// one source on another machine reached through a remote shell or an rsync daemon, and a local destination. What a pull run carries beyond the
// Config: the operand, the remote shell and the remote rsync's path, and -W (which a local copy has no
// use for).

import type { ClientCompress } from '../remote/compress.js';
import type { Config } from '../model/config.js';
import { classifyOperand, type RemoteOperand } from './remote-operand.js';
import { filesFromPlace } from './remote-files-from.js';

export interface RemotePull {
  operand: RemoteOperand;
  rsh: string | undefined;
  rsyncPath: string | undefined;
  config: Config;
  /** -W/--whole-file: no delta transfer (rsync's default for a local copy, not for a remote one). */
  wholeFile: boolean;
  /** -B/--block-size: the delta's block length (0: rsync's rule by the file's size). */
  blockSize: number;
  /** -z and its options as rsync's client settles them (remote/compress.ts). */
  compress: ClientCompress;
}

/** The remote source of a pull, or undefined when the operands are not one (then other rules apply). */
export function pullOperand(operands: Buffer[]): RemoteOperand | undefined {
  if (operands.length !== 2) return undefined;
  const src = classifyOperand(operands[0]!);
  if (src.kind === 'local' || classifyOperand(operands[1]!).kind !== 'local') return undefined;
  // An empty path is the remote user's home directory, as rsync sends it: "." (a daemon's is its module list).
  return { ...src, path: src.path.length || src.kind === 'daemon' ? src.path : Buffer.from('.') };
}

/**
 * What a pull cannot do yet, said before anything starts (undefined: nothing): with --files-from, the
 * local half copies the staged tree whole, so it could not keep a deletion to the directories the list
 * sent with their contents. A --files-from on another host than `host` is refused here too
 * (remote-files-from.ts).
 */
export function pullRefusal(c: Config, host: string): string | undefined {
  if (filesFromPlace(c, host) && c.deleteMode !== 'none') return '--delete with --files-from is not supported in a pull from another machine yet';
  return undefined;
}
