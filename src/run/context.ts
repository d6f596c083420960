// What the phases of one run share, as one explicit object passed to each of them (no phase keeps state
// for another in fields of its own): the spec, where entries come from and where ops go, the tally, the
// directory ledger, the filters and the plan objects. Also the walk's frame and entry shapes.

import type { FuzzyBases } from './fuzzy.js';
import type { NameCharsets } from '../engine/charset.js';
import type { EventStream } from '../progress/events.js';
import type { Config } from '../model/config.js';
import type { PairListing } from '../model/listing.js';
import type { ListWindow } from '../model/list-window.js';
import type { ItemBytes } from './item-bytes.js';
import type { XattrViews } from './xattr-views.js';
import type { OpFailure } from '../engine/types.js';
import { seenAs, type Stat } from '../model/stat.js';
import type { SourceAnchors } from '../plan/anchors.js';
import type { BackupPlan } from '../plan/backup.js';
import { applyChmod } from '../plan/chmod.js';
import type { DeleteGate } from '../plan/delete-gate.js';
import type { FilterList } from '../plan/filter.js';
import type { PartialLeftovers } from './partial-leftovers.js';
import type { FilterScope } from '../plan/filter-scope.js';
import type { Overlay } from '../plan/overlay.js';
import type { Plan, Root } from '../plan/sources.js';
import type { Reporter } from '../progress/reporter.js';
import type { AltDests } from './alt-dest.js';
import type { DestReads } from './dest.js';
import type { DirLedger, DirRecord } from './dirmeta.js';
import type { Line, Lines } from './lines.js';
import type { LineOrder } from './line-order.js';
import type { TreeDirLines } from './tree-lines.js';
import type { RunTrace } from './trace.js';
import type { SharedInodes } from './dest-links.js';
import type { HardLinkGroups } from './members.js';
import type { OpSink } from './sink.js';
import type { EntrySource } from './source.js';
import type { RunSpec } from './spec.js';
import type { Tally } from './tally.js';
import type { RemovalQueue } from './removal-queue.js';
import type { Verdict } from '../plan/quickcheck.js';

/** The source operand being walked. */
export interface RootState {
  /** Deletion must not remove what another operand provides. */
  current: Root | undefined;
  /** Its index in the plan's roots (several sources: plan/overlay.ts). */
  index: number;
  /** -x: the device of the root directory. */
  dev: number;
}

export interface RunContext {
  readonly c: Config;
  readonly spec: RunSpec;
  readonly plan: Plan;
  /** Where entries come from (the first transport seam). */
  readonly source: EntrySource;
  /** Where ops go (the second transport seam). */
  readonly sink: OpSink;
  readonly dest: DestReads;
  readonly tally: Tally;
  readonly dirs: DirLedger;
  readonly lines: Lines;
  readonly reporter: Reporter;
  readonly filters: FilterList | undefined;
  /** Where each source path's operator part ends (what engines may follow) and the walk's part begins. */
  readonly anchors: SourceAnchors;
  readonly alt: AltDests;
  readonly backups: BackupPlan;
  /** Several sources on the same destination paths (plan/overlay.ts). */
  readonly overlay: Overlay | undefined;
  readonly gate: DeleteGate;
  readonly hardLinks: HardLinkGroups;
  readonly root: RootState;
  /** -R: implied directories made so far (several sources under the same directories make each once). */
  readonly implied: Set<string>;
  readonly abort: { readonly aborted: boolean };
  /** --json=events: the stream that reports each entry once its op is done. */
  readonly events: EventStream | undefined;
  /** --partial-dir: the partial files waiting for destination files (used up when those are current). */
  readonly partials?: PartialLeftovers | undefined;
  /** -y under --debug=FUZZY: rsync's basis choice for files the destination lacks, printed. */
  readonly fuzzy?: FuzzyBases | undefined;
  /** Destination inodes with several names whose attributes the run sets (dest-links.ts). */
  readonly sharedInodes: SharedInodes;
  /** -c: the queue that keeps lines in rsync's order while compares are in the engines. */
  readonly order?: LineOrder | undefined;
  /**
   * A pull (the source staged from a received list, TransferInput.wrapSource): rsync's receiver is this
   * side, so a line it prints after receiving a file is not printed for a file it fails to receive.
   */
  readonly pulled?: boolean;
  /** A pull with --remove-source-files: names the far side's sender is to remove (run.ts TransferInput). */
  readonly sourceRemoved?: ((rel: Buffer) => void) | undefined;
  /**
   * --remove-source-files with deletions after the transfer (--delete-after, --delete-delay): the names
   * (latin1) whose source this run removes. rsync's delete pass works from its file list, which still
   * holds them; the pass here walks the source again, so it must not take them for extraneous.
   */
  readonly takenFromSource?: Set<string> | undefined;
  /** --remove-source-files where one file may have two names: the removals, waiting for the transfer's end (removal-queue.ts). */
  readonly removals?: RemovalQueue | undefined;
  /** A re-sync's directory lines that wait for their place in rsync's depth-first order (tree-lines.ts). */
  readonly treeLines: TreeDirLines;
  /** --iconv: the source's names converted into the destination's charset (run/iconv-source.ts) and back for output. */
  readonly charsets?: NameCharsets | undefined;
  /** -vvv: rsync's debug trace of the run (trace.ts), told which directories are listed and what they hold. */
  readonly trace?: RunTrace | undefined;
  /** rsync's lists as the walk makes them: --progress's counts, an entry's index (model/list-window.ts). */
  readonly lists: ListWindow;
  /** Entries whose attributes alone change: what rsync's processes say about them (item-bytes.ts). */
  readonly items: ItemBytes;
  /** -X with x-rules in per-directory merge files: each directory's view of them (xattr-views.ts). */
  readonly xattrViews?: XattrViews | undefined;
  /** A failure: held back while a basis op's fallback may replace it (alt-dest.ts), else tallied. */
  fail(f: OpFailure): void;
}

