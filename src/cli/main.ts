// The CLI's entry: argv in, exit code out. Everything that can be checked without I/O is checked first
// (options, engine, operands); then one transfer runs and its outcome maps onto rsync's exit codes. Under
// --json all text goes to stderr and stdout gets exactly one summary document, whatever happened.

import { parseArgs } from './options.js';
// The remote side (the protocol, zlib and Node's streams) is loaded only by a run that names another
// machine: a local copy does not pay for initialising it (docs/benchmarks.md, "Small jobs, session 11").
import type { Pulled } from './pull.js';
import { listLocal } from './list-local.js';
import { OptionError } from './local-noops.js';
import { openLogFile } from './output-options.js';
import type { LogFile } from '../progress/logfile.js';
import { selectEngine } from '../engine/index.js';
import { resolveOperands } from '../plan/sources.js';
import { transfer, wholeListTraced } from '../run/run.js';
import { startBatch } from './batch-run.js';
import { exitLine } from '../run/trace-render.js';
import { traceLevels } from '../run/trace.js';
import { danglingDestination } from '../run/dest-root.js';
import { exitCode } from '../run/tally.js';
import { receiverOutput, type Config } from '../model/config.js';
import { filterRefusal, impliedDirsRefusal, protocolNotes } from './protocol-option.js';
import { statsCountLines } from '../plan/old-protocol.js';
import { createReporter } from '../progress/reporter.js';
import { literalData, logTotalsLine, rsyncSeconds, statsLines } from '../progress/stats.js';
import { Counter } from '../model/ops.js';
import { ERRNO, Exit, FileSelectError, UsageError, errnoText, exitMessage, showPath, type FsError } from '../util/errors.js';
import { statSync } from 'node:fs';
import { errnoSuffix } from '../util/strerror.js';
import { setAbortHandler, setSignalExitHook } from './signals.js';
import { becomeCopyAsUser } from './copy-as.js';
import { ELOOP_TEXT, UNTRUSTED_SYMLINK, resolveOperatorPath } from '../plan/operator-path.js';
import { partialDirConfinement, partialDirFor } from './partial-dir.js';
import { checkTempDir } from './temp-dir.js';
import { FilterList } from '../plan/filter.js';
import { FilterError } from '../plan/filter-rules.js';
import { VERSION } from '../version.js';
import { outputBytes, setEightBitOutput, setOutputLocale } from '../util/names.js';
import { jsonMode, summaryDocument, type RunReport } from '../progress/json.js';
import { EventStream } from '../progress/events.js';
import { resolve as resolvePath } from 'node:path';
import { ClientCharset, NameCharsets } from '../engine/charset.js';
import { monotonicMs } from '../util/monotonic.js';
import { PATH_MAX } from '../model/path-max.js';
import { gatherStdout } from './stdout-gather.js';
import { listCount } from './list-count.js';

export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export async function main(argv: string[], io: Io = { out: process.stdout, err: process.stderr }): Promise<number> {
  const started = monotonicMs();
  const report: RunReport = { errors: [] };
  const mode = jsonMode(argv.slice(2));
  if (mode === undefined) return run(argv, io, report, started);
  // --json: what would go to stdout (help, listings) goes to stderr; stdout carries only the document,
  // written once: at the end, or by the signal handler if a signal ends the process first. Under
  // --json=events it is the last line of the stream (the `end` event).
  const events = mode === 'events' ? new EventStream(io.out) : undefined;
  const printDocument = (code: number): void => {
    setSignalExitHook(undefined);
    const doc = summaryDocument(VERSION, report, code, monotonicMs() - started);
    if (events) events.end(doc);
    else io.out.write(JSON.stringify(doc, null, 2) + '\n');
  };
  setSignalExitHook(printDocument);
  let code: number;
  try {
    code = await run(argv, { out: io.err, err: io.err }, report, started, events);
  } catch (err) {
    report.errors.push({ message: `internal error: ${err instanceof Error ? err.message : String(err)}` });
    printDocument(Exit.FileIO);
    throw err;
  }
  printDocument(code);
  return code;
}

/** cli/staging-dir.ts StagingError, told by its name: that module is loaded only for a pull or a batch read. */
const isStagingError = (err: unknown): err is Error => err instanceof Error && err.name === 'StagingError';

