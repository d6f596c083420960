// One run, from resolved operands to an exit code. The main thread walks the source depth-first, makes
// each directory on the destination before anything inside it is sent, and streams files to the workers
// in batches as it goes (a bounded number in flight, so memory does not grow with the tree). Hard links
// are made once every file is in place, and directory metadata last, deepest first, so a read-only
// directory's mode or an mtime is not disturbed by its own contents being written.

import type { Config } from './cli/config.js';
import { preserveFlags } from './cli/config.js';
import { BatchWriter } from './engine/batch.js';
import { isFailure, lstatPath, openContext, scanDir, type EngineSelection } from './engine/index.js';
import { COUNTER_SLOTS, Counter, OpKind, type EngineOptions, type OpFailure, type Stat } from './engine/types.js';
import { decide, fileType, HardLinkTable, type FileType } from './plan/decide.js';
import type { Plan, Root } from './plan/sources.js';
import { Dispatcher } from './pool/dispatcher.js';
import { ERRNO, errnoCode, fsError, showPath } from './util/errors.js';
import { joinPath } from './util/names.js';
import type { Reporter } from './progress/reporter.js';

/** Flush a batch at this many ops or this many bytes of file data. */
const BATCH_OPS = 256;
const BATCH_BYTES = 16 * 1024 * 1024;

export interface RunTotals {
  /** Entries in the file list by type (rsync's "Number of files"). */
  listed: Record<FileType, number>;
  /** Sum of regular file sizes and symlink lengths (rsync's "Total file size"). */
  totalSize: number;
  /** Bytes of regular files sent to the engines. */
  plannedBytes: number;
  /** Regular files sent to the engines. */
  plannedFiles: number;
  ioErrors: number;
  vanished: number;
  aborted: boolean;
  fileListMs: number;
  counters: BigInt64Array;
  threads: number;
}

interface DirToFinish {
  src: Buffer;
  rel: Buffer;
  stat: Stat;
}

