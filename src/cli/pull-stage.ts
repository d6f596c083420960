// A pull's staging tree (cli/pull.ts): each listed entry made there in the list's order (directories,
// symlinks, munged under --munge-links, devices, -H links, placeholders of the files the destination
// already has, and the files to fetch, created when their data arrives), the sender's metadata kept for
// the local run (run/staged-source.ts), and a discarded file put back to what the destination holds.
// Also the destination's base and the sender's ids mapped to this machine's, which the batch reader shares.

import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { Config } from '../model/config.js';
import type { Fetch, XattrAsk } from '../remote/pull.js';
import { isDevice, isDir, isLink, isReg, isSpecial, type RemoteEntry } from '../remote/flist.js';
import { stagedStat, type StagedMeta } from '../run/staged-source.js';
import { digestFd } from '../run/file-sum.js';
import { settlesEarly } from './pull-place.js';
import { groups, users } from '../util/userdb.js';
import { fsError, showPath } from '../util/errors.js';
import { abbreviated, type XattrItem } from '../remote/xattr-list.js';
import type { StagedXattrs } from '../run/remote-xattrs.js';
import type { PullDest } from './pull-dest.js';
import { PATH_MAX } from '../model/path-max.js';
import { munge } from '../util/munge.js';
import { loadAddon } from '../engine/native.js';
import { mknodIn } from '../engine/node-special.js';
import { makedev } from '../model/devnum.js';
import { leftAlone, newerOnReceiver, sameTime } from '../plan/quickcheck.js';
import { listWindow } from '../plan/old-protocol.js';
import { replacesFullDirs } from '../run/deletions.js';
import { S_IFMT, type Stat } from '../model/stat.js';
import type { EngineContext } from '../engine/types.js';
import { openTwin, type FileTwin, type OtherBasis, type PullBasisDirs, type PullFuzzy } from './pull-basis.js';
import type { PullPartialDir } from './pull-partial.js';

const O_NOFOLLOW = fs.constants.O_NOFOLLOW;
/** The name a device, FIFO or socket is made under, in the staging tree's holder, before it takes its own. */
const SPECIAL = 'special';

/** The sender's uid or gid as this machine's: by the name the sender gave it, unless --numeric-ids (0 stays 0). */
export function localId(c: Config, id: number, names: Map<number, Buffer>, db: typeof users): number {
  if (c.numericIds || id === 0) return id;
  const name = names.get(id);
  return (name && db.idOf(name.toString('utf8'))) ?? id;
}

/**
 * A listed symlink's target as the stage writes it. Under --munge-links this side receives, so the target
 * is munged, as rsync's receiving client writes it (the local half then takes it as it is: stagedLinks);
 * the no-op judgement (cli/pull-current.ts) compares the destination's links with this too.
 */
export function stagedTarget(c: Pick<Config, 'mungeLinks'>, e: RemoteEntry): Buffer | undefined {
  return e.link && c.mungeLinks ? munge(e.link) : e.link;
}

/**
 * What the local half's Config changes for the links the stage made. -L, -k and --copy-unsafe-links are
 * the sender's: the far side's followed what they say, and the staged links are those it kept as links,
 * which rsync's receiving side (main.c do_recv clears all three) never follows; the local half, a local
 * copy's sender over the staged tree, must not follow them either (-k would descend through a staged
 * link to a directory, even one of the staging tree's own). Under --munge-links this side is rsync's
 * receiver, which munges what it is sent (the stage did) and unmunges nothing, so the local half must
 * not unmunge as a local copy's sender would. (--safe-links is rsync's receiving side's, judged on the
 * munged targets there too: every link is then ignored.)
 */
export function stagedLinks(c: Pick<Config, 'mungeLinks'>): Partial<Config> {
  return { copyLinks: false, copyDirlinks: false, copyUnsafeLinks: false, ...(c.mungeLinks ? { mungeLinks: false } : {}) };
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
  if (isDirectory || dest.toString('latin1').endsWith('/')) return { dir: dest };
  // One entry, not a directory: its own name (the list is not copied to count it: it may be long).
  let only: RemoteEntry | undefined;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e === undefined) continue;
    if (only) return { dir: dest };
    only = e;
  }
  return only && !isDir(only.mode) ? { file: dest } : { dir: dest };
}