async function run(argv: string[], io: Io, report: RunReport, started: number, events?: EventStream): Promise<number> {
  /** A message and rsync's exit code for it; the message is also the JSON document's error. */
  // --log-file, once the options are read: failures after that are logged too.
  const logged: { log?: LogFile } = {};
  // `bare`: a line rsync prints without its name (its rprintf lines, as against rsyserr's).
  const fail = (message: string, code: number, bare = false): number => {
    const line = bare ? message : `arsync: ${message}`;
    io.err.write(`${line}\n`);
    logged.log?.line(line);
    report.errors.push({ message });
    return finish(io, code, logged.log);
  };
  let parsed;
  try {
    parsed = parseArgs(argv, true);
  } catch (err) {
    if (err instanceof OptionError) {
      return fail(err.message, err.exitCode, err.bare);
    }
    if (err instanceof UsageError) return fail(err.message, Exit.Usage, err.bare);
    throw err;
  }
  if (parsed.kind === 'print') {
    io.out.write(parsed.text);
    return Exit.Ok;
  }
  // rsync's client applies --confine-root to its own end only; arsync does so for a local copy and
  // refuses it (rather than ignore it) where the other end is remote.
  const remoteConfig = parsed.kind === 'remote-list' ? parsed.list.config : parsed.kind === 'remote-push' ? parsed.push.config : parsed.kind === 'remote-pull' ? parsed.pull.config : undefined;
  if (remoteConfig?.confineRoot) return fail('--confine-root is only supported for a local copy', Exit.Usage);
  // --iconv between machines: this client's charset is opened now, before the connection (rsync's
  // setup_iconv on its client opens LOCAL only; the server opens REMOTE).
  let wire: ClientCharset | undefined;
  if (remoteConfig?.iconv) {
    const opened = ClientCharset.open(remoteConfig.iconv.local);
    if (!(opened instanceof ClientCharset)) return fail(opened.message, opened.unsupported ? Exit.Unsupported : Exit.Usage, opened.unsupported);
    wire = opened;
  }
  if (parsed.kind === 'remote-list') {
    setEightBitOutput(parsed.list.config.eightBit);
    const { listRemote } = await import('./remote.js');
    let code: number;
    try {
      code = await listRemote(parsed.list, process.env, io, wire);
    } catch (err) {
      // A host the remote shell would read as an option (rsh.ts shellHost): rsync's exit 1.
      if (err instanceof UsageError) return fail(err.message, Exit.Usage, err.bare);
      throw err;
    }
    return code === Exit.Ok ? code : finish(io, code);
  }
  if (parsed.kind === 'remote-push') {
    const c = parsed.push.config;
    setEightBitOutput(c.eightBit);
    // rsync opens its log as soon as the options are read.
    const log = (logged.log = openLogFile(c, (l) => io.err.write(`${l}\n`), (l) => io.out.write(`${l}\n`)));
    const [{ pushRemote }, { PushLog }] = await Promise.all([import('./remote-push.js'), import('./push-log.js')]);
    let code: number;
    const ended = { byPeer: false };
    try {
      code = await pushRemote(parsed.push, process.env, io, log && new PushLog(log, c.dryRun), argv.slice(2), ended, c.json ? report : undefined, wire);
    } catch (err) {
      // A local --files-from list that cannot be read, found as the walk starts: rsync's exit 1.
      if (err instanceof UsageError) return fail(err.message, Exit.Usage, err.bare);
      // A bad rule in a per-directory merge file the walk read: rsync's sender stops (1, or 11 for the depth cap).
      if (err instanceof FilterError) return fail(err.message, err.exitCode, err.bare);
      throw err;
    }
    // The far side's exit line (MSG_ERROR_EXIT) stands for ours, as in rsync's client, which still says
    // its own when it logs to a file without --info=stats (cleanup.c's condition for log_exit).
    if (code !== Exit.Ok && ended.byPeer && !(log && c.info.STATS < 1)) {
      log?.line(exitMessage(code));
      return code;
    }
    return code === Exit.Ok ? code : finish(io, code, log);
  }
  // A pull: fetch into a staging tree, then the local run from it (cli/pull.ts).
  let pulled: Pulled | undefined;
  let removeStaging: ((dir: string) => void) | undefined;
  if (parsed.kind === 'remote-pull') {
    let pull = parsed.pull;
    setEightBitOutput(pull.config.eightBit);
    if (pull.config.copyAs !== undefined) {
      // The switch happens once the remote shell runs, and the local run is then already USER's.
      const { remoteCopyAs } = await import('./remote-copy-as.js');
      const as = remoteCopyAs(pull.config.copyAs);
      if ('error' in as) return fail(as.error, Exit.Usage);
      pull = { ...pull, copyAs: as, config: { ...pull.config, copyAs: undefined, amRoot: as.amRoot } };
    }
    const pullMod = await import('./pull.js');
    removeStaging = pullMod.removeStaging;
    // --bwlimit held the wire (the far side sent no faster); rsync's receiver writes its disk unlimited.
    // (--write-batch was the pull's to write: the local half writes none.)
    // (--munge-links: the links were staged munged and are taken as they are: cli/pull-stage.ts stagedLinks.)
    // (--iconv: the names were converted as the list came; the staged tree has the local names already.)
    const localHalf = (r: Pulled): Config => ({ ...pull.config, sources: r.operands, incRecursive: false, receiverIncRecursive: pull.config.incRecursive, bwlimit: 0, batch: undefined, iconv: undefined, ...pullMod.stagedLinks(pull.config), ...r.local });
    // --remove-source-files: the local half runs inside the session, and the far side's sender removes
    // the sources of what it placed (cli/pull.ts); the local run then removes nothing itself.
    let inside: number | undefined;
    // (--only-write-batch: nothing is placed, so nothing is removed.)
    const removing = pull.config.removeSourceFiles && !pull.config.dryRun && pull.config.batch?.mode !== 'only-write';
    const fetched = pullMod.fetchRemote(
      pull,
      process.env,
      io,
      argv.slice(2),
      removing
        ? async (staged) => {
            const removed: Buffer[] = [];
            staged.sourceRemoved = (rel) => removed.push(rel);
            inside = await runLocal(localHalf(staged), io, report, started, events, staged, argv.slice(2));
            return removed;
          }
        : undefined,
      pull.config.json ? report.errors : undefined,
      wire,
    );
    let r: Awaited<typeof fetched>;
    try {
      r = await fetched;
    } catch (err) {
      // A local --files-from list that cannot be read: rsync's exit 1, before the remote shell starts.
      if (err instanceof UsageError) return fail(err.message, Exit.Usage, err.bare);
      if (isStagingError(err)) return fail(err.message, Exit.FileIO);
      throw err;
    }
    // What the server said after the list and no local half printed yet (cli/pull.ts Pulled.held).
    const sayHeld = (): void => {
      // (Raw bytes in them: a line --iconv converted into LOCAL.)
      if ('staging' in r) for (const text of r.held?.splice(0) ?? []) io.out.write(outputBytes(text));
    };
    if (inside !== undefined) {
      sayHeld();
      if ('staging' in r) removeStaging(r.staging);
      // What the goodbye added (the far side failed to remove a source: its exit code) is said last.
      return r.code > inside ? finish(io, r.code) : inside;
    }
    if (!('staging' in r)) return r.code === Exit.Ok ? r.code : finish(io, r.code);
    // A destination that does not exist yet gets the staged tree itself, when the local half would
    // only have made every entry as listed (cli/pull-place.ts).
    // (Not for a salvage, whose tree lacks what did not arrive: cli/pull-salvage.ts.)
    if (!pull.copyAs && !r.salvage) {
      const engine = selectEngine(pull.config.engine, [pull.config.dest]);
      const placed = 'error' in engine ? false : (await import('./pull-place.js')).placeWhole(localHalf(r), r, engine);
      if (placed) sayHeld();
      if (placed === 'placed, holder kept') {
        io.err.write(`arsync: warning: an entry appeared in the empty destination while the pulled tree took its place; it is kept in ${r.staging}\n`);
        return Exit.Ok;
      }
      if (placed) {
        removeStaging(r.staging);
        return Exit.Ok;
      }
    }
    pulled = r;
    parsed = { kind: 'run' as const, config: localHalf(r) };
  }
  // --read-batch: the batch is rebuilt into a staging tree as a pull's data is (cli/batch-read.ts).
  if (parsed.kind === 'run' && parsed.config.batch?.mode === 'read') {
    setEightBitOutput(parsed.config.eightBit);
    const [batchMod, pullMod] = await Promise.all([import('./batch-read.js'), import('./pull.js')]);
    removeStaging = pullMod.removeStaging;
    let r: Awaited<ReturnType<typeof batchMod.readBatch>>;
    try {
      r = await batchMod.readBatch(parsed.config, io);
    } catch (err) {
      if (isStagingError(err)) return fail(err.message, Exit.FileIO);
      throw err;
    }
    if (!('staging' in r)) return r.code === Exit.Ok ? r.code : finish(io, r.code);
    pulled = r;
    parsed = { kind: 'run' as const, config: { ...r.config, sources: r.operands, incRecursive: false, receiverIncRecursive: r.config.incRecursive, ...pullMod.stagedLinks(r.config) } };
  }
  // A local run's stdout off a terminal goes out in large writes (cli/stdout-gather.ts); a pull's local
  // half shares stderr with the remote shell's, whose lines this process does not see.
  const gathered = pulled ? undefined : gatherStdout(io);
  try {
    const code = await runLocal(parsed.config, gathered?.io ?? io, report, started, events, pulled, argv.slice(2));
    pulled?.afterLocal?.();
    return code;
  } finally {
    gathered?.close();
    if (pulled) removeStaging?.(pulled.staging);
  }
}

