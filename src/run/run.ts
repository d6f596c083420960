// One run, from resolved operands to totals: the phases in order. The main thread walks the source
// depth-first and, for each directory, lists the same directory on the destination, so every decision
// is made from two in-memory listings: rsync's quick check, filters, deletions and what to print. Only
// the work that is needed becomes ops: directories are made at once (everything inside needs them),
// files are streamed to the workers in batches (a bounded number in flight, so memory does not grow with
// the tree), hard links follow once every file is in place, and directory metadata comes last, deepest
// first, so writing into a directory never leaves its mtime wrong.
//
// The phases share one RunContext (context.ts); entries come from an EntrySource (source.ts) and ops go
// to an OpSink (sink.ts): the two seams a remote transport plugs into.

import { FuzzyBases } from './fuzzy.js';
import type { EventStream } from '../progress/events.js';
import { actsAsRoot, receiverOutput, type Config } from '../model/config.js';
import { openContext, type EngineSelection } from '../engine/index.js';
import { posix } from 'node:path';
import { isFailure } from '../model/failure.js';
import { Counter } from '../model/ops.js';
import type { Op } from '../engine/batch.js';
import type { OpFailure } from '../engine/types.js';
import { SourceAnchors } from '../plan/anchors.js';
import { BackupPlan } from '../plan/backup.js';
import { DeleteGate } from '../plan/delete-gate.js';
import type { FilterList } from '../plan/filter.js';
import { Overlay } from '../plan/overlay.js';
import type { Plan, Root } from '../plan/sources.js';
import { Output, itemizes, receiverHasI, type EntryEvent } from '../progress/output.js';
import type { Reporter } from '../progress/reporter.js';
import { DeleteListProgress } from '../progress/filelist-progress.js';
import { AltDests } from './alt-dest.js';
import { backedUpLine, unsafeToBackUp } from './backups.js';
import type { RunContext } from './context.js';
import { deleteAfter, deleteBefore, probeWholeList } from './delete-pass.js';
import { DestReads } from './dest.js';
import { PartialLeftovers, regularNames } from './partial-leftovers.js';
import type { DeleteList } from '../plan/deletelist.js';
import { fileType, type Stat } from '../model/stat.js';
import { destRootExists, makeDestRoot, newRootMode } from './dest-root.js';
import { DirLedger } from './dirmeta.js';
import { settled } from './entry.js';
import { destGranularity } from './time-granularity.js';
import { finishHardLinks, linkHardLinks } from './hardlinks.js';
import { Lines, type LineSums } from './lines.js';
import { LineOrder } from './line-order.js';
import { TreeDirLines } from './tree-lines.js';
import { RunTrace, traceLevels } from './trace.js';
import { renderTrace } from './trace-render.js';
import { renderWholeTrace } from './trace-whole.js';
import { SharedInodes } from './dest-links.js';
import { noDelta } from './local-delta.js';
import { FileSums } from './file-sum.js';
import { HardLinkGroups } from './members.js';
import { LocalSink } from './sink.js';
import { TimedSource } from './timed-source.js';
import { LocalSource, type EntrySource } from './source.js';
import { IconvSource } from './iconv-source.js';
import type { NameCharsets } from '../engine/charset.js';
import { MappedSource, idMappers, mapIds, setAclIdRules } from './id-source.js';
import { listStat, receiverOutputUnmultiplexed, wholeSecondList } from '../plan/old-protocol.js';
import { FakeStatSource, fakeStatSource } from './fake-source.js';
import { showPath } from '../util/errors.js';
import { absolutePath, joinPath, rawName } from '../util/names.js';
import { deriveSpec } from './spec.js';
import { Tally } from './tally.js';
import { startClock, stopMessage } from './clock.js';
import type { RunTotals } from '../model/run-totals.js';
import { transferRoot } from './transfer-pass.js';
import { monotonicMs } from '../util/monotonic.js';
import { ShrunkFiles, redoShrunk } from './redo.js';
import { RemovalQueue, removalsWait } from './removal-queue.js';
import { removeNow } from './remove-source.js';
import { ListWindow } from '../model/list-window.js';
import { ItemBytes } from './item-bytes.js';
import { xferSumLength } from './wire-bytes.js';
import { streamFigures } from './stream-list.js';
import { engineRules, xattrRules } from '../plan/xattr-rules.js';
import { XattrViews } from './xattr-views.js';
import { claimParentScan } from './walk.js';

