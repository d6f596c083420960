// The CLI's push (`arsync [options] src/ host:dst/`): recognises the operands (a remote destination,
// local sources), refuses before any I/O what a push cannot do yet, starts `rsync --server` on the far
// side with the options rsync's own client would send, and prints what rsync's sending client prints:
// the far side's item flags as -i/-v lines, its deletions, the sender's --stats and -v summary.

import type { ClientCompress } from '../remote/compress.js';
import type { Config } from '../model/config.js';
import { classifyOperand, loginOf, type RemoteOperand } from './remote-operand.js';
import { runClient, type ClientIo } from '../remote/client.js';
import { receiverArgs, remoteOptionArgs } from '../remote/server-args.js';
import { charsetLine, type WireCharset } from '../remote/iconv-wire.js';
import { runPush, deletedName, type PushReport, type PushStats } from '../remote/push.js';
import { Item, itemizeFlags, significant } from '../remote/iflags.js';
import { Msg } from '../remote/mux.js';
import { isDir, isLink, isReg } from '../remote/flist.js';
import type { SendEntry } from '../remote/flist-send.js';
import { filterListBytes } from '../remote/filter-list.js';
import { ProtocolError } from '../remote/wire.js';
import { keepAlive } from '../remote/io-watch.js';
import { FilterList } from '../plan/filter.js';
import { rulesToSend } from '../plan/filter-send.js';
import { FilterError } from '../plan/filter-rules.js';
import { walkSources, type PushWalk } from '../run/push-source.js';
import { statsCountLines } from '../plan/old-protocol.js';
import { readFilesFromList } from '../plan/sources.js';
import { selectEngine } from '../engine/index.js';
import { remoteXattrs } from '../run/remote-xattrs.js';
import { filesFromPlace } from './remote-files-from.js';
import { filesFromServerArgs, readForwardedList } from '../remote/files-from.js';
import { useNativeSumsFor } from './native-sums.js';
import { shellPipeFor } from './native-pipes.js';
import { BatchTap, batchCompressEnv } from './batch-tap.js';
import { formatHas, formatLine, type LineInfo } from '../progress/format.js';
import { pushStatsLines } from '../progress/push-stats.js';
import { PushProgress } from '../progress/push-progress.js';
import { rsyncSeconds } from '../progress/stats.js';
import { Exit, UsageError, showPath } from '../util/errors.js';
import { senderPath } from '../run/lines.js';
import { outputBytes } from '../util/names.js';
import { users, groups } from '../util/userdb.js';
import { aclAddon } from './remote-acls.js';
import { readSendAcls } from '../run/acl-read.js';
import { filelistEnd } from '../progress/filelist-progress.js';
import type { PushLog } from './push-log.js';
import { remoteCopyAs } from './remote-copy-as.js';
import { flistSettings, peerNumericIds } from '../remote/flist-settings.js';
import type { RunReport } from '../progress/json.js';
import { COUNTER_SLOTS, Counter } from '../model/ops.js';
import { keptLines } from './json-errors.js';

export interface RemotePush {
  operand: RemoteOperand;
  rsh: string | undefined;
  rsyncPath: string | undefined;
  config: Config;
  wholeFile: boolean;
  plainDelete: boolean;
  dirs: boolean;
  maxDelete: number | undefined;
  openNoatime: boolean;
  omitDirTimes: boolean;
  blockSize: number;
  /** -z and its options as rsync's client settles them (remote/compress.ts). */
  compress: ClientCompress;
}

/**
 * The destination when it is `[user@]host:path` and every source is local; undefined otherwise. A
 * remote source with a remote destination is rsync's usage error.
 */
export function pushTarget(operands: Buffer[]): RemoteOperand | undefined {
  const dest = classifyOperand(operands[operands.length - 1]!);
  if (dest.kind === 'local') return undefined;
  if (operands.slice(0, -1).some((b) => classifyOperand(b).kind !== 'local')) {
    // rsync says it bare (an rprintf line, without its name).
    throw new UsageError('The source and destination cannot both be remote.', true);
  }
  return dest;
}

