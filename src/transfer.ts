// One run, from resolved operands to totals. The main thread walks the source depth-first and, for each
// directory, lists the same directory on the destination (one native getdents64+statx pass each), so
// every decision is made from two in-memory listings: rsync's quick check, filters, deletions and what
// to print. Only the work that is needed becomes ops: directories are made at once (everything inside
// needs them), files are streamed to the workers in batches (a bounded number in flight, so memory does
// not grow with the tree), hard links follow once every file is in place, and directory metadata comes
// last, deepest first, so writing into a directory never leaves its mtime wrong.

import { lstatSync, unlinkSync, mkdirSync, openSync, readSync, closeSync, constants as FS } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { type Config, preserveFlags } from './model/config.js';
import { BatchWriter, readBatch } from './engine/batch.js';
import { isFailure, type SysFailure as NativeFailure } from './model/failure.js';
import { lstatPath, openContext, openSourcePair, readlinkPath, scanDir, statPath, type EngineSelection } from './engine/index.js';
import { PAIR_CHUNK, PairBits, PairStream } from './engine/pair.js';
import type { PairEntry, PairListing, DirListing } from './model/listing.js';
import { COUNTER_SLOTS, Counter, OpFlag, OpKind, Outcome, Preserve } from './model/ops.js';
import { S_IFDIR, S_IFLNK, S_IFMT, type Stat, fileType, type FileType } from './model/stat.js';
import type { EngineContext, EngineOptions, OpFailure } from './engine/types.js';
import { decide } from './plan/decide.js';
import { attrChanges, itemize, quickCheck, sameTime, type CheckOptions, type Changes, type Verdict } from './plan/quickcheck.js';
import { applyChmod } from './plan/chmod.js';
import { BackupPlan } from './plan/backup.js';
import { unsafeSymlink } from './plan/safelinks.js';
import { DeleteGate } from './plan/delete-gate.js';
import { DeleteList } from './plan/deletelist.js';
import type { FilterList } from './plan/filter.js';
import type { FilterScope } from './plan/filter-scope.js';
import type { Plan, Root } from './plan/sources.js';
import { Overlay, roleOf, type Role } from './plan/overlay.js';
import { Dispatcher } from './pool/dispatcher.js';
import { ERRNO, attrRefusedMessage, fsError, showPath } from './util/errors.js';
import { dirName, joinPath } from './util/names.js';
import { makePath } from './util/mkpath.js';
import type { Reporter } from './progress/reporter.js';
import { Output } from './progress/output.js';
import { AltDests, type Fallback, type Twin } from './alt-dest.js';
import type { LineInfo } from './progress/format.js';
import { SourceAnchors } from './plan/anchors.js';
import { atSourcePath } from './engine/node-beneath.js';

/** Flush a batch at this many ops or this many bytes of file data. */
const BATCH_OPS = 256;
const BATCH_BYTES = 16 * 1024 * 1024;

type Counts = Record<FileType, number>;
const zero = (): Counts => ({ reg: 0, dir: 0, link: 0, dev: 0, special: 0 });

export interface ErrorRecord {
  path: string;
  message: string;
  code?: string;
}

export interface RunTotals {
  /** Entries in the file list by type (rsync's "Number of files"). */
  listed: Counts;
  created: Counts;
  deleted: Counts;
  /** Sum of regular file sizes and symlink lengths (rsync's "Total file size"). */
  totalSize: number;
  /** Bytes of regular files sent to the engines (or that would be, under -n). */
  plannedBytes: number;
  /** Regular files sent to the engines (or that would be, under -n). */
  plannedFiles: number;
  ioErrors: number;
  vanished: number;
  /** Deletions not done because --max-delete was reached. */
  deleteSkipped: number;
  aborted: boolean;
  fileListMs: number;
  counters: BigInt64Array;
  threads: number;
  errors: ErrorRecord[];
}

interface DirRecord {
  src: Buffer;
  rel: Buffer;
  stat: Stat;
  /** Set DirMeta at the end: new, attributes differ, or its entries changed (its mtime moved). */
  needMeta: boolean;
  /** -K: the destination is a symlink to a directory; rsync stamps the directory's times on the link. */
  keptLink?: boolean;
}

interface Frame {
  src: Buffer;
  rel: Buffer;
  stat: Stat;
  /** The destination directory existed before this run (so it is worth listing). */
  destExists: boolean;
  sender: FilterScope | undefined;
  receiver: FilterScope | undefined;
  record: DirRecord | undefined;
  /** The line for the directory itself, printed once its deletions are known (rsync's order). */
  pending: { verdict: Verdict; line: Omit<LineInfo, 'itemize'>; local?: boolean } | undefined;
  /** --ignore-existing kept a non-directory where this directory would go: its entries all fail. */
  blocked?: boolean;
  /** Several sources: an earlier root's directory stands here; only this root's entries are walked. */
  merged?: boolean;
  /** --files-from "dir/": its subdirectories are made but not entered. */
  oneLevel?: boolean;
  /** Found dirty by scanTree: walk its entries, but not its existing subdirectories (scanned already). */
  treeMode?: boolean;
  /** Its paired listing, when scanTree already made it. */
  pair?: PairListing;
}

/** One non-directory entry on its way to a decision. */
interface Member {
  src: Buffer;
  rel: Buffer;
  st: Stat;
  destSt: Stat | undefined;
  /** The parent directory's record, whose mtime must be restored when this entry changes. */
  record: DirRecord | undefined;
  flags: number;
  /** The name printed, when it is not rel (a single file copied to a new name prints the source's). */
  display: Buffer | undefined;
  /** A symlink's target as read once and judged (--safe-links, --copy-unsafe-links): the one written. */
  target?: Buffer;
}

/** A source entry that is in the transfer, with its destination twin. */
interface Kept {
  name: Buffer;
  src: Buffer;
  rel: Buffer;
  st: Stat;
  dest: Stat | undefined;
  /** Several sources: a directory another root also has, merged into (plan/overlay.ts). */
  merged?: boolean;
}

const isDirEntry = (e: PairEntry): boolean => e.st !== null && (e.st.mode & S_IFMT) === S_IFDIR;
const isDirKept = (k: Kept): boolean => (k.st.mode & S_IFMT) === S_IFDIR;

const anyChange = (c: Changes): boolean => c.value || c.size || c.time || c.perms || c.owner || c.group || c.acl || c.xattr;

interface Pending {
  kind: FileType;
  verdict: Verdict;
  line: Omit<LineInfo, 'itemize'>;
  /** The parent directory, whose mtime needs restoring if the engine did copy. */
  record?: DirRecord | undefined;
  size: number;
  /** --progress: print rsync's per-file line when it is done. */
  progress?: boolean;
  /** An op reading a basis file: what to do instead if that file changed under it. */
  fallback?: Fallback;
}

export interface TransferInput {
  config: Config;
  plan: Plan;
  engine: EngineSelection;
  reporter: Reporter;
  filters: FilterList | undefined;
  abort: { aborted: boolean; onAbort?: () => void };
  /** Errors reported before the run (missing source operands): they block deletion like any I/O error. */
  priorErrors?: number;
}

/**
 * The query for scanPair. Unchanged files are left to the native quick check only when nothing needs
 * to see each entry: no filters, no -c/-I/--size-only, no -ii, no --chmod, no -X/-A (their attributes
 * are compared here), no --remove-source-files.
 */
function pairQuery(c: Config, check: CheckOptions, filters: boolean): Float64Array {
  const collapse = !filters && !c.checksum && !c.ignoreTimes && !c.sizeOnly && c.itemize < 2 && !c.chmod.length &&
    !c.xattrs && !c.acls && !c.removeSourceFiles;
  let bits = collapse ? PairBits.Collapse : 0;
  if (c.perms) bits |= PairBits.Perms;
  if (c.owner && check.isRoot) bits |= PairBits.Owner;
  if (c.group) bits |= PairBits.Group;
  if (c.times) bits |= PairBits.Times;
  if (c.hardLinks) bits |= PairBits.HardLinks;
  if (!c.copyLinks && !c.safeLinks && !c.copyUnsafeLinks) bits |= PairBits.Links;
  return Float64Array.of(bits, c.modifyWindow > 0 ? c.modifyWindow : 0, check.timeResolutionNs);
}

/**
 * The query for scanTree: as scanPair's when unchanged entries may be left out, plus directory times,
 * and only when no option needs to see every directory in order (--delete-before/-after, -x, -L,
 * --copy-unsafe-links, -K, --files-from).
 */
function treeQuery(c: Config, pair: Float64Array): Float64Array | undefined {
  const bits = pair[0]!;
  if (!(bits & PairBits.Collapse) || !c.recursive) return undefined;
  if (c.deleteMode === 'before' || c.deleteMode === 'after' || c.oneFileSystem || c.copyLinks || c.copyUnsafeLinks || c.keepDirlinks || c.filesFrom !== undefined) return undefined;
  const dirTimes = c.times && !c.omitDirTimes ? 128 : 0;
  // A dirty directory's listing comes back whole only when it fits in one chunk of the walk's cursor.
  return Float64Array.of(bits | dirTimes, pair[1]!, pair[2]!, Math.max(1, Math.min(c.workers, 8)), PAIR_CHUNK);
}

/** Deletions are run in batches of this many ops, so deleting a wide directory holds no huge batch. */
const DELETE_BATCH = 4096;

const isFdShortage = (errno: number): boolean => errno === ERRNO.EMFILE || errno === ERRNO.ENFILE;

const NO_LINE: Omit<LineInfo, 'itemize'> = { name: '', fullName: '', suffix: '', size: 0, bytes: 0, mode: 0, uid: 0, gid: 0, mtimeSec: 0, op: 'recv' };

