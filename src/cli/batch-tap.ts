// --write-batch and --only-write-batch in a pull or a push: as rsync's client does, the batch is the
// stream-flags word, the session's protocol, compatibility flags and seed, then every data byte the
// sender sends from the file list on (a pull: what arrives, rsync's write_batch_monitor_in; a push: what
// this side sends after its filter rules, monitor_out, with its statistics before the goodbye; under
// --only-write-batch a push's file data goes into the batch alone: remote/push.ts), to the end. In a
// pull the session is known only once the handshake is done: the bytes that come before are held until
// then. As rsync's client does when it writes a batch, MD5 is the only checksum offered and zlib the
// only compression (a batch names neither: its reader takes MD5, and under -z's stream flag zlib's
// token stream, which is recorded as it goes).

import * as fs from 'node:fs';
import type { Config } from '../model/config.js';
import { int32, varint } from '../remote/wire.js';
import { batchFlags } from './batch-flags.js';
import { openForWriting } from './batch-files.js';

/** The environment a batch-writing session negotiates under: zlib alone offered (rsync's getenv_nstr). */
export function batchCompressEnv(env: NodeJS.ProcessEnv, writing: boolean): NodeJS.ProcessEnv {
  return writing ? { ...env, RSYNC_COMPRESS_LIST: 'zlib' } : env;
}

export class BatchTap {
  private held: Buffer[] | undefined = [];

  private constructor(private readonly fd: number, private readonly flags: number) {}

  /** Writes FILE.sh and opens FILE (rsync's messages and codes when it cannot). */
  static open(c: Config, args: string[]): BatchTap | { message: string; code: number } {
    const operands = [...c.sources, c.dest].map((o) => o.toString('utf8'));
    // rsync's check_for_hostspec: the script names a push's destination by its path alone.
    const dest = operands[operands.length - 1]!;
    const destWord = dest.startsWith('rsync://') ? dest.replace(/^rsync:\/\/[^/]*\/?/, '') : dest.replace(/^[^/:]+::?/, '');
    const opened = openForWriting({ program: process.argv[1], args, operands, destWord, file: c.batch!.file, filters: c.filters, cvsExclude: c.cvsExclude, from0: c.from0 }, c.insecureLinks);
    return 'message' in opened ? opened : new BatchTap(opened.fd, batchFlags(c));
  }

  /** The sender's data, as it arrives. */
  readonly data = (b: Buffer): void => {
    if (this.held) this.held.push(Buffer.from(b));
    else this.write(b);
  };

  /** The session is settled: the header, then what was held. */
  start(session: { protocol: number; compat: number; seed: number }): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.write(Buffer.concat([int32(this.flags), int32(session.protocol), varint(session.compat), int32(session.seed), ...held]));
  }

  close(): void {
    if (this.held) this.start({ protocol: 0, compat: 0, seed: 0 });
    fs.closeSync(this.fd);
  }

  private write(b: Buffer): void {
    for (let at = 0; at < b.length; ) at += fs.writeSync(this.fd, b, at, b.length - at);
  }
}