/** A directory to descend into. */
export interface Frame {
  src: Buffer;
  rel: Buffer;
  stat: Stat;
  /** The destination directory existed before this run (so it is worth listing). */
  destExists: boolean;
  sender: FilterScope | undefined;
  receiver: FilterScope | undefined;
  record: DirRecord | undefined;
  /** The line for the directory itself, printed once its deletions are known (rsync's order). */
  pending: { verdict: Verdict; line: Line; local?: boolean } | undefined;
  /**
   * --ignore-existing kept a non-directory where this directory would go: its entries all fail, each
   * with this errno from rsync's stat of its name (DestReads.belowErrno: ENOTDIR, or ENOENT below a
   * dangling symlink, where a file is sent and its temp file fails).
   */
  blocked?: number;
  /**
   * A dry run's directory below such a non-directory: rsync's generator makes nothing, so what it would
   * make below "succeeds" and is itemized as new, while each regular file's stat fails with this errno
   * (transfer-pass.ts failsStat; ENOENT: missing, so new too).
   */
  statErrno?: number;
  /**
   * Nothing inside is made or looked at in the destination (its mkdir failed, or --existing passed it
   * by), as rsync's generator skips it; rsync's sender still lists it, so its entries count in --stats
   * and what cannot be read there is reported.
   */
  listOnly?: boolean;
  /** Several sources: an earlier root's directory stands here; only this root's entries are walked. */
  merged?: boolean;
  /** --files-from "dir/": its subdirectories are made but not entered. */
  oneLevel?: boolean;
  /** Made by this run from a --*-dest twin (no "cd+++++++++" line): its parent's time moved all the same. */
  madeFromTwin?: boolean;
  /** Found dirty by scanTree: walk its entries, but not its existing subdirectories (scanned already). */
  treeMode?: boolean;
  /** Its paired listing, when scanTree already made it. */
  pair?: PairListing;
  /** Several sources: other roots' directories at this path, walked with it as one listing (layers.ts). */
  layers?: Layer[];
  /** Several sources: roots landing right inside this directory, listed with its entries (layers.ts). */
  adopt?: number[];
}

/** Another root's source directory at a frame's destination path (run/layers.ts). */
export interface Layer {
  src: Buffer;
  /** The root's index in the plan. */
  root: number;
}

/** A source entry that is in the transfer, with its destination twin. */
export interface Kept {
  name: Buffer;
  src: Buffer;
  rel: Buffer;
  st: Stat;
  dest: Stat | undefined;
  /** Several sources: a directory another root also has, merged into (plan/overlay.ts). */
  merged?: boolean;
  /** A symlink the run follows to a directory (-L, -k, --copy-unsafe-links): a directory in the list's order. */
  linkDir?: boolean;
  /** From a layer of its directory: that root's index (run/layers.ts). */
  root?: number;
  /** A directory other layers have too (run/layers.ts). */
  layers?: Layer[];
}

/** --chmod applies to what the source says before anything is compared or made. */
export function withChmod(rc: RunContext, st: Stat): Stat {
  if (!rc.c.chmod.length) return st;
  return seenAs(st, { mode: applyChmod(st.mode, rc.c.chmod, rc.spec.engineOptions.umask) });
}