const NO_CHANGES: Changes = { value: false, size: false, time: false, perms: false, owner: false, group: false, acl: false, xattr: false };

export async function transfer(input: TransferInput): Promise<RunTotals> {
  return new Run(input).go();
}

class Run {
  private readonly c: Config;
  private readonly plan: Plan;
  private readonly reporter: Reporter;
  private readonly out: Output;
  private readonly counters = new BigInt64Array(new SharedArrayBuffer(COUNTER_SLOTS * 8));
  readonly totals: RunTotals;
  private readonly check: CheckOptions;
  /** Directories compare times only when they are kept (-O, or --backup without --backup-dir). */
  private readonly dirCheck: CheckOptions;
  private readonly pairQuery: Float64Array;
  private readonly xattrFlags: number;
  /** scanTree's query, or undefined when some option needs the walk to see every directory. */
  private readonly treeQuery: Float64Array | undefined;
  private readonly engineOptions: EngineOptions;
  private ctx: EngineContext | undefined;
  private dispatcher: Dispatcher | undefined;
  private batch = new BatchWriter();
  private batchBytes = 0;
  /** Lines for ops whose outcome decides what is printed (-c compares, --progress). */
  private batchPending = new Map<number, Pending>();
  private readonly hardLinks: boolean;
  private readonly deferredLinks = new BatchWriter(4096);
  private readonly dirs: DirRecord[] = [];
  private readonly groups = new Map<string, Member[]>();
  private readonly impliedDone = new Set<string>();
  /** Where each source path's operator part ends (what engines may follow) and the walk's part begins. */
  private readonly anchors = new SourceAnchors();
  private readonly fdRetry = new BatchWriter(1024);
  private transferredSoFar = 0;
  private readonly started = performance.now();
  private readonly deleteGate: DeleteGate;
  /** --delete-before's first pass: list the whole source for errors, delete nothing. */
  private probing = false;
  /** The source operand being walked (deletion must not remove what another operand provides). */
  private currentRoot: Root | undefined;
  private rootDev = 0;
  private readonly alt: AltDests;
  private readonly backups: BackupPlan;
  /** this.add as a plain function (what BackupPlan appends with). */
  private readonly addOp = (kind: OpKind, src: Buffer, rel: Buffer, st: Stat, flags: number): void => this.add(kind, src, rel, st, flags);
  /** Several sources on the same destination paths (plan/overlay.ts), and the root being walked. */
  private readonly overlay: Overlay | undefined;
  private rootIndex = 0;
  private readonly dirRecords = new Map<string, DirRecord>();
  /** --link-dest links in flight by their alternate path, and those the filesystem refused. */

  constructor(private readonly input: TransferInput) {
    const c = (this.c = input.config);
    this.plan = input.plan;
    this.reporter = input.reporter;
    this.out = new Output(c, input.reporter);
    this.totals = {
      listed: zero(),
      created: zero(),
      deleted: zero(),
      totalSize: 0,
      plannedBytes: 0,
      plannedFiles: 0,
      ioErrors: 0,
      vanished: 0,
      deleteSkipped: 0,
      aborted: false,
      fileListMs: 0,
      counters: this.counters,
      threads: 0,
      errors: [],
    };
    this.check = {
      checksum: c.checksum,
      ignoreTimes: c.ignoreTimes,
      sizeOnly: c.sizeOnly,
      update: c.update,
      ignoreExisting: c.ignoreExisting,
      existing: c.existing,
      modifyWindow: c.modifyWindow,
      // The node engine sets mtimes through a double: compare to the microsecond it can keep.
      timeResolutionNs: input.engine.name === 'node' ? 1000 : 1,
      times: c.times,
      perms: c.perms,
      owner: c.owner,
      group: c.group,
      isRoot: process.geteuid?.() === 0,
    };
    this.dirCheck = { ...this.check, times: c.times && !c.omitDirTimes };
    const engine = input.engine.name;
    this.overlay = Overlay.of(this.plan.roots, c.recursive, (p) => scanDir(engine, p), (p) => lstatPath(engine, p));
    // Merging needs every entry of every root: nothing is left to the native quick check.
    this.pairQuery = pairQuery(c, this.check, input.filters !== undefined || this.overlay !== undefined);
    this.xattrFlags = (c.xattrs ? Preserve.Xattrs : 0) | (c.acls ? Preserve.Acls : 0);
    this.treeQuery = treeQuery(c, this.pairQuery);
    this.backups = new BackupPlan(c, this.plan.destRoot, (rel, st) => this.unsafeToBackUp(rel, st));
    this.deleteGate = new DeleteGate(c.ignoreErrors, (l) => input.reporter.info(l), input.priorErrors ?? 0);
    this.engineOptions = {
      engine: input.engine.name,
      destRoot: this.plan.destRoot,
      ...(this.backups.dir ? { backupDir: this.backups.dir } : {}),
      flags: preserveFlags(c),
      umask: process.umask(),
      queueDepth: c.queueDepth,
      bufferSize: c.bufferSize,
      bufferCount: c.bufferCount,
      direct: c.direct,
      counters: this.counters,
    };
    this.hardLinks = c.hardLinks;
    this.alt = new AltDests(input.engine.name, this.check);
    input.abort.onAbort = () => Atomics.store(this.counters, Counter.Abort, 1n);
  }

  private get aborted(): boolean {
    return this.input.abort.aborted;
  }

  async go(): Promise<RunTotals> {
    const c = this.c;
    const started = performance.now();
    if (this.plan.createDest) this.makeDestRoot();
    this.alt.resolve(c, this.plan.destRoot, (m) => this.reporter.error(m));
    if (!c.dryRun || this.destRootExists()) this.ctx = openContext(this.engineOptions);
    if (!c.dryRun && this.ctx) {
      const ctx = this.ctx;
      this.dispatcher = new Dispatcher({
        engineOptions: this.engineOptions,
        workers: c.workers,
        inline: ctx,
        onFailures: (fs) => fs.forEach((f) => this.fail(f)),
        onOutcomes: (batchId, outcomes) => this.settle(batchId, outcomes),
        // The sync engine has one file open at a time: what the EMFILE retries need.
        serial: () => openContext({ ...this.engineOptions, engine: this.engineOptions.engine === 'uring' ? 'sync' : this.engineOptions.engine }),
      });
    }
    if (c.progress && !c.dryRun) await this.reporter.start(this.counters, () => this.totals);
    try {
      if (c.deleteMode === 'before') {
        // rsync reads the whole file list before deleting anything: an error anywhere in it must stop
        // every deletion, so the source is listed once for errors first.
        this.probing = true;
        for (const root of this.plan.roots) if (!this.aborted) await this.walkRoot(root, 'delete');
        this.probing = false;
        if (this.deleteGate.allows(this.totals.ioErrors)) {
          for (const root of this.plan.roots) if (!this.aborted) await this.walkRoot(root, 'delete');
        }
      }
      for (const root of this.plan.roots) {
        if (this.aborted) break;
        await this.walkRoot(root, 'transfer');
      }
      await this.finishHardLinks();
      await this.flush();
      await this.dispatcher?.drain();
      await this.retryFdShortage();
      // Copies from the source for basis files that changed under their ops (queued by settle()).
      if (this.batch.count) {
        await this.flush();
        await this.dispatcher?.drain();
      }
      this.alt.leftovers().forEach((f) => this.fail(f));
      this.totals.fileListMs = performance.now() - started;
      if (c.deleteMode === 'after' && !this.aborted) {
        for (const root of this.plan.roots) if (!this.aborted) await this.walkRoot(root, 'delete');
      }
      if (!this.aborted && !c.dryRun) {
        await this.retryFdShortage();
        this.runNow(this.deferredLinks);
        const meta = new BatchWriter();
        for (let i = this.dirs.length - 1; i >= 0; i--) {
          const d = this.dirs[i]!;
          if (!d.needMeta) continue;
          // -K: rsync sets the directory's attributes on the symlink itself, not on its target.
          const anchor = this.anchors.of(d.src);
          if (d.keptLink) meta.add(OpKind.Attrs, d.src, d.rel, { ...d.stat, mode: S_IFLNK | (d.stat.mode & 0o7777) }, 0, anchor);
          else meta.add(OpKind.DirMeta, d.src, d.rel, d.stat, 0, anchor);
        }
        this.runNow(meta);
        await this.retryFdShortage();
      }
    } finally {
      this.totals.threads = this.dispatcher?.threadsUsed ?? 0;
      await this.dispatcher?.close();
      this.ctx?.close();
      this.reporter.stop();
    }
    this.totals.aborted = this.aborted;
    return this.totals;
  }

  // ---- destination root -------------------------------------------------------------------------

  private destRootExists(): boolean {
    const st = lstatPath(this.input.engine.name, this.plan.destRoot);
    return !isFailure(st);
  }

  private makeDestRoot(): void {
    const path = this.plan.destRoot;
    if (this.destRootExists()) return;
    let made = 1;
    if (this.c.mkpath) {
      made = 0;
      for (let p = path; p.length > 1 && isFailure(lstatPath(this.input.engine.name, p)); p = dirName(p)) made++;
    }
    if (!this.c.dryRun) {
      try {
        if (this.c.mkpath) makePath(path);
        else mkdirSync(path);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        // rsync names the destination as the user wrote it: mkdir "/proc/x/y/" failed: ...
        const fail = fsError(-(e.errno ?? -ERRNO.EIO), 'mkdir', e.path ?? showPath(path));
        fail.message = `mkdir "${showPath(this.c.dest)}" failed: ${fail.message}`;
        throw fail;
      }
    }
    if (!this.c.json && (this.c.verbose > 0 || this.c.itemize > 0 || this.c.progressFiles)) {
      // Named as the user wrote it: the operand, or its directory when a file gets a new name.
      let shown = this.plan.renamed ? dirName(this.c.dest) : this.c.dest;
      while (shown.length > 1 && shown[shown.length - 1] === 0x2f) shown = shown.subarray(0, shown.length - 1);
      if (this.c.mkpath) this.reporter.print(`created ${made} director${made === 1 ? 'y' : 'ies'} for ${showPath(shown)}`);
      else this.reporter.print(`created directory ${showPath(shown)}`);
    }
  }