/** The staging tree being built, entry by entry in the list's order. */
export class Stage {
  readonly meta = new Map<string, StagedMeta>();
  /** Staged directories, by relative name ("." the root). */
  private readonly dirs = new Set<string>(['.']);
  /**
   * --ignore-existing: the listed directories the destination holds a non-directory in place of, and
   * every directory below them (blockedDir).
   */
  private readonly blocked = new Set<string>();
  /** Those of `blocked` whose own name the destination's entry blocks (the topmost of each such tree). */
  private readonly blocking = new Set<string>();
  /** -H: the staged path of each hard-link group's first member. */
  private readonly groups = new Map<number, string>();
  /** The list holds "." (its top-level names are inside the staging root, not operands of their own). */
  private rootStaged = false;
  /**
   * What discarded files take from the local run's counts that rsync's client still counts from the
   * list (--stats' "Number of files", "Total file size"): files that left nothing in the staging tree,
   * and the list's sizes less those of the destination's files that stand in for them.
   */
  readonly uncounted = { files: 0, size: 0 };
  /**
   * The names of the files discarded (`discard`): their data never came, so under --remove-source-files
   * their sources are never confirmed to the sender, even where the destination's own file stands in.
   */
  readonly discarded = new Set<string>();
  constructor(
    private readonly c: Config,
    private readonly root: string,
    private readonly dest: PullDest,
    private readonly error: (m: string) => void,
    /** The destination engine's time resolution (ns), which the local run's quick check allows for. */
    private readonly timeResolutionNs: () => number = () => 0,
  ) {}

  path(rel: string): string {
    return rel === '.' ? this.root : `${this.root}/${rel}`;
  }