export interface TransferInput {
  config: Config;
  plan: Plan;
  engine: EngineSelection;
  reporter: Reporter;
  filters: FilterList | undefined;
  abort: { aborted: boolean; onAbort?: () => void };
  /** Errors reported before the run (missing source operands): they block deletion like any I/O error. */
  priorErrors?: number;
  /** --json=events: entries, errors and progress as they happen. */
  events?: EventStream;
  /** --temp-dir, absolute and resolved to hold no symlink (cli/main.ts applies the operator-path rule). */
  tempDir?: Buffer;
  /** A pull: the entries' metadata comes from the received file list (run/staged-source.ts). */
  wrapSource?: (local: EntrySource) => EntrySource;
  /** A pull: the sources are files this process staged, linked into place rather than copied (model/ops.ts Preserve.AdoptSource). */
  adoptSources?: boolean;
  /** A pull: the destination directory was made once the list was in (cli/pull-dest-root.ts); the run only says so. */
  destMade?: boolean;
  /** A pull: whether its data came as a delta transfer (rsync's whole_file off), which -vv's line names. */
  pulledDelta?: boolean;
  /** --partial-dir: relative, or absolute and resolved (cli/partial-dir.ts). */
  partialDir?: Buffer | undefined;
  /** --iconv: the charsets, opened and checked by the CLI (engine/charset.ts). */
  charsets?: NameCharsets | undefined;
  /** --write-batch: every entry's itemize string, as the run decides it (progress/output.ts). */
  observe?: (e: EntryEvent, itemize: string) => void;
  /**
   * A pull with --remove-source-files: the far side's sender removes the sources, so each entry whose
   * source the run would have removed (and named under --info=remove) is handed here instead.
   */
  sourceRemoved?: (rel: Buffer) => void;
  /** The walk has listed every entry, `n` in rsync's count (cli/list-count.ts prints it). */
  onListed?: (n: number) => void;
}

/** --partial-dir's waiting partial files, read through the destination (relative) or the engine (absolute). */
function partialLeftovers(pdir: Buffer, dest: DestReads, engine: EngineSelection): PartialLeftovers {
  const fromList = (l: DeleteList): Map<string, Stat> => {
    const names: Buffer[] = [];
    const stats: Stat[] = [];
    for (const i of l.order()) {
      names.push(l.name(i));
      stats.push(l.stat(i));
    }
    return regularNames(names, stats);
  };
  return new PartialLeftovers(pdir, (rel) => fromList(dest.list(rel)), () => {
    const l = engine.scanDir(pdir);
    return isFailure(l) ? new Map<string, Stat>() : regularNames(l.names, l.stats);
  });
}

