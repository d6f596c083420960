// One run, from resolved operands to totals. The main thread walks the source depth-first and, for each
// directory, lists the same directory on the destination (one native getdents64+statx pass each), so
// every decision is made from two in-memory listings: rsync's quick check, filters, deletions and what
// to print. Only the work that is needed becomes ops: directories are made at once (everything inside
// needs them), files are streamed to the workers in batches (a bounded number in flight, so memory does
// not grow with the tree), hard links follow once every file is in place, and directory metadata comes
// last, deepest first, so writing into a directory never leaves its mtime wrong.

import { readlinkSync, statSync, mkdirSync, openSync, readSync, closeSync, constants as FS } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { Config } from './cli/config.js';
import { preserveFlags } from './cli/config.js';
import { BatchWriter } from './engine/batch.js';
import { isFailure, lstatPath, openContext, scanDir, type EngineSelection } from './engine/index.js';
import {
  COUNTER_SLOTS,
  Counter,
  OpFlag,
  OpKind,
  Outcome,
  S_IFDIR,
  S_IFMT,
  type DirListing,
  type EngineContext,
  type EngineOptions,
  type OpFailure,
  type Stat,
} from './engine/types.js';
import { decide, fileType, HardLinkTable, type FileType } from './plan/decide.js';
import { itemize, quickCheck, type CheckOptions, type Changes, type Verdict } from './plan/quickcheck.js';
import { applyChmod } from './plan/chmod.js';
import type { FilterList, FilterScope } from './plan/filter.js';
import type { Plan, Root } from './plan/sources.js';
import { Dispatcher } from './pool/dispatcher.js';
import { ERRNO, fsError, showPath } from './util/errors.js';
import { dirName, joinPath } from './util/names.js';
import type { Reporter } from './progress/reporter.js';
import { Output } from './progress/output.js';
import type { LineInfo } from './progress/format.js';

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
  pending: { verdict: Verdict; line: Omit<LineInfo, 'itemize'> } | undefined;
}

interface Pending {
  kind: FileType;
  verdict: Verdict;
  line: Omit<LineInfo, 'itemize'>;
}

export interface TransferInput {
  config: Config;
  plan: Plan;
  engine: EngineSelection;
  reporter: Reporter;
  filters: FilterList | undefined;
  abort: { aborted: boolean; onAbort?: () => void };
}