  // ---- failures -----------------------------------------------------------------------------------

  private fail(f: OpFailure): void {
    if (this.alt.park(f)) return;
    const vanished = !f.onDest && (f.errno === ERRNO.ENOENT || f.errno === ERRNO.ESTALE);
    // Destination paths are relative, except a backup name, which is absolute (it may lie outside).
    const where = (p: Buffer): string => showPath(f.onDest && p[0] !== 0x2f ? joinPath(this.plan.destRoot, p) : p);
    if (vanished) {
      this.totals.vanished++;
      const message =
        f.errno === ERRNO.ESTALE
          ? `file has changed during the run, not copied: "${where(f.path)}"`
          : `file has vanished: "${where(f.path)}"`;
      this.totals.errors.push({ path: where(f.path), message, code: f.errno === ERRNO.ESTALE ? 'ESTALE' : 'ENOENT' });
      this.reporter.error(message);
      return;
    }
    this.totals.ioErrors++;
    const e = fsError(f.errno, f.syscall, where(f.path), f.dest ? where(f.dest) : undefined);
    const message = f.attr ? attrRefusedMessage(f.errno, f.syscall, where(f.path), f.attr) : e.message;
    this.totals.errors.push({ path: where(f.path), message, code: e.code });
    this.reporter.error(message);
  }

  private ioError(path: Buffer, errno: number, syscall: string, what?: string): void {
    this.totals.ioErrors++;
    const e = fsError(errno, syscall, showPath(path));
    const message = what ? `${what}: ${e.message}` : e.message;
    this.totals.errors.push({ path: showPath(path), message, code: e.code });
    this.reporter.error(message);
  }

  // ---- batches ------------------------------------------------------------------------------------

  private add(kind: OpKind, src: Buffer, rel: Buffer, st: Stat, flags = 0, pendingIn?: Pending, target?: Buffer): void {
    const index = this.batch.add(kind, src, rel, st, flags, this.anchors.of(src), target);
    let pending = pendingIn;
    if (this.c.progressFiles && kind === OpKind.File) {
      pending = pending ? { ...pending, progress: true } : { kind: 'reg', verdict: { action: 'create' }, line: NO_LINE, size: st.size, progress: true };
    }
    if (pending) this.batchPending.set(index, pending);
    if (kind === OpKind.File) this.batchBytes += st.size;
  }

  private async maybeFlush(): Promise<void> {
    if (this.batch.count >= BATCH_OPS || this.batchBytes >= BATCH_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.batch.count === 0) return;
    const count = this.batch.count;
    const encoded = this.batch.finish();
    const pending = this.batchPending;
    this.batchPending = new Map();
    this.batchBytes = 0;
    if (!this.dispatcher) return;
    await this.dispatcher.submit(encoded, count, pending.size ? pending : undefined);
  }

  /** Print what only the outcome could tell: -c found equal content, or the op failed. */
  private settle(pending: unknown, outcomes: Uint8Array): void {
    const map = pending as Map<number, Pending>;
    for (const [i, p] of map) {
      const o = outcomes[i];
      const fb = p.fallback;
      // The fallback's backup was made with the basis op (a failed backup is never parked): no gate again.
      if (o === Outcome.Failed && fb && this.alt.unpark(fb.basis)) this.add(fb.op, fb.src, fb.rel, fb.st, fb.flags & ~OpFlag.AfterBackup);
      if (o === Outcome.Failed || o === Outcome.NotRun) continue;
      if (p.progress && o === Outcome.Done) {
        // to-chk as rsync counts it: files still to send, out of every entry listed so far.
        this.transferredSoFar++;
        const l = this.totals.listed;
        const listed = l.reg + l.dir + l.link + l.dev + l.special;
        const left = Math.max(0, this.totals.plannedFiles - this.transferredSoFar);
        this.out.progress(p.size, performance.now() - this.started, Number(Atomics.load(this.counters, Counter.Bytes)), this.transferredSoFar, left, listed);
      }
      if (p.verdict.action === 'compare') {
        const changes = p.verdict.changes;
        const v: Verdict = o === Outcome.Equal ? { action: 'attrs', changes } : { action: 'transfer', changes: { ...changes, value: true } };
        this.emit(p.kind, v, p.line);
        if (o === Outcome.Done) {
          this.totals.plannedFiles++;
          this.totals.plannedBytes += p.size;
          if (p.record) p.record.needMeta = true;
        }
      }
    }
  }

  /** Ops that must happen before the walk goes on (directories, deletions), here and now. */
  private runNow(w: BatchWriter): void {
    if (w.count === 0) return;
    const batch = w.finish();
    if (this.c.dryRun || !this.ctx) return;
    const failures = this.ctx.run(batch);
    const again = new Set(failures.filter((f) => isFdShortage(f.errno)).map((f) => f.index));
    failures.filter((f) => !again.has(f.index)).forEach((f) => this.fail(f));
    if (again.size) {
      // Out of descriptors while the workers hold theirs: set aside for retryFdShortage().
      let i = 0;
      for (const op of readBatch(batch)) {
        if (again.has(i)) this.fdRetry.add(op.kind, Buffer.from(op.src), Buffer.from(op.dst), op.stat, op.flags, op.anchor, op.target && Buffer.from(op.target));
        i++;
      }
    }
  }

  /**
   * Inline ops that failed with EMFILE/ENFILE run again once the workers are drained and stopped (the
   * walk goes on inline from there): called before a directory's contents are planned, and before the
   * final passes.
   */
  private async retryFdShortage(): Promise<void> {
    if (this.fdRetry.count === 0 || !this.ctx) return;
    // The workers' rings and open files are what is in the way: stop them, the rest of the run is inline.
    await this.dispatcher?.goInline();
    this.ctx.run(this.fdRetry.finish()).forEach((f) => this.fail(f));
  }

  // ---- output -------------------------------------------------------------------------------------

  private emit(kind: FileType, verdict: Verdict, line: Omit<LineInfo, 'itemize'>, hardlinked = false): void {
    if (!this.out.active) return;
    const text = itemize(kind, verdict, this.c, { hardlinked, all: this.out.itemizeAll });
    const changed = verdict.action === 'create' || verdict.action === 'transfer';
    this.out.entry({ ...line, changed, isDir: kind === 'dir' }, text);
  }

  private lineFor(rel: Buffer, src: Buffer, st: Stat, kind: FileType, suffix = ''): Omit<LineInfo, 'itemize'> {
    // Nothing is printed per entry: skip escaping names that nobody will see.
    if (!this.out.active) return NO_LINE;
    return {
      // Names are printed relative to the transfer root, which is the destination root here.
      name: kind === 'dir' ? `${rel.length ? showPath(rel) : '.'}/` : showPath(rel),
      fullName: showPath(src),
      suffix,
      size: st.size,
      bytes: kind === 'reg' ? st.size : 0,
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      mtimeSec: st.mtimeSec,
      op: 'recv',
    };
  }

  // ---- the walk -----------------------------------------------------------------------------------