export async function transfer(input: TransferInput): Promise<RunTotals> {
  const { config: c, plan, filters, abort } = input;
  // -c's compares settle after later entries are planned: their lines keep rsync's order through a queue
  // (--progress orders its own lines by file). -v, -vv, -i: the lines rsync's sender prints come when its generator
  // writes out its requests (its buffer full, or the pass over)
  // (line-order.ts; a pull's lines are the protocol's, and --progress draws each file's lines with its name;
  // a pull keeps a line order for its symlinks' and specials' lines, `made` below).
  // --progress, and a local run's --info=progress2, draw their lines file by file through the reporter's
  // queue (progress/file-progress.ts), which keeps every stdout line in its file's place.
  const byFile = c.progressFiles || (c.progress && !c.dryRun && input.reporter.file !== undefined);
  const compares = c.checksum && !c.dryRun && !(byFile && input.reporter.settle);
  const senderLate = !c.json && (c.info.NAME > 0 || itemizes(c)) && !input.wrapSource && !byFile;
  // -vvv: rsync's debug trace keeps every line of the pass and writes them out in its own order (trace.ts).
  const trace = traced(c, input) ? new RunTrace(traceLevels(c.debug)!, input.reporter, filters?.hasDirMerge) : undefined;
  if (trace) trace.operands = input.plan.roots.length;
  if (trace && filters?.hasDirMerge && trace.levels.filter) filters.dirTrace = trace.mergeRead;
  // --copy-unsafe-links at -v: the sender's "copying unsafe symlink" lines come before the generator's.
  const listTime = !c.json && c.copyUnsafeLinks && !c.copyLinks && c.info.SYMSAFE > 0 && !byFile;
  const items = new ItemBytes(xferSumLength(c.xferSum), streamFigures(c), !c.json && (receiverOutput(c).info.NAME > 1 || receiverHasI(c) > 1), c.localDelta !== undefined && !c.dryRun && !input.wrapSource);
  // (The walk's listed count, read once the tally below exists.)
  // The lines of symlinks and specials wait for their ops' outcomes (line-order.ts): --out-format's or
  // --log-file's without -v too, and a pull's.
  const made = !c.json && !c.dryRun && !byFile && (c.info.NAME > 0 || itemizes(c) || c.outFormat !== undefined || c.logFile !== undefined);
  const order = !trace && (compares || senderLate || listTime || made) ? new LineOrder(input.reporter, { compares, senderLate, listing: listTime }, () => items.generated, () => tally.listedCount()) : undefined;
  const held = trace?.reporter ?? order?.reporter ?? input.reporter;
  const reporter = receiverOutputUnmultiplexed(c.protocol) ? receiverOnStderr(held, c.quiet) : held;
  const engine = input.engine;
  const events = input.events;
  const tally = new Tally((m, rec, bare) => {
    if (bare) reporter.warn(m);
    else reporter.error(m);
    if (rec) events?.error(m, rec.path, rec.code);
  }, plan.destRoot, actsAsRoot(c) && c.owner, c.inplace);
  const charsets = input.charsets;
  const overlay = Overlay.of(plan.roots, c.recursive, (p, anchor) => engine.scanDir(p, anchor), (p) => engine.lstat(p), charsets && { toDest: (n) => charsets.toDestOrSelf(n), toSource: (n) => charsets.toSource(n) });
  // BackupPlan asks the destination whether a symlink may be backed up; that reader exists once the
  // engine context is open, which needs the backup directory BackupPlan resolves: bound below.
  let dest: DestReads | undefined = undefined;
  const backups = new BackupPlan(c, plan.destRoot, (rel, st) => unsafeToBackUp(c, dest!, rel, st), plan.backupDir, (rel) => {
    const line = (): void => backedUpLine(c, reporter, rel, charsets && ((r) => rawName(charsets.toSource(r))));
    return trace ? trace.backedUp(showPath(rel), line) : line();
  });
  // Merging several sources needs every entry of every root: nothing is left to the native quick check.
  // --timeout: the native tree scan holds the main thread without a sign of progress, so the walk (which
  // beats the clock per directory) does the quick check instead.
  // A pull's staging tree has its own times: the native quick check cannot judge it. --partial-dir: an
  // up-to-date file's waiting partial is removed, so every entry is looked at.
  const seesEveryEntry =
    trace !== undefined ||
    filters !== undefined || overlay !== undefined || (c.timeout ?? 0) > 0 || input.wrapSource !== undefined || input.partialDir !== undefined;
  const destTime = destGranularity(plan.destRoot, c.dryRun);
  const spec = deriveSpec(c, { engine, destRoot: plan.destRoot, backupDir: backups.dir, tempDir: input.tempDir, partialDir: input.partialDir, counters: tally.counters, seesEveryEntry, destTime, adoptSources: input.adoptSources, xattrRules: engineRules(xattrRules(filters)) });
  const gate = new DeleteGate(c.ignoreErrors, (l) => reporter.info(l), input.priorErrors ?? 0, () => filters?.ioErrors ?? 0);
  const alt = new AltDests(engine, spec.check, c.amRoot === -1 ? engine.fakeRead?.bind(engine) : undefined);
  abort.onAbort = () => Atomics.store(tally.counters, Counter.Abort, 1n);
  // --bwlimit: the engines' shared rate meter (engine/rate-meter.ts, native/meter.h).
  if (c.bwlimit) Atomics.store(tally.counters, Counter.BwRate, BigInt(c.bwlimit));
  // The watchdog's stop reaches the engines through the abort slot, and the walk through this message.
  const clock = startClock(tally.counters, c, () => (abort.aborted = true));

  const started = monotonicMs();
  // --no-whole-file: the delta search's figures (a dry run sends nothing, so it searches nothing; a
  // pull's delta ran over the wire, and its figures are the protocol's).
  if (c.localDelta && !c.dryRun && !input.wrapSource) tally.totals.delta = noDelta();
  if (plan.createDest) {
    const made = makeDestRoot(c, engine, plan, reporter, newRootMode(c, plan, input.wrapSource === undefined), input.destMade);
    // rsync's receiver sends those lines to its client as messages: a frame header and the line each.
    for (const line of made) tally.totals.messages = (tally.totals.messages ?? 0) + 4 + Buffer.byteLength(line) + 1;
  }
  // --info=backup (-vv): rsync names the --backup-dir as given, "(new)" when it does not exist yet.
  if (c.backupDir !== undefined && receiverOutput(c).info.BACKUP > 0 && !c.json) {
    const there = engine.lstat(Buffer.from(posix.resolve(plan.destRoot.toString('latin1'), Buffer.from(c.backupDir).toString('latin1')), 'latin1'));
    reporter.print(`${isFailure(there) ? '(new) ' : ''}backup_dir is ${c.backupDir}`);
  }
  trace?.generatorStarts();
  alt.resolve(c, plan.destRoot, (m, bare) => (bare ? reporter.warn(m) : reporter.error(m)));
  // A destination that is still missing was not made: nothing in the run writes there (all of its
  // operands were skipped or missing, or it is a dry run).
  const ctx = destRootExists(engine, plan) ? openContext(spec.engineOptions) : undefined;
  dest = new DestReads(engine, ctx, plan.destRoot, c.dryRun, c.amRoot === -1);
  const anchors = new SourceAnchors();
  const fail = (f: OpFailure, op?: Op): void => {
    if (!alt.park(f)) tally.fail(f, op);
  };
  const shrunk = new ShrunkFiles();
  const takenFromSource = c.removeSourceFiles && (c.deleteMode === 'after' || c.deleteMode === 'delay') ? new Set<string>() : undefined;
  const xattrViews = XattrViews.of(c, filters);
  // (A pull's sources are the far side's, removed by its sender.)
  const removals = removalsWait(c, plan.roots) && !input.sourceRemoved ? new RemovalQueue() : undefined;
  const sink = new LocalSink({
    onRemoveSource: takenFromSource && ((rel) => takenFromSource.add(rel.toString('latin1'))),
    removals,
    ctx,
    engineOptions: spec.engineOptions,
    serialEngine: spec.serialEngine,
    workers: c.workers,
    // A rate-limited copy sleeps inside the engine: on this thread those sleeps would hold the event loop.
    inlineFirst: !c.bwlimit,
    dryRun: c.dryRun,
    fileMark: byFile && !c.dryRun && reporter.file ? (size, rel) => reporter.file!(size, rel) : undefined,
    liveMarks: c.progressFiles,
    // --json=events and -vvv's "renaming" lines wait for each file op's outcome.
    eventNames: (events !== undefined || trace !== undefined) && !c.dryRun,
    tempNames: trace !== undefined && !c.dryRun,
    fileEnds: reporter.fileEnded !== undefined && !c.dryRun,
    removedNames: (c.info.REMOVE > 0 && !c.json) || input.sourceRemoved !== undefined,
    anchors,
    fail,
    failedIn: (batch, failures) => shrunk.note(batch, failures),
    settled: (p, o) => settled(rc, p, o),
    delayUpdates: c.delayUpdates === true,
    keepPartial: c.partial,
    // (--direct is the uring engine's alone: its large files stay on its rings.)
    offThread: c.direct && engine.name === 'uring' ? undefined : engine.caps.offThread,
    xrules: xattrViews && ((kind, rel) => xattrViews.ofOp(kind, rel)),
  });
  // --stats (stats2): the time spent listing, not the whole pass (timed-source.ts).
  const listing = c.info.STATS > 1 ? new TimedSource(new LocalSource(engine, ctx, spec.pairQuery, spec.treeQuery, spec.recordQuery)) : undefined;
  const localWalk: EntrySource = listing ?? new LocalSource(engine, ctx, spec.pairQuery, spec.treeQuery, spec.recordQuery);
  const walked = charsets ? new IconvSource(localWalk, charsets, ctx ? (rel) => ctx.scanDest(rel) : undefined) : localWalk;
  const wrapped = input.wrapSource ? input.wrapSource(walked) : walked;
  // A --protocol before 31: the receiver's list has whole-second mtimes, which it compares and sets.
  const times = { modifyWindow: c.modifyWindow, sendsAnyway: c.checksum || c.ignoreTimes };
  const local = wholeSecondList(c.protocol) ? new MappedSource(wrapped, (st, d) => listStat(st, d, times)) : wrapped;
  const ids = idMappers(c, spec.check.isRoot, (m) => reporter.warn(m));
  setAclIdRules(c, spec.check.isRoot);
  const output = new Output(c, reporter, events, c.dryRun, trace?.sender ?? order?.sender, input.observe);
  const rc: RunContext = {
    c, spec, plan, reporter, filters, anchors, alt, backups, overlay, gate, abort, fail, sink, dest, events, order, xattrViews,
    sourceRemoved: input.sourceRemoved,
    pulled: input.wrapSource !== undefined,
    takenFromSource,
    removals,
    source: fakeStatSource(c, engine, ctx, ids ? new MappedSource(local, mapIds(ids)) : local, {
      // rsync stops the run here (exit 11); arsync keeps the entry's own stat, goes on, and exits 23.
      corrupt: (p, v, onDest) => {
        const where = onDest ? joinPath(plan.destRoot, p) : p;
        tally.goOnError(where, `Corrupt user.rsync.%stat xattr attached to "${showPath(absolutePath(where))}": "${v}"`);
      },
      unread: (p, f) => tally.sendError(p, f.errno, f.syscall, `[sender] failed to read xattr user.rsync.%stat for "${showPath(absolutePath(p))}"`),
    }),
    tally,
    dirs: new DirLedger(overlay !== undefined, wholeSecondList(c.protocol)),
    lines: new Lines(
      c,
      output,
      lineSums(c, anchors),
      charsets && { shown: (r) => charsets.toSource(r), deleted: (r) => charsets.deletedLine(r) },
      trace ? (k, n, v, h, p) => trace.decide(k, n, v, { dryRun: c.dryRun, ...h }, p) : undefined,
      input.wrapSource !== undefined,
    ),
    charsets,
    trace,
    lists: new ListWindow(c.incRecursive, byFile && !c.dryRun),
    items,
    hardLinks: new HardLinkGroups(),
    treeLines: new TreeDirLines(),
    sharedInodes: new SharedInodes(),
    root: { current: undefined, index: 0, dev: 0 },
    implied: new Set(),
    partials: input.partialDir && !c.dryRun && !c.leaveDelayed ? partialLeftovers(input.partialDir, dest, engine) : undefined,
    // -y: the basis is chosen for --debug=FUZZY's lines, and without -p for its permission bits
    // (run/basis-mode.ts).
    fuzzy:
      c.fuzzy && ((c.debug.FUZZY > 0 && !c.json) || (!c.perms && !c.dryRun))
        ? new FuzzyBases({ level: c.fuzzy, debug: c.json ? 0 : c.debug.FUZZY, list: (d) => dest!.list(d), altListings: (d) => alt.listings(d), print: (l) => reporter.print(l) })
        : undefined,
  };

  // The walk has listed every entry (--progress's ir-chk becomes to-chk).
  let listComplete = false;
  if ((c.progress || c.progressBar) && !c.dryRun) {
    await reporter.start(tally.counters, () => tally.totals, () => ({ planned: tally.totals.plannedFiles, listed: tally.listedCount(), growing: c.incRecursive && !listComplete, window: byFile ? rc.lists : undefined }));
  }
  const planned = () => ({ files: tally.totals.plannedFiles, bytes: tally.totals.plannedBytes });
  events?.startProgress(tally.counters, planned);
  try {
    // rsync's sender reads the operands' records as it builds the first list, before any deletion.
    claimParentScan(rc, argvOrder(plan.roots, c.sources));
    if (rc.source instanceof FakeStatSource) rc.source.operandRecords(argvOrder(plan.roots.filter((r) => !r.missing), c.sources).map((r) => r.src));
    if (c.deleteMode === 'before') await deleteBefore(rc, deleteListing(c, input, reporter));
    // A local source: a pull's staged tree is whole, its sender's errors already known (priorErrors).
    else if ((c.deleteMode === 'during' || c.deleteMode === 'delay') && !c.incRecursive && !input.wrapSource) await probeWholeList(rc);
    // rsync's generator says how files are sent (--debug=flist, -vv) once the destination exists and its
    // --delete-before pass is done: a local copy sends whole files.
    if (receiverOutput(c).debug.FLIST > 0 && !c.json) {
      const line = `delta-transmission ${input.pulledDelta ?? c.localDelta ? 'enabled' : 'disabled for local transfer or --whole-file'}`;
      reporter.print(line);
      // rsync's generator's line: a message to its sender, as output.ts generatorBytes says.
      tally.totals.messages = (tally.totals.messages ?? 0) + 4 + Buffer.byteLength(line) + 1;
    }
    for (const root of plan.roots) {
      if (abort.aborted) break;
      if (trace) traceRoot(trace, root, engine, input.plan.destRoot, c);
      await transferRoot(rc, root);
    }
    listComplete = true;
    rc.lists.complete();
    if (!abort.aborted) input.onListed?.(tally.listedCount());
    const led = await finishHardLinks(rc);
    await sink.flush();
    await sink.drain();
    await sink.retryFdShortage();
    // Copies from the source for basis files that changed under their ops (queued by settled()).
    if (sink.queued) {
      await sink.flush();
      await sink.drain();
    }
    alt.leftovers().forEach((f) => fail(f));
    // rsync's redo phase: the files whose source shrank while read, copied once more.
    if (shrunk.count && !abort.aborted) await redoShrunk(rc, shrunk);
    // --delay-updates: every finished file into place at once, before deletions and directory times
    // (the renames change directories); an interrupted run leaves them where they wait, as rsync does.
    const delayed = c.delayUpdates && !c.dryRun && !c.leaveDelayed;
    if (delayed && !abort.aborted) {
      await sink.retryFdShortage();
      sink.runDelayed();
    }
    // -H: the leaders exist (one that could not be made gave way to another, whose op runs here): the
    // other members are linked to them.
    await linkHardLinks(rc, led, async () => {
      await sink.flush();
      await sink.drain();
      await sink.retryFdShortage();
      if (delayed) sink.runDelayed();
    });
    tally.totals.fileListMs = listing?.ms ?? monotonicMs() - started;
    order?.listDone();
    // rsync's generator writes out its queued indexes when its pass ends: the sender's lines follow.
    order?.release();
    trace?.passDone();
    // The sources that waited for every file to be read go now, in list order (removal-queue.ts), their
    // lines after the sender's, as rsync's come once its receiver confirms the files.
    if (removals && !abort.aborted) for (const r of removals.take()) removeNow(rc, r);
    // (With incremental recursion rsync's receiver draws other ends, from its lists' indexes: not drawn.)
    if (c.dryRun && c.progress && !c.progressFiles && !c.incRecursive && !c.json && !abort.aborted) {
      reporter.dryRunEnds?.({ bytes: tally.totals.plannedBytes, size: tally.totals.totalSize, files: tally.totals.plannedFiles, listed: tally.listedCount() });
    }
    // --delete-delay deletes after the transfer what the pass found; the order and output are --delete-after's.
    if ((c.deleteMode === 'after' || c.deleteMode === 'delay') && !abort.aborted) await deleteAfter(rc, c.deleteMode === 'after' ? deleteListing(c, input, reporter) : undefined);
    if (!abort.aborted && !c.dryRun) {
      await sink.retryFdShortage();
      sink.runLater();
      // Links and renames that ran out of descriptors go in before the directories get their final times
      // (done after them, they would change those times again).
      await sink.retryFdShortage();
      sink.now(rc.dirs.finalOps((src) => anchors.of(src), xattrViews && ((kind, rel) => xattrViews.ofOp(kind, rel))));
      await sink.retryFdShortage();
    }
    const shape = { dest: showPath(c.dest), pid: process.pid, hardLinks: c.hardLinks, inplace: c.inplace, tempDir: c.tempDir, dryRun: c.dryRun };
    if (trace && c.incRecursive) renderTrace(trace, shape);
    else if (trace) renderWholeTrace(trace, { ...shape, listDone: c.info.FLIST > 0 && c.debug.FLIST > 1 });
  } finally {
    if (filters) filters.dirTrace = undefined;
    await clock?.close();
    tally.totals.threads = sink.threadsUsed;
    tally.totals.ops = sink.opsAdded;
    tally.totals.messages = (tally.totals.messages ?? 0) + output.generatorBytes;
    if (rc.partials) tally.totals.partialsFound = rc.partials.found;
    tally.totals.items = { count: rc.items.count, bytes: rc.items.bytes, exchange: rc.items.exchange(), deletions: { bytes: rc.items.deletionBytes, dirs: rc.items.deletionDirs }, rootListed: rc.items.rootListed };
    await sink.close();
    order?.close();
    ctx?.close();
    reporter.stop();
    events?.stopProgress(tally.counters, planned());
  }
  // Per-directory merge names too long for their directories: I/O errors of the run (rsync's exit 23).
  tally.totals.ioErrors += filters?.ioErrors ?? 0;
  const stop = clock && stopMessage(clock.stopped);
  if (stop) tally.totals.stopMessage = stop;
  tally.totals.aborted = abort.aborted || stop !== undefined;
  return tally.totals;
}

