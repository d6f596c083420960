// -M/--remote-option values that are settings of rsync's local receiver. A local rsync forks its
// receiving side (generator + receiver), which parses the -M values over the options it inherited, so
// they change what that side decides (what to delete, skip, back up) and not what the sender does or
// what the client prints. arsync has one process: it parses the command line again with these values
// last (the receiver's order) and takes from that Config only the fields the receiving side owns. A
// value that changes any other field is refused, so none is half applied.

import type { Config } from '../model/config.js';
import { UsageError } from '../util/errors.js';
import { receiverPartialDir } from './receiver-partial-dir.js';
import { formatHas } from '../progress/format.js';

/**
 * The receiver-side options a -M value may name, and the Config fields each may change. Left out on
 * purpose: the options the sender also reads.
 */
const DELETE: readonly (keyof Config)[] = ['deleteMode', 'incRecursive'];
const PARTIAL_DIR: readonly (keyof Config)[] = ['partial', 'partialDir', 'filters'];
/** The fields -M's output options change in the second parse: the receiver's, never applied to the client. */
const OUTPUT: readonly (keyof Config)[] = ['verbose', 'info', 'debug', 'serverInfo', 'itemize', 'outFormat'];
/**
 * The --info words whose lines rsync's receiving side (generator and receiver) prints itself in a local
 * copy, all routed through receiverOutput(), or that it has none to print (REMOVE is the sender's, MISC's
 * lines come from the client). PROGRESS is left out: the receiver's progress is not drawn.
 */
const RECEIVER_INFO = new Set(['NAME', 'NONREG', 'SYMSAFE', 'SKIP', 'BACKUP', 'MOUNT', 'COPY', 'DEL', 'FLIST', 'MISC', 'REMOVE', 'STATS']);
/**
 * The --debug words at the levels -vv turns on (rsync's debug_verbosity[2]): the receiving side's lines
 * (FLIST's "delta-transmission", DEL's "deleting in", FILTER's protection lines, ICONV's charset) are
 * routed through receiverOutput(); BIND, CMD, CONNECT, DELTASUM and DUP print nothing on that side of a
 * local copy. From -vvv up the levels are the trace's (run/trace.ts), which is not split by process.
 */
const RECEIVER_DEBUG = new Set(['BIND', 'CMD', 'CONNECT', 'DEL', 'DELTASUM', 'DUP', 'FILTER', 'FLIST', 'ICONV']);
const RECEIVER_FIELDS = new Map<string, readonly (keyof Config)[]>([
  ['--delete', DELETE],
  ['--del', DELETE],
  ['--delete-before', DELETE],
  ['--delete-during', DELETE],
  ['--delete-delay', DELETE],
  ['--delete-after', DELETE],
  ['--delete-excluded', [...DELETE, 'deleteExcluded']],
  ['--max-delete', ['maxDelete']],
  ['--existing', ['existing']],
  ['--ignore-non-existing', ['existing']],
  ['--ignore-existing', ['ignoreExisting']],
  ['--size-only', ['sizeOnly']],
  ['-u', ['update']],
  ['--update', ['update']],
  ['--max-size', ['maxSize']],
  ['--min-size', ['minSize']],
  ['--ignore-times', ['ignoreTimes']],
  ['-I', ['ignoreTimes']],
  // --backup without --backup-dir implies --omit-dir-times on the side that parses it (rsync's options.c).
  ['--backup', ['backup', 'omitDirTimes']],
  ['-b', ['backup', 'omitDirTimes']],
  ['--suffix', ['suffix']],
  // With -b (no --backup-dir) on the line, rsync's receiver keeps the --omit-dir-times that implied:
  // arsync's second parse would drop it, so that pairing is refused by the field check below.
  ['--backup-dir', ['backup', 'backupDir']],
  // The sender lists every file's mode whatever it was told: the receiver decides to set it.
  ...(['-p', '--perms', '--no-p', '--no-perms'] as const).map((o) => [o, ['perms']] as const),
  // The sender lists every mtime too: the receiver sets them and reports -i's time change; the client
  // prints that letter as its own -t says (t or T), kept in itemizeTimes.
  ...(['-t', '--times', '--no-t', '--no-times'] as const).map((o) => [o, ['times', 'itemizeTimes']] as const),
  ...(['-O', '--omit-dir-times', '--no-O', '--no-omit-dir-times'] as const).map((o) => [o, ['omitDirTimes']] as const),
  ['--modify-window', ['modifyWindow']],
  // The receiver writes into the destination file itself (the client sends whole files locally anyway).
  ['--inplace', ['inplace']],
  ['--no-inplace', ['inplace']],
  // The receiver makes its temporary files there (checked before the first file, exit 1 if missing).
  ['--temp-dir', ['tempDir']],
  // rsync's receiver applies its --chmod to the modes of the list it receives (after the client's own).
  ['--chmod', ['chmod']],
  // The receiver keeps the partial file of an interrupted transfer, and looks in its partial dir for a
  // basis; its relative partial dir goes on its own filter list (see partialDirRules).
  ['--partial', ['partial']],
  ['--no-partial', ['partial']],
  ['--partial-dir', PARTIAL_DIR],
  // The receiver holds the updated files back; it asks for the whole file list first, as with
  // --delete-after.
  ['--delay-updates', [...PARTIAL_DIR, 'delayUpdates', 'incRecursive']],
  // The receiver renames each file into place at once and lets the incremental list back on; it keeps
  // the `.~tmp~` partial dir the line's --delay-updates settled (receiverPartialDir keeps the client's
  // partial dir for a value that does not name one).
  ['--no-delay-updates', ['delayUpdates', 'incRecursive']],
  // The receiver writes the files: it syncs and preallocates them.
  ['--fsync', ['fsync']],
  ['--preallocate', ['preallocate']],
  // The receiver maps the owners and groups of the list it receives (--chown is a map of each); the maps
  // as written (idmapArgs) are what a push would pass on, and a -M value reaches no push.
  ['--usermap', ['usermap', 'idmapArgs']],
  ['--groupmap', ['groupmap', 'idmapArgs']],
  ['--chown', ['usermap', 'groupmap', 'idmapArgs']],
  // Whether names come with the ids is the sender's choice: the receiver's own setting decides only
  // whether it reads the id lists of a list sent whole (see applyReceiverOptions).
  // The receiver's own output: the lines it prints itself (created directory, skipped special files,
  // ignored unsafe symlinks) follow its settings; the client's lines (names, -i, deletions) do not change.
  // Kept in receiverOutput, not in the client's fields (see receiverPrints).
  ...(['-v', '-vv', '-vvv', '-vvvv', '--verbose', '--no-v', '--no-verbose', '-i', '-ii', '--itemize-changes', '--no-i', '--no-itemize-changes', '--out-format', '--log-format', '--info', '--debug'] as const).map((o) => [o, OUTPUT] as const),
  ['--numeric-ids', ['numericIds']],
  ['--no-numeric-ids', ['numericIds']],
  // The receiver munges the targets it writes; the line's own --munge-links is the sender's (unmunging).
  ['--munge-links', ['receiverMungeLinks']],
  ['--no-munge-links', ['receiverMungeLinks']],
]);

