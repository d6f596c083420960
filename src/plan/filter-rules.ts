// The filter rules' model, shared by the parser, the matcher and the scopes: rsync's FILTRULE_* flags,
// the parsed rule records, the list being built, and the error a bad rule raises.
//
// Everything here is bytes: patterns and names are held as latin1 strings (one char per byte), so names
// that are not valid UTF-8 match exactly.

import { showPath } from '../util/errors.js';

/** Which side of the transfer a question is about. */
export type Side = 'sender' | 'receiver';
export type Verdict = 'include' | 'exclude' | undefined;

export interface CheckOptions {
  /** Skip perishable rules (`p`, and -C's default list): rsync does this inside directories it deletes. */
  ignorePerishable?: boolean;
}

/**
 * A bad rule or an unreadable rule file. `exitCode` is what rsync exits with: 1 (syntax or usage) for
 * a rule it cannot parse, 11 (file I/O) for a --exclude-from/--include-from/merge file it cannot open
 * (checked against rsync 3.5: "failed to open exclude file X: No such file or directory (2)", code 11).
 */
export class FilterError extends Error {
  override name = 'FilterError';
  constructor(
    message: string,
    readonly exitCode: number,
    /** Said without the program's name: rsync's rule errors are plain rprintf lines (not rsyserr's). */
    readonly bare = false,
  ) {
    super(message);
  }
}

// Rule flags, named after rsync's FILTRULE_* bits so the logic can be checked against exclude.c.
export const F = {
  INCLUDE: 1 << 0,
  DIRECTORY: 1 << 1,
  WILD: 1 << 2,
  WILD2: 1 << 3,
  WILD2_PREFIX: 1 << 4,
  WILD3_SUFFIX: 1 << 5,
  ABS_PATH: 1 << 6,
  NEGATE: 1 << 7,
  PERISHABLE: 1 << 8,
  SENDER_SIDE: 1 << 9,
  RECEIVER_SIDE: 1 << 10,
  MERGE_FILE: 1 << 11,
  PERDIR_MERGE: 1 << 12,
  NO_PREFIXES: 1 << 13,
  WORD_SPLIT: 1 << 14,
  NO_INHERIT: 1 << 15,
  CVS_IGNORE: 1 << 16,
  EXCLUDE_SELF: 1 << 17,
  CLEAR_LIST: 1 << 18,
  XATTR: 1 << 19,
} as const;
export const SIDES = F.SENDER_SIDE | F.RECEIVER_SIDE;
// What a rule inherits from the merge rule that read it.
export const FROM_CONTAINER = F.ABS_PATH | F.INCLUDE | F.DIRECTORY | F.NEGATE | F.PERISHABLE;

// Parse modes (rsync's XFLG_*).
export const X = {
  FATAL_ERRORS: 1 << 0,
  /** --exclude/--include and the *-from files: only "+ " / "- " prefixes, and "!" alone clears. */
  OLD_PREFIXES: 1 << 1,
  /** Rules from a per-directory file: a leading "/" anchors at that file's directory. */
  ANCHORED2ABS: 1 << 2,
} as const;

export interface PatternRule {
  flags: number;
  /** latin1; trailing "/" removed (DIRECTORY), per-dir anchors expanded to an absolute path. */
  pattern: string;
  slashCnt: number;
  /** Read from a file's contents, not given by the operator: traces never show its text (rsync's rule_text). */
  fromFile?: boolean;
}

export interface DirMergeRule {
  flags: number;
  /** Unique per parsed rule: keys the rules a scope holds for it. */
  id: number;
  /** The merge-file name as given (latin1). */
  pattern: string;
  /** Its last component: the name looked up in each directory. */
  base: string;
  /** Named by a rule read from a file, not by the operator: its files are "a file read earlier". */
  fromFile?: boolean;
}

export type Entry = PatternRule | DirMergeRule;
export const isDirMerge = (e: Entry): e is DirMergeRule => (e.flags & F.PERDIR_MERGE) !== 0;

export const latin1 = (v: string | Buffer): string => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v).toString('latin1');
export const shown = (s: string): string => showPath(Buffer.from(s, 'latin1'));

/** Collapse "//", "/./" and trailing slashes of an absolute path (rsync's clean_fname, minus ".."). */
export function cleanAbs(p: string): string {
  const parts: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') parts.pop();
    else parts.push(c);
  }
  return '/' + parts.join('/');
}

