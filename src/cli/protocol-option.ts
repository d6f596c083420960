// --protocol=NUM: a local rsync runs its sender and receiver at the protocol given, and protocols 20 to
// 30 change what a local copy does and prints. This module takes the option (its range checked as
// setup_protocol() in rsync's compat.c checks it), refuses what rsync refuses at the protocol, and
// settles in the Config what the protocol changes on the command-line side: the default --delete time,
// --append, incremental recursion and %C's checksum. What it changes in the run (whole-second mtimes,
// the older -i/-v lines and list order, the --stats lines) follows Config.protocol
// (plan/old-protocol.ts).

import type { Command } from 'commander';
import type { Config } from '../model/config.js';
import { CURRENT_PROTOCOL, filterRulesTooModern } from '../plan/old-protocol.js';
import { FilterList } from '../plan/filter.js';
import { F } from '../plan/filter-rules.js';
import { Exit, UsageError, showPath } from '../util/errors.js';
import { offerProtocol } from '../remote/handshake.js';
import { MAX_BLOCK_SIZE, OptionError, poptInt } from './local-noops.js';

/** rsync's MIN_PROTOCOL_VERSION, OLD_PROTOCOL_VERSION and OLD_MAX_BLOCK_SIZE (rsync.h). */
const MIN_PROTOCOL_VERSION = 20;
const OLD_PROTOCOL_VERSION = 25;
const OLD_MAX_BLOCK_SIZE = 1 << 29;

/** --protocol as the command line leaves it. */
export interface ProtocolOption {
  /** The protocol once the whole line is read, checked as rsync checks it. */
  finish(): number;
  /**
   * -B's limit at the point of the line where it is read: rsync's parse_arguments() checks it against the
   * protocol given so far (OLD_MAX_BLOCK_SIZE before 30, MAX_BLOCK_SIZE otherwise).
   */
  maxBlockSize(): number;
  /** How many filter items the line had given when its last --protocol came. */
  filtersBefore(): number;
}

/** Declare --protocol. */
export function addProtocolOption(p: Command, filters: readonly unknown[]): ProtocolOption {
  let protocol = CURRENT_PROTOCOL;
  let before = 0;
  p.option('--protocol <NUM>', 'force an older protocol version (20 to 32 locally; 31 or 32 to another machine)', (v: string) => {
    before = filters.length;
    return (protocol = poptInt('--protocol', v));
  });
  return {
    filtersBefore: () => before,
    maxBlockSize: () => (protocol < 30 ? OLD_MAX_BLOCK_SIZE : MAX_BLOCK_SIZE),
    finish: () => {
      // setup_protocol(): both ends of a local copy speak the --protocol given (rsync's MAX_PROTOCOL_VERSION
      // is 40: between it and 32 the message is another).
      if (protocol < MIN_PROTOCOL_VERSION || protocol > 40) {
        throw new OptionError('protocol version mismatch -- is your shell clean? (see the rsync manpage for an explanation)', Exit.Protocol);
      }
      if (protocol > CURRENT_PROTOCOL) throw new OptionError(`--protocol must be no more than ${CURRENT_PROTOCOL} on the Client.`, Exit.Protocol);
      return protocol;
    },
  };
}

/** What the line said besides the Config, that the protocol's rules need. */
export interface ProtocolInputs {
  /** --delete (or --delete-excluded) with no --delete-WHEN: rsync's default time depends on the protocol. */
  plainDelete: boolean;
  /** A remote transfer: arsync's protocol client speaks 30 to 32 on its own terms. */
  remote: boolean;
  /** ProtocolOption.filtersBefore. */
  filtersBefore: number;
}

/** The refusals of rsync's setup_protocol() for protocols before 29, with its words (exit 2). */
function refusal(c: Config, protocol: number): string | undefined {
  const negotiated = `(negotiated ${protocol}).`;
  const alt = c.linkDest.length ? '--link-dest' : c.copyDest.length ? '--copy-dest' : c.compareDest.length ? '--compare-dest' : undefined;
  const alts = c.linkDest.length + c.copyDest.length + c.compareDest.length;
  if (c.fuzzy) return `--fuzzy requires protocol 29 or higher ${negotiated}`;
  if (alt && c.inplace) return `${alt} with --inplace requires protocol 29 or higher ${negotiated}`;
  if (alt && alts > 1) return `Using more than one ${alt} option requires protocol 29 or higher ${negotiated}`;
  if (c.pruneEmptyDirs) return `--prune-empty-dirs requires protocol 29 or higher ${negotiated}`;
  return undefined;
}

