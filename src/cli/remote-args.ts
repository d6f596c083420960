// The command line's remote side, settled after the local parse: operands in rsync's remote syntax that
// are neither a listing, a push nor a pull are refused; -M/--remote-option values are checked against a
// local copy (and parsed again as rsync's local receiver would); and a listing, push or pull request is
// built from the parse. The parser itself comes in as a function, so this module does not import it.

import type { CompressOptions, Config } from '../model/config.js';
import { UsageError, showPath } from '../util/errors.js';
import { classifyOperand, describeRemote, type RemoteOperand } from './remote-operand.js';
import type { RemoteList } from './remote.js';
import { refuseForPush, type RemotePush } from './remote-push.js';
import { pullExtraPaths, pullRefusal, type RemotePull } from './pull-operand.js';
import { clientCompress, type ClientCompress } from '../remote/compress.js';
import { ProtocolError } from '../remote/wire.js';
import { OptionError, remoteOptionError } from './local-noops.js';
import { receiverRefusal, withReceiverOptions } from './receiver-options.js';

/** cli/options.ts parseArgs, as these checks call it again. */
export type Parse = (argv: string[], fromProcess?: boolean, receiverExtra?: number) => { kind: string; config?: Config };

/** A remote session's compression; a choice arsync cannot speak (zstd, lz4) is refused before any I/O. */
export function remoteCompress(o: CompressOptions): ClientCompress {
  try {
    return clientCompress(o);
  } catch (e) {
    if (e instanceof ProtocolError) throw new OptionError(e.message, e.code);
    throw e;
  }
}

/**
 * Operands in rsync's remote syntax that are neither a push (`src/ host:dst/`) nor a pull (`host:src dst`)
 * would otherwise become local directories named "host:dir": refuse them (and a remote --files-from)
 * before any I/O, in rsync's words where rsync refuses the same line.
 */
export function refuseRemote(operands: Buffer[], filesFrom: string | undefined): void {
  const kinds = operands.map((b) => classifyOperand(b));
  kinds.forEach((op, i) => {
    if (op.kind === 'local') return;
    const b = operands[i]!;
    if (op.kind === 'daemon') {
      throw new UsageError(
        `${showPath(b)} is ${describeRemote(op)}, and rsync daemons are not supported yet ` +
          `(for a local path of that name, write ./${showPath(b)})`,
      );
    }
    throw new UsageError(`Unexpected remote arg: ${showPath(b)}`);
  });
  if (filesFrom !== undefined) {
    const op = classifyOperand(Buffer.from(filesFrom));
    if (op.kind !== 'local') throw new UsageError('--files-from cannot be remote when the transfer is local');
  }
}

/**
 * -M/--remote-option: rsync's local copy gives it to its forked receiver, which parses it (an unknown or
 * invalid one ends the run with exit 12). arsync has no second process: it takes a value that changes
 * nothing in the Config (itself an option without local effect), applies the receiver settings of
 * cli/receiver-options.ts elsewhere, and refuses the others rather than ignore them.
 */
export function checkRemoteOption(parseArgs: Parse, opt: string): void {
  // -r: the receiver of a copy that lists directories (so --delete and the like parse).
  const plain = parseArgs(['node', 'arsync', '-r', 'a', 'b']);
  let withOpt: ReturnType<Parse>;
  try {
    withOpt = parseArgs(['node', 'arsync', '-r', opt, 'a', 'b']);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    throw remoteOptionError(/^unknown option/.test(err.message) ? `on remote machine: ${opt}: unknown option` : err.message);
  }
  // rsync's local receiver has no log file of its own unless -M--log-file names one (the client's is closed
  // in the child): a -M--log-file-format alone changes nothing.
  if (/^--log-file-format(=|$)/.test(opt) && withOpt.config && plain.config) withOpt.config.logFileFormat = plain.config.logFileFormat;
  if (JSON.stringify(withOpt) !== JSON.stringify(plain)) {
    const why = receiverRefusal(opt);
    if (why) throw new UsageError(`-M/--remote-option=${opt}: ${why}`);
    throw new UsageError(
      `-M/--remote-option=${opt}: not supported here: arsync takes -M values that change nothing, and applies only the receiver settings its -M row lists, to a local copy (give ${opt} as an option of its own)`,
    );
  }
}