/** What a push does not carry yet: refused before anything starts, with the reason (and a --files-from elsewhere). */
export function refuseForPush(c: Config, host: string): void {
  // rsync's usage error, before anything connects (the walk would meet it only after).
  if (c.filesFrom !== undefined && c.sources.length > 1) throw new UsageError('--files-from takes exactly one source directory');
  filesFromPlace(c, host);
  // --json=events: an entry event says the file is in place, which a sending client is never told
  // (rsync's receiver confirms nothing per file; a failed redo is only a line of text).
  const no: [boolean, string][] = [
    [c.jsonEvents, '--json=events'],
  ];
  for (const [on, what] of no) {
    if (on) throw new UsageError(`${what} is not supported in a push to another machine yet`);
  }
}

/** The line fields rsync's log_formatted fills for an entry of the list. */
function lineFor(e: SendEntry | { name: Buffer; mode: number }, iflags: string, xname: Buffer | undefined, op: LineInfo['op']): LineInfo {
  const dir = isDir(e.mode);
  const full = 'path' in e;
  // -R of an absolute operand: rsync's %n (and -v, -i) name it from the root, its %f without the slash.
  const shown = full && e.fromRoot ? `/${showPath(e.name)}` : showPath(e.name);
  return {
    itemize: iflags,
    name: dir ? `${shown}/` : shown,
    // %f: where the sender reads it, '.' components and a leading '/' left out (rsync's log.c).
    // (A "dir/" operand's own entry, ".", is "dir/.".)
    fullName: full ? showPath(senderPath(e.path, dir && e.name.length === 1 && e.name[0] === 0x2e)) : showPath(e.name),
    suffix: xname ? ` => ${showPath(xname)}` : full && isLink(e.mode) && e.link ? ` -> ${showPath(e.link)}` : '',
    size: full ? e.size : 0,
    bytes: 0,
    mode: e.mode,
    uid: full ? (e.uid ?? 0) : 0,
    gid: full ? (e.gid ?? 0) : 0,
    mtimeSec: full ? e.mtime : 0,
    op,
  };
}

/**
 * --json's document for a push, from what this sending client knows: its own list, the receiver's item
 * flags and deletion counts (rsync's --stats figures), and the errors it printed.
 */
function pushTotals(stats: PushStats): NonNullable<RunReport['totals']> {
  const counters = new BigInt64Array(new SharedArrayBuffer(COUNTER_SLOTS * 8));
  counters[Counter.Files] = BigInt(stats.transferredFiles);
  counters[Counter.Bytes] = BigInt(stats.transferredSize);
  return {
    listed: { ...stats.listed },
    created: { ...stats.created },
    deleted: { ...stats.deleted },
    totalSize: stats.totalSize,
    plannedFiles: stats.transferredFiles,
    plannedBytes: stats.transferredSize,
    // The far side holds --max-delete's count; this client only sees its warning line (an error here).
    deleteSkipped: 0,
    counters,
  };
}

/**
 * Pushes to the remote operand as rsync's client does; returns the exit code. `log`: --log-file's
 * (cli/push-log.ts). `json`: --json's report, filled with what the push knows.
 */