/** Settle in `c` what `protocol` changes, or refuse the line as rsync does at that protocol. */
export function applyProtocol(c: Config, protocol: number, o: ProtocolInputs): void {
  if (protocol >= CURRENT_PROTOCOL - 1) return;
  if (o.remote) {
    // To another machine arsync speaks 30 to 32 (rsync 3.0 and later): an older one is a local copy's only.
    if (protocol < 30) throw new UsageError(`--protocol=${protocol}: arsync speaks older protocols on a local copy only (to another machine: 30 to 32)`);
    c.protocol = protocol;
    offerProtocol(protocol);
    return;
  }
  if (protocol < 29) {
    const why = refusal(c, protocol);
    if (why) throw new OptionError(why, Exit.Protocol);
    // Before 29 rsync's receiver itemizes nothing (its generator names entries in the old -v style, its
    // sender prints ">f?????????" for what it sends) and its file list sorts paths whole, which reorders
    // every line: not reproduced, so refused rather than printed otherwise.
    if (c.info.NAME > 0 || c.itemize > 0 || c.outFormat !== undefined || c.progressFiles || c.logFile !== undefined || c.listOnly) {
      throw new UsageError(`--protocol=${protocol} with -v, -i, --out-format, --progress, --log-file or --list-only: rsync's per-file lines before protocol 29 are not reproduced (the copy itself is, without them)`);
    }
  }
  c.protocol = protocol;
  c.filtersBeforeProtocol = o.filtersBefore;
  if (protocol < 30) {
    // compat.c: --append is --append-verify before 30, a plain --delete deletes before the transfer, and
    // there is no incremental recursion.
    if (c.append) c.appendVerify = true;
    if (o.plainDelete && c.deleteMode === 'during') c.deleteMode = 'before';
    c.incRecursive = false;
  }
}

/**
 * %C's checksum when --checksum-choice names none: xxh128 (what a local rsync negotiates from 30), or
 * before 30 its MD4, which rsync never prints (it is not canonical: util2.c sum_as_hex), so blanks, 16
 * bytes wide (run/file-sum.ts). Protocol 20's 2-byte list sums never show: its per-file lines are refused.
 */
export function autoFileSum(protocol: number): string {
  return protocol < 30 ? 'md4-old' : 'xxh128';
}

/**
 * rsync's notes on a protocol before OLD_PROTOCOL_VERSION: its client says it of the server (stdout) and
 * its server of the client (stderr); informational, so not under -q.
 */
export function protocolNotes(c: Pick<Config, 'protocol' | 'quiet' | 'json'>): { out: string[]; err: string[] } {
  const p = c.protocol ?? CURRENT_PROTOCOL;
  if (p >= OLD_PROTOCOL_VERSION || c.quiet || c.json) return { out: [], err: [] };
  return { out: ['Server is very old version of rsync, upgrade recommended.'], err: ['Client is very old version of rsync, upgrade recommended.'] };
}

/**
 * Before protocol 29: rsync's refusal of filter rules its old protocol cannot spell (plan/old-protocol.ts),
 * as [message, exit code]; `filters` are the run's parsed rules (-C's included).
 */
export function filterRefusal(c: Config, filters: FilterList | undefined): [string, number] | undefined {
  if (c.protocol === undefined || c.protocol >= 29 || !filters) return undefined;
  // The command line's rules without -C's (rsync's sender replaces "-C" by a plain list; its receiver
  // adds ":C" itself): parsed again, which reads any rule file again.
  const parse = (items: Config['filters']): FilterList => FilterList.fromOptions(items, { deleteExcluded: c.deleteExcluded, insecureLinks: c.insecureLinks, eolNulls: c.from0 });
  const own = c.cvsExclude ? parse(c.filters).globalRules : filters.globalRules;
  // A -C rule rsync parsed before it read --protocol (at 32) made its list perishable (get_cvs_excludes),
  // which its sender cannot spell for these protocols.
  const before = c.filtersBeforeProtocol ?? 0;
  const early = before > 0 && parse(c.filters.slice(0, before)).globalRules.some((r) => r.flags & F.CVS_IGNORE && !(r.flags & F.MERGE_FILE));
  const code = early ? 2 : filterRulesTooModern(own, { deleteExcluded: c.deleteExcluded, cvsExclude: c.cvsExclude });
  return code === undefined ? undefined : ['filter rules are too modern for remote rsync.', code];
}

/**
 * Before protocol 30 rsync's sender does not send -R's implied directories under --no-implied-dirs
 * (flist.c sends them, flagged, from 30), and its generator, with no incremental list, finds an entry
 * whose parent is not in the list and stops: "ABORTING due to invalid path from sender" (exit 2 there; the
 * sender sees its peer gone: 12). `roots`: the run's operands, as plan/sources.ts resolved them. The
 * parent is in the list when another operand names it, or, with -r, lies inside one.
 */
export function impliedDirsRefusal(c: Config, roots: readonly { rel: Buffer; missing?: boolean; dirOnly: boolean }[]): string | undefined {
  if (c.protocol === undefined || c.protocol >= 30 || !c.relative || c.impliedDirs) return undefined;
  const named = roots.filter((r) => !r.missing).map((r) => ({ rel: r.rel.toString('latin1').replace(/\/+$/, ''), whole: c.recursive && !r.dirOnly }));
  const rels = named.map((r) => r.rel);
  // A directory sent whole (-r, not one listed alone as "./" is) holds every path beneath it.
  const listed = (d: string): boolean => named.some((r) => r.rel === d || (r.whole && (r.rel === '' || d.startsWith(`${r.rel}/`))));
  const orphans = rels.filter((r) => r.includes('/') && !listed(r.slice(0, r.lastIndexOf('/')))).sort();
  return orphans.length ? `ABORTING due to invalid path from sender: ${showPath(Buffer.from(orphans[0]!, 'latin1'))}` : undefined;
}