  private async walkRoot(root: Root, mode: 'transfer' | 'delete'): Promise<void> {
    this.currentRoot = root;
    const engine = this.input.engine.name;
    this.rootIndex = this.plan.roots.indexOf(root);
    let st = lstatPath(engine, root.src);
    if (isFailure(st)) {
      if (mode === 'transfer') this.ioError(root.src, st.errno, st.syscall, `link_stat "${showPath(root.src)}" failed`);
      else this.deleteGate.noteError();
      return;
    }
    let scanSrc = root.src;
    if ((root.contents || this.c.copyLinks) && fileType(st.mode) === 'link') {
      // "link/" (and -L) mean the directory or file behind the link.
      const followed = this.followStat(root.src);
      if (!followed) {
        if (mode === 'transfer') this.ioError(root.src, ERRNO.ENOENT, 'stat', `symlink has no referent "${showPath(root.src)}"`);
        else this.deleteGate.noteError();
        return;
      }
      st = followed;
      // A trailing slash makes every open resolve through the link (the walk opens with O_NOFOLLOW).
      if (fileType(st.mode) === 'dir') scanSrc = Buffer.concat([root.src, Buffer.from('/')]);
    }
    // Below a directory operand, the engines follow no symlink the walk did not choose to follow.
    if (fileType(st.mode) === 'dir') this.anchors.add(scanSrc);
    st = this.withChmod(st);
    this.rootDev = st.dev;
    if (mode === 'transfer') await this.impliedDirs(root);

    // Filter paths are relative to the transfer root: the directory that `rel` is relative to.
    const filters = this.input.filters;
    const base = root.src.subarray(0, root.src.length - root.rel.length).toString('latin1') || '.';
    const sender = filters?.root('sender', Buffer.from(resolvePath(base), 'latin1'));
    const receiver = filters?.root('receiver', this.plan.destRoot);

    const type = fileType(st.mode);
    const role: Role = this.overlay
      ? roleOf({ root: this.rootIndex, dir: type === 'dir' && (this.c.recursive || root.dirOnly) }, this.overlay.othersAtPath(this.rootIndex, root.rel))
      : 'owner';
    if (role === 'skip') return;
    if (type === 'dir' && root.dirOnly) {
      // --files-from without -r: the listed directory is made; named with a trailing slash, its own
      // entries are copied too and its subdirectories made, but not entered (rsync's --dirs).
      if (mode !== 'transfer' || (sender && sender.check(root.rel, true) === 'exclude')) return;
      // A destination root made by this run is reported as created (as below).
      const made = this.plan.createDest && !root.rel.length && !this.c.mkpath;
      const f = role === 'merged'
        ? this.mergedFrame(scanSrc, root.rel, st, sender, receiver)
        : this.dirFrame(scanSrc, root.rel, st, made ? undefined : this.destStat(root.rel), mode, sender, receiver);
      if (!f) return;
      if (!root.oneLevel) {
        if (f.pending) this.emit('dir', f.pending.verdict, f.pending.line);
        return;
      }
      f.sender = sender?.enterDir(root.rel, root.src);
      f.receiver = receiver?.enterDir(root.rel);
      f.oneLevel = true;
      for (const sub of await this.walkDir(f, mode)) {
        if (sub.pending) this.emit('dir', sub.pending.verdict, sub.pending.line);
      }
      return;
    }
    if (type !== 'dir' || !this.c.recursive) {
      if (mode === 'transfer') {
        if (root.rel.length && sender && sender.check(root.rel, false) === 'exclude') return;
        await this.entry(root.src, root.rel, st, this.destStat(root.rel), true, undefined, root.display);
        await this.maybeFlush();
      }
      return;
    }
    // The root directory itself.
    if (root.rel.length && sender && sender.check(root.rel, true) === 'exclude') return;
    // A destination root made by this run is reported as created, as rsync does ("cd+++++++++ ./");
    // with --mkpath rsync makes the path first and then compares the root as existing.
    const rootDest = this.plan.createDest && !root.rel.length && !this.c.mkpath ? undefined : this.destStat(root.rel);
    const frame = role === 'merged' ? this.mergedFrame(scanSrc, root.rel, st, sender, receiver) : this.dirFrame(scanSrc, root.rel, st, rootDest, mode, sender, receiver);
    if (!frame) return;
    frame.sender = sender?.enterDir(root.rel, root.src);
    frame.receiver = receiver?.enterDir(root.rel);
    const stack: Frame[] = mode === 'transfer' ? this.treeFrames(frame, scanSrc) : [frame];
    while (stack.length) {
      if (this.aborted) return;
      const dir = stack.pop()!;
      const subdirs = await this.walkDir(dir, mode);
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
    }
  }

  /**
   * A re-sync onto an existing destination starts with scanTree: the native quick check over the whole
   * tree on several threads. Only the directories it finds dirty are walked (in name order); the
   * clean ones are only counted. Returns the frames to walk, or [root] when it does not apply.
   */
  private treeFrames(root: Frame, scanSrc: Buffer): Frame[] {
    if (!this.treeQuery || !root.destExists || !this.ctx?.scanTree) return [root];
    const t = this.ctx.scanTree(scanSrc, root.rel, this.treeQuery);
    if (isFailure(t)) return [root];
    const n = t.counts;
    this.totals.listed.dir += n.dir;
    this.totals.listed.reg += n.reg;
    this.totals.listed.link += n.link;
    this.totals.listed.dev += n.dev;
    this.totals.listed.special += n.special;
    this.totals.totalSize += n.size;
    const frames: Frame[] = [];
    let rootDirty = false;
    for (const { rel: d, pair } of t.dirty) {
      if (d.length === 0) {
        rootDirty = true;
        root.treeMode = true;
        if (pair) root.pair = pair;
        frames.push(root);
        continue;
      }
      const src = joinPath(scanSrc, d);
      const rel = joinPath(root.rel, d);
      const st = lstatPath(this.input.engine.name, src);
      if (isFailure(st)) {
        this.fail({ index: -1, errno: st.errno, syscall: st.syscall, path: src, onDest: false });
        continue;
      }
      const stat = this.withChmod(st);
      const record: DirRecord = { src, rel, stat, needMeta: false };
      this.dirs.push(record);
      frames.push({ src, rel, stat, destExists: true, sender: undefined, receiver: undefined, record, pending: undefined, treeMode: true, ...(pair ? { pair } : {}) });
    }
    if (!rootDirty && root.pending) {
      // The root's own line (its attributes may differ even when nothing inside does).
      if (root.pending.local) this.emitLocal('dir', root.pending.verdict, root.pending.line);
      else this.emit('dir', root.pending.verdict, root.pending.line);
      root.pending = undefined;
    }
    // A stack: popped in name order.
    return frames.reverse();
  }

  /** -R: make the directories above a root (a/b for a/b/c), with their source attributes. */
  private async impliedDirs(root: Root): Promise<void> {
    if (!this.c.relative) return;
    const parts: Buffer[] = [];
    let p = dirName(root.rel);
    while (p.length && !(p.length === 1 && p[0] === 0x2f)) {
      parts.unshift(p);
      p = dirName(p);
    }
    if (!parts.length) return;
    // The source path of "a/b" is the operand's prefix that ends where rel "a/b" ends.
    const srcPrefix = root.src.subarray(0, root.src.length - root.rel.length);
    for (const rel of parts) {
      // Several sources under the same directories make (and print) each one once.
      const key = rel.toString('latin1');
      if (this.impliedDone.has(key) || this.dirRecords.has(key)) continue;
      this.impliedDone.add(key);
      let src = Buffer.concat([srcPrefix, rel]);
      let st: Stat | NativeFailure | undefined = lstatPath(this.input.engine.name, src);
      if (!isFailure(st) && fileType(st.mode) === 'link') {
        // rsync sends implied directories as what they lead to: a symlinked directory in the source
        // path arrives as a real directory (its attributes; opened through the link).
        st = this.followStat(src);
        src = Buffer.concat([src, Buffer.from('/')]);
      }
      if (!st || isFailure(st) || fileType(st.mode) !== 'dir') continue;
      // An implied directory is part of the operand: the engines resolve it as given (anchors.ts).
      this.anchors.add(src);
      const dest = this.destStat(rel);
      const verdict = quickCheck(this.withChmod(st), dest, this.dirCheck);
      if (verdict.action === 'skip' || verdict.action === 'none') continue;
      this.emit('dir', verdict, this.lineFor(rel, src, st, 'dir'));
      const w = new BatchWriter(512);
      if (verdict.action === 'create') w.add(OpKind.Mkdir, src, rel, this.withChmod(st));
      this.runNow(w);
      this.pushDir({ src, rel, stat: this.withChmod(st), needMeta: true });
    }
  }

  /** Through the engine's walker, which reaches paths deeper than PATH_MAX (native engines). */
  private followStat(path: Buffer): Stat | undefined {
    const st = statPath(this.input.engine.name, path);
    return isFailure(st) ? undefined : st;
  }

  private withChmod(st: Stat): Stat {
    if (!this.c.chmod.length) return st;
    return { ...st, mode: applyChmod(st.mode, this.c.chmod, this.engineOptions.umask) };
  }

  /** One destination entry's lstat by relative path (a decision input only: ops resolve safely). */
  private destStat(rel: Buffer): Stat | undefined {
    if (this.c.dryRun && !this.ctx) return undefined;
    const st = lstatPath(this.input.engine.name, joinPath(this.plan.destRoot, rel));
    return isFailure(st) ? undefined : st;
  }

  /** A destination directory's entries, for deleting it whole; empty when it cannot be listed. */
  private scanDest(rel: Buffer): DeleteList {
    const list = new DeleteList();
    if (!this.ctx) return list;
    const r = this.ctx.scanDest(rel);
    if (isFailure(r)) return list;
    const l = r as DirListing;
    for (let i = 0; i < l.names.length; i++) {
      const st = l.stats[i];
      if (st) list.add(l.names[i]!, st);
    }
    return list;
  }

  /**
   * -X/-A: xattrs and ACLs are part of the attributes compared (rsync's 'x' and 'a'). The engine reads
   * both sides; an entry that only differs there becomes an attribute update.
   */
  private withXattrs(v: Verdict, kind: FileType, src: Buffer, rel: Buffer, st: Stat, destSt: Stat | undefined): Verdict {
    if (!this.xattrFlags || !destSt || !this.ctx || kind === 'link' || v.action === 'skip' || v.action === 'create') return v;
    if ((destSt.mode & S_IFMT) !== (st.mode & S_IFMT)) return v;
    const diff = this.ctx.xattrDiff(src, rel, this.xattrFlags);
    if (!diff) return v;
    const changes: Changes = { ...('changes' in v ? v.changes : NO_CHANGES), xattr: (diff & 1) !== 0, acl: (diff & 2) !== 0 };
    return v.action === 'none' ? { action: 'attrs', changes } : { ...v, changes };
  }

  /** The source directory against its destination twin (the twin only when it existed). */
  private listPair(dir: Frame): PairStream | NativeFailure {
    const destRel = dir.destExists ? dir.rel : null;
    const anchor = this.anchors.of(dir.src);
    // -n onto a destination that does not exist yet (no context): nothing to pair with.
    const cursor = this.ctx
      ? this.ctx.openPair(dir.src, destRel, this.pairQuery, anchor)
      : openSourcePair(this.input.engine.name, dir.src, this.pairQuery, anchor);
    return isFailure(cursor) ? cursor : new PairStream(cursor);
  }

  private async lowerConcurrency(): Promise<void> {
    if (this.dispatcher) await this.dispatcher.lowerConcurrency();
  }

