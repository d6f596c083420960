// Which command lines are a pull (`arsync [options] [user@]host:src [host:src2 | :src2 ...] dst`, or a
// daemon's `host::module/src`): sources on one other machine reached through a remote shell or an rsync
// daemon, and a local destination. What a pull run carries beyond the Config: the operands, the remote
// shell and the remote rsync's path, and -W (which a local copy has no use for).

import type { ClientCompress } from '../remote/compress.js';
import type { Config } from '../model/config.js';
import { classifyOperand, type DaemonOperand, type RemoteOperand } from './remote-operand.js';
import { filesFromPlace } from './remote-files-from.js';
import { UsageError, showPath } from '../util/errors.js';
import type { RemoteCopyAs } from './remote-copy-as.js';

export interface RemotePull {
  operand: RemoteOperand;
  /** Further sources on the same machine (`host:a :b dst`): their paths, sent after the operand's. */
  extraPaths?: Buffer[];
  /** --copy-as: the identity this process takes once the remote shell runs (cli/remote-copy-as.ts). */
  copyAs?: RemoteCopyAs;
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

/**
 * The (first) remote source of a pull, or undefined when the operands are not one (then other rules
 * apply): the first operand on another machine (remote shell or daemon), the last one local.
 */
export function pullOperand(operands: Buffer[]): RemoteOperand | undefined {
  if (operands.length < 2) return undefined;
  const src = classifyOperand(operands[0]!);
  if (src.kind === 'local' || classifyOperand(operands[operands.length - 1]!).kind !== 'local') return undefined;
  // An empty path is the remote user's home directory, as rsync sends it: "." (a daemon's is its module list).
  return { ...src, path: src.path.length || src.kind === 'daemon' ? src.path : Buffer.from('.') };
}

/**
 * The paths of a pull's or a listing's further sources (`host:a host:b dst`, `host:a :b dst`, a listing's
 * `host:a :b`; from a daemon `host::m/a ::m/b dst`, `rsync://host/m/a rsync://host/m/b dst`), by rsync's
 * rules (main.c client_run): each must name the same machine or none, in the same form (remote shell or
 * daemon), a daemon's on the same port; an empty path is ".". Anything else is rsync's usage error, before
 * anything starts. A daemon's further paths go to it as they are, as rsync's client sends them (the
 * daemon takes each within the first's module, dropping a leading "MODULE/").
 */
export function pullExtraPaths(further: Buffer[], first: RemoteOperand): Buffer[] {
  const host = first.host;
  return further.map((b) => {
    const op = classifyOperand(b);
    if (op.kind === 'local') {
      throw new UsageError(`Unexpected local arg: ${showPath(b)}\nIf arg is a remote file/dir, prefix it with a colon (:).`);
    }
    if (op.host.length && op.host !== host) throw new UsageError('All source args must come from the same machine.');
    if (op.kind !== first.kind) throw new UsageError('All source args must use the same hostspec format.');
    if (first.kind === 'daemon' && op.kind === 'daemon' && op.port !== undefined && op.port !== daemonPort(first)) {
      throw new UsageError('All source args must use the same port number.');
    }
    return op.path.length ? op.path : Buffer.from('.');
  });
}

/** The port the first daemon source is reached on: its own, else --port, else rsync's 873. */
function daemonPort(first: DaemonOperand): number {
  return first.port ?? first.login?.route.connect.port ?? 873;
}

/**
 * What a pull refuses before anything starts (undefined: nothing): more than one source with
 * --files-from, and a --files-from on another host than `host` (remote-files-from.ts).
 */
export function pullRefusal(c: Config, host: string): string | undefined {
  // rsync's usage error for more than one source with --files-from, said as the local copy says it.
  if (c.filesFrom !== undefined && c.sources.length > 1) return '--files-from takes exactly one source directory';
  filesFromPlace(c, host);
  return undefined;
}