async function runLocal(c: Config, io: Io, report: RunReport, started: number, events: EventStream | undefined, pulled: Pulled | undefined, args: string[]): Promise<number> {
  const logged: { log?: LogFile } = {};
  // `bare`: a line rsync prints without its name (its rprintf lines, as against rsyserr's).
  const fail = (message: string, code: number, bare = false): number => {
    const line = bare ? message : `arsync: ${message}`;
    io.err.write(`${line}\n`);
    logged.log?.line(line);
    report.errors.push({ message });
    return finish(io, code, logged.log);
  };
  if (c.copyAs !== undefined) {
    const as = becomeCopyAsUser(c.copyAs);
    if ('error' in as) return fail(as.error, Exit.Usage);
    c.amRoot = as.amRoot;
  }
  // --stderr=all (--msgs2stderr): every message goes to stderr, listings and summaries too. rsync's
  // "errors" and "client" modes print alike for a local copy (errors on stderr, the rest on stdout).
  if (c.stderr === 'all') io = { out: io.err, err: io.err };
  // rsync opens its log as soon as the options are read.
  const log = (logged.log = openLogFile(c, (l) => io.err.write(`${l}\n`), (l) => io.out.write(`${l}\n`)));
  report.dryRun = c.dryRun;
  setEightBitOutput(c.eightBit);
  setOutputLocale(process.env);

  const engine = selectEngine(c.engine, [...c.sources, c.dest]);
  if ('error' in engine) return fail(engine.error, Exit.Usage);
  // --fake-super keeps what it cannot set in xattrs: an engine without them refuses it as -X.
  const fakes = c.fakeSuper === true || c.amRoot === -1;
  if (!engine.caps.xattrs && (c.xattrs || c.acls || fakes)) {
    const why = engine.missingAddon ? `${engine.missingAddon.reason}. To fix: ${engine.missingAddon.fix}` : engine.reason;
    return fail(`${c.xattrs ? '-X/--xattrs' : c.acls ? '-A/--acls' : '--fake-super'} needs the native addon: ${why}`, Exit.Usage);
  }
  // --iconv: the charsets are opened now (rsync's setup_iconv), so a bad one ends the run before any I/O.
  let charsets: NameCharsets | undefined;
  if (c.iconv) {
    const opened = NameCharsets.open(c.iconv);
    // (rsync's iconv_open failure is one of its rprintf lines: printed without the program's name.)
    if (!(opened instanceof NameCharsets)) return fail(opened.message, opened.unsupported ? Exit.Unsupported : Exit.Usage, opened.unsupported);
    charsets = opened;
    // --debug=ICONV (on at -vv): each side names its charset; rsync's receiver says it before its output
    // is multiplexed, so on stderr.
    if (c.debug.ICONV > 0 && !c.json) io.out.write(`[sender] charset: ${opened.local}\n`);
    if (receiverOutput(c).debug.ICONV > 0 && !c.json) io.err.write(`[Receiver] charset: ${opened.remote}\n`);
  }
  report.engine = engine;
  if (engine.warning && !c.quiet) io.err.write(`arsync: ${engine.warning}\n`);

  let filters: FilterList | undefined;
  try {
    if (c.filters.length || c.cvsExclude) {
      filters = FilterList.fromOptions(c.filters, {
        cvsExclude: c.cvsExclude,
        deleteExcluded: c.deleteExcluded,
        cvsOnThisSide: pulled !== undefined,
        insecureLinks: c.insecureLinks,
        confineRoot: c.confineRoot,
        eolNulls: c.from0,
        onRefusal: (m) => io.err.write(`arsync: ${m}\n`),
        onNote: (line, error) => (error ? io.err : io.out).write(`${line}\n`),
        trace: c.debug.FILTER > 0 && !c.json,
      });
    }
  } catch (err) {
    if (err instanceof FilterError) return fail(err.message, err.exitCode, err.bare);
    throw err;
  }
  const tooModern = filterRefusal(c, filters);
  if (tooModern) return fail(...tooModern);

  if (c.listOnly) {
    const reporter = createReporter({ verbose: c.verbose, quiet: c.quiet, progress: false, human: c.humanReadable, log, ...io });
    const code = await listLocal(c, engine, filters, reporter, io.out, charsets);
    return code === Exit.Ok ? code : finish(io, code, log);
  }

  let resolved;
  try {
    const listed = filters && !filters.isEmpty ? (root: Buffer, rel: Buffer, isDir: boolean) => filters.check(rel, isDir, filters.root('sender', root)) !== 'exclude' : undefined;
    resolved = await resolveOperands(c, (p) => engine.lstat(p), listed, traceLevels(c.debug) !== undefined, pulled !== undefined);
  } catch (err) {
    if (err instanceof UsageError) return fail(err.message, Exit.Usage, err.bare);
    if (err instanceof FileSelectError) {
      // rsync's receiver judges the destination once the first list has arrived: the sender's header
      // and its errors about unreadable operands come first, and its "ERROR:" lines carry no name.
      const header = listHeader(c, pulled !== undefined);
      if (header) io.out.write(header);
      if (header && !c.incRecursive && err.before.length) io.err.write('\n');
      for (const m of err.before) io.err.write(m.bare ? `${m.message}\n` : `arsync: ${m.message}\n`);
      return fail(err.message, Exit.FileSelect, err.message.startsWith('ERROR: '));
    }
    const e = err as FsError;
    // The destination cannot be made (a missing parent without --mkpath): rsync's code 11.
    // rsync's receiver makes it before it forks its generator, and says so in its own name.
    if (typeof e.syscall === 'string') return fail(`[Receiver] ${e.syscall} "${e.path ?? ''}" failed: ${errnoSuffix(e.errno ?? ERRNO.EIO)}`, Exit.FileIO);
    throw err;
  }

  // A pull made the destination once the list was in (cli/pull-dest-root.ts): it is this run's new root.
  if (pulled?.destMade) resolved.plan.createDest = true;
  const orphan = impliedDirsRefusal(c, resolved.plan.roots);
  if (orphan) return fail(orphan, Exit.StreamIO);
  const dangling = resolved.plan.createDest ? danglingDestination(c, resolved.plan.destRoot) : undefined;
  if (dangling) return fail(dangling, Exit.FileIO);
  const checked = checkOperatorPaths(c, resolved.plan.destRoot);
  if ('message' in checked) {
    // Outside --confine-root rsync says no more than its exit line (its failed backup has no message).
    if (checked.confined) return finish(io, checked.code, log);
    if (checked.bare) return fail(checked.message, checked.code, true);
    io.err.write(`arsync: ${UNTRUSTED_SYMLINK}\n`);
    return fail(checked.message, checked.code);
  }
  // From here on the destination is named without symlinks, and the engines open it following none:
  // a symlink swapped in after this check cannot redirect the run.
  resolved.plan.destRoot = checked.destRoot;
  const tempDir = checkTempDir(c, resolved.plan.destRoot);
  if (!tempDir.ok) {
    if (tempDir.untrusted) io.err.write(`arsync: ${UNTRUSTED_SYMLINK}\n`);
    return fail(tempDir.message, tempDir.code, tempDir.bare);
  }
  const partialOutside = partialDirConfinement(c);
  if (partialOutside) return fail(partialOutside, Exit.FileIO);
  const partialDir = partialDirFor(c, (line) => io.err.write(`arsync: ${line}\n`));
  // Likewise the backup directory: the operator's own symlinks on its way were followed once, here.
  if (checked.backupDir) resolved.plan.backupDir = checked.backupDir;

  // --write-batch: the script is written and the batch opened before the run (cli/batch-run.ts).
  const batch = c.batch && c.batch.mode !== 'read' ? await startBatch(c, args) : undefined;
  if (batch && 'message' in batch) return fail(batch.message, batch.code);
  if (batch) c = batch.config;
  // --info=flist2 without incremental recursion: rsync's count of its whole list comes before the
  // transfer's lines (cli/list-count.ts); stdout is held from the header until the walk is over.
  const counted = !pulled && !c.json && c.info.FLIST > 1 && !c.incRecursive && c.dirs ? listCount(io, c.info.FLIST) : undefined;
  if (counted) io = counted.io;
  // --info=progress2 draws rsync's whole-run line; --progress's lines per file come from the run.
  const reporter = createReporter({ verbose: c.verbose, quiet: c.quiet, progress: c.progress && !c.progressFiles, files: c.progressFiles, bar: c.progressBar && !c.quiet, human: c.humanReadable, log, ...(pulled?.progressRecords ? { replay: pulled.progressRecords } : {}), ...io });
  // A pull is rsync's receiving client: it receives the list.
  log?.line(pulled ? 'receiving file list' : 'building file list');
  // (cli/pull.ts printed "receiving file list ... done" under the same condition.)
  if (pulled && c.info.FLIST > 0 && !c.json && !c.quiet) log?.line('done');
  // Which engine runs and why: arsync's own line, kept off -v's output (rsync scripts parse that) and
  // printed at --debug=proto (or -vvvv), where rsync reports how it talks to the other side.
  if (c.debug.PROTO > 0) io.out.write(`engine: ${engine.name} (${engine.reason})\n`);
  const notes = protocolNotes(c);
  for (const l of notes.out) io.out.write(`${l}\n`);
  for (const l of notes.err) io.err.write(`${l}\n`);
  // rsync's send_file_list(): an incremental list announces itself; a whole one is built first, and only
  // when directories are transferred (-r, -d, --files-from).
  const whole = listHeader(c, pulled !== undefined);
  const traced = whole === 'building file list ... done\n' && wholeListTraced(c, resolved.plan, false, filters);
  const header = traced ? 'building file list ... \n' : counted ? 'building file list ... ' : whole;
  if (header) io.out.write(header);
  // (-vvv's trace writes out the whole list itself.)
  if (counted && !traced) counted.hold();
  else counted?.listed(undefined);

  let ioErrors = 0;
  // An implied directory found missing (plan/sources.ts ImpliedParents): exit 24, deletions go on.
  let vanished = 0;
  const preErrors: { path: string; message: string; code?: string }[] = [];
  events?.start(VERSION, engine, c.dryRun);
  // rsync's whole list leaves "building file list ... " open while it walks: the first error about
  // an operand ends that line on stderr.
  if ((header === 'building file list ... done\n' || header === 'building file list ... ') && resolved.missing.length) io.err.write('\n');
  // rsync's sender says which named directories it leaves out as it builds the list, before its
  // receiver makes the destination (plan/sources.ts skippedDirs).
  if (!c.quiet && !c.json) for (const name of resolved.skippedDirs) reporter.print(`skipping directory ${showPath(name)}`);
  for (const m of resolved.missing) {
    events?.error(m.message, m.display, m.code);
    if (m.vanished) vanished++;
    else ioErrors++;
    preErrors.push({ path: m.display, message: m.message, code: m.code });
    if (m.bare) reporter.warn(m.message);
    else reporter.error(m.message);
  }

  const StagedSource = pulled ? (await import('../run/staged-source.js')).StagedSource : undefined;
  // SIGINT/SIGTERM/SIGHUP during the transfer: tell the engines to stop (they remove their temp files),
  // then exit 20. Before and after it, cli/signals.ts exits 20 at once.
  const abort: { aborted: boolean; onAbort?: () => void } = { aborted: false };
  // A signal that arrived while the checks above ran synchronously (a --files-from FIFO, say) is only
  // seen when the event loop turns (measured: only in the second turn when it came during start-up): let
  // it end the run here, before anything is written.
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
  setAbortHandler(() => {
    abort.aborted = true;
    abort.onAbort?.();
  });

  let totals;
  try {
    // A pull that found the destination current (cli/pull-current.ts) starts no run: no walk, no workers.
    totals = pulled?.current
      ? (await import('./pull-current.js')).currentRunTotals(pulled.current, resolved.plan.destRoot)
      : await transfer({
        // rsync's receiver deletes nothing after its sender's I/O error (the list may lack what still exists).
        config: c, plan: resolved.plan, engine, reporter, filters, abort, priorErrors: ioErrors + (pulled?.senderFailed ? 1 : 0), events, tempDir: tempDir.path, partialDir, charsets, observe: batch?.observe,
        ...(StagedSource && pulled ? { wrapSource: (l) => new StagedSource(l, pulled.meta), adoptSources: pulled.linkable, pulledDelta: pulled.delta, destMade: pulled.destMade === true } : {}),
        ...(pulled?.sourceRemoved ? { sourceRemoved: pulled.sourceRemoved } : {}),
        ...(counted ? { onListed: (n: number) => counted.listed(n) } : {}),
      });
    if (pulled) totals.wire = pulled.wire;
    totals.vanished += vanished;
    // Files the transfer discarded (not sent, or failing verification) stay in rsync's list counts.
    if (pulled?.uncounted && !pulled.current) {
      totals.listed.reg += pulled.uncounted.files;
      totals.totalSize += pulled.uncounted.size;
    }
  } catch (err) {
    // A bad rule in a per-directory merge file ends the run, as in rsync (1, or 11 for the depth cap).
    if (err instanceof FilterError) {
      if (err.bare) reporter.warn(err.message);
      else reporter.error(err.message);
      report.errors.push(...preErrors, { message: err.message });
      return finish(io, err.exitCode, log);
    }
    const e = err as FsError;
    if (typeof e.syscall === 'string') {
      reporter.error(e.message);
      report.errors.push(...preErrors, { message: e.message, ...(e.code ? { code: e.code } : {}) });
      return finish(io, Exit.FileIO, log);
    }
    throw err;
  } finally {
    setAbortHandler(undefined);
    // A run stopped before its walk was over: what it printed, without the count.
    counted?.listed(undefined);
  }

  // --write-batch: the batch from what the run decided; a source it could not read is a transfer error.
  const batchErrors = batch && !abort.aborted ? batch.finish(engine, filters, (m) => reporter.error(m)) : 0;
  // Stopped by the run's clock (--stop-at, --stop-after, --timeout): rsync's line, then its exit 30.
  if (totals.stopMessage) io.err.write(`${totals.stopMessage}\n`);
  const code = Math.max(totals.stopMessage ? Exit.Timeout : exitCode(totals, abort.aborted, ioErrors), pulled?.code ?? 0, batchErrors ? Exit.Partial : 0);
  const elapsedMs = monotonicMs() - started;
  report.totals = totals;
  report.errors.push(...preErrors, ...totals.errors);

  // Operands that repeat names: rsync's sender lists the duplicates too, and "Number of files" and the
  // total size count them (run/repeated-lists.ts); worked out only when something prints them.
  if (!pulled && !batch && !c.json && (c.info.STATS > 0 || log)) {
    const { repeatsNames, repeatedListCounts } = await import('../run/repeated-lists.js');
    const listed = repeatsNames(c, engine) ? repeatedListCounts(c, engine) : undefined;
    if (listed) Object.assign(totals, listed);
  }
  // rsync's byte totals of its own protocol stream, worked out for a local copy only when something prints them.
  if (!pulled && !batch && code === Exit.Ok && !c.json && (c.info.STATS > 0 || log)) totals.stream = (await import('../run/stream-totals.js')).streamTotals(c, totals, engine, filters);
  // A pull's: what its sending server said meanwhile (cli/pull.ts Pulled.held), one line at a time.
  if (pulled?.held) for (const text of pulled.held.splice(0)) for (const line of text.replace(/\n$/, '').split('\n')) reporter.print(line);
  // rsync's match_report() (--debug=deltasum, -vv): whole files, every byte literal data, unless
  // --no-whole-file's delta search counted its matches. A pull's is its sending server's line (above).
  if (!pulled && !c.json && code !== Exit.Signal && c.debug.DELTASUM > 0) {
    const d = totals.delta;
    const data = c.dryRun ? 0 : literalData(totals, Number(Atomics.load(totals.counters, Counter.Bytes)));
    reporter.print(`total: matches=${d?.matches ?? 0}  hash_hits=${d?.hashHits ?? 0}  false_alarms=${d?.falseAlarms ?? 0} data=${data}`);
  }
  if (!c.json && code !== Exit.Signal && c.info.STATS > 0) {
    // rsync's rate divides by the whole seconds its clock ticked over the run, plus half a second.
    const endWall = Date.now();
    for (const line of statsLines(totals, rsyncSeconds(endWall - elapsedMs, endWall), c.info.STATS > 1, c.dryRun, c.humanReadable, statsCountLines(c.protocol))) reporter.print(batch?.only || pulled?.batchOnly ? line.replace(/ \(DRY RUN\)$/, ' (BATCH ONLY)') : line);
  }
  // rsync's log_exit(): the log's closing totals when no statistics were printed, or the run failed.
  if (log && pulled) {
    // rsync's log_exit for a receiving client: the wire's bytes in plain digits, and only after a clean run.
    if (c.info.STATS === 0 && code === Exit.Ok) log.line(`sent ${pulled.wire.sent} bytes  received ${pulled.wire.received} bytes  total size ${totals.totalSize}`);
  } else if (log && (c.info.STATS === 0 || code !== Exit.Ok)) log.line(logTotalsLine(totals, c.dryRun, c.humanReadable));
  if (totals.deleteSkipped > 0) {
    io.err.write(`Deletions stopped due to --max-delete limit (${totals.deleteSkipped} skipped)\n`);
  }
  const exit = code === Exit.Ok ? code : finish(io, code, log);
  // --debug=EXIT (-vvv): rsync's client names where it exits, after its error line.
  if (!c.json && !pulled && c.debug.EXIT > 0 && code !== Exit.Signal) reporter.item(exitLine(code, c.dryRun));
  return exit;
}

