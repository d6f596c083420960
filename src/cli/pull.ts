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
import { linkable, removeStaging, stagingOperands, stagingParent } from './staging-dir.js';
export { removeStaging } from './staging-dir.js';
import { PullDest } from './pull-dest.js';
import { currentDest, type CurrentTotals } from './pull-current.js';
import { selectEngine } from '../engine/index.js';
import type { ClientCompress } from '../remote/compress.js';
import { tokenCodec } from '../remote/token-codec.js';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Config } from '../model/config.js';
import type { RemotePull } from './pull-operand.js';
import { deleteScopeRules } from './pull-delete-scope.js';
import { loginOf } from './remote-operand.js';
import { runClient, type ClientIo } from '../remote/client.js';
import { receiveList } from '../remote/listing.js';
import { senderArgs } from '../remote/server-args.js';
import { pullFiles, type Fetch } from '../remote/pull.js';
import { filterListBytes } from '../remote/filter-list.js';
import { filesFromServerArgs, forwardedList } from '../remote/files-from.js';
import { readFilesFromList } from '../plan/sources.js';
import { filesFromPlace } from './remote-files-from.js';
import { isDevice, isDir, isLink, isReg, isSpecial, type RemoteEntry } from '../remote/flist.js';
import { strong } from '../remote/checksum.js';
import { rulesToSend } from '../plan/filter-send.js';
import { FilterError } from '../plan/filter-rules.js';
import type { StagedMeta } from '../run/staged-source.js';
import { groups, users } from '../util/userdb.js';
import { Exit, showPath } from '../util/errors.js';
import { ProtocolError } from '../remote/wire.js';
import { aclAddon, applyStagedAcls } from './remote-acls.js';
import { XattrReceiver, abbreviated, type XattrItem } from '../remote/xattr-list.js';
import { StagedXattrs, remoteXattrs } from '../run/remote-xattrs.js';
import type { XattrAsk } from '../remote/pull.js';
import { BatchTap } from './batch-tap.js';
import { flistSettings } from './flist-settings.js';


/** What the local half needs: the staging operands, the sender's metadata, the wire's figures. */
export interface Pulled {
  /** The holder of the staging tree, removed after the local run (removeStaging). */
  staging: string;
  operands: Buffer[];
  meta: Map<string, StagedMeta>;
  wire: { literal: number; matched: number; sent: number; received: number; listBytes: number; buildMs: number; xferMs: number };
  code: number;
  /** What the local half's Config changes: a --files-from list was the far side's to read, and the staging tree holds just what it named. */
  local?: Partial<Config>;
  /** The staging tree is on the filesystem of the local run's temp files: its files are linked into place, not copied. */
  linkable: boolean;
  /** The destination was found current (cli/pull-current.ts): nothing was staged, the local run is not started. */
  current?: CurrentTotals;
}

const O_NOFOLLOW = fs.constants.O_NOFOLLOW;
/** Linux's PATH_MAX, its NUL included: a longer path cannot be created in one call. */
const PATH_MAX = 4096;

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
  });
}

