// A pull's first half (`arsync host:src dst`): start `rsync --server --sender` through the remote
// shell, send the filter rules, receive the file list, and rebuild every file the destination needs
// into a private staging tree (a 0700 directory of this process, files 0600): a file the destination
// already has (by rsync's quick check, or -c's sums) stays an empty placeholder of its size, the others
// come over the wire as deltas against the destination's current file (read through a descriptor
// opened one component at a time, following no symlink) or whole. The second half is the ordinary local
// run from the staging tree to the destination (cli/main.ts), with the sender's metadata in place of
// the staging tree's (run/staged-source.ts): every write to the destination is the engines' own.

import { filelistEnd } from '../progress/filelist-progress.js';
import { useNativeSumsFor } from './native-sums.js';
import { useNativeOrderFor } from './native-order.js';
import { shellPipeFor } from './native-pipes.js';
import { linkable, makeStaging, removeStaging, stagingOperands } from './staging-dir.js';
export { removeStaging } from './staging-dir.js';
export { stagedLinks } from './pull-stage.js';
import { PullDest } from './pull-dest.js';
import { currentDest, type CurrentTotals } from './pull-current.js';
import { selectEngine } from '../engine/index.js';
import { loadAddon } from '../engine/native.js';
import type { ClientCompress } from '../remote/compress.js';
import { tokenCodec } from '../remote/token-codec.js';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { Config } from '../model/config.js';
import type { RemotePull } from './pull-operand.js';
import { deleteScopeRules } from './pull-delete-scope.js';
import { loginOf } from './remote-operand.js';
import { ClientLeaves, runClient, type ClientIo } from '../remote/client.js';
import { receiveList } from '../remote/listing.js';
import { iconvArgs, remoteOptionArgs, senderArgs } from '../remote/server-args.js';
import { charsetLine, type WireCharset } from '../remote/iconv-wire.js';
import { StageWriteError, endPull, pullFiles, type Fetch } from '../remote/pull.js';
import { filterListBytes } from '../remote/filter-list.js';
import { filesFromServerArgs, forwardedList } from '../remote/files-from.js';
import { readFilesFromList } from '../plan/sources.js';
import { filesFromPlace } from './remote-files-from.js';
import { impliedDir, isDir, isLink, isReg, type RemoteEntry } from '../remote/flist.js';
import { earlySettler } from './pull-place.js';
import { settleDest } from './pull-dest-root.js';
import { PullBasisDirs, PullFuzzy } from './pull-basis.js';
import { Stage, destBase, groupLeads, localId } from './pull-stage.js';
import { strong } from '../remote/checksum.js';
import { rulesToSend } from '../plan/filter-send.js';
import { FilterError } from '../plan/filter-rules.js';
import type { StagedMeta } from '../run/staged-source.js';
import { groups, users } from '../util/userdb.js';
import { Exit, errnoText, showPath } from '../util/errors.js';
import { absolutePath, joinPath } from '../util/names.js';
import { itemizes } from '../progress/output.js';
import { ProgressRecords, ReceiveProgress } from '../progress/receive-progress.js';
import { ProtocolError, int32 } from '../remote/wire.js';
import { Msg } from '../remote/mux.js';
import { aclAddon, applyStagedAcls } from './remote-acls.js';
import { XattrReceiver } from '../remote/xattr-list.js';
import { StagedXattrs, receiveRule, remoteXattrs } from '../run/remote-xattrs.js';
import { BatchTap, batchCompressEnv } from './batch-tap.js';
import { flistSettings, peerNumericIds } from '../remote/flist-settings.js';
import { keptLines } from './json-errors.js';
import { setAbortHandler } from './signals.js';
import { salvageConfig, salvageable, trimForSalvage } from './pull-salvage.js';
import { PullPartialDir } from './pull-partial.js';
import type { PullProgress, ReceiveLines, XattrAsk } from '../remote/pull.js';
import type { JsonError } from '../progress/json.js';