  /** Set up a directory to descend into; prints nothing yet (its deletions come first). */
  private dirFrame(
    src: Buffer,
    rel: Buffer,
    st: Stat,
    destStIn: Stat | undefined,
    mode: 'transfer' | 'delete',
    sender: FilterScope | undefined,
    receiver: FilterScope | undefined,
  ): Frame | undefined {
    let destSt = destStIn;
    let keptLink = false;
    if (this.c.keepDirlinks && destSt && fileType(destSt.mode) === 'link' && rel.length) {
      // -K: a destination symlink to a directory counts as that directory (resolution stays beneath
      // the destination root in the engines).
      const through = this.followStat(joinPath(this.plan.destRoot, rel));
      if (through && fileType(through.mode) === 'dir') {
        destSt = through;
        keptLink = true;
      }
    }
    const destIsDir = destSt !== undefined && (destSt.mode & S_IFMT) === S_IFDIR;
    if (mode === 'delete') {
      if (!destIsDir && !this.probing) return undefined;
      return { src, rel, stat: st, destExists: destIsDir, sender, receiver, record: undefined, pending: undefined };
    }
    if (this.c.existing && !destSt) return undefined;
    this.totals.listed.dir++;
    if (this.c.ignoreExisting && destSt && !destIsDir) {
      // rsync leaves the non-directory in place and then fails on everything inside it.
      return { src, rel, stat: st, destExists: false, sender, receiver, record: undefined, pending: undefined, blocked: true };
    }
    const verdict = this.withXattrs(
      quickCheck(st, destSt, { ...this.dirCheck, existing: false, ignoreExisting: false, update: false }),
      'dir', src, rel, st, destSt,
    );
    const record: DirRecord = { src, rel, stat: st, needMeta: verdict.action !== 'none', keptLink };
    const line = this.lineFor(rel, src, st, 'dir');
    const alt = verdict.action === 'create' && !destSt ? this.alt.dirTwin(rel) : undefined;
    if (alt) {
      // rsync's try_dests_non for a directory: a twin in an alternate directory turns "cd+++++++++"
      // into "cd" plus what differs from it, or into silence when nothing does.
      const changes = attrChanges(st, alt, this.dirCheck);
      record.needMeta = true;
      this.totals.created.dir++;
      if (!this.c.dryRun && rel.length) {
        const w = new BatchWriter(512);
        w.add(OpKind.Mkdir, src, rel, st);
        this.runNow(w);
      }
      this.pushDir(record);
      const pending = anyChange(changes) || this.out.itemizeAll ? { verdict: { action: 'attrs', changes } as Verdict, line, local: true } : undefined;
      return { src, rel, stat: st, destExists: false, sender, receiver, record, pending };
    }
    if (verdict.action === 'create') {
      this.totals.created.dir++;
      if (!this.c.dryRun) {
        const w = new BatchWriter(512);
        let after = 0;
        if (destSt && rel.length) {
          if (this.c.backup && !destIsDir) after = this.backups.beforeReplace((...a) => w.add(...a), rel, destSt);
          else this.removeForReplace(rel, destSt, w);
        }
        if (rel.length) w.add(OpKind.Mkdir, src, rel, st, after);
        this.runNow(w);
      }
    }
    this.pushDir(record);
    return { src, rel, stat: st, destExists: destIsDir, sender, receiver, record, pending: { verdict, line } };
  }

  private pushDir(record: DirRecord): void {
    this.dirs.push(record);
    if (this.overlay) this.dirRecords.set(record.rel.toString('latin1'), record);
  }

  /**
   * Several sources: a directory an earlier root already made (or will make, under -n) here. Nothing
   * is printed or set for it; this root's entries are walked into it, and its owner's record notes
   * their changes.
   */
  private mergedFrame(src: Buffer, rel: Buffer, st: Stat, sender: FilterScope | undefined, receiver: FilterScope | undefined): Frame {
    const destSt = this.destStat(rel);
    const record = this.dirRecords.get(rel.toString('latin1'));
    const destExists = destSt !== undefined && (destSt.mode & S_IFMT) === S_IFDIR;
    return { src, rel, stat: st, destExists, sender, receiver, record, pending: undefined, merged: true };
  }

  /** List one source directory against its destination twin; returns the subdirectories to visit. */
  private async walkDir(dir: Frame, mode: 'transfer' | 'delete'): Promise<Frame[]> {
    await this.retryFdShortage();
    if (dir.blocked) {
      if (mode !== 'transfer') return [];
      const l = scanDir(this.input.engine.name, dir.src, this.anchors.of(dir.src));
      if (isFailure(l)) return [];
      for (const name of [...l.names].sort(Buffer.compare)) {
        const where = joinPath(joinPath(this.plan.destRoot, dir.rel), name);
        this.ioError(where, ERRNO.ENOTDIR, 'stat', `recv_generator: failed to stat "${showPath(where)}"`);
      }
      return [];
    }
    // scanTree may have listed it already; a listing is used once.
    let pair = dir.pair ? new PairStream(dir.pair) : this.listPair(dir);
    dir.pair = undefined;
    for (let tries = 0; isFailure(pair) && isFdShortage(pair.errno) && tries < 4; tries++) {
      await this.lowerConcurrency();
      pair = this.listPair(dir);
    }
    if (isFailure(pair)) {
      if (mode === 'transfer') {
        if (pair.errno === ERRNO.ENOENT) this.fail({ index: -1, errno: pair.errno, syscall: pair.syscall, path: dir.src, onDest: false });
        else this.ioError(dir.src, pair.errno, pair.syscall, `opendir "${showPath(dir.src)}" failed`);
        // rsync still comes to this directory's deletions, and says why there are none.
        if (this.c.deleteMode === 'during' && dir.destExists) this.deleteGate.allows(this.totals.ioErrors);
      } else {
        this.deleteGate.noteError();
      }
      return [];
    }
    try {
      return await this.walkPair(dir, mode, pair);
    } finally {
      pair.close();
    }
  }

  /**
   * One directory's entries, read from its paired listing a chunk at a time, so a wide directory is
   * never held whole. rsync's order: deletions first, then non-directories, then directories, each by
   * name bytes. A listing of one chunk is gone over once; a wider one twice when something must be
   * known about all of it first (what to delete, or the subdirectories of a delete walk).
   */
  private async walkPair(dir: Frame, mode: 'transfer' | 'delete', pair: PairStream): Promise<Frame[]> {
    const derr = pair.destErrno;
    if (dir.destExists && derr !== 0 && derr !== ERRNO.ENOENT && derr !== ERRNO.ENOTDIR && mode === 'transfer') {
      this.ioError(joinPath(this.plan.destRoot, dir.rel), derr, 'scandir', 'opendir failed');
    }
    const deleting = this.c.deleteMode !== 'none' && !this.probing && (mode === 'delete' || this.c.deleteMode === 'during');
    // Destination names that are not in the transfer (filters applied) are extraneous (deleted with
    // --delete unless protected).
    const extraneous = new DeleteList();
    let firstKept: Kept[] | undefined;
    let keptDirs: Kept[] = [];
    // A source entry that vanished is reported by the transfer walk; a delete walk only notes it (no
    // deletion after an I/O error).
    const onVanish = mode === 'transfer' ? 'fail' : 'note';
    if (pair.whole) {
      firstKept = this.classify(dir, pair.whole, extraneous, onVanish);
      if (mode === 'transfer') this.countCollapsed(pair.whole);
      else keptDirs = firstKept.filter(isDirKept);
    } else if ((deleting && dir.destExists) || mode === 'delete') {
      // Without sender filters or other sources, only destination-only names can be extraneous: source
      // entries are passed over without a stat.
      const extrasOnly = mode === 'transfer' && !dir.sender && !this.overlay;
      for (const chunk of pair.chunks(extrasOnly)) {
        const kept = this.classify(dir, chunk, extraneous, mode === 'delete' ? 'note' : 'none');
        if (mode === 'delete') keptDirs.push(...kept.filter(isDirKept));
      }
    }

    let deletedHere = 0;
    if (deleting && dir.destExists && !dir.merged) deletedHere = this.deleteExtraneous(dir, extraneous);
    // rsync compares a directory before deleting in it: our own deletions do not show, but its mtime
    // is restored at the end.
    if (deletedHere > 0 && dir.record) dir.record.needMeta = true;
    if (deletedHere > 0 && !dir.record && !this.c.dryRun) this.dirs.push({ src: dir.src, rel: dir.rel, stat: dir.stat, needMeta: true });
    if (mode === 'delete') {
      const next: Frame[] = [];
      for (const k of keptDirs) {
        if (!this.c.recursive) continue;
        const destIsDir = k.dest !== undefined && (k.dest.mode & S_IFMT) === S_IFDIR;
        if (!destIsDir && !this.probing) continue;
        next.push({
          src: k.src, rel: k.rel, stat: k.st, destExists: destIsDir,
          sender: dir.sender?.enterDir(k.rel, k.src), receiver: dir.receiver?.enterDir(k.rel), record: undefined, pending: undefined,
          ...(k.merged ? { merged: true } : {}),
        });
      }
      return next;
    }

    if (dir.pending) {
      if (dir.pending.local) this.emitLocal('dir', dir.pending.verdict, dir.pending.line);
      else this.emit('dir', dir.pending.verdict, dir.pending.line);
      dir.pending = undefined;
    }

    // Non-directories are planned chunk by chunk; directories wait for all of them.
    const dirs: Kept[] = [];
    if (firstKept) {
      await this.planFiles(dir, firstKept, dirs);
    } else {
      for (const chunk of pair.chunks()) {
        this.countCollapsed(chunk);
        await this.planFiles(dir, this.classify(dir, chunk, undefined, 'fail'), dirs);
        if (this.aborted) break;
      }
    }

    const subdirs: Frame[] = [];
    for (const k of dirs) {
      if (this.aborted) break;
      const destSt = k.dest;
      if (this.c.recursive || dir.oneLevel) {
        if (this.c.oneFileSystem > 0 && k.st.dev !== this.rootDev) {
          // -x: the mount point is made but not entered; -xx: not even made.
          if (this.c.oneFileSystem > 1) continue;
          const f = this.dirFrame(k.src, k.rel, k.st, destSt, mode, undefined, undefined);
          if (f?.pending) this.emit('dir', f.pending.verdict, f.pending.line);
          continue;
        }
        const f = k.merged ? this.mergedFrame(k.src, k.rel, k.st, undefined, undefined) : this.dirFrame(k.src, k.rel, k.st, destSt, mode, undefined, undefined);
        if (!f) continue;
        if (dir.record && f.pending?.verdict.action === 'create') dir.record.needMeta = true;
        if (dir.treeMode && f.destExists) {
          // scanTree already looked inside: it is walked on its own if it is dirty.
          if (f.pending) this.emit('dir', f.pending.verdict, f.pending.line);
          continue;
        }
        f.sender = dir.sender?.enterDir(k.rel, k.src);
        f.receiver = dir.receiver?.enterDir(k.rel);
        subdirs.push(f);
        continue;
      }
      const changed = await this.entry(k.src, k.rel, k.st, destSt, false, dir.record);
      if (changed && dir.record) dir.record.needMeta = true;
    }
    await this.maybeFlush();
    return subdirs;
  }