export async function fetchRemote(p: RemotePull, env: NodeJS.ProcessEnv, io: ClientIo, args: string[] = []): Promise<Pulled | { code: number }> {
  const c = p.config;
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
      io.err.write(`arsync: ${err.message}\n`);
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
    return listHere ? Buffer.concat([filters, forwardedList(listHere, c.from0, session.protocol)]) : filters;
  };
  // -X: the sender's lists go onto the staging tree through the addon (Node has no xattr API).
  const xio = c.xattrs ? remoteXattrs() : undefined;
  if (xio && 'reason' in xio) {
    io.err.write(`arsync: -X/--xattrs needs the native addon: ${xio.reason}\n`);
    return { code: Exit.Usage };
  }
  const amRoot = c.amRoot ?? (process.geteuid?.() === 0 ? 1 : 0);
  const xattrReceiver = c.xattrs ? new XattrReceiver({ root: amRoot > 0, fake: amRoot < 0, all: c.xattrsAll === true }) : undefined;
  // The tree sits in a 0700 holder that never takes a sender's mode: with -A the tree's own directories
  // take the sender's ACLs, and with them their mode bits (cli/remote-acls.ts); nobody else reaches them.
  // --write-batch: the sender's stream goes into the batch too (cli/batch-tap.ts).
  const tap = c.batch ? BatchTap.open(c, args) : undefined;
  if (tap && 'message' in tap) {
    io.err.write(`arsync: ${tap.message}\n`);
    return { code: tap.code };
  }
  const holder = fs.mkdtempSync(nodePath.join(stagingParent(c.dest), 'arsync-pull-'));
  fs.chmodSync(holder, 0o700);
  const staging = nodePath.join(holder, 'tree');
  fs.mkdirSync(staging, 0o700);
  p.copyAs?.hand([holder, staging]);
  const cmd = {
    rsh: p.rsh,
    user: p.operand.user,
    host: p.operand.host,
    rsyncPath: p.rsyncPath,
    serverArgs: pullServerArgs(c, p.wholeFile, p.blockSize, p.compress, place ? filesFromServerArgs(place, c, true) : undefined),
    paths: [p.operand.path, ...(p.extraPaths ?? [])].map((b) => b.toString('latin1')),
    weSend: false,
    oldArgs: c.oldArgs,
    secluded: c.secludedArgs,
    relative: c.relative,
    trustSender: place?.remote === true,
    daemon: loginOf(p.operand),
    bwlimit: c.bwlimit,
    timeout: c.timeout,
  };
  // rsync's show_filelist_progress: only when directories are transferred (-r, -d).
  const showList = c.info.FLIST > 0 && !c.json && !c.quiet && (c.recursive || c.dirs);
  const meta = new Map<string, StagedMeta>();
  const operands: Buffer[] = [];
  const wire = { literal: 0, matched: 0, sent: 0, received: 0, listBytes: 0, buildMs: 0, xferMs: 0 };
  let localErrors = 0;
  // A batch names no checksum (its reader takes MD5): only MD5 is offered then.
  if (!tap) useNativeSumsFor(c.engine);
  let listed: (RemoteEntry | undefined)[] = [];
  let current: CurrentTotals | undefined;
  const outcome = await runClient(cmd, env, io, async (conn, peer) => {
    // Once connected (after a daemon's greeting and MOTD), as rsync's recv_file_list announces it.
    if (showList) io.out.write('receiving file list ... ');
    p.copyAs?.become();
    if (tap) conn.tapIn = tap.data;
    const list = await receiveList(
      conn,
      {
        ...flistSettings(c),
        atimes: false,
        // -c: each file's sum (its length is the negotiated checksum's: listing.ts).
        checksumLen: c.checksum ? 16 : 0,
        relative: c.relative,
        acls: c.acls,
        ...(xattrReceiver ? { xattrReceiver } : {}),
      },
      toSender,
      { compress: p.compress, env },
    );
    peer.ioError |= list.ioError;
    tap?.start(list.session);
    listed = list.entries;
    wire.listBytes = list.listBytes;
    if (showList) io.out.write(filelistEnd(list.entries.length, c.info.FLIST, 'receiving'));
    // The engine the local run would use lists the destination's directories (for the stage too).
    const engine = selectEngine(c.engine, [c.dest]);
    const ready = 'error' in engine ? undefined : engine;
    const dest = new PullDest(destBase(c, list.entries), ready && ((at, anchor) => ready.scanDir(at, anchor)));
    const stage = new Stage(c, staging, dest, (m) => {
      io.err.write(`arsync: ${m}\n`);
      localErrors++;
    });
    const fetches: Fetch[] = [];
    const xattrAsks: XattrAsk[] = [];
    const staged = xio ? new StagedXattrs(xio, c.dryRun) : undefined;
    const sum = strong(list.session.checksum);
    // Everything already there as the local run would leave it: nothing to stage, fetch or run.
    current = list.ioError ? undefined : currentDest(c, list.entries, (e) => stage.metaOf(e, list), dest, () => ready?.caps.timeResolutionNs ?? 0);
    if (!current) list.entries.forEach((e, ndx) => {
      if (!e) return;
      const f = stage.add(e, list, sum);
      if (f) fetches.push({ ...f, ndx });
      if (staged && xattrReceiver && e.xattr !== undefined) {
        const ask = stage.xattrs(e, e.xattr, xattrReceiver.lists[e.xattr]!, staged);
        if (ask) xattrAsks.push({ ...ask, ndx });
      }
    });
    for (const [k, v] of stage.meta) meta.set(k, v);
    // The local run's one operand when it is not started: the (empty) staging root.
    for (const o of current ? [Buffer.from(`${staging}/`, 'latin1')] : stagingOperands(list.entries, staging, c.relative)) operands.push(o);
    // -z: the compressed token stream when the session negotiated one (remote/token-codec.ts).
    const codec = tokenCodec(list.session.compress, list.session.protocol);
    let totals;
    try {
      totals = await pullFiles(conn, list.session, list.entries.length ? fetches : [], {
        wholeFile: p.wholeFile,
        blockSize: p.blockSize,
        tokens: (cn, blocks) => codec.reader(cn, blocks),
        xattrAsks,
      });
    } finally {
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
    for (const ndx of peer.notSent) {
      const e = list.entries[ndx];
      if (!e || !isReg(e.mode)) throw new ProtocolError(`Invalid file index: ${ndx} (not sent, never listed as a file)`, Exit.Protocol);
      localErrors++;
      stage.discard(e, list.entries);
    }
    stage.close();
    // What the discards changed, for the local run.
    if (totals.failed.length || peer.notSent.length) {
      meta.clear();
      for (const [k, v] of stage.meta) meta.set(k, v);
    }
    // -A: the staged entries take the sender's ACLs once their data is in (cli/remote-acls.ts).
    if (acl.addon) {
      const mapId = (id: number, user: boolean): number => localId(c, id, user ? list.userNames : list.groupNames, user ? users : groups);
      const staged = (e: RemoteEntry): string | undefined => {
        const at = stage.path(e.name.toString('latin1'));
        return stage.meta.has(at) ? at : undefined;
      };
      localErrors += applyStagedAcls(acl.addon, list.entries, staged, mapId, (m) => io.err.write(`arsync: ${m}\n`));
    }
    return true;
  });
  tap?.close();
  const code = Math.max(outcome.exitCode, localErrors ? Exit.Partial : 0);
  if (outcome.result === undefined && outcome.exitCode !== 0) {
    removeStaging(holder);
    return { code: outcome.exitCode };
  }
  // The staging tree holds exactly what the list named (directories sent without their contents are
  // empty there): the local half copies it whole instead of reading the list again.
  // --delete keeps to the directories the list sent with their contents (cli/pull-delete-scope.ts).
  const scope = place && c.deleteMode !== 'none' ? { filters: [...c.filters, ...deleteScopeRules(listed)] } : {};
  const local = place ? { filesFrom: undefined, recursive: true, ...scope } : undefined;
  return { staging: holder, operands, meta, wire, code, linkable: linkable(holder, c.dest, c.tempDir), ...(local ? { local } : {}), ...(current && !localErrors ? { current } : {}) };
}