/** What the local half needs: the staging operands, the sender's metadata, the wire's figures. */
export interface Pulled {
  /** The holder of the staging tree, removed after the local run (removeStaging). */
  staging: string;
  operands: Buffer[];
  meta: Map<string, StagedMeta>;
  wire: { literal: number; matched: number; sent: number; received: number; listBytes: number; buildMs: number; xferMs: number };
  code: number;
  /** The sender reported a general I/O error (its list's flag or a message): the local run deletes nothing. */
  senderFailed: boolean;
  /** What the local half's Config changes: a --files-from list was the far side's to read, and the staging tree holds just what it named. */
  local?: Partial<Config>;
  /** The staging tree is on the filesystem of the local run's temp files: its files are linked into place, not copied. */
  linkable: boolean;
  /** The sending server's informational lines of the transfer phase, printed after the local half's names (PeerMessages.hold). */
  held?: string[];
  /** The data came as a delta transfer (rsync's whole_file off: no -W, or --append): -vv's line says so (absent: a batch read, the local copy's rule). */
  delta?: boolean;
  /** The destination directory was made once the list was in (cli/pull-dest-root.ts): the local half only says so. */
  destMade?: boolean;
  /** The destination was found current (cli/pull-current.ts): nothing was staged, the local run is not started. */
  current?: CurrentTotals;
  /** Listed files the local run does not count as the list does (Stage.uncounted): added to its totals. */
  uncounted?: { files: number; size: number };
  /**
   * The session was cut short (`code` says how) and the staging tree holds only what arrived whole
   * (cli/pull-salvage.ts): the local half places that, deleting nothing, and the run ends with `code`.
   */
  salvage?: boolean;
  /** --progress/--info=progress2 with names: the lines the fetch drew, for the local half to print (receiveLines). */
  progressRecords?: ProgressRecords;
  /** What a salvage does once the local half has run (cli/pull-salvage.ts: --partial-dir's kept part). */
  afterLocal?: () => void;
  /**
   * --remove-source-files: the local run, run inside the session, hands here each entry (by its name in
   * the destination) whose source it would have removed; the far side's sender removes those.
   */
  sourceRemoved?: (rel: Buffer) => void;
  /** --only-write-batch: the data went into the batch alone; the local half ran dry, its summary says "(BATCH ONLY)". */
  batchOnly?: boolean;
}

/**
 * The local half run inside the session (--remove-source-files): given what was staged (its `code` the
 * session's so far), it runs and returns the names whose sources the far side is to remove.
 */
export type LocalHalf = (staged: Pulled) => Promise<Buffer[]>;

/** The server's options for this pull (rsync's server_options with the client receiving). */
export function pullServerArgs(c: Config, wholeFile: boolean, blockSize = 0, compress?: ClientCompress, filesFrom?: string[]): string[] {
  return senderArgs({
    ...(filesFrom ? { filesFrom } : {}),
    ...(compress ? { compress } : {}),
    verbose: c.verbose,
    links: c.links,
    dirs: c.dirs && !c.recursive,
    recursive: c.recursive,
    copyLinks: c.copyLinks,
    hardLinks: c.hardLinks,
    owner: c.owner,
    group: c.group,
    devices: c.devices,
    specials: c.specials,
    times: c.times,
    perms: c.perms,
    checksum: c.checksum,
    relative: c.relative,
    numericIds: c.numericIds,
    listOnly: false,
    backup: c.backup,
    update: c.update,
    dryRun: c.dryRun,
    copyDirlinks: c.copyDirlinks,
    wholeFile,
    atimes: c.atimes,
    acls: c.acls,
    xattrs: c.xattrs,
    xattrsAll: c.xattrsAll === true,
    cvsExclude: c.cvsExclude,
    ignoreTimes: c.ignoreTimes,
    oneFileSystem: c.oneFileSystem,
    sparse: c.sparse,
    blockSize,
    timeout: c.timeout ?? 0,
    bwlimitKib: c.bwlimit ? Math.round(c.bwlimit / 1024) : 0,
    backupDir: c.backupDir,
    suffix: c.suffix,
    ignoreErrors: c.ignoreErrors,
    copyUnsafeLinks: c.copyUnsafeLinks,
    safeLinks: c.safeLinks,
    inplace: c.inplace,
    append: c.append ? (c.appendVerify ? 2 : 1) : 0,
    noImpliedDirs: c.relative && !c.impliedDirs,
    removeSourceFiles: c.removeSourceFiles ? (c.removeSentOnly ? 2 : 1) : 0,
    missingArgs: c.missingArgs,
    iconv: iconvArgs(c),
    checksumSeed: c.checksumSeed,
    maxAlloc: c.maxAlloc,
    secludedArgs: c.secludedArgs,
    oldArgs: c.oldArgs,
    ...(c.serverInfo?.sender !== undefined ? { info: c.serverInfo.sender } : {}),
  });
}

/**
 * --delete-missing-args under -R: a missing name whose directory the sender could not find either (it
 * said "file has vanished" for that). rsync's sender with incremental recursion (its default with -r,
 * which arsync's client does not offer) leaves the name out; without it, rsync's receiver warns and
 * deletes it all the same. The entry left out becomes undefined, as a duplicate does.
 */
function orphanedMissing(entries: (RemoteEntry | undefined)[], incRecursive: boolean, warn: (m: string) => void): void {
  const dirs = new Set<string>();
  for (const e of entries) if (e && isDir(e.mode)) dirs.add(e.name.toString('latin1'));
  entries.forEach((e, i) => {
    if (e?.mode !== 0) return;
    const name = e.name.toString('latin1');
    const parent = name.slice(0, Math.max(0, name.lastIndexOf('/')));
    if (!parent || dirs.has(parent)) return;
    if (incRecursive) entries[i] = undefined;
    else warn(`WARNING: parent dir is absent in the file list: ${showPath(Buffer.from(parent, 'latin1'))}\n`);
  });
}