/** The option a -M value names: `--max-delete=3` → `--max-delete`. */
function optionName(opt: string): string {
  const eq = opt.indexOf('=');
  return opt.startsWith('--') && eq > 0 ? opt.slice(0, eq) : opt;
}

/** Why a -M value rsync's local receiver takes is refused, where there is more to say than "not supported". */
export function receiverRefusal(opt: string): string | undefined {
  const name = optionName(opt);
  if (name === '--log-file') {
    return "rsync's receiver logs \"receiving file list\" and the byte counts of its protocol stream, which a one-process copy does not have: not supported (give it as an option of its own)";
  }
  return undefined;
}

/** Whether a -M value names an option of the local receiver that arsync applies. */
export function isReceiverSetting(opt: string): boolean {
  return RECEIVER_FIELDS.has(optionName(opt));
}

/**
 * Sets on `config` (the client's parse) the receiver's fields from `receiver`, the parse with `opts`
 * appended. Throws a UsageError when the second parse changed a field none of `opts` owns.
 */
export function applyReceiverOptions(config: Config, parsed: Config, opts: string[]): void {
  const names = new Set(opts.map(optionName));
  const receiver = receiverPartialDir(config, parsed, names.has('--partial-dir') || names.has('--delay-updates'));
  const owned = new Set(opts.flatMap((o) => RECEIVER_FIELDS.get(optionName(o)) ?? []));
  const numericIds = config.numericIds;
  if (receiver.times !== config.times) receiver.itemizeTimes = config.times;
  // rsync's local child turns munging off before it parses its -M values (pipe.c: each side needs its
  // own option), so its setting is the last -M value's, which the second parse ends with.
  if (names.has('--munge-links') || names.has('--no-munge-links')) {
    receiver.receiverMungeLinks = receiver.mungeLinks;
    receiver.mungeLinks = config.mungeLinks;
  }
  // rsync's receiver clears only delay_updates: the partial dir --delay-updates settled keeps --partial on.
  if (names.has('--no-delay-updates') && !names.has('--partial') && !names.has('--no-partial')) receiver.partial = config.partial;
  const keys = new Set([...Object.keys(config), ...Object.keys(receiver)] as (keyof Config)[]);
  const output = OUTPUT.some((k) => owned.has(k)) ? receiverPrints(config, receiver, opts) : undefined;
  for (const k of keys) {
    if (JSON.stringify(config[k]) === JSON.stringify(receiver[k])) continue;
    if (output && OUTPUT.includes(k)) continue;
    if (!owned.has(k)) {
      throw new UsageError(`-M/--remote-option=${opts.join(' ')}: changes more than rsync's receiver settings here (give it as an option of its own)`);
    }
    (config as unknown as Record<string, unknown>)[k] = receiver[k];
  }
  // The client alone adds rsync's rule that keeps earlier backups (name ending in the suffix) from
  // --delete, and only when it has both options itself: split across -M, rsync's receiver deletes them.
  // arsync's rule keys on the two settings together, so that split is refused, not run differently.
  const split = owned.has('backup') || owned.has('deleteMode');
  if (split && config.backup && config.deleteMode !== 'none' && config.backupDir === undefined) {
    throw new UsageError(`-M/--remote-option=${opts.join(' ')}: --backup and --delete split across -M (rsync's receiver then deletes earlier backups) is not supported`);
  }
  if (config.numericIds !== numericIds) checkNumericIds(config, opts);
  if (output) config.receiverOutput = output;
  config.numericIds = numericIds;
}