  /**
   * The entries of one chunk that are in the transfer, non-directories first (rsync's order within
   * the chunk; the caller keeps directories for after every chunk). A vanished entry is reported when
   * `report`; an entry the sender excludes is extraneous on the destination, like the chunk's
   * destination-only names (collected in `extraneous` when given).
   */
  private classify(dir: Frame, chunk: PairListing, extraneous: DeleteList | undefined, onVanish: 'fail' | 'note' | 'none'): Kept[] {
    // Several sources: what the other roots put in this directory is theirs, and never extraneous.
    const others = this.overlay?.othersIn(this.rootIndex, dir.rel);
    if (extraneous) for (const x of chunk.extras) if (!others?.has(x.name.toString('latin1'))) extraneous.add(x.name, x.st);
    const ordered = [...chunk.entries.filter((e) => !isDirEntry(e)), ...chunk.entries.filter(isDirEntry)];
    const kept: Kept[] = [];
    for (const e of ordered) {
      const src = joinPath(dir.src, e.name);
      const rel = joinPath(dir.rel, e.name);
      if (!e.st) {
        // A source entry that vanished must not get its destination twin deleted.
        if (onVanish === 'fail') this.fail({ index: -1, errno: e.err || ERRNO.ENOENT, syscall: 'lstat', path: src, onDest: false });
        else if (onVanish === 'note') this.deleteGate.noteError();
        continue;
      }
      const st = this.withChmod(e.st);
      const occ = others?.get(e.name.toString('latin1'));
      const role = occ ? roleOf({ root: this.rootIndex, dir: isDirEntry(e) }, occ) : 'owner';
      if (role === 'skip') continue;
      if (dir.sender && dir.sender.check(rel, isDirEntry(e)) === 'exclude') {
        if (e.dest && !occ && extraneous) extraneous.add(e.name, e.dest);
        continue;
      }
      kept.push({ name: e.name, src, rel, st, dest: e.dest, ...(role === 'merged' ? { merged: true } : {}) });
    }
    return kept;
  }


  /** Entries the native quick check found unchanged are only counted. */
  private countCollapsed(chunk: PairListing): void {
    this.totals.listed.reg += chunk.collapsed.reg;
    this.totals.listed.link += chunk.collapsed.link;
    this.totals.totalSize += chunk.collapsed.size;
  }

  /** Plan the non-directories of `kept` now; its directories go to `dirs` (planned after every file). */
  private async planFiles(dir: Frame, kept: Kept[], dirs: Kept[]): Promise<void> {
    for (const k of kept) {
      if (this.aborted) return;
      if (isDirKept(k)) {
        dirs.push(k);
        continue;
      }
      const changed = await this.entry(k.src, k.rel, k.st, k.dest, false, dir.record);
      if (changed && dir.record) dir.record.needMeta = true;
    }
    await this.maybeFlush();
  }

  /**
   * Plan one non-directory entry (or a directory without -r). Returns true when the destination
   * directory's entries change (so its mtime must be restored).
   */
  private async entry(
    src: Buffer,
    rel: Buffer,
    stIn: Stat,
    destSt: Stat | undefined,
    isRoot: boolean,
    record?: DirRecord,
    display?: Buffer,
  ): Promise<boolean> {
    const c = this.c;
    let st = stIn;
    let kind = fileType(st.mode);
    let flags = 0;

    let target: Buffer | undefined;
    if (kind === 'link' && (c.copyLinks || c.copyUnsafeLinks || c.safeLinks)) {
      // Read once: the value judged here is the one the engine writes (or refuses, if the link changed).
      target = this.readlink(src);
      const unsafe = this.unsafeLink(target, rel);
      if (c.copyLinks || (c.copyUnsafeLinks && unsafe)) {
        // The referent of the target judged above, not whatever the link holds by now: the engine opens
        // the link and must find this very file behind it (dev/ino), or reports it changed.
        const referent = target === undefined ? src : target[0] === 0x2f ? target : joinPath(dirName(src), target);
        const followed = this.followStat(referent);
        if (!followed) {
          this.ioError(src, ERRNO.ENOENT, 'stat', `symlink has no referent "${showPath(src)}"`);
          return false;
        }
        st = this.withChmod(followed);
        kind = fileType(st.mode);
        flags |= OpFlag.FollowSource;
        if (kind === 'dir') {
          // A followed link to a directory is copied as that directory ("link/" opens through it).
          if (!c.recursive) {
            if (!c.quiet && !c.json) this.reporter.print(`skipping directory ${showPath(rel)}`);
            return false;
          }
          const through = Buffer.concat([src, Buffer.from('/')]);
          this.anchors.add(through);
          const f = this.dirFrame(through, rel, st, destSt, 'transfer', undefined, undefined);
          if (f) {
            const stack = [f];
            while (stack.length) {
              const sub = await this.walkDir(stack.pop()!, 'transfer');
              for (let i = sub.length - 1; i >= 0; i--) stack.push(sub[i]!);
            }
          }
          return true;
        }
      } else if (c.safeLinks && unsafe) {
        if (c.verbose > 0) this.reporter.print(`ignoring unsafe symlink "${showPath(rel)}" -> "${showPath(target ?? Buffer.alloc(0))}"`);
        return false;
      }
    }

    const d = decide(st, c);
    if ('skip' in d) {
      if (!c.quiet && !c.json) this.reporter.print(`${d.skip} "${showPath(display ?? rel)}"`);
      return false;
    }
    if (!isRoot || kind !== 'dir') this.totals.listed[kind]++;
    if (kind === 'reg' || kind === 'link') this.totals.totalSize += st.size;
    if (kind === 'reg') {
      if ((c.minSize !== undefined && st.size < c.minSize) || (c.maxSize !== undefined && st.size > c.maxSize)) return false;
    }

    // -H: every member of a group waits for the end of the walk, where the leader is sent and the
    // others are linked to it (rsync's choice of leader). Devices, FIFOs, sockets and symlinks are
    // grouped too, as rsync does on Linux.
    if (this.hardLinks && kind !== 'dir' && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const member: Member = { src, rel, st, destSt, record, flags, display, ...(target ? { target } : {}) };
      const group = this.groups.get(key);
      if (group) group.push(member);
      else this.groups.set(key, [member]);
      return false;
    }
    return this.plan1({ src, rel, st, destSt, record, flags, display, ...(kind === 'link' && target ? { target } : {}) }, kind);
  }

  /** Decide and queue one non-directory entry whose source and destination stats are known. */
  private async plan1(m: Member, kind: FileType, syncCompare = false): Promise<boolean> {
    const c = this.c;
    const { src, rel, st, destSt } = m;
    const flags = m.flags;
    // Symlink targets are compared only when both sides are links.
    let linkDiffers = false;
    let suffix = '';
    let target: Buffer | undefined;
    if (kind === 'link') {
      target = m.target ?? this.readlink(src);
      suffix = ` -> ${showPath(target ?? Buffer.alloc(0))}`;
      if (destSt && fileType(destSt.mode) === 'link') {
        const there = this.ctx?.readlinkDest(rel);
        linkDiffers = !target || !there || isFailure(there) || !target.equals(there as Buffer);
      }
    }
    // --ignore-existing / --existing / -u decide first, as in rsync.
    const verdict = this.withXattrs(quickCheck(st, destSt, this.check, linkDiffers), kind, src, rel, st, destSt);
    if (verdict.action === 'skip') return false;
    if (verdict.action === 'none') {
      // The everyday case of a re-sync: decided without building any output for it.
      if (this.out.itemizeAll) this.emit(kind, verdict, this.lineFor(m.display ?? rel, src, st, kind, suffix));
      this.removeSource(m, kind);
      return false;
    }
    const line = this.lineFor(m.display ?? rel, src, st, kind, suffix);

    // --compare-dest / --copy-dest / --link-dest for an entry the destination lacks (or, for
    // --link-dest, has in another version).
    if (this.alt.any && kind !== 'dir' && (verdict.action === 'create' || (kind === 'reg' && c.linkDest.length))) {
      const done = await this.tryAltDirs(m, kind, line, target);
      if (done !== undefined) return done;
    }

    if (verdict.action === 'attrs') {
      this.emit(kind, verdict, line);
      if (!c.dryRun) this.add(OpKind.Attrs, src, rel, st);
      this.removeSource(m, kind);
      return false;
    }

    if (verdict.action === 'compare') {
      if (c.dryRun || (c.backup && destSt) || syncCompare) {
        // Under -n nothing may be written, a backup must only be made when the content differs, and a
        // hard-link leader must know now whether it changes: compare here. Otherwise the engines
        // compare, in parallel.
        const equal = this.contentEqual(src, rel, st.size);
        const v: Verdict = equal ? { action: 'attrs', changes: verdict.changes } : { action: 'transfer', changes: { ...verdict.changes, value: true } };
        this.emit(kind, v, line);
        if (!equal) {
          this.totals.plannedFiles++;
          this.totals.plannedBytes += st.size;
        }
        if (!c.dryRun) {
          if (equal) {
            if (anyChange(verdict.changes)) this.add(OpKind.Attrs, src, rel, st);
            this.removeSource(m, kind);
          } else {
            const after = destSt ? this.backups.beforeReplace(this.addOp, rel, destSt) : 0;
            this.add(OpKind.File, src, rel, st, flags | after | (c.removeSourceFiles ? OpFlag.RemoveSource : 0));
          }
          await this.maybeFlush();
        }
        return !equal;
      }
      // Whether this changes the directory is known only from the outcome (settle()).
      this.add(OpKind.File, src, rel, st, flags | OpFlag.Compare | (c.removeSourceFiles ? OpFlag.RemoveSource : 0), { kind, verdict, line, record: m.record, size: st.size });
      await this.maybeFlush();
      return false;
    }

    // create or transfer
    this.emit(kind, verdict, line);
    return this.queueCopy(m, kind, verdict, flags);
  }