/** `errors`: --json's, which keep what this half and the sending server write to stderr (cli/json-errors.ts). */
export async function fetchRemote(
  p: RemotePull,
  env: NodeJS.ProcessEnv,
  io: ClientIo,
  args: string[] = [],
  inside?: LocalHalf,
  errors?: JsonError[],
  /** --iconv: this client's charset (remote/iconv-wire.ts). */
  charset?: WireCharset,
): Promise<Pulled | { code: number }> {
  const c = p.config;
  if (errors) io = { out: io.out, err: keptLines(io.err, errors) };
  const acl = aclAddon(c);
  if (acl.error) {
    io.err.write(`arsync: ${acl.error}\n`);
    return { code: Exit.Usage };
  }
  let rules: Buffer[] | undefined;
  try {
    rules = rulesToSend(c.filters, {
      weSend: false,
      cvsExclude: c.cvsExclude,
      deleteExcluded: c.deleteExcluded,
      deleting: c.deleteMode !== 'none',
      pruneEmptyDirs: c.pruneEmptyDirs,
      insecureLinks: c.insecureLinks,
      eolNulls: c.from0,
    });
  } catch (err) {
    if (err instanceof FilterError) {
      io.err.write(`${err.bare ? '' : 'arsync: '}${err.message}\n`);
      return { code: err.exitCode };
    }
    throw err;
  }
  // --files-from: a list here is read now (an unreadable one is exit 1 before anything starts) and
  // forwarded to the sender after the filter rules; a list there the sender reads itself.
  const place = filesFromPlace(c, p.operand.host);
  const listHere = place && !place.remote ? readFilesFromList(c) : undefined;
  const toSender = (session: { protocol: number }): Buffer => {
    const filters = filterListBytes(rules ?? []);
    // (-s and --iconv: the names converted as rsync's client forwards them.)
    const convert = charset && c.secludedArgs ? (b: Buffer): Buffer => charset.toWireKeepingBad(b) : undefined;
    return listHere ? Buffer.concat([filters, forwardedList(listHere, c.from0, session.protocol, convert)]) : filters;
  };
  // -X: the sender's lists go onto the staging tree through the addon (Node has no xattr API).
  const xio = c.xattrs ? remoteXattrs() : undefined;
  if (xio && 'reason' in xio) {
    io.err.write(`arsync: -X/--xattrs needs the native addon: ${xio.reason}\n`);
    return { code: Exit.Usage };
  }
  // x-rules (-f '-x NAME'): the receiver's view drops names as they arrive; the local run applies the
  // same rules to the destination's names (plan/xattr-rules.ts, native/xfilter.c).
  const xattrReceiver = c.xattrs ? new XattrReceiver(receiveRule(c)) : undefined;
  // The tree sits in a 0700 holder that never takes a sender's mode: with -A the tree's own directories
  // take the sender's ACLs, and with them their mode bits (cli/remote-acls.ts); nobody else reaches them.
  // --write-batch: the sender's stream goes into the batch too (cli/batch-tap.ts).
  // --only-write-batch: the server is not told (rsync's client tells only a receiving server); the data
  // comes as for --write-batch and goes into the batch alone, the local half running dry (localChanges).
  const tap = c.batch ? BatchTap.open(c, args) : undefined;
  const onlyBatch = c.batch?.mode === 'only-write';
  if (tap && 'message' in tap) {
    io.err.write(`arsync: ${tap.message}\n`);
    return { code: tap.code };
  }
  // rsync's generator: --append makes it a delta transfer even under -W.
  const delta = !p.wholeFile || c.append;
  const held: string[] = [];
  const holder = makeStaging(c.dest, 'arsync-pull-', c.engine);
  const staging = nodePath.join(holder, 'tree');
  fs.mkdirSync(staging, 0o700);
  p.copyAs?.hand([holder, staging]);
  const cmd = {
    rsh: p.rsh,
    user: p.operand.user,
    host: p.operand.host,
    rsyncPath: p.rsyncPath,
    serverArgs: [...pullServerArgs(c, p.wholeFile, p.blockSize, p.compress, place ? filesFromServerArgs(place, c, true) : undefined), ...remoteOptionArgs(c)],
    paths: [p.operand.path, ...(p.extraPaths ?? [])].map((b) => b.toString('latin1')),
    weSend: false,
    oldArgs: c.oldArgs,
    secluded: c.secludedArgs,
    charset,
    relative: c.relative,
    trustSender: place?.remote === true,
    daemon: loginOf(p.operand),
    bwlimit: c.bwlimit,
    timeout: c.timeout,
    ...(c.stopAt !== undefined ? { stopAt: c.stopAt } : {}),
    pipe: shellPipeFor(c.engine),
    showCommand: c.debug.CMD > 0,
    stderrThrough: errors !== undefined,
  };
  // rsync's show_filelist_progress: only when directories are transferred (-r, -d).
  const showList = c.info.FLIST > 0 && !c.json && !c.quiet && (c.recursive || c.dirs);
  // The stage's own map once it is made (not a copy: one entry per listed name, kept through the local run).
  let meta = new Map<string, StagedMeta>();
  const operands: Buffer[] = [];
  const wire = { literal: 0, matched: 0, sent: 0, received: 0, listBytes: 0, buildMs: 0, xferMs: 0 };
  let localErrors = 0;
  // A batch names no checksum (its reader takes MD5): only MD5 is offered then.
  if (!tap) useNativeSumsFor(c.engine);
  useNativeOrderFor(c.engine);
  let listed: (RemoteEntry | undefined)[] = [];
  let current: CurrentTotals | undefined;
  let senderFailed = false;
  let destMade = false;
  let uncounted: Stage['uncounted'] | undefined;
  // The fetch drew every progress line the run has (receiveLines): the local half draws none; or it
  // kept them by file for the local half to print in their places.
  let progressDrawn = false;
  let records: ProgressRecords | undefined;
  // Set once files are asked for: trims the staging tree to what came whole if the session is cut short.
  let trim: (() => { place: boolean; after?: () => void }) | undefined;
  const salvaging = salvageable(c);
  let outcome;
  try {
    outcome = await runClient(cmd, env, io, async (conn, peer) => {
      // A signal ends the session (as --timeout does) rather than the process, so that what arrived
      // whole is still placed (cli/pull-salvage.ts); a second one, with no handler left, exits at once.
      // Its line is the run's exit line (remote/daemon-client.ts says).
      if (salvaging) setAbortHandler(() => conn.fail(new ProtocolError('interrupted by a signal', Exit.Signal)));
      peer.charset = charset;
      if (charset && c.debug.ICONV > 0 && !c.json) io.out.write(charsetLine('Receiver', charset));
      // Once connected (after a daemon's greeting and MOTD), as rsync's recv_file_list announces it.
      if (showList) io.out.write('receiving file list ... ');
      peer.lineOpen = showList;
      p.copyAs?.become();
      if (tap) conn.tapIn = tap.data;
      const list = await receiveList(
        conn,
        {
          ...flistSettings(c),
          // Id lists follow the list only when the far sender sends them (flist-settings.ts peerNumericIds);
          // without names each id stays itself (pull-stage.ts localId).
          numericIds: peerNumericIds(c),
          // -U: the server was told to send access times (a file's, in the list).
          atimes: c.atimes,
          // -c: each file's sum (its length is the negotiated checksum's: listing.ts).
          checksumLen: c.checksum ? 16 : 0,
          relative: c.relative,
          acls: c.acls,
          missingArgs: c.missingArgs === 'delete',
          ...(xattrReceiver ? { xattrReceiver } : {}),
        },
        toSender,
        { compress: p.compress, env: batchCompressEnv(env, tap !== undefined) },
        charset && {
          charset,
          report: (m) => {
            // A line of ours left open ("receiving file list ... ") ends first.
            if (peer.lineOpen) io.err.write('\n');
            peer.lineOpen = false;
            io.err.write(`${m}\n`);
          },
        },
      );
      peer.ioError |= list.ioError;
      if (c.missingArgs === 'delete' && c.relative) orphanedMissing(list.entries, c.incRecursive, (m) => io.err.write(m));
      tap?.start(list.session);
      listed = list.entries;
      wire.listBytes = list.listBytes;
      peer.lineOpen = false;
      if (showList) io.out.write(filelistEnd(list.entries.length, c.info.FLIST, 'receiving'));
      // The destination is settled before anything is asked for (cli/pull-dest-root.ts).
      // (--only-write-batch: nothing is made on the destination, not even its directory.)
      const settled = settleDest(onlyBatch ? { ...c, dryRun: true } : c, list.entries);
      if ('message' in settled) {
        io.err.write(`arsync: ${settled.message}\n`);
        // rsync's client tells its server the code it leaves with (protocol 31 on: cleanup.c), and the
        // server leaves without a word of the closed connection.
        if (list.session.protocol >= 31) conn.send(Msg.ErrorExit, int32(settled.code));
        throw new ClientLeaves(settled.message, settled.code);
      }
      destMade = settled.made;
      if (!c.json) peer.hold = held;
      // The engine the local run would use lists the destination's directories (for the stage too).
      const engine = selectEngine(c.engine, [c.dest]);
      const ready = 'error' in engine ? undefined : engine;
      const dest = new PullDest(destBase(c, list.entries), ready && ((at, anchor) => ready.scanDir(at, anchor)));
      const stage = new Stage(
        c,
        staging,
        dest,
        (m) => {
          io.err.write(`arsync: ${m}\n`);
          localErrors++;
        },
        () => ready?.caps.timeResolutionNs ?? 0,
      );
      uncounted = stage.uncounted;
      // A fresh pull likely to be placed whole: its files settled as they are written (cli/pull-place.ts).
      const settler = earlySettler(c, staging, ready);
      if (settler) stage.settleAsWritten(settler);
      // --link-dest/--compare-dest/--copy-dest: a twin there may spare a file's fetch or be its basis
      // (cli/pull-basis.ts). Not for a one-file destination named otherwise (its twin has the new name).
      const basisDirs = ready && (c.linkDest.length || c.compareDest.length || c.copyDest.length) && 'dir' in dest.dest ? new PullBasisDirs(c, ready, dest.dest.dir) : undefined;
      if (basisDirs) stage.useBasisDirs(basisDirs);
      // --partial-dir: a partial file an earlier run left is its file's basis (cli/pull-partial.ts).
      const partialDir = c.partialDir !== undefined && 'dir' in dest.dest ? new PullPartialDir(c, dest) : undefined;
      if (partialDir) stage.usePartialDir(partialDir);
      // -y: a similar file as the basis of one the destination lacks. Not with --partial-dir, whose waiting
      // partial file rsync takes first, nor for a one-file destination.
      if (c.fuzzy && c.partialDir === undefined && 'dir' in dest.dest) stage.useFuzzy(new PullFuzzy(c.fuzzy, dest, basisDirs?.alt, c.deleteMode === 'before' || c.deleteMode === 'during' ? listedNames(list.entries) : undefined));
      const fetches: Fetch[] = [];
      const xattrAsks: XattrAsk[] = [];
      // -X: the asks whose values came (a salvage places no entry still owed some: cli/pull-salvage.ts).
      const answered = new Set<number>();
      const staged = xio ? new StagedXattrs(xio, c.dryRun) : undefined;
      const sum = strong(list.session.checksum);
      // Everything already there as the local run would leave it: nothing to stage, fetch or run.
      // The addon judges it where the run would use the addon (not the node engine).
      const addon = ready && ready.name !== 'node' ? loadAddon() : undefined;
      const native = addon?.ok && addon.addon.listCurrent ? addon.addon.listCurrent.bind(addon.addon) : undefined;
      // A --delete-missing-args entry (mode 0) is a deletion for the local run: never "already current".
      const deletes = list.entries.some((e) => e?.mode === 0);
      current = list.ioError || deletes ? undefined : currentDest(c, list.entries, (e) => stage.metaOf(e, list), dest, () => ready?.caps.timeResolutionNs ?? 0, native);
      // -H: a group's data under the member rsync's generator asks for it under (a batch's reader wants it there).
      const leads = !current && c.hardLinks ? groupLeads(list.entries, c, dest, 0, (e) => stage.sameSum(e, sum)) : undefined;
      if (leads?.size) stage.useGroupLeads(leads);
      if (!current) list.entries.forEach((e, ndx) => {
        if (!e) return;
        const f = stage.add(e, ndx, list, sum);
        if (f) fetches.push(f);
        if (staged && xattrReceiver && e.xattr !== undefined) {
          const ask = stage.xattrs(e, e.xattr, xattrReceiver.lists[e.xattr]!, staged, tap !== undefined);
          if (ask) xattrAsks.push({ ...ask, ndx, got: (values) => (answered.add(ndx), ask.got(values)) });
        }
      });
      // (Asked for in the list's order, as rsync's generator asks: a group led by a later member moved there.)
      if (leads?.size && !list.order) fetches.sort((a, b) => a.ndx - b.ndx);
      meta = stage.meta;
      // The local run's one operand when it is not started: the (empty) staging root.
      for (const o of current ? [Buffer.from(`${staging}/`, 'latin1')] : stagingOperands(list.entries, staging, c.relative, c.impliedDirs ? undefined : impliedDir)) operands.push(o);
      // -z: the compressed token stream when the session negotiated one (remote/token-codec.ts).
      const codec = tokenCodec(list.session.compress, list.session.protocol);
      // An empty list (a directory named without -r or -d, every operand left out by
      // --ignore-missing-args, say): rsync's sender leaves once it has sent
      // it, and its client asks for nothing and counts the bytes it moved itself (main.c client_run).
      // No local run either (it would make the destination, which rsync's client leaves alone then).
      if (list.entries.length === 0) {
        stage.close();
        wire.sent = conn.streamWritten;
        wire.received = conn.streamReceived;
        current = { listed: { reg: 0, dir: 0, link: 0, dev: 0, special: 0 }, totalSize: 0 };
        conn.end();
        return true;
      }
      // -A: the staged entries take the sender's ACLs once their data is in (cli/remote-acls.ts), after
      // the transfer or once a salvage has trimmed the staging tree (a discarded file is skipped).
      const mapId = (id: number, user: boolean): number => localId(c, id, user ? list.userNames : list.groupNames, user ? users : groups);
      const applyAcls = (): number => {
        if (!acl.addon) return 0;
        const staged = (e: RemoteEntry): string | undefined => {
          const at = stage.path(e.name.toString('latin1'));
          return stage.meta.has(at) ? at : undefined;
        };
        return applyStagedAcls(acl.addon, list.entries, staged, mapId, (m) => io.err.write(`arsync: ${m}\n`), c);
      };
      // The same for one entry's file elsewhere (a salvage's part kept in the partial dir).
      const aclOn = acl.addon && ((e: RemoteEntry, at: Buffer): void => void applyStagedAcls(acl.addon!, [e], () => at.toString('latin1'), mapId, (m) => io.err.write(`arsync: ${m}\n`), c));
      const progress: PullProgress = { verified: new Set() };
      // (A one-file destination named otherwise: the local half names the file by that name.)
      const shown = receiveLines(c, list.entries, io.out, 'file' in dest.dest ? nodePath.basename(dest.dest.file.toString('latin1')) : undefined);
      if (shown?.drawn) progressDrawn = true;
      records = shown?.records;
      if (salvaging) {
        trim = () => {
          const owed = xattrAsks.filter((a) => !answered.has(a.ndx)).map((a) => a.ndx);
          const s = trimForSalvage(c, stage, dest, partialDir, list.entries, fetches.map((f) => f.ndx), progress, owed, aclOn || undefined);
          if (s.place) applyAcls();
          return s;
        };
      }
      let totals;
      try {
        totals = await pullFiles(conn, list.session, fetches, {
          progress,
          ...(shown ? { lines: shown.lines } : {}),
          wholeFile: p.wholeFile,
          blockSize: p.blockSize,
          append: c.append ? (c.appendVerify ? 2 : 1) : 0,
          // rsync's receiver warns of a file it asks for again, at -v or -i (its FWARNING).
          onRedo: (ndx) => {
            if (c.json || !(c.info.NAME > 0 || itemizes(c))) return;
            const e = list.entries[ndx];
            if (e) io.err.write(`WARNING: ${showPath(e.name)} failed verification -- update ${c.inplace ? 'retained' : 'discarded'} (will try again).\n`);
          },
          tokens: (cn, blocks) => codec.reader(cn, blocks),
          xattrAsks,
          holdGoodbye: inside !== undefined,
          ...(list.order ? { order: list.order } : {}),
        });
      } catch (e) {
        if (e instanceof StageWriteError) throw stageWriteFailure(c, holder, list.entries[e.ndx], e);
        throw e;
      } finally {
        shown?.lines.finish();
        stage.close();
      }
      wire.literal = totals.literal;
      wire.matched = totals.matched;
      // The sender's figures, already turned to our side (what it read, we sent).
      wire.sent = totals.stats.totalWritten;
      wire.received = totals.stats.totalRead;
      wire.buildMs = totals.stats.flistBuildTime;
      wire.xferMs = totals.stats.flistXferTime;
      for (const ndx of totals.failed) {
        const e = list.entries[ndx]!;
        io.err.write(`ERROR: ${showPath(e.name)} failed verification -- update discarded.\n`);
        localErrors++;
        stage.discard(e, list.entries);
      }
      // A file the sender listed but could not open (its "send_files failed to open" line came through):
      // nothing of it arrives, the destination keeps what it has, and the run ends with exit 23 (rsync's
      // client counts the sender's transfer error).
      for (const sent of peer.notSent) {
        const ndx = list.order ? list.order.fromWire(sent) : sent;
        const e = list.entries[ndx];
        if (!e || !isReg(e.mode)) throw new ProtocolError(`Invalid file index: ${ndx} (not sent, never listed as a file)`, Exit.Protocol);
        localErrors++;
        stage.discard(e, list.entries);
      }
      stage.close();
      localErrors += applyAcls();
      // The sender's general I/O error gates deletions as rsync's generator meets it: the list's own flag
      // before any deletion; one the transfer reported (a file it could not open) only where the deletions
      // come after the transfer (--delete-after, --delete-delay), since --delete-during's have already run.
      const late = c.deleteMode === 'after' || c.deleteMode === 'delay';
      senderFailed = ((late ? peer.ioError : list.ioError) & 1) !== 0;
      // From here on the staging tree is whole: a signal ends the process as before the session (the
      // local half run inside it sets its own).
      trim = undefined;
      setAbortHandler(undefined);
      if (inside) {
        // --remove-source-files: the local half runs now, while rsync's sender waits for the goodbye, and
        // the sources of what it placed (or found up to date) are named to the sender, which removes them.
        const code = Math.max(peer.exitCode ?? 0, localErrors ? Exit.Partial : 0, peer.ioError & 1 ? Exit.Partial : peer.ioError & 2 ? Exit.Vanished : 0);
        const local = localChanges(c, place !== undefined, listed, progressDrawn);
        const staged: Pulled = { staging: holder, operands, meta, wire, code, senderFailed, delta, held, destMade, linkable: linkable(holder, c.dest, c.tempDir), batchOnly: onlyBatch, ...(local ? { local } : {}), ...(uncounted ? { uncounted } : {}), ...(records ? { progressRecords: records } : {}) };
        const ndxOf = new Map<string, number>();
        list.entries.forEach((e, ndx) => {
          if (e && !isDir(e.mode)) ndxOf.set(e.name.toString('latin1'), ndx);
        });
        // A discarded file (its data never came) may look current where the destination's own file stands
        // in for it: its source is never confirmed, so the sender keeps it, as rsync's does.
        const placed = (await inside(staged))
          .map((rel) => rel.toString('latin1'))
          .filter((rel) => !stage.discarded.has(rel))
          .map((rel) => ndxOf.get(rel))
          .filter((n): n is number => n !== undefined);
        endPull(conn, list.order ? placed.map((n) => list.order!.toWire(n)) : placed);
      }
      return true;
    });
  } catch (err) {
    if (!(err instanceof ClientLeaves)) throw err;
    // The destination refused (said where it was found): nothing was staged or fetched.
    tap?.close();
    removeStaging(holder);
    return { code: err.code };
  } finally {
    if (salvaging) setAbortHandler(undefined);
  }
  tap?.close();
  const code = Math.max(outcome.exitCode, localErrors ? Exit.Partial : 0);
  const salvage = outcome.result === undefined && outcome.exitCode !== 0 ? trim?.() : undefined;
  if (salvage?.place) {
    // Cut short after files arrived: the local half places those (cli/pull-salvage.ts).
    const local = { ...localChanges(c, place !== undefined, listed, progressDrawn), ...salvageConfig(c) };
    return { staging: holder, operands, meta, wire, code: outcome.exitCode, senderFailed: false, delta, held, destMade, linkable: linkable(holder, c.dest, c.tempDir), batchOnly: onlyBatch, local, salvage: true, ...(salvage.after ? { afterLocal: salvage.after } : {}), ...(uncounted ? { uncounted } : {}), ...(records ? { progressRecords: records } : {}) };
  }
  if (outcome.result === undefined && outcome.exitCode !== 0) {
    removeStaging(holder);
    // No local half runs to print after: what the server said is printed now.
    for (const text of held) io.out.write(text);
    return { code: outcome.exitCode };
  }
  // The staging tree holds exactly what the list named (directories sent without their contents are
  // empty there): the local half copies it whole instead of reading the list again.
  // --delete keeps to the directories the list sent with their contents (cli/pull-delete-scope.ts).
  const local = localChanges(c, place !== undefined, listed, progressDrawn);
  return { staging: holder, operands, meta, wire, code, senderFailed, delta, held, destMade, linkable: linkable(holder, c.dest, c.tempDir), batchOnly: onlyBatch, ...(local ? { local } : {}), ...(current && !localErrors ? { current } : {}), ...(uncounted ? { uncounted } : {}), ...(records ? { progressRecords: records } : {}) };
}

