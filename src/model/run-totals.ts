// What a run adds up, as plain data: the figures progress/, the --stats lines and the --json summary read.
// A leaf (imports nothing from src/ beyond the model), so the renderers depend on the figures and never on the run.

import type { RecordedLists } from './listing.js';

/** Entries by file type (plan/decide.ts FileType: reg, dir, link, dev, special). */
export type Counts = Record<'reg' | 'dir' | 'link' | 'dev' | 'special', number>;

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
  /** Errors rsync reports without setting its io_error (FERROR_XFER): exit 23, deletion not held back. */
  xferErrors?: number;
  vanished: number;
  /** Deletions not done because --max-delete was reached. */
  deleteSkipped: number;
  /**
   * --delete-missing-args' deletions (among `deleted`) in a run without --delete or --force: rsync's
   * generator then keeps its deletion counts to itself, so --stats' "Number of deleted files" leaves them out.
   */
  unsaidDeleted?: Counts;
  aborted: boolean;
  /** rsync's line when the run's clock stopped it (--stop-at/--stop-after, --timeout): exit 30, not 20. */
  stopMessage?: string;
  fileListMs: number;
  counters: BigInt64Array;
  threads: number;
  errors: ErrorRecord[];
  /** A pull: what really crossed the wire (the --stats and -v figures rsync reports for it). */
  wire?: WireTotals;
  /** Ops the run handed to its engines (0: a no-op, nothing created, changed or deleted). */
  ops?: number;
  /** Entries whose attributes alone changed, and the bytes rsync's generator sent its sender for them (run/item-bytes.ts). */
  items?: { count: number; bytes: number; exchange?: Exchange | undefined; deletions?: DeletionMessages; rootListed?: number };
  /** --append: the bytes of the destination files kept ahead of what was appended (not literal data). */
  appendKept?: number;
  /**
   * Regular files copied from a --*-dest twin that matched (rsync's generator copies those itself): not
   * among the files and bytes transferred.
   */
  localCopies?: { files: number; bytes: number };
  /** Bytes of the lines rsync's receiving side would have sent its client as messages ("created directory"). */
  messages?: number;
  /** --partial-dir: partial files the run found waiting (rsync's generator names such a basis to its sender). */
  partialsFound?: number;
  /**
   * Ops that rsync's generator makes on its own, with nothing for its sender: -c's compares that found
   * the file equal, and the links, removals, local copies and directories of --link-dest, --compare-dest
   * and --copy-dest twins (no item for rsync's stream).
   */
  unchangedOps?: number;
  /** Something the byte figures cannot place happened (run/stream-totals.ts then keeps plain figures). */
  streamUnknown?: boolean;
  /** -X: existing entries whose xattrs differ from the source's (rsync asks for their values: run/stream-totals.ts). */
  xattrsChanged?: number;
  /** A local copy's -v summary and --stats bytes as rsync's two processes would have counted their stream (run/stream-totals.ts). */
  stream?: StreamTotals;
  /** The source's lists as scanTree recorded them, kept for those figures (run/stream-totals.ts). */
  lists?: RecordedLists;
  /** --no-whole-file on a local copy: the delta search's figures (run/local-delta.ts). */
  delta?: DeltaTotals;
  /**
   * Files copied again because their source shrank while read (run/redo.ts): what rsync's figures add for
   * them beyond the engines' counters (its first send, and the redo's list size).
   */
  redo?: { files: number; transferred: number; literal: number };
}

/** The deletions rsync's receiving side reports to its sender: the messages' bytes (run/item-bytes.ts). */
export interface DeletionMessages {
  bytes: number;
  /** Directories deleted in: each may take one more op, its time set back (not itemized). */
  dirs: number;
}

/** rsync's match.c totals and its literal/matched data, for the files a local delta search looked at. */
export interface DeltaTotals {
  matches: number;
  hashHits: number;
  falseAlarms: number;
  /** Bytes of the searched files that went as literal data, and that were rebuilt from their basis. */
  literal: number;
  matched: number;
  /** Bytes of the files that were searched (the rest of the data sent counts as literal). */
  searched: number;
}

/** A count of one side's writes in rsync's multiplexed frames (run/stream-out.ts MuxCounter). */
export interface FrameCounter {
  put(n: number): void;
  flush(): void;
  readonly written: number;
  readonly length: number;
}

/** Each side's writes for the entries of one part of a run (run/item-bytes.ts). */
export interface ExchangePart {
  sender: FrameCounter;
  generator: FrameCounter;
}

/** What the entries a local run created or sent added to each side of rsync's stream (run/item-bytes.ts). */
export interface Exchange {
  /** Each side's writes for the entries of rsync's first lot of lists, and for the rest. */
  first: ExchangePart;
  rest: ExchangePart;
  /** The sender's writes for all of them as one stream. */
  stream: FrameCounter;
  /** Entries of the first lot. */
  firstItems: number;
  /** Regular files sent, and other entries created or replaced. */
  files: number;
  made: number;
  /** Lists with a file sent, and the list (from 0) of the last file sent (-1: none). */
  sendLists: number;
  lastSendList: number;
  /** The generator's "list done" frames before the last list's: [sender stream offset, lists] pairs. */
  doneGroups: number[];
}

/** The bytes rsync's sender would have written and read on a local copy, and its list's share of them. */
export interface StreamTotals {
  sent: number;
  received: number;
  listBytes: number;
}

/** A remote run's figures from the protocol (bytes each way, literal and matched data, the file list). */
export interface WireTotals {
  literal: number;
  matched: number;
  sent: number;
  received: number;
  listBytes: number;
  buildMs: number;
  xferMs: number;
}