export async function pushRemote(
  p: RemotePush,
  env: NodeJS.ProcessEnv,
  io: ClientIo,
  log?: PushLog,
  args: string[] = [],
  ended: { byPeer: boolean } = { byPeer: false },
  json?: RunReport,
  /** --iconv: this client's charset (remote/iconv-wire.ts). */
  charset?: WireCharset,
): Promise<number> {
  const c = p.config;
  if (json) {
    json.dryRun = c.dryRun;
    io = { out: io.out, err: keptLines(io.err, json.errors) };
  }
  // --write-batch: what this sender sends goes into the batch too (cli/batch-tap.ts).
  const tap = c.batch ? BatchTap.open(c, args) : undefined;
  if (tap && 'message' in tap) {
    io.err.write(`arsync: ${tap.message}\n`);
    return tap.code;
  }
  log?.lines('building file list');
  const started = Date.now();
  let progress: PushProgress | undefined;
  // Any other line ends an open progress line first (rsync's output_needs_newline).
  const say = (s: string): void => {
    progress?.newline();
    io.out.write(outputBytes(s));
  };
  // rsync's show_filelist_progress: only when directories are transferred (-r, -d).
  // -X: the sources' xattrs are read through the addon (Node has no xattr API).
  const xattrs = c.xattrs ? remoteXattrs() : undefined;
  if (xattrs && 'reason' in xattrs) {
    io.err.write(`arsync: -X/--xattrs needs the native addon: ${xattrs.reason}\n`);
    return Exit.Usage;
  }
  const showList = c.info.FLIST > 0 && !c.quiet && (c.recursive || c.dirs);
  let filters: FilterList | undefined;
  let rules: Buffer[] | undefined;
  try {
    const opts = { insecureLinks: c.insecureLinks, eolNulls: c.from0, onRefusal: (m: string) => void io.err.write(`arsync: ${m}\n`) };
    if (c.filters.length || c.cvsExclude) filters = FilterList.fromOptions(c.filters, { ...opts, cvsExclude: c.cvsExclude, deleteExcluded: c.deleteExcluded });
    rules = rulesToSend(c.filters, { ...opts, weSend: true, cvsExclude: c.cvsExclude, deleteExcluded: c.deleteExcluded, deleting: c.deleteMode !== 'none', pruneEmptyDirs: c.pruneEmptyDirs });
  } catch (err) {
    if (err instanceof FilterError) {
      io.err.write(`${err.bare ? '' : 'arsync: '}${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
  const acl = aclAddon(c);
  if (acl.error) {
    io.err.write(`arsync: ${acl.error}\n`);
    return Exit.Usage;
  }
  // --copy-as: the sources are walked and read as USER, once the remote shell runs (cli/remote-copy-as.ts).
  const copyAs = c.copyAs !== undefined ? remoteCopyAs(c.copyAs) : undefined;
  if (copyAs && 'error' in copyAs) {
    io.err.write(`arsync: ${copyAs.error}\n`);
    return Exit.Usage;
  }
  // A batch names no checksum (its reader takes MD5): only MD5 is offered then.
  if (!tap) useNativeSumsFor(c.engine);
  // The engine only walks the sources here (its directory listing); the far side writes.
  const engine = selectEngine(c.engine, c.sources);
  if ('error' in engine) {
    io.err.write(`arsync: ${engine.error}\n`);
    return Exit.Usage;
  }
  // --fake-super: the sender reads the sources' user.rsync.%stat records through the addon, as a local copy.
  if (c.fakeSuper && !engine.fakeRead) {
    io.err.write(`arsync: --fake-super needs the native addon: ${engine.reason}\n`);
    return Exit.Usage;
  }
  if (json) json.engine = { name: engine.name, reason: engine.reason };
  const place = filesFromPlace(c, p.operand.host);
  const built = { ms: 0 };
  let walk: PushWalk | undefined;
  // `listed`: the names of a --files-from list on the far side, which its receiver forwards to us.
  const listLocal = (listed?: Buffer, tick?: () => void): PushWalk => {
    // Announced as the walk starts, as rsync's send_file_list does: after the remote shell's -vv
    // command line, and after the handshake where the far side has to be heard first.
    if (showList) io.out.write('building file list ... ');
    const w = walkSources(c, engine, filters, xattrs, listed, tick);
    // -A: each entry's ACLs go in the file list (cli/remote-acls.ts).
    if (acl.addon) w.ioError |= readSendAcls(acl.addon, c, w.entries, (m) => w.messages.push({ text: m, error: true }));
    walk = w;
    built.ms = Date.now() - started;
    // -n: progress2's line at each phase's end, with the files that would go (rsync's sender counts them).
    if (c.progress && (!c.dryRun || !c.progressFiles)) {
      const size = w.entries.reduce((n, e) => (isReg(e.mode) || isLink(e.mode) ? n + e.size : n), 0);
      progress = new PushProgress((s) => void io.out.write(s), c.progressFiles ? 1 : 2, c.humanReadable, w.entries.length, size);
    }
    // rsync's "building file list ... " stays open while it walks: a line the walk writes (an error, or
    // under -v "copying unsafe symlink") ends it with a newline on its own stream, and "done" comes after.
    let open = showList;
    for (const m of w.messages) {
      const text = m.error && !m.plain ? `arsync: [sender] ${m.text}` : m.text;
      if (m.error || !c.quiet) log?.lines(text);
      const to = m.error ? io.err : c.quiet ? undefined : io.out;
      if (to && open) {
        to.write('\n');
        open = false;
      }
      if (m.error) io.err.write(outputBytes(`${text}\n`));
      else if (!c.quiet) say(`${text}\n`);
    }
    if (showList) io.out.write(filelistEnd(w.entries.length, c.info.FLIST, 'sending'));
    if (showList && c.info.FLIST === 1) log?.lines('done');
    return w;
  };
  // The list is built here, before the session, unless the far side has to be heard first (a --files-from
  // list there, --copy-as) or must be kept alive: under --timeout through a remote shell the far side's
  // rsync ends a session silent that long, and a walk before the list is such a silence (rsync's own
  // client survives it only by incremental recursion). Then the walk comes after the handshake and
  // sends rsync's keep-alives as it goes (remote/io-watch.ts keepAlive). A daemon is connected only
  // after the walk, so its clock starts later.
  const daemonLogin = loginOf(p.operand);
  const keptAlive = (c.timeout ?? 0) > 0 && !daemonLogin;
  const walkFirst = !place?.remote && !copyAs && !keptAlive;
  // rsync's stdout_format for a client: -i's "%i %n%L", -v's "%n%L", or --out-format.
  const format = c.outFormat ?? (c.itemize > 0 ? '%i %n%L' : c.info.NAME > 0 ? '%n%L' : undefined);
  const itemizing = format !== undefined && /%[-'\d]*i/.test(format);
  // rsync's log_before_transfer: a format with %b, %c or %C names a sent file after its data, with its bytes.
  const late = format !== undefined && (formatHas(format, 'b') || formatHas(format, 'c') || formatHas(format, 'C'));
  const iCtx = { sending: true, times: c.times, symlinkTimes: true };
  // The line is made only when it is printed (a push without -v/-i would make one per file for nothing).
  const print = (info: () => LineInfo): void => {
    if (format === undefined || c.quiet) return;
    say(`${formatLine(format, info())}\n`);
  };
  let sendingNdx = -1;
  const report: PushReport = {
    // rsync's sending client names a file before its data (log_before_transfer), not again after.
    sending(e, ndx, iflags) {
      sendingNdx = ndx;
      if (!late) print(() => lineFor(e, itemizeFlags(iflags, e.mode, iCtx), undefined, 'send'));
      progress?.begin(e.size);
    },
    sent: (n) => progress?.data(n),
    phaseDone: () => progress?.phaseDone(),
    wouldSend: (size) => progress?.counted(size),
    item(e, iflags, xname, transferred, wire, read) {
      // An empty name (a hard link whose attributes alone changed) is no name: rsync tests its first byte.
      if (xname && !xname.length) xname = undefined;
      // rsync's sender logs a file after its data (log_item with FLOG or FINFO).
      if (transferred) log?.sent({ ...lineFor(e, itemizeFlags(iflags, e.mode, iCtx), undefined, 'send'), wire: wire ?? 0, read: read ?? 0 });
      if (transferred && sendingNdx >= 0) {
        progress?.end(sendingNdx);
        sendingNdx = -1;
        if (late) print(() => ({ ...lineFor(e, itemizeFlags(iflags, e.mode, iCtx), undefined, 'send'), wire: wire ?? 0, read: read ?? 0 }));
        return;
      }
      if (transferred) return print(() => lineFor(e, itemizeFlags(iflags, e.mode, iCtx), undefined, 'send'));
      // rsync's maybe_log_item for a client.
      const sig = significant(iflags);
      const see = itemizing && (sig !== 0 || xname !== undefined || c.itemize > 1);
      const localChange = (iflags & Item.LocalChange) !== 0 && sig !== 0;
      const shown = see || localChange || xname !== undefined || (isDir(e.mode) && sig !== 0);
      if (shown) print(() => lineFor(e, itemizeFlags(iflags, e.mode, iCtx), xname, 'send'));
      log?.looked(lineFor(e, itemizeFlags(iflags, e.mode, iCtx), xname, 'send'), iflags, shown);
    },
    error(message) {
      log?.lines(`arsync: [sender] ${message}`);
      io.err.write(outputBytes(`arsync: [sender] ${message}\n`));
    },
  };
  let removeFailed = false;
  const onMessage = (f: { tag: number; payload: Buffer }): boolean => {
    if (f.tag === Msg.Success && c.removeSourceFiles) {
      // rsync's successful_send: the receiver has the entry, so the sender's copy goes.
      const ndx = f.payload.length === 4 ? f.payload.readInt32LE(0) : -1;
      const e = walk?.entries[ndx];
      if (!e) throw new ProtocolError(`invalid multi-message ${f.tag}:${f.payload.length} [sender]`, Exit.StreamIO);
      const r = walk!.removeSent(e);
      if (r.error) {
        removeFailed = true;
        log?.lines(`arsync: [sender] ${r.text}`);
        io.err.write(outputBytes(`arsync: [sender] ${r.text}\n`));
      } else if (!r.removed || c.info.REMOVE > 0) {
        log?.lines(r.text);
        say(`${r.text}\n`);
      }
      return true;
    }
    if (f.tag !== Msg.Deleted) return log ? log.frame(f) : false;
    // rsync's log_delete on the client: the format's own line when it has %i or %o, else "deleting NAME"
    // whenever there is a stdout format at all (-v, --info=name, --progress, --out-format: `format`) or --info=del.
    const d = deletedName(f.payload);
    // --iconv: the name as rsync's client turns it (iconv-wire.ts WireCharset.deleted).
    if (charset) d.name = charset.deleted(d.name);
    log?.deleted(lineFor({ name: d.name, mode: d.dir ? 0o040000 : 0o100000 }, '*deleting  ', undefined, 'del.'));
    const fmt = format !== undefined && /%[-'\d]*[io]/.test(format) ? format : format !== undefined || c.info.DEL > 0 ? 'deleting %n' : undefined;
    if (fmt !== undefined && !c.quiet) say(`${formatLine(fmt, lineFor({ name: d.name, mode: d.dir ? 0o040000 : 0o100000 }, '*deleting  ', undefined, 'del.'))}\n`);
    return true;
  };
  const cmd = {
    rsh: p.rsh,
    user: p.operand.user,
    host: p.operand.host,
    rsyncPath: p.rsyncPath,
    serverArgs: receiverArgs(c, {
      wholeFile: p.wholeFile,
      plainDelete: p.plainDelete,
      dirs: p.dirs,
      maxDelete: p.maxDelete,
      openNoatime: p.openNoatime,
      omitDirTimes: p.omitDirTimes,
      blockSize: p.blockSize,
      compress: p.compress,
      ...(place ? { filesFrom: filesFromServerArgs(place, c, false) } : {}),
    }).concat(remoteOptionArgs(c)),
    paths: [p.operand.path.toString('latin1')],
    weSend: true,
    oldArgs: c.oldArgs,
    secluded: c.secludedArgs,
    charset,
    daemon: daemonLogin,
    bwlimit: c.bwlimit,
    timeout: c.timeout,
    ...(c.stopAt !== undefined ? { stopAt: c.stopAt } : {}),
    pipe: shellPipeFor(c.engine),
    showCommand: c.debug.CMD > 0,
    stderrThrough: json !== undefined,
  };
  // To a daemon the walk comes before connecting, as before. Through a remote shell it starts right after
  // the shell is spawned (runClient calls the exchange at once): the far side connects and starts while
  // this thread walks, instead of after it.
  if (walkFirst && cmd.daemon) listLocal();
  // A list here is read now (and kept for the walk): one that cannot be read is exit 1 before the far
  // side is started, as rsync's client opens it first.
  else if (place && !place.remote) readFilesFromList(c);
  let wire = { sent: 0, received: 0 };
  let session: { written: number; received: number } | undefined;
  // --debug=deltasum (-vv): rsync's sender counts its search (remote/push.ts PushSettings.counts).
  const counts = c.debug.DELTASUM > 0 && !c.quiet ? { hashHits: 0, falseAlarms: 0, matches: 0 } : undefined;
  const outcome = await runClient(
    cmd,
    env,
    log ? log.tee(io) : io,
    async (conn, peer): Promise<PushStats> => {
      session = conn;
      peer.charset = charset;
      if (charset && c.debug.ICONV > 0 && !c.json) io.out.write(charsetLine('sender', charset));
      const stats = await runPush(
        conn,
        walk ??
          (walkFirst ? listLocal() : undefined) ??
          (async (cn, protocol) => {
            copyAs?.become();
            // (-s and --iconv: the forwarded names converted as rsync's client reads them.)
            const convert = charset && c.secludedArgs ? (b: Buffer): Buffer => charset.fromWireKeepingBad(b) : undefined;
            return listLocal(place?.remote ? await readForwardedList(cn, protocol, convert) : undefined, keptAlive ? keepAlive(cn, c.timeout!) : undefined);
          }),
        {
          flist: {
            ...flistSettings(c),
            // Id lists only when the far receiver reads them (flist-settings.ts peerNumericIds), and
            // without names (each id kept) under this side's own --numeric-ids.
            numericIds: peerNumericIds(c),
            acls: c.acls,
            atimes: c.atimes,
            userName: (id) => (c.numericIds ? undefined : nameBytes(users.nameOf(id))),
            groupName: (id) => (c.numericIds ? undefined : nameBytes(groups.nameOf(id))),
          },
          checksum: c.checksum,
          dryRun: c.dryRun,
          paced: (c.bwlimit ?? 0) > 0,
          inplace: c.inplace,
          append: c.append ? (c.appendVerify ? 2 : 1) : 0,
          filterRules: filterListBytes(rules),
          compress: p.compress,
          env: batchCompressEnv(env, tap !== undefined),
          xattrs: c.xattrs,
          ...(counts ? { counts } : {}),
          ...(charset
            ? {
                iconv: {
                  charset,
                  report: (m: string) => {
                    log?.lines(m);
                    io.err.write(outputBytes(`${m}\n`));
                  },
                },
              }
            : {}),
          ...(tap ? { batch: { start: (ss: { protocol: number; compat: number; seed: number }) => tap.start(ss), data: tap.data }, batchOnly: c.batch?.mode === 'only-write' } : {}),
        },
        report,
        built,
      );
      wire = stats.wire;
      return stats;
    },
    onMessage,
  );
  tap?.close();
  const stats = outcome.result;
  if (json && stats) json.totals = pushTotals(stats);
  progress?.finish();
  let code = outcome.exitCode;
  ended.byPeer = outcome.peerEnded === true;
  if (stats) {
    if (stats.ioError & 1) code = Math.max(code, Exit.Partial);
    else if (stats.ioError & 2) code = Math.max(code, Exit.Vanished);
    // rsync's match_report(), at the end of its sender's loop.
    if (counts) say(`total: matches=${counts.matches}  hash_hits=${counts.hashHits}  false_alarms=${counts.falseAlarms} data=${stats.literal}\n`);
    // rsync's output_summary: the totals at --info=stats1 (-v), the statistics from stats2 (--stats).
    if (c.info.STATS > 0) {
      // --only-write-batch: rsync's "(BATCH ONLY)" where a dry run says "(DRY RUN)".
      const only = c.batch?.mode === 'only-write';
      const lines = pushStatsLines({ ...stats, ...wire }, rsyncSeconds(started, Date.now()), c.info.STATS > 1, c.humanReadable, c.dryRun || only, statsCountLines(stats.session.protocol)).map((l) => (only ? l.replace(/ \(DRY RUN\)$/, ' (BATCH ONLY)') : l));
      log?.lines(lines.join('\n'));
      say(lines.join('\n') + '\n');
    }
  } else if (walk && walk.ioError & 1) code = Math.max(code, Exit.Partial);
  if (removeFailed || walk?.missingNamed) code = Math.max(code, Exit.Partial);
  // rsync's log_exit: the totals when no statistics were printed, or the run failed.
  if (log && (c.info.STATS === 0 || code !== Exit.Ok)) {
    const size = stats?.totalSize ?? (walk?.entries ?? []).reduce((n, e) => (isReg(e.mode) || isLink(e.mode) ? n + e.size : n), 0);
    log.totals(session?.written ?? 0, session?.received ?? 0, size);
  }
  return code;
}

const nameBytes = (n: string | undefined): Buffer | undefined => (n === undefined ? undefined : Buffer.from(n));