const isFdShortage = (errno: number): boolean => errno === ERRNO.EMFILE || errno === ERRNO.ENFILE;

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
  private readonly engineOptions: EngineOptions;
  private ctx: EngineContext | undefined;
  private dispatcher: Dispatcher | undefined;
  private batch = new BatchWriter();
  private batchBytes = 0;
  /** Lines for ops whose outcome decides what is printed (-c compares, --progress). */
  private batchPending = new Map<number, Pending>();
  private readonly hardLinks: HardLinkTable | undefined;
  private readonly deferredLinks = new BatchWriter(4096);
  private readonly dirs: DirRecord[] = [];
  private deletionsStopped = false;
  private ioWarningShown = false;
  private rootDev = 0;
  private readonly altDirs: { kind: 'link' | 'compare' | 'copy'; dir: Buffer }[];
  private readonly backupDir: Buffer | undefined;

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
    this.engineOptions = {
      engine: input.engine.name,
      destRoot: this.plan.destRoot,
      flags: preserveFlags(c),
      umask: process.umask(),
      queueDepth: c.queueDepth,
      bufferSize: c.bufferSize,
      bufferCount: c.bufferCount,
      direct: c.direct,
      counters: this.counters,
    };
    this.hardLinks = c.hardLinks ? new HardLinkTable() : undefined;
    // Alternate destination directories are relative to the destination, as in rsync.
    const underDest = (d: string): Buffer =>
      Buffer.from(isAbsolute(d) ? d : resolvePath(this.plan.destRoot.toString('latin1'), d), 'latin1');
    this.altDirs = [
      ...c.compareDest.map((d) => ({ kind: 'compare' as const, dir: underDest(d) })),
      ...c.copyDest.map((d) => ({ kind: 'copy' as const, dir: underDest(d) })),
      ...c.linkDest.map((d) => ({ kind: 'link' as const, dir: underDest(d) })),
    ];
    this.backupDir = c.backupDir !== undefined ? underDest(c.backupDir) : undefined;
    input.abort.onAbort = () => Atomics.store(this.counters, Counter.Abort, 1n);
  }

  private get aborted(): boolean {
    return this.input.abort.aborted;
  }

  async go(): Promise<RunTotals> {
    const c = this.c;
    const started = performance.now();
    if (this.plan.createDest) this.makeDestRoot();
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
        for (const root of this.plan.roots) if (!this.aborted) await this.walkRoot(root, 'delete');
      }
      for (const root of this.plan.roots) {
        if (this.aborted) break;
        await this.walkRoot(root, 'transfer');
      }
      await this.flush();
      await this.dispatcher?.drain();
      this.totals.fileListMs = performance.now() - started;
      if (c.deleteMode === 'after' && !this.aborted) {
        for (const root of this.plan.roots) if (!this.aborted) await this.walkRoot(root, 'delete');
      }
      if (!this.aborted && !c.dryRun) {
        this.runNow(this.deferredLinks);
        const meta = new BatchWriter();
        for (let i = this.dirs.length - 1; i >= 0; i--) {
          const d = this.dirs[i]!;
          if (d.needMeta) meta.add(OpKind.DirMeta, d.src, d.rel, d.stat);
        }
        this.runNow(meta);
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
    if (!this.c.json && (this.c.verbose > 0 || this.c.itemize > 0)) {
      let shown = this.c.dest;
      while (shown.length > 1 && shown[shown.length - 1] === 0x2f) shown = shown.subarray(0, shown.length - 1);
      this.reporter.print(`created directory ${showPath(shown)}`);
    }
    if (this.c.dryRun) return;
    try {
      mkdirSync(path, { recursive: this.c.mkpath });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw fsError(-(e.errno ?? -ERRNO.EIO), 'mkdir', showPath(path));
    }
  }

  // ---- failures -----------------------------------------------------------------------------------

  private fail(f: OpFailure): void {
    const vanished = !f.onDest && (f.errno === ERRNO.ENOENT || f.errno === ERRNO.ESTALE);
    const where = (p: Buffer): string => showPath(f.onDest ? joinPath(this.plan.destRoot, p) : p);
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
    this.totals.errors.push({ path: where(f.path), message: e.message, code: e.code });
    this.reporter.error(e.message);
  }

  private ioError(path: Buffer, errno: number, syscall: string, what?: string): void {
    this.totals.ioErrors++;
    const e = fsError(errno, syscall, showPath(path));
    const message = what ? `${what}: ${e.message}` : e.message;
    this.totals.errors.push({ path: showPath(path), message, code: e.code });
    this.reporter.error(message);
  }

  // ---- batches ------------------------------------------------------------------------------------

  private add(kind: OpKind, src: Buffer, rel: Buffer, st: Stat, flags = 0, pending?: Pending): void {
    const index = this.batch.add(kind, src, rel, st, flags);
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
      if (o === Outcome.Failed || o === Outcome.NotRun) continue;
      if (p.verdict.action === 'compare') {
        const changes = p.verdict.changes;
        const v: Verdict = o === Outcome.Equal ? { action: 'attrs', changes } : { action: 'transfer', changes: { ...changes, value: true } };
        this.emit(p.kind, v, p.line);
        if (o === Outcome.Done) this.totals.plannedFiles++;
        if (o === Outcome.Done) this.totals.plannedBytes += p.line.size;
      }
    }
  }

  /** Ops that must happen before the walk goes on (directories, deletions), here and now. */
  private runNow(w: BatchWriter): void {
    if (w.count === 0) return;
    const batch = w.finish();
    if (this.c.dryRun || !this.ctx) return;
    this.ctx.run(batch).forEach((f) => this.fail(f));
  }

  // ---- output -------------------------------------------------------------------------------------

  private emit(kind: FileType, verdict: Verdict, line: Omit<LineInfo, 'itemize'>, hardlinked = false): void {
    if (!this.out.active) return;
    const text = itemize(kind, verdict, this.c, { hardlinked, all: this.out.itemizeAll });
    const changed = verdict.action === 'create' || verdict.action === 'transfer';
    this.out.entry({ ...line, changed, isDir: kind === 'dir' }, text);
  }

  private lineFor(rel: Buffer, src: Buffer, st: Stat, kind: FileType, suffix = ''): Omit<LineInfo, 'itemize'> {
    return {
      name: kind === 'dir' ? `${rel.length ? showPath(this.displayRel(rel)) : '.'}/` : showPath(this.displayRel(rel)),
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

  /** Names are printed relative to the transfer root, which is the destination root here. */
  private displayRel(rel: Buffer): Buffer {
    return rel;
  }

  // ---- the walk -----------------------------------------------------------------------------------

  private async walkRoot(root: Root, mode: 'transfer' | 'delete'): Promise<void> {
    const engine = this.input.engine.name;
    let st = lstatPath(engine, root.src);
    if (isFailure(st)) {
      if (mode === 'transfer') this.ioError(root.src, st.errno, st.syscall, `link_stat "${showPath(root.src)}" failed`);
      return;
    }
    if ((root.contents || this.c.copyLinks) && fileType(st.mode) === 'link') {
      // "link/" (and -L) mean the directory or file behind the link.
      const followed = this.followStat(root.src);
      if (!followed) {
        if (mode === 'transfer') this.ioError(root.src, ERRNO.ENOENT, 'stat', `symlink has no referent "${showPath(root.src)}"`);
        return;
      }
      st = followed;
    }
    st = this.withChmod(st);
    this.rootDev = st.dev;
    if (mode === 'transfer') await this.impliedDirs(root);

    // Filter paths are relative to the transfer root: the directory that `rel` is relative to.
    const filters = this.input.filters;
    const base = root.src.subarray(0, root.src.length - root.rel.length).toString('latin1') || '.';
    const sender = filters?.root('sender', Buffer.from(resolvePath(base), 'latin1'));
    const receiver = filters?.root('receiver', this.plan.destRoot);

    const type = fileType(st.mode);
    if (type === 'dir' && root.dirOnly) {
      // --files-from without -r: the listed directory is made, its contents are not walked.
      if (mode !== 'transfer' || (sender && sender.check(root.rel, true) === 'exclude')) return;
      const f = this.dirFrame(root.src, root.rel, st, this.destStat(root.rel), mode, sender, receiver);
      if (f?.pending) this.emit('dir', f.pending.verdict, f.pending.line);
      return;
    }
    if (type !== 'dir' || !this.c.recursive) {
      if (mode === 'transfer') {
        if (root.rel.length && sender && sender.check(root.rel, false) === 'exclude') return;
        await this.entry(root.src, root.rel, st, this.destStat(root.rel), true);
        await this.maybeFlush();
      }
      return;
    }
    // The root directory itself.
    if (root.rel.length && sender && sender.check(root.rel, true) === 'exclude') return;
    // A destination root made by this run is reported as created, as rsync does ("cd+++++++++ ./").
    const rootDest = this.plan.createDest && !root.rel.length ? undefined : this.destStat(root.rel);
    const frame = this.dirFrame(root.src, root.rel, st, rootDest, mode, sender, receiver);
    if (!frame) return;
    frame.sender = sender?.enterDir(root.rel, root.src);
    frame.receiver = receiver?.enterDir(root.rel);
    const stack: Frame[] = [frame];
    while (stack.length) {
      if (this.aborted) return;
      const dir = stack.pop()!;
      const subdirs = await this.walkDir(dir, mode);
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
    }
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
      const src = Buffer.concat([srcPrefix, rel]);
      const st = lstatPath(this.input.engine.name, src);
      if (isFailure(st) || fileType(st.mode) !== 'dir') continue;
      const dest = this.destStat(rel);
      const verdict = quickCheck(this.withChmod(st), dest, this.check);
      if (verdict.action === 'skip' || verdict.action === 'none') continue;
      this.emit('dir', verdict, this.lineFor(rel, src, st, 'dir'));
      const w = new BatchWriter(512);
      if (verdict.action === 'create') w.add(OpKind.Mkdir, src, rel, this.withChmod(st));
      this.runNow(w);
      this.dirs.push({ src, rel, stat: this.withChmod(st), needMeta: true });
    }
  }

  private followStat(path: Buffer): Stat | undefined {
    try {
      const s = statSync(path, { bigint: true });
      return {
        mode: Number(s.mode),
        uid: Number(s.uid),
        gid: Number(s.gid),
        size: Number(s.size),
        mtimeSec: Number(s.mtimeNs / 1_000_000_000n),
        mtimeNsec: Number(s.mtimeNs % 1_000_000_000n),
        ino: Number(s.ino),
        dev: Number(s.dev),
        nlink: Number(s.nlink),
        rdev: Number(s.rdev),
        blocks: Number(s.blocks),
      };
    } catch {
      return undefined;
    }
  }

  private withChmod(st: Stat): Stat {
    if (!this.c.chmod.length) return st;
    return { ...st, mode: applyChmod(st.mode, this.c.chmod) };
  }

  /** One destination entry's lstat by relative path (a decision input only: ops resolve safely). */
  private destStat(rel: Buffer): Stat | undefined {
    if (this.c.dryRun && !this.ctx) return undefined;
    const st = lstatPath(this.input.engine.name, joinPath(this.plan.destRoot, rel));
    return isFailure(st) ? undefined : st;
  }

  private scanDest(rel: Buffer): Map<string, Stat> {
    return this.scanDestRaw(rel).map;
  }

  /** A destination directory's entries by name (latin1 keys); errno 0 when it could be listed. */
  private scanDestRaw(rel: Buffer): { map: Map<string, Stat>; errno: number } {
    const map = new Map<string, Stat>();
    if (!this.ctx) return { map, errno: 0 };
    const r = this.ctx.scanDest(rel);
    if (isFailure(r)) return { map, errno: r.errno };
    const l = r as DirListing;
    for (let i = 0; i < l.names.length; i++) {
      const st = l.stats[i];
      if (st) map.set(l.names[i]!.toString('latin1'), st);
    }
    return { map, errno: 0 };
  }

  private async lowerConcurrency(): Promise<void> {
    if (this.dispatcher) await this.dispatcher.lowerConcurrency();
  }

  /** Set up a directory to descend into; prints nothing yet (its deletions come first). */
  private dirFrame(
    src: Buffer,
    rel: Buffer,
    st: Stat,
    destSt: Stat | undefined,
    mode: 'transfer' | 'delete',
    sender: FilterScope | undefined,
    receiver: FilterScope | undefined,
  ): Frame | undefined {
    const destIsDir = destSt !== undefined && (destSt.mode & S_IFMT) === S_IFDIR;
    if (mode === 'delete') {
      if (!destIsDir) return undefined;
      return { src, rel, stat: st, destExists: true, sender, receiver, record: undefined, pending: undefined };
    }
    const verdict = quickCheck(st, destSt, { ...this.check, existing: false, ignoreExisting: false, update: false });
    if (this.c.existing && !destSt) return undefined;
    this.totals.listed.dir++;
    const record: DirRecord = { src, rel, stat: st, needMeta: verdict.action !== 'none' };
    const line = this.lineFor(rel, src, st, 'dir');
    if (verdict.action === 'create') {
      this.totals.created.dir++;
      if (!this.c.dryRun) {
        const w = new BatchWriter(512);
        if (destSt && rel.length) this.removeForReplace(rel, destSt, w);
        if (rel.length) w.add(OpKind.Mkdir, src, rel, st);
        this.runNow(w);
      }
    }
    this.dirs.push(record);
    return { src, rel, stat: st, destExists: destIsDir, sender, receiver, record, pending: { verdict, line } };
  }

  /** List one source directory against its destination twin; returns the subdirectories to visit. */
  private async walkDir(dir: Frame, mode: 'transfer' | 'delete'): Promise<Frame[]> {
    let listing = scanDir(this.input.engine.name, dir.src);
    for (let tries = 0; isFailure(listing) && isFdShortage(listing.errno) && tries < 4; tries++) {
      await this.lowerConcurrency();
      listing = scanDir(this.input.engine.name, dir.src);
    }
    if (isFailure(listing)) {
      if (mode === 'transfer') {
        if (listing.errno === ERRNO.ENOENT) this.fail({ index: -1, errno: listing.errno, syscall: listing.syscall, path: dir.src, onDest: false });
        else this.ioError(dir.src, listing.errno, listing.syscall, `opendir "${showPath(dir.src)}" failed`);
      }
      return [];
    }
    let dest = new Map<string, Stat>();
    if (dir.destExists) {
      let r = this.scanDestRaw(dir.rel);
      for (let tries = 0; r.errno !== 0 && isFdShortage(r.errno) && tries < 4; tries++) {
        await this.lowerConcurrency();
        r = this.scanDestRaw(dir.rel);
      }
      if (r.errno !== 0 && r.errno !== ERRNO.ENOENT && r.errno !== ERRNO.ENOTDIR) {
        this.ioError(joinPath(this.plan.destRoot, dir.rel), r.errno, 'scandir', 'opendir failed');
      }
      dest = r.map;
    }

    // rsync's order: non-directories first, then directories, each sorted by name bytes.
    const order = listing.names.map((_, i) => i);
    const isDirAt = (i: number): boolean => {
      const s = listing.stats[i];
      return s !== null && s !== undefined && (s.mode & S_IFMT) === S_IFDIR;
    };
    order.sort((a, b) => Number(isDirAt(a)) - Number(isDirAt(b)) || Buffer.compare(listing.names[a]!, listing.names[b]!));

    // Which source names are in the transfer (filters applied): the rest of `dest` is extraneous.
    const kept: { name: Buffer; src: Buffer; rel: Buffer; st: Stat }[] = [];
    const keptNames = new Set<string>();
    for (const i of order) {
      const name = listing.names[i]!;
      const src = joinPath(dir.src, name);
      const rel = joinPath(dir.rel, name);
      let st = listing.stats[i];
      if (!st) {
        if (mode === 'transfer') this.fail({ index: -1, errno: listing.errors[i] || ERRNO.ENOENT, syscall: 'lstat', path: src, onDest: false });
        // A source entry that vanished must not get its destination twin deleted.
        keptNames.add(name.toString('latin1'));
        continue;
      }
      st = this.withChmod(st);
      if (dir.sender && dir.sender.check(rel, isDirAt(i)) === 'exclude') continue;
      kept.push({ name, src, rel, st });
      keptNames.add(name.toString('latin1'));
    }

    const deleting = this.c.deleteMode !== 'none' && (mode === 'delete' || this.c.deleteMode === 'during');
    let deletedHere = 0;
    if (deleting && dir.destExists) deletedHere = this.deleteExtraneous(dir, dest, keptNames);
    if (mode === 'delete') {
      const next: Frame[] = [];
      for (const k of kept) {
        if ((k.st.mode & S_IFMT) !== S_IFDIR || !this.c.recursive) continue;
        const d = dest.get(k.name.toString('latin1'));
        if (!d || (d.mode & S_IFMT) !== S_IFDIR) continue;
        next.push({
          src: k.src, rel: k.rel, stat: k.st, destExists: true,
          sender: dir.sender?.enterDir(k.rel, k.src), receiver: dir.receiver?.enterDir(k.rel), record: undefined, pending: undefined,
        });
      }
      return next;
    }

    // The directory's own line, now that deletions inside it are known (they move its mtime).
    if (dir.pending) {
      let v = dir.pending.verdict;
      if (deletedHere > 0 && !this.c.dryRun && this.c.times && v.action !== 'create') {
        const changes = 'changes' in v ? v.changes : NO_CHANGES;
        v = { action: 'attrs', changes: { ...changes, time: true } };
      }
      if (deletedHere > 0 && dir.record) dir.record.needMeta = true;
      this.emit('dir', v, dir.pending.line);
      dir.pending = undefined;
    }

    const subdirs: Frame[] = [];
    for (const k of kept) {
      if (this.aborted) break;
      const destSt = dest.get(k.name.toString('latin1'));
      if ((k.st.mode & S_IFMT) === S_IFDIR && this.c.recursive) {
        if (this.c.oneFileSystem > 0 && k.st.dev !== this.rootDev) {
          // -x: the mount point is made but not entered; -xx: not even made.
          if (this.c.oneFileSystem > 1) continue;
          const f = this.dirFrame(k.src, k.rel, k.st, destSt, mode, undefined, undefined);
          if (f?.pending) this.emit('dir', f.pending.verdict, f.pending.line);
          continue;
        }
        const f = this.dirFrame(k.src, k.rel, k.st, destSt, mode, undefined, undefined);
        if (!f) continue;
        if (dir.record && f.pending?.verdict.action === 'create') dir.record.needMeta = true;
        f.sender = dir.sender?.enterDir(k.rel, k.src);
        f.receiver = dir.receiver?.enterDir(k.rel);
        subdirs.push(f);
        continue;
      }
      const changed = await this.entry(k.src, k.rel, k.st, destSt, false);
      if (changed && dir.record) dir.record.needMeta = true;
    }
    await this.maybeFlush();
    return subdirs;
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
  ): Promise<boolean> {
    const c = this.c;
    let st = stIn;
    let kind = fileType(st.mode);
    let flags = 0;

    if (kind === 'link' && (c.copyLinks || c.copyUnsafeLinks || c.safeLinks)) {
      const unsafe = this.unsafeLink(src, rel);
      if (c.copyLinks || (c.copyUnsafeLinks && unsafe)) {
        const target = this.followStat(src);
        if (!target) {
          this.ioError(src, ERRNO.ENOENT, 'stat', `symlink has no referent "${showPath(src)}"`);
          return false;
        }
        st = this.withChmod(target);
        kind = fileType(st.mode);
        flags |= OpFlag.FollowSource;
        if (kind === 'dir') {
          // A followed link to a directory is copied as that directory.
          if (!c.recursive) {
            this.reporter.info(`skipping directory ${showPath(rel)}`);
            return false;
          }
          const f = this.dirFrame(src, rel, st, destSt, 'transfer', undefined, undefined);
          if (f) {
            const sub = await this.walkDir(f, 'transfer');
            const stack = [...sub];
            while (stack.length) stack.push(...(await this.walkDir(stack.pop()!, 'transfer')));
          }
          return true;
        }
      } else if (c.safeLinks && unsafe) {
        if (c.verbose > 0) this.reporter.print(`ignoring unsafe symlink "${showPath(rel)}" -> "${showPath(this.readlink(src) ?? Buffer.alloc(0))}"`);
        return false;
      }
    }

    const d = decide(st, c);
    if ('skip' in d) {
      if (!c.quiet && !c.json) this.reporter.print(`${d.skip} "${showPath(rel)}"`);
      return false;
    }
    if (!isRoot || kind !== 'dir') this.totals.listed[kind]++;
    if (kind === 'reg' || kind === 'link') this.totals.totalSize += st.size;
    if (kind === 'reg') {
      if ((c.minSize !== undefined && st.size < c.minSize) || (c.maxSize !== undefined && st.size > c.maxSize)) return false;
    }

    // Symlink targets are compared only when both sides are links.
    let linkDiffers = false;
    let suffix = '';
    if (kind === 'link') {
      const target = this.readlink(src);
      suffix = ` -> ${showPath(target ?? Buffer.alloc(0))}`;
      if (destSt && fileType(destSt.mode) === 'link') {
        const there = this.ctx?.readlinkDest(rel);
        linkDiffers = !target || !there || isFailure(there) || !target.equals(there as Buffer);
      }
    }

    // -H: later members of a group become links to the first one.
    const leader = this.hardLinks?.leaderOf(st, rel);
    if (leader) {
      const leaderDest = this.destStat(leader);
      if (destSt && leaderDest && destSt.ino === leaderDest.ino && destSt.dev === leaderDest.dev && !this.leaderChanges.has(leader.toString('latin1'))) {
        return false;
      }
      const line = this.lineFor(rel, src, st, kind, ` => ${showPath(leader)}`);
      this.emit(kind, destSt ? { action: 'transfer', changes: NO_CHANGES } : { action: 'create' }, line, true);
      if (destSt && c.backup) this.addBackup(rel, destSt);
      this.deferredLinks.add(OpKind.Hardlink, leader, rel, st);
      if (!destSt) this.totals.created[kind]++;
      return true;
    }

    const verdict = quickCheck(st, destSt, this.check, linkDiffers);
    if (verdict.action === 'skip' || verdict.action === 'none') {
      if (verdict.action === 'none' && this.out.itemizeAll) this.emit(kind, verdict, this.lineFor(rel, src, st, kind, suffix));
      return false;
    }
    if (this.hardLinks && st.nlink > 1 && (verdict.action === 'create' || verdict.action === 'transfer' || verdict.action === 'compare')) {
      this.leaderChanges.add(rel.toString('latin1'));
    }

    // --compare-dest / --copy-dest / --link-dest: an unchanged file in an alternate directory.
    if (kind === 'reg' && this.altDirs.length && (verdict.action === 'create' || verdict.action === 'transfer')) {
      const alt = this.matchAlt(rel, st);
      if (alt) {
        if (alt.kind === 'compare') return false;
        if (c.dryRun) return true;
        if (destSt && c.backup) this.addBackup(rel, destSt);
        if (alt.kind === 'link') this.add(OpKind.LinkFrom, alt.path, rel, st);
        else this.add(OpKind.File, alt.path, rel, { ...st, ino: 0, dev: 0 });
        if (!destSt) this.totals.created[kind]++;
        await this.maybeFlush();
        return true;
      }
    }

    const line = this.lineFor(rel, src, st, kind, suffix);
    if (verdict.action === 'attrs') {
      this.emit(kind, verdict, line);
      if (!c.dryRun) this.add(OpKind.Attrs, src, rel, st);
      return false;
    }

    if (verdict.action === 'compare') {
      if (c.dryRun || (c.backup && destSt)) {
        // Under -n nothing may be written, and a backup must only be made when the content differs:
        // compare here; a real run otherwise compares in the engines, in parallel.
        const equal = this.contentEqual(src, rel, st.size);
        const v: Verdict = equal ? { action: 'attrs', changes: verdict.changes } : { action: 'transfer', changes: { ...verdict.changes, value: true } };
        this.emit(kind, v, line);
        if (!equal) {
          this.totals.plannedFiles++;
          this.totals.plannedBytes += st.size;
        }
        if (!c.dryRun) {
          if (equal) this.add(OpKind.Attrs, src, rel, st);
          else {
            this.addBackup(rel, destSt!);
            this.add(OpKind.File, src, rel, st, flags | (c.removeSourceFiles ? OpFlag.RemoveSource : 0));
          }
          await this.maybeFlush();
        }
        return !equal;
      }
      this.add(OpKind.File, src, rel, st, flags | OpFlag.Compare | (c.removeSourceFiles ? OpFlag.RemoveSource : 0), { kind, verdict, line });
      await this.maybeFlush();
      return true;
    }

    // create or transfer
    this.emit(kind, verdict, line);
    if (!destSt || verdict.action === 'create') this.totals.created[kind]++;
    if (kind === 'reg') {
      this.totals.plannedFiles++;
      this.totals.plannedBytes += st.size;
    }
    if (c.dryRun) return true;
    if (destSt) {
      if (c.backup) this.addBackup(rel, destSt);
      else if ((destSt.mode & S_IFMT) === S_IFDIR && kind !== 'dir') {
        const w = new BatchWriter(1024);
        this.removeForReplace(rel, destSt, w);
        await this.flush();
        this.runNow(w);
      }
    }
    const op = kind === 'reg' ? OpKind.File : kind === 'link' ? OpKind.Symlink : OpKind.Special;
    if (op === OpKind.File && c.removeSourceFiles) flags |= OpFlag.RemoveSource;
    // A big file goes alone so that it does not hold up a batch of small ones.
    if (op === OpKind.File && st.size >= BATCH_BYTES) await this.flush();
    this.add(op, src, rel, st, flags);
    await this.maybeFlush();
    return true;
  }

  private readonly leaderChanges = new Set<string>();

  private readlink(src: Buffer): Buffer | undefined {
    try {
      return readlinkSync(src, { encoding: 'buffer' });
    } catch {
      return undefined;
    }
  }

  /** rsync's "unsafe" symlink: absolute, or climbing above the transfer root. */
  private unsafeLink(src: Buffer, rel: Buffer): boolean {
    const target = this.readlink(src);
    if (!target) return false;
    if (target[0] === 0x2f) return true;
    let depth = rel.toString('latin1').split('/').length - 1;
    for (const part of target.toString('latin1').split('/')) {
      if (part === '..') depth--;
      else if (part !== '.' && part !== '') depth++;
      if (depth < 0) return true;
    }
    return false;
  }

  private matchAlt(rel: Buffer, st: Stat): { kind: 'link' | 'compare' | 'copy'; path: Buffer } | undefined {
    for (const a of this.altDirs) {
      const path = joinPath(a.dir, rel);
      const alt = lstatPath(this.input.engine.name, path);
      if (isFailure(alt) || fileType(alt.mode) !== 'reg') continue;
      const v = quickCheck(st, alt, { ...this.check, existing: false, ignoreExisting: false, update: false });
      if (a.kind === 'link' ? v.action === 'none' : v.action === 'none' || v.action === 'attrs') return { kind: a.kind, path };
    }
    return undefined;
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

  private backupPath(rel: Buffer): Buffer {
    const name = Buffer.concat([rel, Buffer.from(this.c.suffix, 'latin1')]);
    if (!this.backupDir) return joinPath(this.plan.destRoot, name);
    const path = joinPath(this.backupDir, name);
    if (!this.c.dryRun) {
      try {
        mkdirSync(dirName(path), { recursive: true });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        this.ioError(dirName(path), -(e.errno ?? -ERRNO.EIO), 'mkdir', 'backup directory');
      }
    }
    return path;
  }

  private addBackup(rel: Buffer, destSt: Stat): void {
    if (this.c.dryRun || (destSt.mode & S_IFMT) === S_IFDIR) return;
    this.add(OpKind.Backup, this.backupPath(rel), rel, destSt);
  }

  /** Make way for a non-directory where a directory stands (rsync needs --delete or --force for a full one). */
  private removeForReplace(rel: Buffer, destSt: Stat, w: BatchWriter): void {
    if ((destSt.mode & S_IFMT) !== S_IFDIR || this.c.deleteMode === 'none') return;
    this.deleteTree(rel, destSt, w, undefined, false);
  }

  /** Delete what the destination has and the source does not; returns how many were deleted. */
  private deleteExtraneous(dir: Frame, dest: Map<string, Stat>, keep: Set<string>): number {
    if (this.totals.ioErrors > 0 && !this.c.ignoreErrors) {
      if (!this.ioWarningShown) this.reporter.error('IO error encountered -- skipping file deletion');
      this.ioWarningShown = true;
      return 0;
    }
    // rsync deletes in reverse name order.
    const names = [...dest.keys()].filter((n) => !keep.has(n)).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    const w = new BatchWriter(4096);
    let count = 0;
    for (const n of names) {
      const st = dest.get(n)!;
      const rel = joinPath(dir.rel, Buffer.from(n, 'latin1'));
      const isDir = (st.mode & S_IFMT) === S_IFDIR;
      if (dir.receiver && dir.receiver.isProtected(rel, isDir)) continue;
      if (this.deletionsStopped) {
        this.totals.deleteSkipped++;
        continue;
      }
      if (this.deleteTree(rel, st, w, dir.receiver, true)) count++;
    }
    this.runNow(w);
    return count;
  }

  /** Queue the deletion of rel (contents first); prints each. Returns false when nothing was deleted. */
  private deleteTree(rel: Buffer, st: Stat, w: BatchWriter, receiver: FilterScope | undefined, print: boolean): boolean {
    const kind = fileType(st.mode);
    if (kind === 'dir') {
      const inside = this.scanDest(rel);
      const names = [...inside.keys()].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
      const sub = receiver?.enterDir(rel);
      for (const n of names) {
        const childRel = joinPath(rel, Buffer.from(n, 'latin1'));
        const cst = inside.get(n)!;
        if (sub && sub.isProtected(childRel, (cst.mode & S_IFMT) === S_IFDIR)) continue;
        this.deleteTree(childRel, cst, w, sub, print);
        if (this.deletionsStopped) return false;
      }
    }
    if (this.c.maxDelete !== undefined && this.deletedCount() >= this.c.maxDelete) {
      this.deletionsStopped = true;
      this.totals.deleteSkipped++;
      return false;
    }
    this.totals.deleted[kind]++;
    if (print) {
      const line = this.lineFor(rel, rel, st, kind);
      this.out.deleted({ ...line, itemize: '*deleting', op: 'del.' });
    }
    if (this.c.backup && kind !== 'dir') {
      if (!this.c.dryRun) w.add(OpKind.Backup, this.backupPath(rel), rel, st);
    } else {
      w.add(OpKind.Delete, Buffer.alloc(0), rel, st);
    }
    return true;
  }

  private deletedCount(): number {
    const d = this.totals.deleted;
    return d.reg + d.dir + d.link + d.dev + d.special;
  }
}