/** A parsed list under construction: `inheritedCleared` records a "!" that also drops inherited rules. */
export interface Target {
  rules: Entry[];
  inheritedCleared: boolean;
  /** Absolute directory whose file is being read (per-dir parsing), for anchoring. */
  dir?: string;
  /** The transfer root (per-dir parsing). */
  root?: string;
  /** The file the rules come from, for error messages. */
  source?: string;
  /** The line of `source` being parsed (undefined for word-split lists). */
  line?: number;
  /** A per-directory file: the lines its rules were added from, in order (rsync's add_rule trace). */
  added?: number[];
  /** A per-directory file that could not be opened (rsync's "[not found]"). */
  missing?: boolean;
  /**
   * A file named by another file (not by the operator): its own name is never shown, only where it was
   * named ("a file named at OUTER line N"), or, for a per-directory file named so, "a file read earlier"
   * (rsync 3.5: whoever chose the name could otherwise learn what a path holds through our messages).
   */
  namedAt?: string | undefined;
  readEarlier?: boolean | undefined;
}

/**
 * Where a rule came from, for messages. A rule read from a file is never echoed (rsync 3.5's rule_text:
 * whoever chose the file could read its lines back through our messages): "<rule from FILE line N>".
 */
export function ruleOrigin(t: Target): string | undefined {
  const where = ruleWhere(t);
  return where === undefined ? undefined : `<rule from ${where}>`;
}

/**
 * rsync's get_rule_prefix (protocol 30+): the rule's kind, its modifiers, a space. The wire form of a
 * sent rule (filter-send.ts) and the form --debug=FILTER shows.
 */
export function rulePrefix(flags: number): string {
  let p = flags & F.PERDIR_MERGE ? ':' : flags & F.INCLUDE ? '+' : '-';
  if (flags & F.ABS_PATH) p += '/';
  if (flags & F.NEGATE) p += '!';
  if (flags & F.CVS_IGNORE) p += 'C';
  else {
    if (flags & F.NO_INHERIT) p += 'n';
    if (flags & F.WORD_SPLIT) p += 'w';
    if (flags & F.NO_PREFIXES) p += flags & F.INCLUDE ? '+' : '-';
  }
  if (flags & F.EXCLUDE_SELF) p += 'e';
  if (flags & F.XATTR) p += 'x';
  if (flags & F.SENDER_SIDE) p += 's';
  if (flags & F.RECEIVER_SIDE) p += 'r';
  if (flags & F.PERISHABLE) p += 'p';
  return p + ' ';
}

/** rsync's rule_src_where(): "FILE line N", or what may be said of a file named by another file. */
export function ruleWhere(t: Target): string | undefined {
  if (t.source === undefined) return undefined;
  if (t.readEarlier) return 'a file read earlier';
  if (t.namedAt !== undefined) return `a file named at ${t.namedAt}`;
  return `${shown(t.source)}${t.line !== undefined ? ` line ${t.line}` : ''}`;
}

export interface Active {
  /** Registered dir-merge rules, in registration order (rsync's mergelist_parents). */
  merges: DirMergeRule[];
}

/** What a scope asks of the parsed rule list (filter-parse.ts RuleParser implements it). */
export interface ScopeRules {
  /** The rules of the command line and the files they merged, in order. */
  globalRules(): readonly Entry[];
  /** -C's global list (empty without -C). */
  cvsList(): readonly Entry[];
  /** Read one per-directory merge file (missing or unreadable: no rules, as in rsync). */
  readDirFile(merge: DirMergeRule, absRoot: string, absDir: string, filePath: string, active: Active): Target;
  /** A per-directory merge name too long for its directory (rsync's IOERR_GENERAL): reported, and counted. */
  longName(message: string): void;
  /** The dir-merge rules whose name could not be joined to the directory they were set up in (by id). */
  readonly unjoined: Set<number>;
  /**
   * Whether a side scans the directories above `absDir` for a dir-merge name with a directory part
   * (`: /.rsync-filter`, -F's rule) as it enters that transfer root. rsync finishes a rule's setup, the
   * scan with it, in the first directory its process enters and never again (FILTRULE_FINISH_SETUP), so
   * with several operands only that one root inherits the parents' rules; the same root entered again by
   * another pass (a prune, a delete pass) scans again.
   */
  scansParents(side: Side, absDir: string): boolean;
  /** --debug=FILTER2: told what a side said about the merge files as it entered a directory (filter-scope.ts mergeTrace). */
  dirTrace?: ((side: Side, dir: DirMergeTrace) => void) | undefined;
}

/** What rsync's push_local_filters says entering one directory: its merge lists' lines, and their names for the pops. */
export interface DirMergeTrace {
  /** The directory, absolute, with a trailing "/". */
  abs: string;
  lines: string[];
  /** Each merge list pushed, by index: " [per-dir NAME]". */
  types: string[];
}