  /** Queue the op that makes `m` on the destination (a copy, a symlink, a special). */
  private async queueCopy(m: Member, kind: FileType, verdict: Verdict, flagsIn: number, from?: Twin): Promise<boolean> {
    const c = this.c;
    const { src, rel, st, destSt } = m;
    let flags = flagsIn;
    if (!destSt || verdict.action === 'create') this.totals.created[kind]++;
    if (kind === 'reg') {
      this.totals.plannedFiles++;
      this.totals.plannedBytes += st.size;
    }
    if (c.dryRun) return true;
    // A big file goes alone so that it does not hold up a batch of small ones (its backup goes with it).
    if (kind === 'reg' && st.size >= BATCH_BYTES) await this.flush();
    if (destSt) {
      if (c.backup) flags |= this.backups.beforeReplace(this.addOp, rel, destSt);
      else if ((destSt.mode & S_IFMT) === S_IFDIR && kind !== 'dir') {
        const w = new BatchWriter(1024);
        this.removeForReplace(rel, destSt, w);
        await this.flush();
        this.runNow(w);
      }
    }
    const op = kind === 'reg' ? OpKind.File : kind === 'link' ? OpKind.Symlink : OpKind.Special;
    if (c.removeSourceFiles && !from) flags |= OpFlag.RemoveSource;
    if (from) this.addBasis(op, from, kind, { op, src, rel, st, flags });
    else this.add(op, src, rel, st, flags, undefined, m.target);
    if (from && c.removeSourceFiles) this.removeSource(m, kind);
    await this.maybeFlush();
    return true;
  }

  /**
   * rsync's try_dests_reg / try_dests_non: look for the entry in the --compare-dest, --copy-dest and
   * --link-dest directories. Returns undefined when the normal path should go on.
   */
  private async tryAltDirs(m: Member, kind: FileType, line: Omit<LineInfo, 'itemize'>, target?: Buffer): Promise<boolean | undefined> {
    const c = this.c;
    const exists = m.destSt !== undefined;
    const best = this.alt.best(m.rel, m.st, kind, target, (p) => this.readlink(p));
    if (!best) return undefined;
    // The destination has another version: only an exact --link-dest match replaces it.
    if (exists && (best.level !== 3 || !c.linkDest.length || kind !== 'reg')) return undefined;
    const alt = best;
    const changesVsAlt = (): Changes => {
      const ch = attrChanges(m.st, alt.st, { ...this.check, times: this.check.times && kind !== 'link' });
      return kind === 'reg'
        ? { ...ch, size: m.st.size !== alt.st.size, time: !sameTime(m.st, alt.st, this.check) }
        : { ...ch, value: alt.level < 2 };
    };
    if (alt.level === 3 && !c.copyDest.length) {
      if (c.linkDest.length) {
        // Hard-linked to the earlier snapshot: rsync prints it only with -ii.
        if (this.out.itemizeAll) this.emit(kind, { action: 'attrs', changes: NO_CHANGES }, line, true);
        if (!c.dryRun) {
          const after = exists ? this.backups.beforeReplace(this.addOp, m.rel, m.destSt!) : 0;
          const copy = kind === 'reg' ? OpKind.File : kind === 'link' ? OpKind.Symlink : OpKind.Special;
          this.addBasis(OpKind.LinkFrom, alt, kind, { op: copy, src: m.src, rel: m.rel, st: m.st, flags: m.flags | after });
          await this.maybeFlush();
        }
        if (!exists) this.totals.created[kind]++;
        this.removeSource(m, kind);
        return true;
      }
      // --compare-dest: the earlier copy will do; nothing is made here.
      this.removeSource(m, kind);
      return false;
    }
    if (alt.level >= 2) {
      // A local copy of the alternate entry (attributes from the source): "cf" with what differs.
      this.emitLocal(kind, { action: 'attrs', changes: changesVsAlt() }, line);
      return this.queueCopy(m, kind, { action: 'create' }, m.flags, kind === 'reg' ? alt : undefined);
    }
    // Only the name matched: a normal transfer, itemized against the alternate entry.
    this.emit(kind, { action: 'transfer', changes: changesVsAlt() }, line);
    return this.queueCopy(m, kind, { action: 'create' }, m.flags);
  }

  /**
   * An op that reads a basis file: checked like a source (OpFlag.Basis: no symlink on its path, still
   * the twin's inode), with the copy from the source to fall back on if it is not (settle()).
   */
  private addBasis(op: OpKind, twin: Twin, kind: FileType, fallback: Omit<Fallback, 'basis'>): void {
    const pending: Pending = { kind, verdict: { action: 'create' }, line: NO_LINE, size: fallback.st.size, fallback: { ...fallback, basis: twin.path } };
    const st = { ...fallback.st, ino: twin.st.ino, dev: twin.st.dev };
    this.add(op, twin.path, fallback.rel, st, (fallback.flags & ~OpFlag.FollowSource) | OpFlag.Basis, pending);
  }

  /** An entry made from a local copy (rsync's ITEM_LOCAL_CHANGE): printed only when something differs. */
  private emitLocal(kind: FileType, v: Verdict, line: Omit<LineInfo, 'itemize'>): void {
    if (!this.out.active) return;
    const text = itemize(kind, v, this.c, { all: this.out.itemizeAll, local: true });
    this.out.entry({ ...line, changed: false, isDir: kind === 'dir' }, text);
  }

