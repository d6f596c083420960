// rsync's filter rules for a local transfer: --exclude, --include, --filter, --exclude-from,
// --include-from, -C, and per-directory merge files, with rsync 3.x's parsing, matching and ordering.
//
// The walker asks two questions. On the sending side: is this entry in the transfer (`check`)? On the
// receiving side, when deleting: is this destination entry protected (`isProtected`)? Exclude/include
// rules answer both; hide/show (H/S, or the `s` modifier) only the first; protect/risk (P/R, or `r`) only
// the second; --delete-excluded turns every rule without a side into a sender-only rule, so it no longer
// protects anything on the receiver.
//
// Per-directory merge files (`dir-merge`/`:`) are read as the walk descends: `scope.enterDir(relDir)`
// returns a new immutable scope holding that directory's rules in front of the inherited ones; the walker
// keeps the parent scope for the siblings, so "leaving" a directory is just dropping its scope. The sender
// reads merge files in the source tree and the receiver in the destination tree, as rsync does.
//
// Everything here is bytes: patterns and names are held as latin1 strings (one char per byte), so names
// that are not valid UTF-8 match exactly. The only I/O is reading rule files, synchronously, via node:fs.

import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { FilterItem } from '../model/config.js';
import { Exit, showPath } from '../util/errors.js';
import { hasWildcards, litmatchWhere, wildmatchWhere } from './glob.js';
import { ELOOP_TEXT, UNTRUSTED_SYMLINK, resolveOperatorPath } from './operator-path.js';

export interface FilterOptions {
  /** -C/--cvs-exclude. */
  cvsExclude?: boolean;
  /** --delete-excluded: rules without an explicit side act on the sender only. */
  deleteExcluded?: boolean;
  /** Where relative rule-file names resolve (default: process.cwd()). */
  cwd?: string;
  /** For -C: HOME and CVSIGNORE are read from here (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Source of `--exclude-from=-` (default: read fd 0 to its end). */
  readStdin?: () => Buffer;
  /** --insecure-links: rule files may be read through anyone's symlinks (see operator-path.ts). */
  insecureLinks?: boolean;
  /** Told when a rule file that is not fatal to miss (a per-directory one) was refused as untrusted. */
  onRefusal?: (message: string) => void;
  /** -0/--from0: rule files are NUL-separated (word-split lists are not affected). */
  eolNulls?: boolean;
}

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
  ) {
    super(message);
  }
}

/** A rule file behind a symlink that another user owns (operator-path.ts). */
class UntrustedPath extends Error {}

// Rule flags, named after rsync's FILTRULE_* bits so the logic can be checked against exclude.c.
const F = {
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
const SIDES = F.SENDER_SIDE | F.RECEIVER_SIDE;
// What a rule inherits from the merge rule that read it.
const FROM_CONTAINER = F.ABS_PATH | F.INCLUDE | F.DIRECTORY | F.NEGATE | F.PERISHABLE;

// Parse modes (rsync's XFLG_*).
const X = {
  FATAL_ERRORS: 1 << 0,
  /** --exclude/--include and the *-from files: only "+ " / "- " prefixes, and "!" alone clears. */
  OLD_PREFIXES: 1 << 1,
  /** Rules from a per-directory file: a leading "/" anchors at that file's directory. */
  ANCHORED2ABS: 1 << 2,
} as const;

interface PatternRule {
  flags: number;
  /** latin1; trailing "/" removed (DIRECTORY), per-dir anchors expanded to an absolute path. */
  pattern: string;
  slashCnt: number;
}

interface DirMergeRule {
  flags: number;
  /** Unique per parsed rule: keys the rules a scope holds for it. */
  id: number;
  /** The merge-file name as given (latin1). */
  pattern: string;
  /** Its last component: the name looked up in each directory. */
  base: string;
}

type Entry = PatternRule | DirMergeRule;
const isDirMerge = (e: Entry): e is DirMergeRule => (e.flags & F.PERDIR_MERGE) !== 0;

// rsync's default_cvsignore(); protocol 30+ marks these perishable.
const DEFAULT_CVSIGNORE =
  'RCS SCCS CVS CVS.adm RCSLOG cvslog.* tags TAGS .make.state .nse_depinfo *~ #* .#* ,* _$* *$ *.old ' +
  '*.bak *.BAK *.orig *.rej .del-* *.a *.olb *.o *.obj *.so *.exe *.Z *.elc *.ln core .svn/ .git/ .hg/ .bzr/';

const LONG_NAMES: Record<string, string> = {
  clear: '!',
  'dir-merge': ':',
  exclude: '-',
  hide: 'H',
  include: '+',
  merge: '.',
  protect: 'P',
  risk: 'R',
  show: 'S',
};

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const latin1 = (v: string | Buffer): string => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v).toString('latin1');
const shown = (s: string): string => showPath(Buffer.from(s, 'latin1'));

