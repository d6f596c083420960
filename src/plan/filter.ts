// rsync's filter rules for a local transfer: --exclude, --include, --filter, --exclude-from,
// --include-from, -C, and per-directory merge files, with rsync 3.x's parsing, matching and ordering.
//
// The walker asks two questions. On the sending side: is this entry in the transfer (`check`)? On the
// receiving side, when deleting: is this destination entry protected (`isProtected`)? Exclude/include
// rules answer both; hide/show (H/S, or the `s` modifier) only the first; protect/risk (P/R, or `r`) only
// the second; --delete-excluded turns every rule without a side into a sender-only rule, so it no longer
// protects anything on the receiver.
//
// This module is the list a run builds once and its entry points; the rest is split by concern: the
// rules' model (filter-rules.ts), parsing (filter-parse.ts), reading rule files, the only I/O
// (filter-files.ts), per-directory merge files and scopes (filter-scope.ts), matching (filter-match.ts,
// glob.ts).

import type { FilterItem } from '../model/config.js';
import { RuleParser, type FilterOptions } from './filter-parse.js';
import { F, X, cleanAbs, latin1, type CheckOptions, type Entry, type ScopeRules, type Side, type Target, type Verdict } from './filter-rules.js';
import { FilterScope } from './filter-scope.js';

/**
 * The parsed filter rules of one run. Build it once with `fromOptions`; then make a scope per transfer
 * root and side with `root()`, and descend with `enterDir`.
 */
export class FilterList {
  /** --delete-excluded was given: unqualified rules do not protect anything on the receiver. */
  readonly deleteExcluded: boolean;

  private constructor(private readonly parser: RuleParser) {
    this.deleteExcluded = parser.deleteExcluded;
  }

  /** Parse the CLI's rules in order, reading *-from and merge files now. Throws FilterError. */
  static fromOptions(items: readonly FilterItem[], opts: FilterOptions = {}): FilterList {
    const parser = new RuleParser(opts);
    const target: Target = { rules: parser.rules, inheritedCleared: false };
    for (const item of items) {
      switch (item.kind) {
        case 'filter':
          parser.parseString(target, latin1(item.value), 0, 0);
          break;
        case 'exclude':
          parser.parseString(target, latin1(item.value), 0, X.OLD_PREFIXES);
          break;
        case 'include':
          parser.parseString(target, latin1(item.value), F.INCLUDE, X.OLD_PREFIXES);
          break;
        case 'exclude-from':
        case 'include-from':
          parser.parseFile(
            target,
            latin1(item.value),
            item.kind === 'include-from' ? F.INCLUDE : 0,
            X.FATAL_ERRORS | X.OLD_PREFIXES,
          );
          break;
      }
    }
    if (opts.cvsExclude) {
      // rsync appends these after every other rule, whatever -C's position on the command line; the ":C"
      // is dropped if a .cvsignore dir-merge is already in the list (so -f:C can place it earlier).
      const deleteExcluded = parser.deleteExcluded;
      if (opts.cvsOnThisSide) parser.deleteExcluded = false;
      parser.parseString(target, ':C', 0, 0);
      parser.parseString(target, '-C', 0, 0);
      parser.deleteExcluded = deleteExcluded;
    }
    parser.confineFromNowOn();
    return new FilterList(parser);
  }

  /** The command line's rules in order (merge files read in place), and -C's list: what a client sends its peer. */
  get globalRules(): readonly Entry[] {
    return this.parser.globalRules();
  }

  get cvsRules(): readonly Entry[] {
    return this.parser.cvsList();
  }

  /** No rules at all: a walker can skip every check. */
  /** I/O errors from per-directory merge names so far (rsync's io_error): they block deletion and make the exit 23. */
  get ioErrors(): number {
    return this.parser.ioErrors;
  }

  get isEmpty(): boolean {
    return this.parser.rules.length === 0;
  }

  /** --debug=FILTER2: what each side says about the merge files as it enters a directory (the -vvv trace). */
  set dirTrace(f: ScopeRules['dirTrace']) {
    this.parser.dirTrace = f;
  }

  /** Whether any per-directory merge file is in play (else enterDir is free). */
  get hasDirMerge(): boolean {
    return this.parser.active.merges.length > 0;
  }

  /**
   * The scope for one transfer root. `absRoot` is the directory the relative paths are relative to (the
   * source directory for `src/`, its parent for `src`; the destination directory on the receiver). It
   * anchors `/`-modifier rules and per-directory rules the way rsync's current directory does.
   * `dirFiles` false: no per-directory file is read on the way down (its rules are none).
   */
  root(side: Side, absRoot: Buffer | string, dirFiles = true): FilterScope {
    const root = cleanAbs(typeof absRoot === 'string' ? latin1(absRoot) : absRoot.toString('latin1'));
    return new FilterScope(this.parser, side, root, dirFiles ? this.parser.active.merges.slice() : [], new Map(), true);
  }

  /** The sending side's verdict. Without a scope, only global rules apply (no per-directory files). */
  check(relPath: Buffer, isDir: boolean, scope?: FilterScope, opts?: CheckOptions): Verdict {
    const s = scope ?? this.root('sender', Buffer.from(this.parser.cwd, 'latin1'));
    if (s.side !== 'sender') throw new Error('FilterList.check needs a sender scope');
    return s.check(relPath, isDir, opts);
  }

  /** Whether a receiver-side rule protects this destination entry from deletion. */
  isProtected(relPath: Buffer, isDir: boolean, scope?: FilterScope, opts?: CheckOptions): boolean {
    const s = scope ?? this.root('receiver', Buffer.from(this.parser.cwd, 'latin1'));
    if (s.side !== 'receiver') throw new Error('FilterList.isProtected needs a receiver scope');
    return s.check(relPath, isDir, opts) === 'exclude';
  }
}