/**
 * rsync 3.5's operator-path rule for the destination and --backup-dir, before anything is written
 * (returns the destination root resolved to hold no symlink):
 * the destination exits 3 as rsync's failed change_dir does, the backup directory 11 as its failed
 * backup does (rsync finds out only at the first backup; here nothing is touched first).
 */

function checkOperatorPaths(c: Config, destRoot: Buffer): { destRoot: Buffer; backupDir?: Buffer } | { message: string; code: number; confined?: boolean; bare?: boolean } {
  const o = { insecure: c.insecureLinks };
  const dest = resolveOperatorPath(destRoot, o);
  if (!dest.ok) {
    return { message: `change_dir "${showPath(destRoot)}" failed: ${ELOOP_TEXT}`, code: Exit.FileSelect };
  }
  if (c.backupDir !== undefined) {
    const dir = Buffer.from(resolvePath(destRoot.toString('latin1'), c.backupDir), 'latin1');
    // The engines hold the backup directory by its absolute path, which must fit in PATH_MAX (a short
    // --backup-dir below a deep destination may not): no backup could be made there, so nothing starts.
    if (dir.length >= PATH_MAX) return { message: `backup-dir "${showPath(dir)}" failed: File name too long (36)`, code: Exit.FileIO };
    const backup = resolveOperatorPath(dir, { ...o, confine: c.confineRoot });
    if (!backup.ok) {
      return { message: `backup-dir "${showPath(dir)}" failed: ${ELOOP_TEXT}`, code: Exit.FileIO, confined: backup.confined };
    }
    if (backup.path.length >= PATH_MAX) return { message: `backup-dir "${showPath(backup.path)}" failed: File name too long (36)`, code: Exit.FileIO };
    // rsync's receiver looks at it before anything starts (do_recv): a missing one is made when needed,
    // anything but a directory there ends the run. Named as given, less one trailing slash.
    const given = c.backupDir.length > 1 && c.backupDir.endsWith('/') ? c.backupDir.slice(0, -1) : c.backupDir;
    try {
      if (!statSync(backup.path).isDirectory()) return { message: `The backup-dir is not a directory: ${given}`, code: Exit.Usage, bare: true };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'ENOENT') return { message: `Failed to stat ${given}: ${errnoText(Math.abs(e.errno ?? ERRNO.EIO))}`, code: Exit.FileIO, bare: true };
    }
    // Inside the destination a symlink is the destination's content, whoever owns it (DESIGN §3: never
    // follow a symlink planted there): the engines get the spelled path and refuse a link on the way.
    // Outside it, the operator's own symlinks were followed just now, as rsync 3.5 follows them.
    const root = Buffer.concat([destRoot, Buffer.from('/')]);
    if (dir.subarray(0, root.length).equals(root)) return { destRoot: dest.path };
    return { destRoot: dest.path, backupDir: backup.path };
  }
  return { destRoot: dest.path };
}

function finish(io: Io, code: number, log?: LogFile): number {
  io.err.write(`${exitMessage(code)}\n`);
  log?.line(exitMessage(code));
  return code;
}

/**
 * rsync's send_file_list() header: an incremental list announces itself; a whole one is built first, and
 * only when directories are transferred (-r, -d, --files-from). A pull's is printed by cli/pull.ts.
 */
function listHeader(c: Config, pulled: boolean): string | undefined {
  if (c.info.FLIST <= 0 || c.json || pulled) return undefined;
  if (c.incRecursive) return 'sending incremental file list\n';
  return c.dirs ? 'building file list ... done\n' : undefined;
}