/** Collapse "//", "/./" and trailing slashes of an absolute path (rsync's clean_fname, minus ".."). */
function cleanAbs(p: string): string {
  const parts: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') parts.pop();
    else parts.push(c);
  }
  return '/' + parts.join('/');
}

/** A parsed list under construction: `inheritedCleared` records a "!" that also drops inherited rules. */
interface Target {
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
}

/**
 * Where a rule came from, for messages. A rule read from a file is never echoed (rsync 3.5's rule_text:
 * whoever chose the file could read its lines back through our messages): "<rule from FILE line N>".
 */
function ruleOrigin(t: Target): string | undefined {
  if (t.source === undefined) return undefined;
  return `<rule from ${shown(t.source)}${t.line !== undefined ? ` line ${t.line}` : ''}>`;
}

interface Active {
  /** Registered dir-merge rules, in registration order (rsync's mergelist_parents). */
  merges: DirMergeRule[];
}

/**
 * The parsed filter rules of one run. Build it once with `fromOptions`; then make a scope per transfer
 * root and side with `root()`, and descend with `enterDir`.
 */
export class FilterList {
  /** --delete-excluded was given: unqualified rules do not protect anything on the receiver. */
  readonly deleteExcluded: boolean;
  private readonly rules: Entry[] = [];
  private cvsRules: Entry[] | undefined;
  private readonly active: Active = { merges: [] };
  private nextId = 1;
  private depth = 0;
  /** latin1, like every path held here. */
  private readonly cwd: string;
  private readonly env: Record<string, string | undefined>;
  private readonly readStdin: () => Buffer;
  private readonly insecureLinks: boolean;
  private readonly onRefusal: (message: string) => void;
  private readonly eolNulls: boolean;

  private constructor(opts: FilterOptions) {
    this.insecureLinks = Boolean(opts.insecureLinks);
    this.onRefusal = opts.onRefusal ?? (() => {});
    this.eolNulls = Boolean(opts.eolNulls);
    this.deleteExcluded = Boolean(opts.deleteExcluded);
    this.cwd = latin1(opts.cwd ?? process.cwd());
    this.env = opts.env ?? process.env;
    this.readStdin = opts.readStdin ?? (() => fs.readFileSync(0));
  }