/** The roots (kept in rsync's sorted list order) in the order their operands were given. */
function argvOrder(roots: Root[], sources: Buffer[]): Root[] {
  const strip = (s: Buffer): Buffer => {
    let n = s.length;
    while (n > 1 && s[n - 1] === 0x2f) n--;
    return s.subarray(0, n);
  };
  const given = sources.map(strip);
  const at = (r: Root): number => {
    const i = given.findIndex((s) => s.equals(r.src));
    return i < 0 ? given.length : i;
  };
  return roots.map((r) => ({ r, i: at(r) })).sort((a, b) => a.i - b.i).map((x) => x.r);
}

/** -vvv: the source's place in rsync's first file list ("." for "dir/", else its own name). */
function traceRoot(trace: RunTrace, root: Root, engine: EngineSelection, destRoot: Buffer, c: Config): void {
  const src = root.src.toString('latin1');
  if (root.contents) return trace.rootDir(showPath(root.src), posix.resolve(src));
  const st = engine.lstat(root.src);
  // --delete-during: the generator enters each implied directory's twin (the pass's deletions do the rest).
  const deleting = c.deleteMode === 'during' && !c.dryRun ? destRoot.toString('latin1') : undefined;
  if (c.relative) return traceRelative(trace, root, st, engine, destRoot, c.filesFrom !== undefined, deleting);
  const slash = root.src.lastIndexOf(0x2f);
  const base = slash < 0 ? '' : `${showPath(root.src.subarray(0, slash))}/`;
  // A regular file it replaces is the receiver's basis ("recv mapped").
  const twin = engine.lstat(joinPath(destRoot, root.rel));
  const basis = !isFailure(twin) && fileType(twin.mode) === 'reg' ? twin.size : 0;
  trace.rootNamed(base, showPath(root.rel), !isFailure(st) && fileType(st.mode) === 'dir', isFailure(st) ? 0 : st.size, root.display && showPath(root.display), basis);
}