/** The names the list has, by their directory ("." the top). */
function listedNames(entries: (RemoteEntry | undefined)[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const e of entries) {
    if (!e) continue;
    const rel = e.name.toString('latin1');
    const slash = rel.lastIndexOf('/');
    const dir = slash < 0 ? '.' : rel.slice(0, slash);
    let names = out.get(dir);
    if (!names) out.set(dir, (names = new Set()));
    names.add(rel.slice(slash + 1));
  }
  return out;
}

/**
 * A staged file that could not be written, as rsync's receiver says it of the destination's file (exit 11;
 * the salvage then keeps what arrived whole): its `write failed on` line, and where the staging tree is on
 * another filesystem than the destination (a small $TMPDIR), a line that says so.
 */
function stageWriteFailure(c: Config, holder: string, e: RemoteEntry | undefined, err: StageWriteError): ProtocolError {
  let into = false;
  try {
    into = fs.statSync(c.dest).isDirectory();
  } catch {
    // A destination not made yet: one entry onto a new name.
  }
  const dest = absolutePath(c.dest);
  const where = into && e ? joinPath(dest, e.name) : dest;
  let message = `[receiver] write failed on "${showPath(where)}": ${errnoText(err.errno)} (${err.errno})`;
  if (!linkable(holder, c.dest, undefined)) message += `\narsync: (the pull writes each file in its staging directory "${holder}" first: set TMPDIR to a directory with room)`;
  return new ProtocolError(message, Exit.FileIO);
}