  /** --remove-source-files for an entry the destination already has (rsync removes those too). */
  private removeSource(m: Member, kind: FileType): void {
    if (!this.c.removeSourceFiles || this.c.dryRun || kind === 'dir') return;
    // Native engines: beneath the anchor like their own ops, at any path length.
    const r = this.ctx?.unlinkSource?.(m.src, m.st, this.anchors.of(m.src));
    if (r !== undefined) {
      if (r) this.ioError(m.src, r.errno, r.syscall, 'sender failed to remove');
      return;
    }
    try {
      // Beneath the source's anchor, like the engines: a directory swapped for a symlink never leads the
      // unlink out of the tree (ESTALE: it changed, so it is kept, like a changed file).
      atSourcePath(m.src, this.anchors.of(m.src), (p) => {
        const now = lstatSync(p);
        if (now.ino !== m.st.ino || now.dev !== m.st.dev) return;
        unlinkSync(p);
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'ENOENT' && e.code !== 'ESTALE') this.ioError(m.src, -(e.errno ?? -ERRNO.EIO), 'unlink', 'sender failed to remove');
    }
  }

  /**
   * -H: the groups found by the walk, with rsync's choice of leader: for regular files the first member
   * the destination already has (sent again if it is stale), else the last one; for other types the
   * first one. The others are linked to it. A member whose source vanished since the walk is reported
   * and left out, so a survivor is sent in its place (as rsync does).
   */
  private async finishHardLinks(): Promise<void> {
    for (const group of this.groups.values()) {
      if (this.aborted) return;
      const members = group.filter((m) => this.stillThere(m));
      if (!members.length) continue;
      const kind = fileType(members[0]!.st.mode);
      const leader =
        kind === 'reg'
          ? (members.find((m) => m.destSt && fileType(m.destSt.mode) === 'reg') ?? members[members.length - 1]!)
          : members[0]!;
      const before = leader.destSt;
      const changed = await this.plan1(leader, kind, true);
      if (changed && leader.record) leader.record.needMeta = true;
      const leaderDest = changed ? undefined : before;
      for (const m of members) {
        if (m === leader) continue;
        if (leaderDest && m.destSt && m.destSt.ino === leaderDest.ino && m.destSt.dev === leaderDest.dev) {
          this.removeSource(m, kind);
          continue;
        }
        if (this.c.ignoreExisting && m.destSt) continue;
        if (this.c.existing && !m.destSt) continue;
        const line = this.lineFor(m.display ?? m.rel, m.src, m.st, kind, ` => ${showPath(leader.rel)}`);
        if (m.destSt) {
          // An existing member is relinked: rsync prints what differed from the old file, or blanks.
          const ch = { ...attrChanges(m.st, m.destSt, this.check), size: kind === 'reg' && m.st.size !== m.destSt.size, time: this.c.times && !sameTime(m.st, m.destSt, this.check) };
          if (this.out.active) {
            const v: Verdict = { action: anyChange(ch) ? 'transfer' : 'attrs', changes: ch };
            this.out.entry({ ...line, changed: true, isDir: false }, itemize(kind, v, this.c, { hardlinked: true, all: true }));
          }
        } else {
          this.emit(kind, { action: 'create' }, line, true);
        }
        if (!m.destSt) this.totals.created[kind]++;
        if (m.record) m.record.needMeta = true;
        if (this.c.dryRun) continue;
        // The backup goes in the same batch as the link, right before it: the link waits for it.
        const after = m.destSt ? this.backups.beforeReplace((...a) => this.deferredLinks.add(...a), m.rel, m.destSt) : 0;
        this.deferredLinks.add(OpKind.Hardlink, leader.rel, m.rel, m.st, after);
        this.removeSource(m, kind);
      }
    }
    this.groups.clear();
  }

  /** A -H member's source is still the file the walk saw; if not, it is reported as vanished. */
  private stillThere(m: Member): boolean {
    const now = lstatPath(this.input.engine.name, m.src);
    if (!isFailure(now) && now.ino === m.st.ino && now.dev === m.st.dev) return true;
    if ((m.flags & OpFlag.FollowSource) !== 0) return true; // -L: the walk saw the link's target
    this.fail({ index: -1, errno: isFailure(now) ? now.errno : ERRNO.ENOENT, syscall: 'lstat', path: m.src, onDest: false });
    return false;
  }

  /** Through the engine's walker, which reaches sources deeper than PATH_MAX (native engines). */
  private readlink(src: Buffer): Buffer | undefined {
    const t = readlinkPath(this.input.engine.name, src);
    return isFailure(t) ? undefined : t;
  }

  /** rsync's "unsafe" symlink (plan/safelinks.ts), judged on the target read once for the entry. */
  private unsafeLink(target: Buffer | undefined, rel: Buffer): boolean {
    return target !== undefined && unsafeSymlink(target, rel);
  }

  /** -c under -n: compare the bytes here, read-only (a real run compares in the engines). */
  private contentEqual(src: Buffer, rel: Buffer, size: number): boolean {
    const dst = joinPath(this.plan.destRoot, rel);
    let a = -1;
    let b = -1;
    try {
      a = openSync(src, FS.O_RDONLY | FS.O_NOFOLLOW);
      b = openSync(dst, FS.O_RDONLY | FS.O_NOFOLLOW);
      const ba = Buffer.allocUnsafe(1 << 20);
      const bb = Buffer.allocUnsafe(1 << 20);
      let left = size;
      while (left > 0) {
        const n = readSync(a, ba, 0, Math.min(ba.length, left), null);
        const m = readSync(b, bb, 0, n, null);
        if (n === 0 || n !== m || !ba.subarray(0, n).equals(bb.subarray(0, m))) return false;
        left -= n;
      }
      return true;
    } catch {
      return false;
    } finally {
      if (a >= 0) closeSync(a);
      if (b >= 0) closeSync(b);
    }
  }

  // ---- backups and deletions ----------------------------------------------------------------------

  /**
   * rsync's make_backup under --safe-links: an unsafe destination symlink (or one whose target cannot be
   * read) is not backed up, only replaced or deleted, so a backup never preserves what --safe-links drops.
   */
  private unsafeToBackUp(rel: Buffer, destSt: Stat): boolean {
    if (!this.c.safeLinks || !this.c.links || fileType(destSt.mode) !== 'link') return false;
    const target = this.ctx?.readlinkDest(rel);
    return !target || isFailure(target) || unsafeSymlink(target as Buffer, rel);
  }

  /** Make way for a non-directory where a directory stands (rsync needs --delete or --force for a full one). */
  private removeForReplace(rel: Buffer, destSt: Stat, w: BatchWriter): void {
    if ((destSt.mode & S_IFMT) !== S_IFDIR || this.c.deleteMode === 'none') return;
    this.deleteItem(rel, destSt, w, undefined, false, false);
  }

  /**
   * Delete what the destination has and the source does not (rsync's delete_in_dir). Returns how many
   * entries were deleted.
   */
  private deleteExtraneous(dir: Frame, extraneous: DeleteList): number {
    if (!this.deleteGate.allows(this.totals.ioErrors)) return 0;
    const before = this.deletedCount();
    const w = new BatchWriter(4096);
    for (const i of extraneous.order()) {
      const st = extraneous.stat(i);
      const rel = joinPath(dir.rel, extraneous.name(i));
      if (this.isProtected(dir.receiver, rel, st) || this.fromOtherRoot(rel)) continue;
      this.deleteItem(rel, st, w, dir.receiver, true, false);
      if (w.count >= DELETE_BATCH) this.runNow(w);
    }
    this.runNow(w);
    return this.deletedCount() - before;
  }

  /**
   * Several operands can fill one destination directory (`a/ b/ dst/`): rsync deletes only what none of
   * them has, while this walk sees one operand at a time. An entry another operand provides stays.
   */
  private fromOtherRoot(rel: Buffer): boolean {
    const roots = this.plan.roots;
    // --files-from lists many single entries of one source directory: its own rules apply there.
    if (roots.length < 2 || this.c.filesFrom !== undefined) return false;
    for (const r of roots) {
      if (r === this.currentRoot) continue;
      const n = r.rel.length;
      const inside = n === 0 || (rel.length > n && rel[n] === 0x2f && rel.subarray(0, n).equals(r.rel)) || rel.equals(r.rel);
      if (!inside) continue;
      const rest = n === 0 ? rel : rel.subarray(Math.min(rel.length, n + 1));
      if (!isFailure(lstatPath(this.input.engine.name, rest.length ? joinPath(r.src, rest) : r.src))) return true;
    }
    return false;
  }

  private isProtected(receiver: FilterScope | undefined, rel: Buffer, st: Stat): boolean {
    // --backup without --backup-dir protects earlier backups, as rsync's implied "P *~" rule does.
    if (this.c.backup && this.backups.isBackupName(rel)) return true;
    return receiver !== undefined && receiver.isProtected(rel, (st.mode & S_IFMT) === S_IFDIR);
  }

  /**
   * rsync's delete_item: a directory's contents go first (unless the caller already handled them),
   * then the entry itself unless --max-delete is reached. Returns true when it was deleted.
   */
  private deleteItem(
    rel: Buffer,
    st: Stat,
    w: BatchWriter,
    receiver: FilterScope | undefined,
    print: boolean,
    dirIsEmpty: boolean,
  ): boolean {
    const kind = fileType(st.mode);
    let backupsInside = false;
    if (kind === 'dir' && !dirIsEmpty) {
      const r = this.deleteDirContents(rel, w, receiver?.enterDir(rel), print);
      if (!r.empty) return false;
      backupsInside = r.backupsInside;
    }
    return this.deleteOne(rel, st, kind, w, print, backupsInside);
  }

  /** The entry itself, after its contents (rsync's delete_item past the recursion). */
  private deleteOne(rel: Buffer, st: Stat, kind: FileType, w: BatchWriter, print: boolean, backupsInside: boolean): boolean {
    if (this.c.maxDelete !== undefined && this.deletedCount() >= this.c.maxDelete) {
      this.totals.deleteSkipped++;
      return false;
    }
    if (kind === 'dir' && backupsInside) {
      // The backups made inside keep it from being removed: rmdir would fail with ENOTEMPTY.
      if (print) this.reporter.print(`cannot delete non-empty directory: ${showPath(rel)}`);
      return false;
    }
    this.totals.deleted[kind]++;
    if (print) {
      const line = this.lineFor(rel, rel, st, kind);
      this.out.deleted({ ...line, itemize: '*deleting', op: 'del.' });
    }
    if (this.c.dryRun) return true;
    if (this.c.backup && kind !== 'dir' && !this.backups.isBackupName(rel) && !this.unsafeToBackUp(rel, st)) this.backups.insteadOfDelete(w, rel, st);
    else w.add(OpKind.Delete, Buffer.alloc(0), rel, st);
    return true;
  }

  /**
   * rsync's delete_dir_contents: children in reverse of rsync's order, each directory emptied first;
   * "cannot delete non-empty directory" when something stays. `backupsInside`: everything was
   * "deleted", but some as backups that stay in the directory.
   */
  private deleteDirContents(
    rel: Buffer,
    w: BatchWriter,
    receiver: FilterScope | undefined,
    print: boolean,
  ): { empty: boolean; backupsInside: boolean } {
    const inside = this.scanDest(rel);
    let empty = true;
    let backupsInside = false;
    for (const i of inside.order()) {
      const childRel = joinPath(rel, inside.name(i));
      const cst = inside.stat(i);
      const kind = fileType(cst.mode);
      if (this.isProtected(receiver, childRel, cst)) {
        empty = false;
        continue;
      }
      let childBackups = false;
      if (kind === 'dir') {
        const r = this.deleteDirContents(childRel, w, receiver?.enterDir(childRel), print);
        if (!r.empty) empty = false;
        childBackups = r.backupsInside;
        if (!r.empty) {
          // rsync still calls delete_item on it, which can only count it as skipped at the limit.
          if (this.c.maxDelete !== undefined && this.deletedCount() >= this.c.maxDelete) this.totals.deleteSkipped++;
          continue;
        }
      }
      if (!this.deleteOne(childRel, cst, kind, w, print, childBackups)) empty = false;
      else if (this.c.backup && kind !== 'dir' && !this.backups.isBackupName(childRel) && !this.backups.dir && !this.unsafeToBackUp(childRel, cst)) backupsInside = true;
      if (w.count >= DELETE_BATCH) this.runNow(w);
    }
    if (!empty && print) this.reporter.print(`cannot delete non-empty directory: ${showPath(rel)}`);
    return { empty, backupsInside };
  }

  private deletedCount(): number {
    const d = this.totals.deleted;
    return d.reg + d.dir + d.link + d.dev + d.special;
  }
}