/**
 * The receiver's output settings from its parse, when they differ from the line's only where arsync
 * splits the two processes' lines: --info words of RECEIVER_INFO, --debug words of RECEIVER_DEBUG at -vv's
 * level at most.
 */
function receiverPrints(config: Config, r: Config, opts: string[]): Config['receiverOutput'] {
  const words = Object.keys(r.info) as (keyof Config['info'])[];
  const infoSplit = words.every((w) => r.info[w] === config.info[w] || RECEIVER_INFO.has(w));
  const dwords = Object.keys(r.debug) as (keyof Config['debug'])[];
  const debugSplit = dwords.every((w) => r.debug[w] === config.debug[w] || (RECEIVER_DEBUG.has(w) && r.debug[w] <= 1 && config.debug[w] <= 1));
  if (!infoSplit || !debugSplit) {
    throw new UsageError(
      `-M/--remote-option=${opts.join(' ')}: the receiver's own -vvv trace (--debug levels past -vv's) and progress lines are not split from the client's on a local copy: not supported`,
    );
  }
  const hasI = receiverHasI(config, r, opts.some((o) => ['--out-format', '--log-format'].includes(optionName(o))));
  return { info: r.info, debug: r.debug, itemize: r.itemize, outFormat: r.outFormat, hasI };
}

/**
 * rsync's stdout_format_has_i on the receiving side, which decides whether its generator reports
 * unchanged entries and says "is uptodate". Its forked child parses the -M values over the client's
 * settled globals: a stdout format already set stays (the line's --out-format, -i's "%i %n%L", or
 * "%n%L" from -v), unless -M gives one of its own; only without any does -M-i make "%i %n%L". With %i
 * in that format the level is the receiver's -i count made odd (options.c: itemize_changes | 1), and
 * the count itself when -M-i made the format.
 */
function receiverHasI(c: Config, r: Config, ownFormat: boolean): number {
  const lineFormat = c.outFormat ?? (c.itemize > 0 ? '%i %n%L' : c.info.NAME > 0 ? '%n%L' : undefined);
  const format = ownFormat ? r.outFormat : lineFormat;
  // No format yet: -M-i makes "%i %n%L" with the -i count as it is.
  if (format === undefined) return r.itemize;
  return formatHas(format, 'i') ? r.itemize | 1 : 0;
}

/**
 * A receiver whose --numeric-ids differs from its sender's. With the incremental list, each id comes
 * with its name as the sender decides and the receiver maps it on the one machine to the same id: no
 * change. A list sent whole ends with id lists (with -o, -g or -A) that the sender writes only without
 * --numeric-ids and the receiver reads only without it: rsync then fails with a protocol error (exit 2)
 * or waits for ever. That is refused.
 */
function checkNumericIds(c: Config, opts: string[]): void {
  if (c.incRecursive || !(c.owner || c.group || c.acls)) return;
  throw new UsageError(
    `-M/--remote-option=${opts.join(' ')}: a receiver's --numeric-ids unlike its sender's, without the incremental file list, breaks rsync's protocol (the id lists): not supported`,
  );
}

/**
 * The command line with the receiver's values last (after a `--` they would be operands, which the
 * field check then refuses). The receiver inherits the client's settled suffix ("~", or "" with the
 * line's --backup-dir), so a -M--backup-dir keeps it where a --backup-dir on the line would make it "":
 * it goes in first, as an explicit --suffix.
 */
export function withReceiverOptions(argv: string[], opts: string[], clientSuffix: string): string[] {
  return [...argv, `--suffix=${clientSuffix}`, ...opts];
}