/** The sender's uid or gid as this machine's: by the name the sender gave it, unless --numeric-ids (0 stays 0). */
function localId(c: Config, id: number, names: Map<number, Buffer>, db: typeof users): number {
  if (c.numericIds || id === 0) return id;
  const name = names.get(id);
  return (name && db.idOf(name.toString('utf8'))) ?? id;
}

/** The destination directory the list's names are relative to, when it is one (else the one-file case). */
export function destBase(c: Config, entries: (RemoteEntry | undefined)[]): { dir: Buffer } | { file: Buffer } {
  const dest = c.dest;
  let isDirectory: boolean;
  try {
    isDirectory = fs.statSync(dest).isDirectory();
  } catch {
    isDirectory = false;
  }
  const real = entries.filter((e): e is RemoteEntry => e !== undefined);
  if (!isDirectory && real.length === 1 && !isDir(real[0]!.mode) && !dest.toString('latin1').endsWith('/')) return { file: dest };
  return { dir: dest };
}

/** The staging tree being built, entry by entry in the list's order. */
export class Stage {
  readonly meta = new Map<string, StagedMeta>();
  /** Staged directories, by relative name ("." the root). */
  private readonly dirs = new Set<string>(['.']);
  /** -H: the staged path of each hard-link group's first member. */
  private readonly groups = new Map<number, string>();
  /** The list holds "." (its top-level names are inside the staging root, not operands of their own). */
  private rootStaged = false;
  constructor(
    private readonly c: Config,
    private readonly root: string,
    private readonly dest: PullDest,
    private readonly error: (m: string) => void,
  ) {}