/**
 * -R: the operand's path below its "/./" (or all of it), each part in the list of the one above it; the
 * sender names its files under the path before the "/./" (rsync's F_PATHNAME; none for --files-from).
 */
function traceRelative(trace: RunTrace, root: Root, st: ReturnType<EngineSelection['lstat']>, engine: EngineSelection, destRoot: Buffer, filesFrom: boolean, deleting: string | undefined): void {
  const prefix = root.src.subarray(0, root.src.length - root.rel.length).toString('latin1');
  // --files-from: rsync's sender works in the source directory, so its names have nothing before them.
  const base = filesFrom || posix.normalize(prefix || '.') === '.' ? '' : `${posix.normalize(prefix).replace(/\/+$/, '')}/`;
  const twin = engine.lstat(joinPath(destRoot, root.rel));
  const basis = !isFailure(twin) && fileType(twin.mode) === 'reg' ? twin.size : 0;
  const parts = showPath(root.rel).split('/');
  trace.rootRelative(base, posix.resolve(prefix || '.'), parts, !isFailure(st) && fileType(st.mode) === 'dir', isFailure(st) ? 0 : st.size, basis, deleting);
}

/**
 * Is rsync's -vvv trace kept? For sources copied recursively, or listed by --files-from (the list shapes
 * the trace numbers: an incremental list, or with --no-inc-recursive or without -r a whole one,
 * trace-whole.ts; -R's implied directories in either); not for --json, nor a pull (its lines are the
 * protocol's).
 */