  /** Parse the CLI's rules in order, reading *-from and merge files now. Throws FilterError. */
  static fromOptions(items: readonly FilterItem[], opts: FilterOptions = {}): FilterList {
    const list = new FilterList(opts);
    const target: Target = { rules: list.rules, inheritedCleared: false };
    for (const item of items) {
      switch (item.kind) {
        case 'filter':
          list.parseString(target, latin1(item.value), 0, 0);
          break;
        case 'exclude':
          list.parseString(target, latin1(item.value), 0, X.OLD_PREFIXES);
          break;
        case 'include':
          list.parseString(target, latin1(item.value), F.INCLUDE, X.OLD_PREFIXES);
          break;
        case 'exclude-from':
        case 'include-from':
          list.parseFile(
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
      list.parseString(target, ':C', 0, 0);
      list.parseString(target, '-C', 0, 0);
    }
    return list;
  }

  /** No rules at all: a walker can skip every check. */
  get isEmpty(): boolean {
    return this.rules.length === 0;
  }

  /** Whether any per-directory merge file is in play (else enterDir is free). */
  get hasDirMerge(): boolean {
    return this.active.merges.length > 0;
  }

  /**
   * The scope for one transfer root. `absRoot` is the directory the relative paths are relative to (the
   * source directory for `src/`, its parent for `src`; the destination directory on the receiver). It
   * anchors `/`-modifier rules and per-directory rules the way rsync's current directory does.
   */
  root(side: Side, absRoot: Buffer | string): FilterScope {
    const root = cleanAbs(typeof absRoot === 'string' ? latin1(absRoot) : absRoot.toString('latin1'));
    return new FilterScope(this, side, root, this.active.merges.slice(), new Map(), true);
  }

  /** The sending side's verdict. Without a scope, only global rules apply (no per-directory files). */
  check(relPath: Buffer, isDir: boolean, scope?: FilterScope, opts?: CheckOptions): Verdict {
    const s = scope ?? this.root('sender', Buffer.from(this.cwd, 'latin1'));
    if (s.side !== 'sender') throw new Error('FilterList.check needs a sender scope');
    return s.check(relPath, isDir, opts);
  }

  /** Whether a receiver-side rule protects this destination entry from deletion. */
  isProtected(relPath: Buffer, isDir: boolean, scope?: FilterScope, opts?: CheckOptions): boolean {
    const s = scope ?? this.root('receiver', Buffer.from(this.cwd, 'latin1'));
    if (s.side !== 'receiver') throw new Error('FilterList.isProtected needs a receiver scope');
    return s.check(relPath, isDir, opts) === 'exclude';
  }

  // ---------------------------------------------------------------------------------------------------
  // Internal: used by FilterScope.

  /** @internal */
  globalRules(): readonly Entry[] {
    return this.rules;
  }

  /** @internal */
  cvsList(): readonly Entry[] {
    return this.cvsRules ?? [];
  }

  /** @internal Read one per-directory merge file (missing or unreadable: no rules, as in rsync). */
  readDirFile(merge: DirMergeRule, absRoot: string, absDir: string, filePath: string, active: Active): Target {
    const target: Target = { rules: [], inheritedCleared: false, dir: absDir, root: absRoot, source: filePath };
    let data: Buffer;
    try {
      data = this.readRuleFile(filePath);
    } catch (err) {
      if (err instanceof UntrustedPath) this.onRefusal(UNTRUSTED_SYMLINK);
      return target;
    }
    this.parseBuffer(target, data, merge.flags, X.ANCHORED2ABS, active);
    return target;
  }

  // ---------------------------------------------------------------------------------------------------
  // Parsing (rsync's parse_rule_tok / parse_filter_str / parse_filter_file).

  private fail(message: string, code: number = Exit.Usage): never {
    throw new FilterError(message, code);
  }

  /** One rule token from `s` at `pos`; undefined at the end of the input. */
  private parseToken(
    s: string,
    pos: number,
    tmpl: number,
    xflags: number,
    origin: string | undefined,
  ): { flags: number; pattern: string; next: number } | undefined {
    if (tmpl & F.WORD_SPLIT) while (pos < s.length && isSpace(s.charCodeAt(pos))) pos++;
    if (pos >= s.length) return undefined;
    const start = pos;
    const whole = s.slice(start);
    const what = origin ?? shown(whole);
    const quoted = origin ?? `\`${what}'`;
    let flags = tmpl & FROM_CONTAINER;

    if (tmpl & F.NO_PREFIXES) {
      if (s[pos] === '!' && tmpl & F.CVS_IGNORE) flags |= F.CLEAR_LIST; // tentative: only if alone
    } else if (xflags & X.OLD_PREFIXES) {
      if (s[pos] === '-' && s[pos + 1] === ' ') {
        flags &= ~F.INCLUDE;
        pos += 2;
      } else if (s[pos] === '+' && s[pos + 1] === ' ') {
        flags |= F.INCLUDE;
        pos += 2;
      } else if (s[pos] === '!') {
        flags |= F.CLEAR_LIST;
      }
    } else {
      let ch = '';
      let sidePrefix = false;
      // Long names must be followed by whitespace, "_", "," or the end; pos ends on the last letter, or
      // on the ",", so the modifier scan below starts right after it.
      const word = /^(clear|dir-merge|exclude|hide|include|merge|protect|risk|show)(?=[\s_,]|$)/.exec(whole)?.[1];
      if (word) {
        ch = LONG_NAMES[word]!;
        pos += word.length - 1;
        if (s[pos + 1] === ',') pos++;
      } else if (/^[cdehimprs]/.test(whole)) {
        // rsync only tries the long name for these letters; a near miss ("excludes") is unknown.
        this.fail(`Unknown filter rule: ${quoted}`);
      } else {
        ch = s[pos]!;
        if (s[pos + 1] === ',') pos++;
      }
      switch (ch) {
        case ':':
          flags |= F.PERDIR_MERGE | F.MERGE_FILE;
          break;
        case '.':
          flags |= F.MERGE_FILE;
          break;
        case '+':
          flags |= F.INCLUDE;
          break;
        case '-':
          break;
        case 'S':
          flags |= F.INCLUDE | F.SENDER_SIDE;
          sidePrefix = true;
          break;
        case 'H':
          flags |= F.SENDER_SIDE;
          sidePrefix = true;
          break;
        case 'R':
          flags |= F.INCLUDE | F.RECEIVER_SIDE;
          sidePrefix = true;
          break;
        case 'P':
          flags |= F.RECEIVER_SIDE;
          sidePrefix = true;
          break;
        case '!':
          flags |= F.CLEAR_LIST;
          break;
        default:
          this.fail(`Unknown filter rule: ${quoted}`);
      }
      if (ch !== '!') {
        for (pos++; pos < s.length && s[pos] !== ' ' && s[pos] !== '_'; pos++) {
          if (tmpl & F.WORD_SPLIT && isSpace(s.charCodeAt(pos))) {
            pos--;
            break;
          }
          const m = s[pos]!;
          const invalid = (): never =>
            this.fail(`invalid modifier '${shown(m)}' at position ${pos - start} in filter rule: ${what}`);
          switch (m) {
            case '-':
            case '+':
              if (!(flags & F.MERGE_FILE) || flags & F.NO_PREFIXES) invalid();
              flags |= F.NO_PREFIXES | (m === '+' ? F.INCLUDE : 0);
              break;
            case '/':
              flags |= F.ABS_PATH;
              break;
            case '!':
              // Negation belongs to a pattern; it is no use as a merge-file default.
              if (flags & F.MERGE_FILE) invalid();
              flags |= F.NEGATE;
              break;
            case 'C':
              if (flags & F.NO_PREFIXES || sidePrefix) invalid();
              flags |= F.NO_PREFIXES | F.WORD_SPLIT | F.NO_INHERIT | F.CVS_IGNORE;
              break;
            case 'e':
              if (!(flags & F.MERGE_FILE)) invalid();
              flags |= F.EXCLUDE_SELF;
              break;
            case 'n':
              if (!(flags & F.MERGE_FILE)) invalid();
              flags |= F.NO_INHERIT;
              break;
            case 'p':
              flags |= F.PERISHABLE;
              break;
            case 'r':
              if (sidePrefix) invalid();
              flags |= F.RECEIVER_SIDE;
              break;
            case 's':
              if (sidePrefix) invalid();
              flags |= F.SENDER_SIDE;
              break;
            case 'w':
              if (!(flags & F.MERGE_FILE)) invalid();
              flags |= F.WORD_SPLIT;
              break;
            case 'x':
              flags |= F.XATTR;
              break;
            default:
              invalid();
          }
        }
      }
      if (pos < s.length) pos++; // the one separator (space or "_"); any more belong to the pattern
    }

    if (tmpl & SIDES) {
      if (flags & SIDES) this.fail(`specified-side merge file contains specified-side filter: ${what}`);
      flags |= tmpl & SIDES;
    }

    let end = pos;
    if (tmpl & F.WORD_SPLIT) while (end < s.length && !isSpace(s.charCodeAt(end))) end++;
    else end = s.length;
    const len = end - pos;

    if (flags & F.CLEAR_LIST) {
      // In a no-prefix list (-C's, ":-") a lone "!" clears, as rsync 3.5 does with CVSIGNORE='! x'.
      if (!(tmpl & F.NO_PREFIXES) && !(xflags & X.OLD_PREFIXES) && len) {
        this.fail(`'!' rule has trailing characters: ${what}`);
      }
      if (len > 1) flags &= ~F.CLEAR_LIST; // "!foo" in an old-style or CVS list is a pattern
    } else if (!len && !(flags & F.CVS_IGNORE)) {
      this.fail(`unexpected end of filter rule: ${what}`);
    }

    // --delete-excluded turns an unqualified include/exclude into a sender-side rule.
    if (this.deleteExcluded && !(flags & (SIDES | F.MERGE_FILE | F.PERDIR_MERGE))) flags |= F.SENDER_SIDE;

    return { flags, pattern: s.slice(pos, end), next: end };
  }

  /** Parse every rule in `s` into `target` (rsync's parse_filter_str). */
  private parseString(target: Target, s: string, tmpl: number, xflags: number, active: Active = this.active): void {
    let pos = 0;
    for (;;) {
      const tok = this.parseToken(s, pos, tmpl, xflags, ruleOrigin(target));
      if (!tok) return;
      pos = tok.next;
      let { flags, pattern } = tok;

      if (flags & F.CLEAR_LIST) {
        this.clear(target, active);
        continue;
      }
      if (flags & F.MERGE_FILE) {
        if (!pattern) pattern = '.cvsignore';
        if (flags & F.EXCLUDE_SELF) {
          const slash = pattern.lastIndexOf('/');
          this.addRule(target, pattern.slice(slash + 1), 0, 0, active);
          flags &= ~F.EXCLUDE_SELF;
        }
        if (!(flags & F.PERDIR_MERGE)) {
          // A single-instance merge is read now, in place of the rule. Relative names resolve as rsync's
          // parse_merge_name does: from the cwd, except that inside a per-directory file a name with a
          // slash is relative to that file's directory and a bare name to the transfer root.
          const base = target.dir === undefined ? this.cwd : pattern.includes('/') ? target.dir : (target.root ?? this.cwd);
          const file = pattern === '-' ? pattern : nodePath.resolve(base, pattern);
          this.parseFile(target, file, flags, X.FATAL_ERRORS, active);
          continue;
        }
      }
      this.addRule(target, pattern, flags, xflags, active);
      if (flags & F.CVS_IGNORE && !(flags & F.MERGE_FILE)) this.loadCvsExcludes(flags);
    }
  }

  /** "!": drop the list's rules (and for a per-dir list its inherited rules), unregistering dir-merges. */
  private clear(target: Target, active: Active): void {
    const dropped = new Set(target.rules.filter(isDirMerge));
    target.rules.length = 0;
    target.inheritedCleared = true;
    if (dropped.size) active.merges = active.merges.filter((m) => !dropped.has(m));
  }

  /** rsync's add_rule: directory flag, per-dir anchoring, wildcard flags, dir-merge registration. */
  private addRule(target: Target, pat: string, flags: number, xflags: number, active: Active): void {
    if (pat.length > 1 && pat.endsWith('/')) {
      pat = pat.slice(0, -1);
      flags |= F.DIRECTORY;
    }
    if (!(flags & (F.ABS_PATH | F.MERGE_FILE)) && xflags & X.ANCHORED2ABS && pat.startsWith('/')) {
      // An anchored rule in a per-directory file is anchored at that file's directory: rsync makes it an
      // absolute-path rule by prefixing the directory (so a "/" in that path counts as a slash too).
      flags |= F.ABS_PATH;
      const dir = target.dir ?? '/';
      if (dir !== '/') pat = dir + pat;
    }
    if (flags & F.PERDIR_MERGE) {
      const base = pat.slice(pat.lastIndexOf('/') + 1);
      // A dir-merge file already active is not added again (rsync compares last components).
      if (active.merges.some((m) => m.base === base)) return;
      const rule: DirMergeRule = { flags, id: this.nextId++, pattern: pat, base };
      active.merges.push(rule);
      target.rules.push(rule);
      return;
    }
    let slashCnt = 0;
    for (let i = 0; i < pat.length; i++) if (pat.charCodeAt(i) === 0x2f) slashCnt++;
    if (hasWildcards(pat)) {
      flags |= F.WILD;
      const dbl = pat.indexOf('**');
      if (dbl >= 0) {
        flags |= F.WILD2;
        if (dbl === 0) flags |= F.WILD2_PREFIX;
        if (pat.endsWith('***')) flags |= F.WILD3_SUFFIX;
      }
    }
    target.rules.push({ flags, pattern: pat, slashCnt });
  }

  /** -C's global list: the defaults, then $HOME/.cvsignore, then $CVSIGNORE (once, like rsync). */
  private loadCvsExcludes(flags: number): void {
    if (this.cvsRules) return;
    const target: Target = { rules: [], inheritedCleared: false };
    this.cvsRules = target.rules;
    const tmpl = flags & ~F.PERISHABLE;
    this.parseString(target, DEFAULT_CVSIGNORE, tmpl | F.PERISHABLE, 0);
    const home = this.env['HOME'];
    if (home) this.parseFile(target, nodePath.join(latin1(home), '.cvsignore'), tmpl, 0);
    const cvsignore = this.env['CVSIGNORE'];
    if (cvsignore) this.parseString(target, latin1(cvsignore), tmpl, 0);
  }

  /** Read a rule file: a missing file is fatal only for --*-from and merge ('.') files. */
  private parseFile(target: Target, name: string, tmpl: number, xflags: number, active: Active = this.active): void {
    let data: Buffer;
    if (name === '-') {
      data = this.readStdin();
    } else {
      try {
        data = this.readRuleFile(nodePath.resolve(this.cwd, name));
      } catch (err) {
        if (!(xflags & X.FATAL_ERRORS)) return;
        const what = `failed to open ${tmpl & F.INCLUDE ? 'in' : 'ex'}clude file ${shown(name)}`;
        if (err instanceof UntrustedPath) this.fail(`${UNTRUSTED_SYMLINK}\narsync: ${what}: ${ELOOP_TEXT}`, Exit.FileIO);
        const e = err as NodeJS.ErrnoException;
        const errno = typeof e.errno === 'number' ? Math.abs(e.errno) : 0;
        const why = e.code === 'ENOENT' ? 'No such file or directory' : e.code === 'EACCES' ? 'Permission denied' : (e.code ?? e.message);
        this.fail(`failed to open ${tmpl & F.INCLUDE ? 'in' : 'ex'}clude file ${shown(name)}: ${why} (${errno})`, Exit.FileIO);
      }
    }
    // A merge file that merges itself would recurse until the stack gives out.
    if (this.depth >= 32) {
      this.fail(`merge-file include depth limit (32) exceeded at ${ruleOrigin(target) ?? `\`${shown(name)}'`}`, Exit.FileIO);
    }
    const sub: Target = { ...target, source: name, line: undefined };
    // `rules` is shared, so rules land in the caller's list; a "!" must clear that same list.
    this.depth++;
    try {
      this.parseBuffer(sub, data, tmpl, xflags, active);
    } finally {
      this.depth--;
    }
    if (sub.inheritedCleared) target.inheritedCleared = true;
  }

  /** A rule file's bytes, read through the operator-path rule (throws UntrustedPath on a refusal). */
  private readRuleFile(absPath: string): Buffer {
    const at = resolveOperatorPath(Buffer.from(absPath, 'latin1'), { insecure: this.insecureLinks });
    if (!at.ok) throw new UntrustedPath();
    return fs.readFileSync(at.path);
  }

  /** Split a file's bytes into lines (or words for `w`/-C lists) and parse each one. */
  private parseBuffer(target: Target, data: Buffer, tmpl: number, xflags: number, active: Active): void {
    const text = data.toString('latin1');
    const wordSplit = (tmpl & F.WORD_SPLIT) !== 0;
    // CR LF is one line end, as in rsync, so line numbers in messages match the file.
    const tokens = wordSplit ? text.split(/[ \t\n\v\f\r]/) : this.eolNulls ? text.split('\0') : text.split(/\r\n?|\n/);
    for (const [index, whole] of tokens.entries()) {
      target.line = wordSplit ? undefined : index + 1;
      // rsync reads rules as C strings: a NUL ends the rule on its line.
      const nul = whole.indexOf('\0');
      const t = nul >= 0 ? whole.slice(0, nul) : whole;
      // Blank lines and whole-line comments are skipped; word-split lists have no comments.
      if (!t || (!wordSplit && (t[0] === ';' || t[0] === '#'))) continue;
      this.parseString(target, t, tmpl, xflags, active);
    }
  }
}

/** Scan directories above the transfer for `: /path/.file` rules (rsync's parent_dirscan). */
function parentDirs(mergeDir: string, enteredDir: string): string[] {
  const top = mergeDir === '/' ? '/' : mergeDir + '/';
  const here = enteredDir === '/' ? '/' : enteredDir + '/';
  if (!here.startsWith(top)) return [];
  const out: string[] = [];
  let cur = top;
  while (cur !== here) {
    out.push(cur === '/' ? '/' : cur.slice(0, -1));
    const next = here.indexOf('/', cur.length);
    cur = here.slice(0, next + 1);
  }
  return out;
}

/**
 * The rules in force inside one directory of one transfer root, on one side. Immutable: `enterDir`
 * returns the child's scope.
 */
export class FilterScope {
  /** @internal */
  constructor(
    private readonly list: FilterList,
    readonly side: Side,
    /** latin1, absolute, cleaned. */
    private readonly absRoot: string,
    private readonly merges: readonly DirMergeRule[],
    private readonly lists: ReadonlyMap<number, readonly Entry[]>,
    private readonly isRoot: boolean,
  ) {}

  /**
   * The scope for the contents of directory `relDir` (relative to the transfer root; "" for the root
   * itself when the source is `src/`). Reads each active dir-merge file in that directory: from `dirPath`
   * if given, else from absRoot/relDir. Call it before checking the directory's entries, as rsync does.
   */
  enterDir(relDir: Buffer | string, dirPath?: Buffer): FilterScope {
    if (this.merges.length === 0) return this;
    const rel = (typeof relDir === 'string' ? latin1(relDir) : relDir.toString('latin1')).replace(/\/+$/, '');
    const absDir = cleanAbs(rel ? `${this.absRoot}/${rel}` : this.absRoot);
    const readDir = dirPath ? dirPath.toString('latin1').replace(/\/+$/, '') || '/' : absDir;
    const active: Active = { merges: this.merges.slice() };
    const lists = new Map<number, readonly Entry[]>();
    // rsync walks its merge list by index while reading may register more (a dir-merge rule inside a
    // per-dir file takes effect in the same directory), so the bound is re-read every iteration.
    for (let i = 0; i < active.merges.length; i++) {
      const m = active.merges[i]!;
      let inherited: readonly Entry[] = m.flags & F.NO_INHERIT ? [] : (this.lists.get(m.id) ?? []);
      if (this.isRoot && m.pattern.includes('/')) {
        inherited = this.scanParents(m, absDir, active);
      }
      const file = readDir === '/' ? `/${m.base}` : `${readDir}/${m.base}`;
      const local = this.list.readDirFile(m, this.absRoot, absDir, file, active);
      lists.set(m.id, local.inheritedCleared ? local.rules : local.rules.concat(inherited));
    }
    return new FilterScope(this.list, this.side, this.absRoot, active.merges, lists, false);
  }

  private scanParents(m: DirMergeRule, absDir: string, active: Active): readonly Entry[] {
    // The name's directory is resolved from the first directory entered; only if it is above that
    // directory are the files in between read (e.g. -F's "/.rsync-filter": from / down to the parent).
    const slash = m.pattern.lastIndexOf('/');
    const mergeDir = cleanAbs(m.pattern.startsWith('/') ? m.pattern.slice(0, slash) || '/' : `${absDir}/${m.pattern.slice(0, slash)}`);
    let inherited: Entry[] = [];
    for (const dir of parentDirs(mergeDir, absDir)) {
      const file = dir === '/' ? `/${m.base}` : `${dir}/${m.base}`;
      const got = this.list.readDirFile(m, this.absRoot, dir, file, active);
      if (m.flags & F.NO_INHERIT) continue;
      inherited = got.inheritedCleared ? got.rules : got.rules.concat(inherited);
    }
    return inherited;
  }

  /**
   * The first matching rule's verdict for `relPath` (relative to the transfer root, no leading "./"), or
   * undefined when no rule matches (rsync then includes it). The root itself ("") never matches.
   */
  check(relPath: Buffer | string, isDir: boolean, opts: CheckOptions = {}): Verdict {
    let name = typeof relPath === 'string' ? latin1(relPath) : relPath.toString('latin1');
    if (name.startsWith('/')) name = name.slice(1);
    if (!name) return undefined;
    return this.walk(this.list.globalRules(), name, isDir, opts);
  }

  /** Receiver side: is this destination entry protected from deletion? */
  isProtected(relPath: Buffer | string, isDir: boolean, opts: CheckOptions = {}): boolean {
    return this.check(relPath, isDir, opts) === 'exclude';
  }

  private walk(entries: readonly Entry[], name: string, isDir: boolean, opts: CheckOptions): Verdict {
    const other = this.side === 'sender' ? F.RECEIVER_SIDE : F.SENDER_SIDE;
    for (const e of entries) {
      if (opts.ignorePerishable && e.flags & F.PERISHABLE) continue;
      // A rule for the other side only does not exist on this side.
      if ((e.flags & SIDES) === other) continue;
      if (isDirMerge(e)) {
        const v = this.walk(this.lists.get(e.id) ?? [], name, isDir, opts);
        if (v) return v;
        continue;
      }
      if (e.flags & F.CVS_IGNORE && !(e.flags & F.MERGE_FILE)) {
        const v = this.walk(this.list.cvsList(), name, isDir, opts);
        if (v) return v;
        continue;
      }
      if (ruleMatches(e, name, isDir, this.absRoot)) return e.flags & F.INCLUDE ? 'include' : 'exclude';
    }
    return undefined;
  }
}

/** rsync's rule_matches(): which part of the path a pattern sees, and how it is anchored. */
function ruleMatches(rule: PatternRule, fname: string, isDir: boolean, absRoot: string): boolean {
  const hit = !(rule.flags & F.NEGATE);
  const { flags, slashCnt } = rule;
  if (flags & F.XATTR) return false;
  let text: string;
  if (!slashCnt && !(flags & F.WILD2)) {
    // No slash and no "**": the last component only.
    text = fname.slice(fname.lastIndexOf('/') + 1);
  } else if (flags & F.ABS_PATH && absRoot !== '/') {
    text = absRoot.slice(1) + '/' + fname;
  } else if (flags & F.WILD2_PREFIX) {
    // Lets "**/foo" match "foo" at the top.
    text = '/' + fname;
  } else {
    text = fname;
  }
  if (isDir) {
    // "dir/***" matches the directory itself too.
    if (flags & F.WILD3_SUFFIX) text += '/';
  } else if (flags & F.DIRECTORY) {
    return !hit;
  }
  let pattern = rule.pattern;
  const anchored = pattern.startsWith('/');
  if (anchored) pattern = pattern.slice(1);

  let where: number;
  if (!anchored && slashCnt && !(flags & F.WILD2)) where = slashCnt + 1;
  else if (!anchored && !(flags & F.WILD2_PREFIX) && flags & F.WILD2) where = -1;
  else where = 0;

  // Without wildcards a backslash is an ordinary byte, and the match is plain equality (of the tail).
  const matched = flags & F.WILD ? wildmatchWhere(pattern, text, where) : litmatchWhere(pattern, text, where);
  return matched ? hit : !hit;
}
