// The CLI's remote runs. Today one: a listing of a directory on another machine (`arsync host:path`, or
// with --list-only), through a remote shell, against the rsync already installed there. Transfers to
// and from another machine are refused before anything starts, saying so.

import { useNativeSumsFor } from './native-sums.js';
import { useNativeOrderFor } from './native-order.js';
import { shellPipeFor } from './native-pipes.js';
import type { Config } from '../model/config.js';
import { loginOf, type RemoteOperand } from './remote-operand.js';
import { runClient, type ClientIo } from '../remote/client.js';
import { receiveList, finishReceive } from '../remote/listing.js';
import { iconvArgs, remoteOptionArgs, senderArgs } from '../remote/server-args.js';
import { charsetLine, type WireCharset } from '../remote/iconv-wire.js';
import type { ClientCompress } from '../remote/compress.js';
import { listLine } from '../progress/list-line.js';
import { munge } from '../util/munge.js';
import { listingStatsLines, rsyncSeconds } from '../progress/stats.js';
import { impliedDir, isDevice, isDir, isLink, isReg } from '../remote/flist.js';
import { outputBytes } from '../util/names.js';
import { flistSettings } from '../remote/flist-settings.js';
import { statsCountLines } from '../plan/old-protocol.js';

export interface RemoteList {
  operand: RemoteOperand;
  rsh: string | undefined;
  rsyncPath: string | undefined;
  config: Config;
  /** The further sources' paths (`host:a :b`: cli/pull-operand.ts pullExtraPaths). */
  extraPaths: Buffer[];
  /** --list-only was given (rsync then tells the server so). */
  listOnly: boolean;
  /** -z and its options as the session will use them. */
  compress: ClientCompress;
}

/** Lists the remote operand as rsync does; returns the exit code. */
export async function listRemote(r: RemoteList, env: NodeJS.ProcessEnv, io: ClientIo, charset?: WireCharset): Promise<number> {
  const c = r.config;
  const flags = {
    verbose: c.verbose,
    links: c.links,
    dirs: !c.recursive,
    recursive: c.recursive,
    copyLinks: c.copyLinks,
    hardLinks: c.hardLinks,
    owner: c.owner,
    group: c.group,
    devices: c.devices,
    specials: c.specials,
    times: c.times,
    atimes: c.atimes,
    perms: c.perms,
    checksum: c.checksum,
    relative: c.relative,
    numericIds: c.numericIds,
    listOnly: r.listOnly,
    compress: r.compress,
    missingArgs: c.missingArgs,
    iconv: iconvArgs(c),
    checksumSeed: c.checksumSeed,
    maxAlloc: c.maxAlloc,
    secludedArgs: c.secludedArgs,
    oldArgs: c.oldArgs,
    ...(c.serverInfo?.sender !== undefined ? { info: c.serverInfo.sender } : {}),
  };
  const cmd = {
    rsh: r.rsh,
    user: r.operand.user,
    host: r.operand.host,
    rsyncPath: r.rsyncPath,
    serverArgs: [...senderArgs(flags), ...remoteOptionArgs(c)],
    paths: [r.operand.path, ...r.extraPaths].map((b) => b.toString('latin1')),
    weSend: false,
    oldArgs: c.oldArgs,
    secluded: c.secludedArgs,
    charset,
    relative: c.relative,
    daemon: loginOf(r.operand),
    bwlimit: c.bwlimit,
    timeout: c.timeout,
    ...(c.stopAt !== undefined ? { stopAt: c.stopAt } : {}),
    pipe: shellPipeFor(c.engine),
    showCommand: c.debug.CMD > 0,
  };
  const started = Date.now();
  useNativeSumsFor(c.engine);
  useNativeOrderFor(c.engine);
  const outcome = await runClient(cmd, env, io, async (conn, peer) => {
    peer.charset = charset;
    if (charset && c.debug.ICONV > 0) io.out.write(charsetLine('Receiver', charset));
    // rsync without incremental recursion announces the list before it prints anything of it (after
    // the -vv command line).
    if ((c.verbose > 0 || c.progressFiles) && !c.quiet) io.out.write('receiving file list ... done\n');
    const list = await receiveList(conn, {
      ...flistSettings(c),
      // -U: the server is told to send access times (a file's, in the list), and the listing shows them.
      atimes: c.atimes,
      checksumLen: c.checksum ? 16 : 0,
      relative: c.relative,
      missingArgs: c.missingArgs === 'delete',
    }, undefined, { compress: r.compress, env }, charset && { charset, report: (m) => io.err.write(outputBytes(`${m}\n`)) });
    peer.ioError |= list.ioError;
    // --munge-links: this client receives the list, and rsync's receiver munges every target it reads
    // (its listing shows them so; the length stays the one sent).
    // Under --no-implied-dirs rsync's receiver lists no implied directory (generator.c's list_only case).
    for (const e of list.entries) if (e && (c.impliedDirs || !impliedDir(e))) io.out.write(outputBytes(listLine(c.mungeLinks && e.link ? { ...e, link: munge(e.link) } : e, c.humanReadable, c.atimes)));
    // An empty list: the sender has left without its figures, and rsync's client prints its own.
    const empty = list.entries.length === 0;
    const own = { totalWritten: conn.streamWritten, totalRead: conn.streamReceived, totalSize: 0, flistBuildTime: 0, flistXferTime: 0 };
    const stats = (await finishReceive(conn, empty, list.session.protocol)) ?? (empty ? own : undefined);
    if (stats && (c.stats || (c.verbose > 0 && !c.quiet))) {
      const counts = { reg: 0, dir: 0, link: 0, dev: 0, special: 0 };
      for (const e of list.entries) if (e) counts[kindOf(e.mode)]++;
      const lines = listingStatsLines(
        { counts, totalSize: stats.totalSize, listBytes: list.listBytes, buildMs: stats.flistBuildTime, xferMs: stats.flistXferTime, sent: stats.totalWritten, received: stats.totalRead },
        rsyncSeconds(started, Date.now()),
        c.stats,
        c.humanReadable,
        statsCountLines(c.protocol),
      );
      io.out.write(lines.join('\n') + '\n');
    }
  });
  return outcome.exitCode;
}

/** rsync's receiver's count: what is none of the other kinds is a special file (a --delete-missing-args entry's mode 0 too). */
function kindOf(mode: number): 'reg' | 'dir' | 'link' | 'dev' | 'special' {
  return isReg(mode) ? 'reg' : isDir(mode) ? 'dir' : isLink(mode) ? 'link' : isDevice(mode) ? 'dev' : 'special';
}