export async function transfer(
  c: Config,
  plan: Plan,
  engine: EngineSelection,
  reporter: Reporter,
  abortSignal: { aborted: boolean; onAbort?: () => void },
): Promise<RunTotals> {
  const counters = new BigInt64Array(new SharedArrayBuffer(COUNTER_SLOTS * 8));
  const totals: RunTotals = {
    listed: { reg: 0, dir: 0, link: 0, dev: 0, special: 0 },
    totalSize: 0,
    plannedBytes: 0,
    plannedFiles: 0,
    ioErrors: 0,
    vanished: 0,
    aborted: false,
    fileListMs: 0,
    counters,
    threads: 0,
  };
  abortSignal.onAbort = () => Atomics.store(counters, Counter.Abort, 1n);

  const engineOptions: EngineOptions = {
    engine: engine.name,
    destRoot: plan.destRoot,
    flags: preserveFlags(c),
    umask: process.umask(),
    queueDepth: c.queueDepth,
    bufferSize: c.bufferSize,
    bufferCount: c.bufferCount,
    direct: c.direct,
    counters,
  };

  const fail = (f: OpFailure): void => {
    const vanished = !f.onDest && (f.errno === ERRNO.ENOENT || f.errno === ERRNO.ESTALE);
    const where = (p: Buffer): string => showPath(f.onDest ? joinPath(plan.destRoot, p) : p);
    if (vanished) {
      totals.vanished++;
      reporter.error(
        f.errno === ERRNO.ESTALE
          ? `file has changed during the run, not copied: "${where(f.path)}"`
          : `file has vanished: "${where(f.path)}"`,
      );
      return;
    }
    totals.ioErrors++;
    reporter.error(fsError(f.errno, f.syscall, where(f.path), f.dest ? where(f.dest) : undefined).message);
  };

  if (plan.createDest) {
    // rsync makes the destination directory itself (one level) when it is missing.
    const destSt = lstatPath(engine.name, plan.destRoot);
    if (isFailure(destSt) && destSt.errno === ERRNO.ENOENT) await mkdirRoot(plan.destRoot, c, reporter);
  }
  const inline = openContext(engineOptions);
  const dispatcher = new Dispatcher({
    engineOptions,
    workers: c.workers,
    inline,
    onFailures: (fs) => fs.forEach(fail),
  });
  await reporter.start(counters, () => totals);

  const hardLinks = c.hardLinks ? new HardLinkTable() : undefined;
  const deferredLinks = new BatchWriter(4096);
  const dirsToFinish: DirToFinish[] = [];
  let batch = new BatchWriter();
  let batchBytes = 0;

  const flush = async (): Promise<void> => {
    if (batch.count === 0) return;
    const encoded = batch.finish();
    batchBytes = 0;
    await dispatcher.submit(encoded);
  };

  /** Run ops that must be done before the walk goes on (directories), here and now. */
  const runNow = (w: BatchWriter): void => {
    if (w.count === 0) return;
    inline.run(w.finish()).forEach(fail);
  };

  /** Plan one entry; returns true when it is a directory to descend into. */
  const planEntry = async (src: Buffer, rel: Buffer, st: Stat, mkdirs: BatchWriter): Promise<boolean> => {
    const type = fileType(st.mode);
    const d = decide(st, c);
    if ('skip' in d) {
      if (!c.quiet) reporter.info(`${d.skip} "${showPath(src)}"`);
      return false;
    }
    totals.listed[type]++;
    if (type === 'reg' || type === 'link') totals.totalSize += st.size;
    const display = type === 'dir' ? `${rel.length ? showPath(rel) : '.'}/` : showPath(rel);
    if (d.op === OpKind.Mkdir) {
      if (rel.length) mkdirs.add(OpKind.Mkdir, src, rel, st);
      dirsToFinish.push({ src, rel, stat: st });
      reporter.listed(display);
      return true;
    }
    const leader = hardLinks?.leaderOf(st, rel);
    if (leader) {
      deferredLinks.add(OpKind.Hardlink, leader, rel, st);
      reporter.listed(`${display} => ${showPath(leader)}`);
      return false;
    }
    reporter.listed(display);
    if (d.op === OpKind.File) {
      // A big file goes alone so that it does not hold up a batch of small ones.
      if (st.size >= BATCH_BYTES) await flush();
      totals.plannedFiles++;
      totals.plannedBytes += st.size;
      batchBytes += st.size;
    }
    batch.add(d.op, src, rel, st);
    if (batch.count >= BATCH_OPS || batchBytes >= BATCH_BYTES) await flush();
    return false;
  };

  const walkStart = performance.now();
  try {
    for (const root of plan.roots) {
      if (abortSignal.aborted) break;
      await walkRoot(root);
    }
    await flush();
    await dispatcher.drain();
    totals.fileListMs = performance.now() - walkStart;
    if (!abortSignal.aborted) {
      // Hard links after every leader is in place; directory metadata deepest first.
      runNow(deferredLinks);
      const meta = new BatchWriter();
      for (let i = dirsToFinish.length - 1; i >= 0; i--) {
        const d = dirsToFinish[i]!;
        meta.add(OpKind.DirMeta, d.src, d.rel, d.stat);
      }
      runNow(meta);
    }
  } finally {
    totals.threads = dispatcher.threadsUsed;
    await dispatcher.close();
    inline.close();
    reporter.stop();
  }
  totals.aborted = abortSignal.aborted;
  return totals;

  async function walkRoot(root: Root): Promise<void> {
    const st = lstatPath(engine.name, root.src);
    if (isFailure(st)) {
      fail({ index: -1, errno: st.errno, syscall: st.syscall, path: root.src, onDest: false });
      return;
    }
    const mkdirs = new BatchWriter(1024);
    let rootStat = st;
    if (root.contents && fileType(st.mode) !== 'dir') {
      // "link/": the directory behind the link.
      const { statSync } = await import('node:fs');
      const s = statSync(root.src, { bigint: true });
      rootStat = {
        ...st,
        mode: Number(s.mode),
        uid: Number(s.uid),
        gid: Number(s.gid),
        mtimeSec: Number(s.mtimeNs / 1_000_000_000n),
        mtimeNsec: Number(s.mtimeNs % 1_000_000_000n),
        ino: Number(s.ino),
        dev: Number(s.dev),
      };
    }
    const descend = await planEntry(root.src, root.rel, rootStat, mkdirs);
    runNow(mkdirs);
    if (!descend) return;
    // Depth-first with an explicit stack: deep trees cannot overflow the JS stack.
    const stack: { src: Buffer; rel: Buffer }[] = [{ src: root.src, rel: root.rel }];
    while (stack.length) {
      if (abortSignal.aborted) return;
      const dir = stack.pop()!;
      const listing = scanDir(engine.name, dir.src);
      if (isFailure(listing)) {
        if (listing.errno === ERRNO.ENOENT) fail({ index: -1, errno: listing.errno, syscall: listing.syscall, path: dir.src, onDest: false });
        else {
          totals.ioErrors++;
          reporter.error(`opendir ${showPath(dir.src)} failed: ${fsError(listing.errno, listing.syscall, showPath(dir.src)).message}`);
        }
        continue;
      }
      const subdirs: { src: Buffer; rel: Buffer }[] = [];
      // rsync's file list is sorted by name bytes; listing and itemize order follow it.
      const order = listing.names.map((_, i) => i).sort((a, b) => Buffer.compare(listing.names[a]!, listing.names[b]!));
      for (const i of order) {
        const name = listing.names[i]!;
        const est = listing.stats[i];
        const src = joinPath(dir.src, name);
        const rel = joinPath(dir.rel, name);
        if (!est) {
          fail({ index: -1, errno: listing.errors[i] || ERRNO.ENOENT, syscall: 'lstat', path: src, onDest: false });
          continue;
        }
        if (await planEntry(src, rel, est, mkdirs)) subdirs.push({ src, rel });
      }
      // Directories for this level exist before any of their files is sent.
      runNow(mkdirs);
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
    }
  }
}

async function mkdirRoot(path: Buffer, c: Config, reporter: Reporter): Promise<void> {
  const { mkdirSync } = await import('node:fs');
  try {
    mkdirSync(path);
    if (c.verbose > 0) reporter.info(`created directory ${showPath(path)}`);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw fsError(-(e.errno ?? -ERRNO.EIO), 'mkdir', showPath(path));
  }
}

export { errnoCode };