function traced(c: Config, input: Pick<TransferInput, 'plan' | 'wrapSource' | 'filters'>): boolean {
  const roots = input.plan.roots;
  // Several operands: every one found, only the first a "dir/" (its "." list is the first list).
  const operands = roots.every((r, k) => !r.missing && (k === 0 || !r.contents));
  return traceLevels(c.debug) !== undefined && !c.json && !input.wrapSource && operands && (input.plan.renamed ? roots.length === 1 && !roots[0]!.dirOnly : roots.every((r) => !r.display)) &&
    (c.recursive || c.filesFrom !== undefined) && (!c.relative || relativeTraced(roots, input.filters));
}

/**
 * -R's trace is kept without per-directory merge rules (rsync's parent_dirscan of each operand's path
 * is not traced) and when no operand lies at or beneath another (rsync then sends a directory twice and
 * its receiver drops the duplicate: the repeated entries are not traced).
 */
function relativeTraced(roots: readonly Root[], filters: FilterList | undefined): boolean {
  if (filters?.hasDirMerge) return false;
  const rels = roots.map((r) => `${r.rel.toString('latin1')}/`);
  return rels.every((a, i) => rels.every((b, j) => i === j || !b.startsWith(a)));
}

/**
 * rsync's "building file list ... " is cut by the sender's make_file lines when a whole list's trace
 * prints them: its "done" is then the trace's (trace-whole.ts).
 */