/**
 * What the local half's Config changes: after a --files-from pull (`listFrom`) the staging tree holds
 * just what the list named, so it is copied whole, and --delete keeps to the directories the list sent
 * with their contents (cli/pull-delete-scope.ts); when the fetch drew the run's progress lines
 * (`drawn`: receiveLines), the local half draws none.
 */
function localChanges(c: Config, listFrom: boolean, listed: (RemoteEntry | undefined)[], drawn: boolean): Partial<Config> | undefined {
  const quiet = drawn ? { progress: false, progressFiles: false } : undefined;
  // --only-write-batch: the destination is left as it is (rsync's client runs as a dry run).
  const dry = c.batch?.mode === 'only-write' ? { dryRun: true } : undefined;
  // --fake-super fakes this side only: the far side sent real ACLs, which the staging tree holds as
  // ACLs, so the local half's sender reads them as they are and its receiver keeps them as records.
  const real = c.fakeSuper ? { fakeSuper: undefined } : undefined;
  // -R: the implied directories came without their contents (XMIT_NO_CONTENT_DIR), and the local half
  // walks them whole: --delete is kept out of them as for --files-from (cli/pull-delete-scope.ts).
  const implied = c.relative && c.deleteMode !== 'none' ? { filters: [...c.filters, ...deleteScopeRules(listed)] } : undefined;
  // Without -d a far sender lists no directory, but for a named symlink only --copy-unsafe-links reads
  // through (judged by its lstat, then listed as the directory it leads to): the list decides, and the
  // local half makes what it lists instead of saying "skipping directory" of it.
  const listedDirs = !c.dirs && !c.recursive && listed.some((e) => e !== undefined && isDir(e.mode)) ? { dirs: true } : undefined;
  if (!listFrom) return quiet || dry || real || implied || listedDirs ? { ...quiet, ...dry, ...real, ...implied, ...listedDirs } : undefined;
  const scope = c.deleteMode !== 'none' ? { filters: [...c.filters, ...deleteScopeRules(listed)] } : {};
  return { filesFrom: undefined, recursive: true, ...scope, ...quiet, ...dry, ...real };
}