/** The Config rsync's local receiver works with: the command line parsed again with its -M values last. */
export function receiverConfig(parseArgs: Parse, argv: string[], fromProcess: boolean, opts: string[], clientSuffix: string): Config {
  let parsed: ReturnType<Parse>;
  try {
    // The same environment and operand bytes as the client's parse: only the -M values differ.
    const line = withReceiverOptions(argv, opts, clientSuffix);
    parsed = parseArgs(line, fromProcess, line.length - argv.length);
  } catch (err) {
    // The receiver dies on a value it rejects: exit 12, as checkRemoteOption says it.
    if (!(err instanceof UsageError)) throw err;
    throw remoteOptionError(err.message);
  }
  if (parsed.kind !== 'run' || !parsed.config) throw new UsageError(`-M/--remote-option=${opts.join(' ')}: not a receiver setting of a local copy`);
  return parsed.config;
}

/** What a parse with a remote operand asks for: a listing, a push or a pull (rsync's three remote runs). */
export type RemoteRequest =
  | { kind: 'remote-list'; list: RemoteList }
  | { kind: 'remote-push'; push: RemotePush }
  | { kind: 'remote-pull'; pull: RemotePull };

/** The remote operands the parse found: at most one of them is set. */
export interface RemoteOperands {
  listing: RemoteOperand | undefined;
  pushTo: RemoteOperand | undefined;
  pulled: RemoteOperand | undefined;
}

/** The request for a parse with a remote operand, from its options `o` and settled Config. */
export function remoteRequest(o: Record<string, unknown>, config: Config, operandBytes: Buffer[], ops: RemoteOperands, compressOpts: CompressOptions): RemoteRequest | undefined {
  const { listing, pushTo, pulled } = ops;
  const rsh = o['rsh'] as string | undefined;
  const rsyncPath = o['rsyncPath'] as string | undefined;
  if (listing) {
    const path = operandBytes[0]!.subarray(operandBytes[0]!.length - listing.path.length);
    const list: RemoteList = {
      // An empty path is the remote user's home directory, as rsync sends it: "." (a daemon's: its module list).
      operand: { ...listing, path: path.length || listing.kind === 'daemon' ? path : Buffer.from('.') },
      rsh,
      rsyncPath,
      config,
      listOnly: Boolean(o['listOnly']),
      compress: remoteCompress(compressOpts),
      // `host:a :b`: every operand a source (rsync's client: a last one starting with ":" is no destination).
      extraPaths: o['listOnly'] && lastIsSource(operandBytes) ? pullExtraPaths(operandBytes.slice(1), listing) : [],
    };
    return { kind: 'remote-list', list };
  }
  if (pushTo) {
    refuseForPush(config, pushTo.host);
    const push: RemotePush = {
      operand: { ...pushTo, path: pushTo.path.length || pushTo.kind === 'daemon' ? pushTo.path : Buffer.from('.') },
      rsh,
      rsyncPath,
      config,
      wholeFile: Boolean(o['wholeFile']),
      plainDelete: o['deleteDuringKind'] === undefined,
      dirs: o['dirs'] === 2,
      maxDelete: o['maxDelete'] as number | undefined,
      openNoatime: o['openNoatime'] === true,
      omitDirTimes: Boolean(o['omitDirTimes']),
      blockSize: (o['blockSize'] as number | undefined) ?? 0,
      compress: remoteCompress(compressOpts),
    };
    return { kind: 'remote-push', push };
  }
  if (pulled) {
    const refused = pullRefusal(config, pulled.host);
    if (refused) throw new UsageError(refused);
    const extraPaths = pullExtraPaths(operandBytes.slice(1, -1), pulled);
    const pull: RemotePull = { operand: pulled, extraPaths, rsh, rsyncPath, config, wholeFile: o['wholeFile'] === true, blockSize: Number(o['blockSize'] ?? 0), compress: remoteCompress(compressOpts) };
    return { kind: 'remote-pull', pull };
  }
  return undefined;
}

/** rsync's client with a remote first source: a last operand starting with ":" is one more source, and there is no destination (main.c start_client). */
export function lastIsSource(operands: Buffer[]): boolean {
  return operands.length > 1 && operands[operands.length - 1]![0] === 0x3a;
}