export function wholeListTraced(c: Config, plan: TransferInput['plan'], pulled: boolean, filters: FilterList | undefined): boolean {
  return !pulled && !c.incRecursive && c.debug.FLIST > 1 && traced(c, { plan, wrapSource: undefined, filters });
}

/** %C's sums, when --out-format or --log-file-format prints them. */
function lineSums(c: Config, anchors: SourceAnchors): LineSums | undefined {
  if (c.fileSum === undefined) return undefined;
  const sums = new FileSums(c.fileSum, c.copyLinks || c.copyUnsafeLinks);
  return { of: (src, st) => sums.of(src, st, anchors.of(src)), blank: () => sums.blank(), zeros: () => sums.zeros() };
}

/**
 * rsync's delete pass draws its file-list progress (--info=flist2, without incremental recursion) where
 * its generator is the client's: a pull, --read-batch (the staged tree's run). (--delete-delay's deletions
 * after the transfer draw only within the directories they remove: not drawn.)
 */
function deleteListing(c: Config, input: Pick<TransferInput, 'wrapSource'>, reporter: Reporter): DeleteListProgress | undefined {
  if (!input.wrapSource || c.info.FLIST < 2 || c.quiet || c.json || c.incRecursive) return undefined;
  return new DeleteListProgress((text, open) => reporter.draw(text, open), c.info.PROGRESS > 0);
}

/**
 * Before protocol 23 rsync's receiver does not multiplex its output into the sender's stream: what its
 * generator and receiver print (skipped entries, deletions, backups...) goes to their own stderr. The
 * sender's lines, which rsync marks as such ("[sender] ...", "sender removed ..."), stay on stdout.
 */
function receiverOnStderr(r: Reporter, quiet: boolean): Reporter {
  const route = (write: (line: string) => void) => (line: string): void => (/^(\[sender\] |sender removed )/.test(line) ? write(line) : r.warn(line));
  // An informational line is not printed under -q, on either stream.
  return { ...r, print: route((l) => r.print(l)), info: quiet ? () => {} : route((l) => r.info(l)) };
}