/**
 * --progress/--info=progress2 drawn by the fetch as the data arrives, as rsync's receiving client draws
 * them. When they are all the run prints per entry on stdout (no names, -i or --out-format) they go out
 * as they are drawn and the local half draws none (`drawn`). Where names are printed, they interleave
 * with the files' lines in the list's order, and the local half prints them after the fetch (it decides
 * what each entry's line says): the fetch's lines are kept by file (`records`) for the local half to
 * print in their places, with their rates and times, and a transient line of the whole transfer is
 * drawn meanwhile on a terminal, erased before them.
 */
function receiveLines(c: Config, entries: (RemoteEntry | undefined)[], out: NodeJS.WritableStream, fileName?: string): { lines: ReceiveLines & { finish(): void }; drawn: boolean; records?: ProgressRecords } | undefined {
  if (!c.progress || c.dryRun || c.json || c.progressBar) return undefined;
  const level = c.progressFiles ? 1 : 2;
  // rsync's total_size: the listed files' sizes and the symlinks' target lengths.
  const size = entries.reduce((n, e) => (!e ? n : isReg(e.mode) ? n + e.size : isLink(e.mode) ? n + (e.link?.length ?? 0) : n), 0);
  const write = (s: string): void => void out.write(s);
  if (c.info.NAME === 0 && c.itemize === 0 && c.outFormat === undefined) return { lines: new ReceiveProgress(write, level, c.humanReadable, entries.length, size), drawn: true };
  const records = new ProgressRecords();
  const kept = new ReceiveProgress(records.write, level, c.humanReadable, entries.length, size);
  const live = (out as NodeJS.WriteStream).isTTY ? new ReceiveProgress(write, level, c.humanReadable, entries.length, size, true) : undefined;
  const lines = {
    begin(ndx: number, n: number): void {
      records.file(fileName ?? entries[ndx]?.name.toString('latin1'));
      kept.begin(ndx, n);
      live?.begin(ndx, n);
    },
    data(ofs: number): void {
      kept.data(ofs);
      live?.data(ofs);
    },
    end(ndx: number): void {
      kept.end(ndx);
    },
    phaseDone(): void {
      records.file(undefined);
      kept.phaseDone();
    },
    // (progress2's last kept line stays open: the local half ends it.)
    finish: (): void => live?.finish(),
  };
  return { lines, drawn: false, records };
}