  /** Stages `e` (index `ndx` in the list); what must come over the wire is returned as a fetch. */
  add(e: RemoteEntry, ndx: number, list: { userNames: Map<number, Buffer>; groupNames: Map<number, Buffer>; sent: RemoteEntry[] }, sum: { file(): { update(b: Buffer): void; digest(): Buffer } }): StagedFetch | undefined {
    // --delete-missing-args: nothing to stage; the local run's operand for it is missing, so it deletes
    // the destination's twin (cli/staging-dir.ts stagingOperands).
    if (e.mode === 0) return undefined;
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
        if (rel !== '.' && this.blockedDir(rel, parent)) {
          this.blocked.add(rel);
          if (!this.blocked.has(parent)) this.blocking.add(rel);
        }
        return undefined;
      }
      if (isLink(e.mode)) {
        // -H: a symlink of a group the sender links is staged as a link to the group's first one (link(2)
        // takes the symlink itself), so the local run links the members as rsync's receiver does.
        const first = e.hlinkGroup !== undefined ? this.groups.get(e.hlinkGroup) : undefined;
        if (first !== undefined) {
          fs.linkSync(Buffer.from(first, 'latin1'), at);
          return undefined;
        }
        // Without -l the sender lists its symlinks without their targets (rsync's receiver then skips them
        // as non-regular files, and so does the local run): the staged link's target is never read.
        fs.symlinkSync(stagedTarget(this.c, e) ?? '.', at);
        if (e.hlinkGroup !== undefined) this.groups.set(e.hlinkGroup, path);
        return undefined;
      }
      if (isDevice(e.mode) || isSpecial(e.mode)) {
        // Made as the node engine makes one (engine/node-special.ts: mknod(1) for a device or a FIFO, a
        // bound unix socket for a socket), in the staging tree's private holder under a plain name (the
        // child takes its name as a UTF-8 string, which the sender's need not be), then renamed to it.
        const holder = nodePath.dirname(this.root);
        const rdev = makedev(e.rdev?.major ?? 0, e.rdev?.minor ?? 0);
        try {
          mknodIn(Buffer.from(holder, 'latin1'), Buffer.from(SPECIAL), e.mode & S_IFMT, rdev);
        } catch (err) {
          if (!isDevice(e.mode) || (err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
          // This user may not make devices: rsync's receiver then skips them ("skipping non-regular
          // file"), or under --fake-super records them in a file's xattr. An empty file stands in, which
          // the local run takes for a device with the sender's numbers (run/staged-source.ts); one that
          // reads it anyway reads nothing, and a tree holding it is never placed whole (pull-place.ts).
          fs.closeSync(fs.openSync(at, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW, 0o600));
          const m = this.meta.get(path)!;
          m.standIn = true;
          m.rdev = rdev;
          return undefined;
        }
        fs.renameSync(Buffer.from(`${holder}/${SPECIAL}`, 'latin1'), at);
        return undefined;
      }
      if (!isReg(e.mode)) return undefined;
      // In a directory the local run will fail every entry of (blockedDir): nothing is asked for, as in
      // rsync's generator; the file is staged empty for the local run to list and fail (its size is the
      // sender's, no data written). A -H member there leads its group only when no member elsewhere can
      // (groupLeads passes over them), so the first staged of a group without a lead is staged so too,
      // and the rest linked to it below; a group with a lead elsewhere has its data asked for there.
      const grouped = e.hlinkGroup !== undefined;
      if (this.blocked.has(parent) && (!grouped || (!this.groups.has(e.hlinkGroup!) && !this.leads?.has(e.hlinkGroup!)))) {
        const fd = fs.openSync(at, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW, 0o600);
        try {
          fs.ftruncateSync(fd, e.size);
        } finally {
          fs.closeSync(fd);
        }
        if (grouped) this.groups.set(e.hlinkGroup!, path);
        return undefined;
      }
      if (e.hlinkGroup !== undefined) {
        const first = this.groups.get(e.hlinkGroup);
        if (first !== undefined) {
          // (The paths here are Latin-1 strings of the names' bytes: a string would be written as UTF-8.)
          fs.linkSync(Buffer.from(first, 'latin1'), at);
          return undefined;
        }
        this.groups.set(e.hlinkGroup, path);
      }
      // -H: the group's data is asked for under the member rsync's generator takes (groupLead), judged
      // and rebuilt against that member's file in the destination; its staging path is linked to this
      // one's by the time the data comes.
      const lead = e.hlinkGroup !== undefined ? this.leads?.get(e.hlinkGroup) : undefined;
      let led = lead !== undefined && lead.ndx !== ndx;
      let le = led ? lead!.entry : e;
      let leRel = led ? le.name.toString('latin1') : rel;
      let present = this.dest.entry(leRel);
      let found = basisOf(present);
      let need: 'fetch' | 'placeholder' | 'same-bytes' | 'twin' = this.needsData(le, present, found, sum);
      if (led && need === 'placeholder') {
        const c = this.c;
        if (found && !c.ignoreExisting && !c.update && c.minSize === undefined && c.maxSize === undefined) {
          // Another member the destination has up to date: the staged inode takes its bytes (the local
          // run may copy the staged file to the members the destination lacks, and under -c sums them).
          // Under --append a lead whose file is not shorter is one the quick check found current:
          // groupLeads has left out those --append skips.
          need = 'same-bytes';
        } else {
          // Skipped by an option (rsync's handle_skipped_hlink makes another member the leader): judged
          // and fetched under the first, as a group the destination lacks.
          led = false;
          le = e;
          leRel = rel;
          present = this.dest.entry(rel);
          found = basisOf(present);
          need = this.needsData(e, present, found, sum);
        }
      }
      // --link-dest/--compare-dest/--copy-dest: a twin may make the fetch needless, or be its basis.
      const twin = need === 'fetch' && this.basisDirs && !this.c.dryRun ? this.basisDirs.choose(leRel, stagedStat(this.meta.get(path)!), present, this.c.checksum && e.sum ? { sum: e.sum, file: () => sum.file() } : undefined) : undefined;
      if (twin?.need === 'none') need = 'twin';
      const attrsOnInode = this.c.acls || this.c.xattrs;
      // Not staged at all: the twin stands for it, as the destination's file does for a placeholder
      // (below); only where the local run reads nothing of the staged file: not under -c (it sums it),
      // -A/-X (the sender's ACLs and xattrs go on the staged inode) or -H (its group is staged), nor
      // under id maps (the local run judges the twin by the mapped owner, which this judgement has not),
      // with nothing of another type in the destination's way, inside a staged directory. Else the
      // twin's bytes are copied into the staging tree (the sender's, by the quick check or -c's sums).
      const idMaps = this.c.usermap !== undefined || this.c.groupmap !== undefined;
      if (twin?.need === 'none' && !this.c.checksum && !attrsOnInode && !idMaps && e.hlinkGroup === undefined && (present === undefined || found) && (this.rootStaged || rel.includes('/'))) {
        const m = this.meta.get(path)!;
        m.virtual = true;
        m.twin = true;
        return undefined;
      }
      // Not staged at all: the destination's file stands for it (run/staged-source.ts). Only inside a
      // staged directory (an operand must exist), never for a hard-link group (its members are linked
      // to the staged first one), and not under -A/-X: the sender's ACLs and xattrs are put on the
      // staged inode, which the local run compares with the destination's.
      if (need === 'placeholder' && found && !this.c.dryRun && !attrsOnInode && e.hlinkGroup === undefined && (this.rootStaged || rel.includes('/'))) {
        this.meta.get(path)!.virtual = true;
        return undefined;
      }
      const create = fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW;
      // A file to fetch is created when its data arrives (one open instead of a create now and an open
      // then), unless something must find it on disk before: the other members of its hard-link group
      // (linked to it below) or the sender's ACLs and xattrs (put on the staged inode right after this).
      // A path too long to create fails here, as a per-file error, not in the middle of the transfer.
      // The basis when the destination has no file: the twin, else with -y a similar file (rsync's find_fuzzy).
      // Not under --append: its sender sends only what lies past the basis, trusting the basis to be the
      // file's start, which a twin or a similar file is not (rsync's receiver leaves that start zeroed,
      // docs/options.md --append); the file is fetched whole, as a local copy writes it.
      let delta = twin?.need === 'delta' && twin.twin.st.size > 0 && !this.c.append ? twinBasis(twin.twin) : undefined;
      if (need === 'fetch' && this.fuzzy && !this.c.dryRun) {
        if (found) this.fuzzy.replacing(leRel);
        else if (!twin && !this.c.append) delta = this.fuzzy.choose(leRel, e.size, e.mtime);
      }
      // --partial-dir: the partial file an earlier run left is the basis, before the destination's own
      // file or a basis directory's (rsync's generator, FNAMECMP_PARTIAL_DIR); an empty one, none.
      const waiting = need === 'fetch' && this.partialDir && !this.c.dryRun ? this.partialDir.basis(leRel) : undefined;
      if (waiting) delta = waiting.size > 0 ? waiting : undefined;
      const basisSize = !waiting && found && found.size > 0 ? found.size : 0;
      if (need === 'fetch' && !this.c.dryRun && e.hlinkGroup === undefined && !attrsOnInode && at.length < PATH_MAX) {
        return new StagedFetch(this, e, ndx, false, basisSize, delta);
      }
      const out = fs.openSync(at, create, 0o600);
      if (need === 'twin') {
        // A twin holds the sender's bytes: the staging copy must hold them too (the local run may read
        // or sum it). A twin no longer the file judged is fetched after all.
        let fd: number;
        try {
          fd = openTwin(twin!.twin);
        } catch {
          fs.closeSync(out);
          return new StagedFetch(this, le, led ? lead!.ndx : ndx, true, 0);
        }
        try {
          copyAll(fd, out, twin!.twin.st.size);
        } finally {
          fs.closeSync(fd);
        }
      } else if (need === 'same-bytes') {
        // -c found the same bytes: the staging copy must hold them too (the local run sums it again).
        const fd = this.openBasis(leRel);
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
        return new StagedFetch(this, le, led ? lead!.ndx : ndx, true, basisSize, delta);
      }
      fs.closeSync(out);
      return undefined;
    } catch (err) {
      this.error(`staging ${showPath(e.name)} failed: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** -X: the sender's list onto the staged entry (run/remote-xattrs.ts), against the destination's same entry. */
  xattrs(e: RemoteEntry, list: number, items: XattrItem[], staged: StagedXattrs, record = false): Omit<XattrAsk, 'ndx'> | undefined {
    const rel = e.name.toString('latin1');
    // An entry rsync's generator passes by is never named to the sender (nor so to a batch, whose reader
    // would set the xattrs where it names them), and the local run compares none of its xattrs.
    if (this.passedBy(e, rel)) return undefined;
    const at = Buffer.from(this.path(rel), 'latin1');
    try {
      fs.lstatSync(at);
    } catch {
      return undefined;
    }
    const dest = items.some(abbreviated) || record ? this.dest.openEntry(rel) : undefined;
    try {
      const ask = staged.entry(at, list, items, dest?.fd, this.error);
      // A batch being written (`record`): every entry whose xattrs change is named to the sender, as
      // rsync's generator names it, for the batch to hold (rsync's reader sets them only for those).
      if (ask || !record || isLink(e.mode) || !staged.differs(items, dest?.fd)) return ask;
      return { nums: [], got: () => undefined };
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
      this.discarded.add(rel);
      const path = this.path(rel);
      fs.rmSync(Buffer.from(path, 'latin1'), { force: true });
      this.meta.delete(path);
      const st = this.rootStaged || rel.includes('/') ? this.dest.lstat(rel) : undefined;
      if (isReg(m.mode)) {
        if (!st?.isFile()) this.uncounted.files++;
        this.uncounted.size += m.size - (st?.isFile() ? Number(st.size) : 0);
      }
      if (st?.isFile()) {
        const ns = st.mtimeNs;
        const nsec = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
        this.meta.set(path, { mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), size: Number(st.size), mtimeSec: Number((ns - nsec) / 1_000_000_000n), mtimeNsec: Number(nsec), virtual: true });
      }
    }
  }


  metaOf(e: RemoteEntry, list: { userNames: Map<number, Buffer>; groupNames: Map<number, Buffer> }): StagedMeta {
    const c = this.c;
    // A plain literal of one shape (a spread of the optional field made each a slower, larger object:
    // a no-op pull of the Linux tree made 83,000 of them twice, docs/benchmarks.md, session 42).
    const m: StagedMeta = {
      mode: e.mode,
      uid: c.owner ? this.mapId(this.uids, e.uid, list.userNames, users) : this.ownUid,
      gid: c.group ? this.mapId(this.gids, e.gid, list.groupNames, groups) : this.ownGid,
      // A symlink's length as sent (its lstat size there), listed with or without its target (-l): rsync's
      // receiver counts it in the total size either way. A directory's as sent too: `%l` prints it.
      size: isReg(e.mode) || isLink(e.mode) || isDir(e.mode) ? e.size : 0,
      mtimeSec: e.mtime,
      mtimeNsec: e.mtimeNsec,
    };
    // -U: the sender's access time, which the local run gives the destination's file.
    if (e.atime !== undefined) m.atimeSec = e.atime;
    return m;
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

  /** The --link-dest/--compare-dest/--copy-dest directories the stage weighs before it fetches (cli/pull-basis.ts). */
  useBasisDirs(dirs: PullBasisDirs): void {
    this.basisDirs = dirs;
  }
  private basisDirs: PullBasisDirs | undefined;

  /** --partial-dir: the partial files waiting there are the fetches' bases (cli/pull-partial.ts). */
  usePartialDir(pd: PullPartialDir): void {
    this.partialDir = pd;
  }
  private partialDir: PullPartialDir | undefined;

  /**
   * -H: each hard-link group's lead (groupLeads), where its data is asked for under another member than
   * the first, as rsync's generator asks (a batch written in a pull holds it there, and rsync's batch has
   * none for a group whose lead is up to date); added to part by part in an incremental list.
   */
  useGroupLeads(leads: Map<number, { entry: RemoteEntry; ndx: number }>): void {
    if (!this.leads) this.leads = leads;
    else for (const [g, l] of leads) if (!this.leads.has(g)) this.leads.set(g, l);
  }
  private leads: Map<number, { entry: RemoteEntry; ndx: number }> | undefined;

  /** -y: the fuzzy basis chooser for files the destination lacks (cli/pull-basis.ts). */
  useFuzzy(fuzzy: PullFuzzy): void {
    this.fuzzy = fuzzy;
  }
  private fuzzy: PullFuzzy | undefined;

  /** Closes what the stage holds open (the last destination directory looked into). */
  close(): void {
    this.dest.close();
    this.settler?.close();
    this.settler = undefined;
  }

  /**
   * -c: whether the destination's file at `e`'s name holds the sender's checksum of it (none sent:
   * no). The caller has seen a regular file of `e`'s size there.
   */
  sameSum(e: RemoteEntry, sum: { file(): { update(b: Buffer): void; digest(): Buffer } }): boolean {
    if (!e.sum) return false;
    let fd: number;
    try {
      fd = this.openBasis(e.name.toString('latin1'));
    } catch {
      // One we may not read (mode 000) differs: rsync's file_checksum gives it a zero sum, and fetches it.
      return false;
    }
    try {
      return digestFd(fd, sum.file()).equals(e.sum);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The destination's current file at `rel`, opened for reading (following no symlink: cli/pull-dest.ts). */
  openBasis(rel: string): number {
    return this.dest.openFile(rel);
  }

  /**
   * `e`'s file created in the staging tree (O_EXCL, no symlink followed) holding `parts`, in one call
   * of the addon (native/stagefile.c); undefined where the addon is not used (the node engine).
   */
  writeNewStaged(e: RemoteEntry): ((parts: Buffer[]) => void) | undefined {
    // A fresh pull that will likely be placed whole: the file takes its metadata as it is written
    // (cli/pull-place.ts earlySettler), and the settle at the end leaves it be.
    const settler = this.settler;
    if (settler) {
      const rel = e.name.toString('latin1');
      const m = this.meta.get(this.path(rel));
      if (m && settlesEarly(this.c, m.mode)) {
        return (parts) => {
          const rc = settler.writeNewSettled!(Buffer.from(rel, 'latin1'), parts, stagedStat(m));
          if (rc < 0) throw fsError(-rc, 'open', this.path(rel));
          m.settled = rc === 0;
        };
      }
    }
    if (this.writeNew === undefined) {
      const addon = this.c.engine === 'node' ? undefined : loadAddon();
      this.writeNew = addon?.ok && addon.addon.writeNew ? addon.addon.writeNew.bind(addon.addon) : null;
    }
    const write = this.writeNew;
    if (!write) return undefined;
    return (parts) => {
      const at = Buffer.from(this.path(e.name.toString('latin1')), 'latin1');
      const rc = write(at, parts);
      if (rc < 0) throw fsError(-rc, 'open', at.toString('latin1'));
    };
  }

  /** The addon's writeNew (null: the run keeps to node:fs, the node engine, or the addon lacks it); looked up at the first file. */
  private writeNew: ((path: Buffer, parts: Buffer[]) => number) | null | undefined;

  /**
   * The context that settles files as they are written (set by the pull where cli/pull-place.ts's
   * earlySettler gives one; closed with the stage).
   */
  settleAsWritten(ctx: EngineContext): void {
    this.settler = ctx;
  }
  private settler: EngineContext | undefined;

  /** `e`'s file in the staging tree, opened for writing (and reading); created (O_EXCL) unless `made`. */
  openStaged(e: RemoteEntry, made: boolean): number {
    const path = this.path(e.name.toString('latin1'));
    // Written again (a redo): its metadata is set again at the end.
    const m = made ? this.meta.get(path) : undefined;
    if (m) m.settled = false;
    const at = Buffer.from(path, 'latin1');
    const flags = made ? fs.constants.O_RDWR | O_NOFOLLOW : fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW;
    return fs.openSync(at, flags, 0o600);
  }

  /**
   * Whether rsync's generator passes `e` by without itemizing it (so without asking for its xattrs):
   * whatever lies below a blocked directory, except its own subdirectories, itemized as new before their
   * mkdir fails; --existing's missing name and all below it; --ignore-existing's entry the destination
   * has (a directory only where a non-directory stands: blocks). Called once `e` is staged.
   */
  private passedBy(e: RemoteEntry, rel: string): boolean {
    if (rel === '.' || (!this.c.existing && !this.c.ignoreExisting)) return false;
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? '.' : rel.slice(0, slash);
    if (this.blocked.has(parent)) return !(isDir(e.mode) && this.blocking.has(parent));
    // (Below a blocked directory the stat fails with ENOTDIR, which --existing does not take for missing.)
    const present = this.dest.entry(rel);
    if (!present && this.c.existing) return true;
    return isDir(e.mode) ? this.blocked.has(rel) : leftAlone(present, this.c) !== undefined;
  }

  /**
   * Whether the local run will fail every entry below the listed directory `rel` (run/dirs.ts dirFrame,
   * run/transfer-pass.ts blockedDir): its parent is such a directory, or the destination's entry at its
   * name blocks it (blocks).
   */
  private blockedDir(rel: string, parent: string): boolean {
    return this.blocked.has(parent) || blocks(this.c, this.dest, rel, this.dest.entry(rel));
  }

  /**
   * Whether the file's data must come over the wire. A placeholder only where the local run will
   * certainly not copy (the same tests its planner makes, never looser); in doubt, fetch.
   */
  private needsData(e: RemoteEntry, present: Stat | undefined, basis: Basis | undefined, sum: { file(): { update(b: Buffer): void; digest(): Buffer } }): 'fetch' | 'placeholder' | 'same-bytes' {
    const c = this.c;
    // A directory in its way that the local run may not remove (not empty, no --delete or --force):
    // the file is not made ("cannot delete non-empty directory"), so, as rsync's generator, nothing is
    // asked for it (run/deletions.ts canMakeWay has the rule).
    if (present && isDir(present.mode) && !replacesFullDirs(c) && (this.dest.names(e.name.toString('latin1'))?.length ?? 0) > 0) return 'placeholder';
    // --max-size/--min-size: rsync's generator skips the file whatever the destination holds, before
    // -u, -I or any basis (a file the destination lacks was fetched whole, then left unplaced).
    if ((c.minSize !== undefined && e.size < c.minSize) || (c.maxSize !== undefined && e.size > c.maxSize)) return 'placeholder';
    // --existing leaves out only a name where nothing stands: another kind of entry there is replaced.
    if (!basis) return leftAlone(present, c) === 'missing' ? 'placeholder' : 'fetch';
    if (c.ignoreExisting) return 'placeholder';
    // --append: a destination file as long as the source's or longer is left as it is (rsync's
    // generator asks nothing for it; the local run's planner skips it too).
    if (c.append && basis.size >= e.size) return 'placeholder';
    const st = basis;
    const mtimeNs = BigInt(e.mtime) * 1_000_000_000n + BigInt(e.mtimeNsec);
    if (c.update && newerOnReceiver(e.mtime, st.mtimeSec, c.modifyWindow)) return 'placeholder';
    // -I: every file goes, unless -c or --size-only decides first (rsync's quick_check_ok).
    if (c.ignoreTimes && !c.checksum && !c.sizeOnly) return 'fetch';
    if (c.checksum) return basis.size === e.size && this.sameSum(e, sum) ? 'same-bytes' : 'fetch';
    if (basis.size !== e.size) return 'fetch';
    if (c.sizeOnly || st.mtimeNs === mtimeNs) return 'placeholder';
    // The local run's own time rule (--modify-window, the destination's resolution, whole seconds
    // before protocol 31, whose list carries none): a file it finds up to date is not placed, so
    // fetching it would be a transfer for nothing.
    const there = { mtimeSec: Number(st.mtimeNs / 1_000_000_000n), mtimeNsec: Number(st.mtimeNs % 1_000_000_000n) };
    if (sameTime({ mtimeSec: e.mtime, mtimeNsec: e.mtimeNsec }, there, { modifyWindow: listWindow(c.protocol, c.modifyWindow), timeResolutionNs: this.timeResolutionNs() })) return 'placeholder';
    return 'fetch';
  }
}

/** What the stage asks of the destination to judge a blocked directory (cli/pull-dest.ts). */
type DestLook = Pick<PullDest, 'entry' | 'leadsToDir'>;

/**
 * Whether the destination's entry `present`, at the name `rel` of a listed directory, keeps the local run
 * from making anything below it: --ignore-existing leaves a non-directory there. Under -K a symlink that
 * leads to a directory counts as that directory, as in the local run (run/dirs.ts keptDirlink) and
 * rsync's generator (it stats through it); one leading to anything else, or nowhere, blocks as a file.
 */
function blocks(c: Config, dest: DestLook, rel: string, present: Stat | undefined): boolean {
  if (!c.ignoreExisting || !present || isDir(present.mode)) return false;
  return !(c.keepDirlinks && isLink(present.mode) && dest.leadsToDir(rel));
}

/**
 * Whether `rel` lies below a listed directory the destination's entry blocks (blocks), judged from the
 * top; `memo` keeps the answer for each directory asked about (a group's members often share one).
 */
function belowBlocked(c: Config, dest: DestLook, rel: string, memo: Map<string, boolean>): boolean {
  if (!c.ignoreExisting) return false;
  const parent = rel.slice(0, Math.max(rel.lastIndexOf('/'), 0));
  let known = memo.get(parent);
  if (known === undefined) memo.set(parent, (known = blockedAbove(c, dest, rel)));
  return known;
}

/** belowBlocked's walk: each directory above `rel`, from the top, until one is missing or blocks. */
function blockedAbove(c: Config, dest: DestLook, rel: string): boolean {
  for (let slash = rel.indexOf('/'); slash >= 0; slash = rel.indexOf('/', slash + 1)) {
    const dir = rel.slice(0, slash);
    const present = dest.entry(dir);
    // Missing: made by the run, so nothing below it is in the way.
    if (!present) return false;
    if (blocks(c, dest, dir, present)) return true;
    // -K: a symlink kept as the directory it leads to; what lies below is not judged through it (in
    // doubt, the member may lead).
    if (isLink(present.mode)) return false;
  }
  return false;
}

/** The destination's regular file a fetch may take as its basis: its size and time. */
interface Basis {
  size: number;
  mtimeSec: number;
  mtimeNs: bigint;
}

/** `st` (the destination's entry, from its directory's listing or an lstat) as a basis, if a regular file. */
function basisOf(st: Stat | undefined): Basis | undefined {
  return st && (st.mode & 0o170000) === 0o100000 ? { size: st.size, mtimeSec: st.mtimeSec, mtimeNs: BigInt(st.mtimeSec) * 1_000_000_000n + BigInt(st.mtimeNsec) } : undefined;
}

/**
 * A file to fetch into the staging tree. Its staging path and its basis are worked out from the entry
 * when its turn comes, not held: a fresh pull holds one of these per file through the whole transfer
 * (78,579 for the Linux tree), and a closure, its contexts and a path Buffer per file were ~30 MB of
 * the heap that the collector went over again and again (docs/benchmarks.md, "pull, session 22").
 */
export class StagedFetch implements Fetch {
  readonly size: number;
  basis?: StagedBasis | OtherBasis;
  basisType?: number;
  basisName?: Buffer;
  constructor(
    private readonly stage: Stage,
    readonly entry: RemoteEntry,
    readonly ndx: number,
    /** The staging file exists: created when staged, or by an earlier openOut. */
    private made: boolean,
    basisSize: number,
    /** Another file to rebuild against (the destination has none): a basis directory's or --fuzzy's (cli/pull-basis.ts). */
    other?: OtherBasis,
  ) {
    this.size = entry.size;
    if (basisSize > 0) this.basis = new StagedBasis(stage, entry, basisSize);
    else if (other) {
      this.basis = other;
      this.basisType = other.type;
      if (other.name) this.basisName = other.name;
    }
  }

  writeNew(): ((parts: Buffer[]) => void) | undefined {
    if (this.made) return undefined;
    const write = this.stage.writeNewStaged(this.entry);
    if (!write) return undefined;
    return (parts) => {
      write(parts);
      this.made = true;
    };
  }

  openOut(): { fd: number; empty: boolean } {
    // Created when its data arrives (one open, O_EXCL), unless staged already; a redo opens it again.
    const fd = this.stage.openStaged(this.entry, this.made);
    const empty = !this.made;
    this.made = true;
    return { fd, empty };
  }
}

/** The destination's current file a fetch is rebuilt against, opened again each time it is used. */
class StagedBasis {
  constructor(
    private readonly stage: Stage,
    private readonly entry: RemoteEntry,
    readonly size: number,
  ) {}

  open(): number {
    return this.stage.openBasis(this.entry.name.toString('latin1'));
  }
}

/** A basis directory's file a fetch is rebuilt against, opened again each time it is used (only read). */
function twinBasis(twin: FileTwin): OtherBasis {
  return { size: twin.st.size, type: twin.index, open: () => openTwin(twin) };
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

/**
 * -H: the member of each hard-link group under which rsync's generator asks for the group's data (its
 * hard_link_check and the deferral of a missing member that is not its group's last): the first, in
 * the list's order, that the destination has, else the last, of the members it does not skip (a member
 * skipped by --ignore-existing, --existing, -u or --append leaves its group, and the next takes its
 * place: handle_skipped_hlink). Only the groups whose lead is not their first member are in the map
 * (indexes counted from `start`, a part's first in an incremental list). `sameSum` answers -c's question
 * for a destination file as long as the sender's (Stage.sameSum).
 */
export function groupLeads(
  entries: readonly (RemoteEntry | undefined)[],
  c: Config,
  dest: DestLook,
  start: number,
  sameSum: (e: RemoteEntry) => boolean,
): Map<number, { entry: RemoteEntry; ndx: number }> {
  const members = new Map<number, number[]>();
  entries.forEach((e, ndx) => {
    if (e?.hlinkGroup === undefined || !isReg(e.mode)) return;
    let m = members.get(e.hlinkGroup);
    if (!m) members.set(e.hlinkGroup, (m = []));
    m.push(ndx);
  });
  const leads = new Map<number, { entry: RemoteEntry; ndx: number }>();
  const blockedMemo = new Map<string, boolean>();
  for (const [group, ndxs] of members) {
    const present = new Map(ndxs.map((n) => [n, dest.entry(entries[n]!.name.toString('latin1'))]));
    // A member below a directory a non-directory blocks (belowBlocked) fails its stat in rsync's
    // generator and never leads: the data comes under a member elsewhere, or not at all.
    const left = ndxs.filter((n) => !skippedMember(c, entries[n]!, present.get(n), sameSum) && !belowBlocked(c, dest, entries[n]!.name.toString('latin1'), blockedMemo));
    if (!left.length) continue;
    const ndx = left.find((n) => present.get(n) !== undefined) ?? left[left.length - 1]!;
    if (ndx !== ndxs[0]) leads.set(group, { entry: entries[ndx]!, ndx: start + ndx });
  }
  return leads;
}

/** rsync's generator skips this regular file by an option before any hard-link check or transfer. */
function skippedMember(c: Config, e: RemoteEntry, present: Stat | undefined, sameSum: (e: RemoteEntry) => boolean): boolean {
  if (leftAlone(present, c)) return true;
  if (present === undefined || !isReg(present.mode)) return false;
  if (c.update && newerOnReceiver(e.mtime, present.mtimeSec, c.modifyWindow)) return true;
  // --append: a changed file the destination holds at least as long is left alone (plan/append.ts); one
  // as long that rsync's quick check finds current (quick_check_ok: -c's sums first, then --size-only,
  // then -I, which finds nothing current, then the time) leads with nothing to send.
  if (!c.append || present.size < e.size) return false;
  if (present.size > e.size) return true;
  if (c.checksum) {
    // A file it cannot read sums to nothing in rsync's file_checksum: not current, skipped.
    try {
      return !sameSum(e);
    } catch {
      return true;
    }
  }
  if (c.sizeOnly) return false;
  if (c.ignoreTimes) return true;
  return !sameTime({ mtimeSec: e.mtime, mtimeNsec: e.mtimeNsec }, present, { modifyWindow: listWindow(c.protocol, c.modifyWindow), timeResolutionNs: 1 });
}