  path(rel: string): string {
    return rel === '.' ? this.root : `${this.root}/${rel}`;
  }

  add(e: RemoteEntry, list: { userNames: Map<number, Buffer>; groupNames: Map<number, Buffer>; sent: RemoteEntry[] }, sum: { file(): { update(b: Buffer): void; digest(): Buffer } }): Omit<Fetch, 'ndx'> | undefined {
    const rel = e.name.toString('latin1');
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? '.' : rel.slice(0, slash);
    // Every entry sits in a directory the list itself made (never below a symlink or a file it sent).
    if (rel !== '.' && !this.dirs.has(parent)) {
      this.error(`refusing ${showPath(e.name)} from the sender: its parent ${showPath(Buffer.from(parent, 'latin1'))} is not a directory it sent`);
      return undefined;
    }
    const path = this.path(rel);
    const at = Buffer.from(path, 'latin1');
    this.meta.set(path, this.metaOf(e, list));
    try {
      if (isDir(e.mode)) {
        if (rel !== '.') fs.mkdirSync(at, 0o700);
        else this.rootStaged = true;
        this.dirs.add(rel);
        return undefined;
      }
      if (isLink(e.mode)) {
        fs.symlinkSync(e.link!, at);
        return undefined;
      }
      if (isDevice(e.mode) || isSpecial(e.mode)) {
        const kind = (e.mode & 0o170000) === 0o060000 ? 'b' : (e.mode & 0o170000) === 0o020000 ? 'c' : 'p';
        if ((e.mode & 0o170000) === 0o140000) {
          this.error(`cannot stage socket ${showPath(e.name)}`);
          return undefined;
        }
        const args = kind === 'p' ? [path] : [path, kind, String(e.rdev?.major ?? 0), String(e.rdev?.minor ?? 0)];
        execFileSync(kind === 'p' ? 'mkfifo' : 'mknod', args, { stdio: 'ignore' });
        return undefined;
      }
      if (!isReg(e.mode)) return undefined;
      if (e.hlinkGroup !== undefined) {
        const first = this.groups.get(e.hlinkGroup);
        if (first !== undefined) {
          fs.linkSync(first, at);
          return undefined;
        }
        this.groups.set(e.hlinkGroup, path);
      }
      const found = this.basis(rel);
      const need = this.needsData(e, found, sum);
      // Not staged at all: the destination's file stands for it (run/staged-source.ts). Only inside a
      // staged directory (an operand must exist), never for a hard-link group (its members are linked
      // to the staged first one), and not under -A/-X: the sender's ACLs and xattrs are put on the
      // staged inode, which the local run compares with the destination's.
      const attrsOnInode = this.c.acls || this.c.xattrs;
      if (need === 'placeholder' && found && !this.c.dryRun && !attrsOnInode && e.hlinkGroup === undefined && (this.rootStaged || rel.includes('/'))) {
        this.meta.get(path)!.virtual = true;
        return undefined;
      }
      const create = fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW;
      // A file to fetch is created when its data arrives (one open instead of a create now and an open
      // then), unless something must find it on disk before: the other members of its hard-link group
      // (linked to it below) or the sender's ACLs and xattrs (put on the staged inode right after this).
      // A path too long to create fails here, as a per-file error, not in the middle of the transfer.
      if (need === 'fetch' && !this.c.dryRun && e.hlinkGroup === undefined && !attrsOnInode && at.length < PATH_MAX) {
        let made = false;
        return {
          size: e.size,
          openOut: () => {
            const fd = fs.openSync(at, made ? fs.constants.O_RDWR | O_NOFOLLOW : create, 0o600);
            const empty = !made;
            made = true;
            return { fd, empty };
          },
          ...(found && found.size > 0 ? { basis: { size: found.size, open: () => this.openBasis(rel) } } : {}),
        };
      }
      const out = fs.openSync(at, create, 0o600);
      if (need === 'same-bytes') {
        // -c found the same bytes: the staging copy must hold them too (the local run sums it again).
        const fd = this.openBasis(rel);
        try {
          copyAll(fd, out, found!.size);
        } finally {
          fs.closeSync(fd);
        }
      } else if (need === 'placeholder' || this.c.dryRun) {
        fs.ftruncateSync(out, e.size);
      } else {
        // Closed until the file's turn: a tree has more files than a process may hold open. The staging
        // file is ours (0600 in our 0700 directory); the basis is opened again the same safe way.
        fs.closeSync(out);
        return {
          size: e.size,
          openOut: () => ({ fd: fs.openSync(at, fs.constants.O_RDWR | O_NOFOLLOW), empty: false }),
          ...(found && found.size > 0 ? { basis: { size: found.size, open: () => this.openBasis(rel) } } : {}),
        };
      }
      fs.closeSync(out);
      return undefined;
    } catch (err) {
      this.error(`staging ${showPath(e.name)} failed: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** -X: the sender's list onto the staged entry (run/remote-xattrs.ts), against the destination's same entry. */
  xattrs(e: RemoteEntry, list: number, items: XattrItem[], staged: StagedXattrs): Omit<XattrAsk, 'ndx'> | undefined {
    const rel = e.name.toString('latin1');
    const at = Buffer.from(this.path(rel), 'latin1');
    try {
      fs.lstatSync(at);
    } catch {
      return undefined;
    }
    const dest = items.some(abbreviated) ? this.dest.openEntry(rel) : undefined;
    try {
      return staged.entry(at, list, items, dest?.fd, this.error);
    } finally {
      if (dest) fs.closeSync(dest.fd);
    }
  }

  /**
   * A file whose data did not come (it failed verification twice, or the sender could not open it): the
   * destination keeps what it has. Its staging file goes (an empty one would be copied over the
   * destination's), with every member of its -H group (one inode in the staging tree); a regular
   * file the destination has stands for it as a virtual entry with the destination's own metadata, so
   * the local run neither changes it nor deletes it as extraneous (rsync's list still names it).
   */
  discard(e: RemoteEntry, entries: (RemoteEntry | undefined)[]): void {
    const members = e.hlinkGroup === undefined ? [e] : entries.filter((m): m is RemoteEntry => m !== undefined && m.hlinkGroup === e.hlinkGroup);
    for (const m of members) {
      const rel = m.name.toString('latin1');
      const path = this.path(rel);
      fs.rmSync(Buffer.from(path, 'latin1'), { force: true });
      this.meta.delete(path);
      const st = this.rootStaged || rel.includes('/') ? this.dest.lstat(rel) : undefined;
      if (st?.isFile()) {
        const ns = st.mtimeNs;
        const nsec = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
        this.meta.set(path, { mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), size: Number(st.size), mtimeSec: Number((ns - nsec) / 1_000_000_000n), mtimeNsec: Number(nsec), virtual: true });
      }
    }
  }

  metaOf(e: RemoteEntry, list: { userNames: Map<number, Buffer>; groupNames: Map<number, Buffer> }): StagedMeta {
    const c = this.c;
    return {
      mode: e.mode,
      uid: c.owner ? this.mapId(this.uids, e.uid, list.userNames, users) : this.ownUid,
      gid: c.group ? this.mapId(this.gids, e.gid, list.groupNames, groups) : this.ownGid,
      size: isReg(e.mode) ? e.size : isLink(e.mode) ? e.link?.length ?? 0 : 0,
      mtimeSec: e.mtime,
      mtimeNsec: e.mtimeNsec,
    };
  }

  /** The sender's ids as this machine's, each looked up once (the list repeats a few ids for every entry). */
  private readonly uids = new Map<number, number>();
  private readonly gids = new Map<number, number>();
  private readonly ownUid = process.getuid?.() ?? 0;
  private readonly ownGid = process.getgid?.() ?? 0;

  private mapId(seen: Map<number, number>, id: number | undefined, names: Map<number, Buffer>, db: typeof users): number {
    if (id === undefined) return 0;
    let local = seen.get(id);
    if (local === undefined) seen.set(id, (local = localId(this.c, id, names, db)));
    return local;
  }

  /** Closes what the stage holds open (the last destination directory looked into). */
  close(): void {
    this.dest.close();
  }

  /** The destination's current regular file at `rel` (its lstat), undefined when there is none. */
  private basis(rel: string): { size: number; mtimeNs: bigint } | undefined {
    // From the directory's listing when an engine lists it (one call a directory), else an lstat.
    const st = this.dest.entry(rel);
    return st && (st.mode & 0o170000) === 0o100000 ? { size: st.size, mtimeNs: BigInt(st.mtimeSec) * 1_000_000_000n + BigInt(st.mtimeNsec) } : undefined;
  }

  private openBasis(rel: string): number {
    return this.dest.openFile(rel);
  }

  /**
   * Whether the file's data must come over the wire. A placeholder only where the local run will
   * certainly not copy (the same tests its planner makes, never looser); in doubt, fetch.
   */
  private needsData(e: RemoteEntry, basis: { size: number; mtimeNs: bigint } | undefined, sum: { file(): { update(b: Buffer): void; digest(): Buffer } }): 'fetch' | 'placeholder' | 'same-bytes' {
    const c = this.c;
    if (!basis) return c.existing ? 'placeholder' : 'fetch';
    if (c.ignoreExisting) return 'placeholder';
    if (c.ignoreTimes) return 'fetch';
    if ((c.minSize !== undefined && e.size < c.minSize) || (c.maxSize !== undefined && e.size > c.maxSize)) return 'placeholder';
    const st = basis;
    const mtimeNs = BigInt(e.mtime) * 1_000_000_000n + BigInt(e.mtimeNsec);
    if (c.update && st.mtimeNs > mtimeNs + BigInt(c.modifyWindow) * 1_000_000_000n) return 'placeholder';
    if (c.checksum) {
      if (basis.size !== e.size || !e.sum) return 'fetch';
      const h = sum.file();
      const buf = Buffer.alloc(1 << 20);
      const fd = this.openBasis(e.name.toString('latin1'));
      try {
        for (let pos = 0; pos < basis.size; ) {
          const n = fs.readSync(fd, buf, 0, buf.length, pos);
          if (n === 0) break;
          h.update(buf.subarray(0, n));
          pos += n;
        }
      } finally {
        fs.closeSync(fd);
      }
      return h.digest().equals(e.sum) ? 'same-bytes' : 'fetch';
    }
    if (basis.size !== e.size) return 'fetch';
    if (c.sizeOnly || st.mtimeNs === mtimeNs) return 'placeholder';
    return 'fetch';
  }
}

function copyAll(from: number, to: number, size: number): void {
  const buf = Buffer.alloc(1 << 20);
  for (let pos = 0; pos < size; ) {
    const n = fs.readSync(from, buf, 0, buf.length, pos);
    if (n === 0) break;
    let w = 0;
    while (w < n) w += fs.writeSync(to, buf, w, n - w, pos + w);
    pos += n;
  }
}
