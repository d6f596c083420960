// Parsing filter rules, as rsync's exclude.c does (parse_rule_tok, parse_filter_str, parse_filter_file,
// add_rule): rule strings with their prefixes and modifiers, --exclude-from/--include-from and merge
// files read in place, -C's lists, and per-directory files when a scope asks for them. Errors are thrown
// as FilterError with rsync's exit code.

import * as nodePath from 'node:path';
import { Exit, errnoText } from '../util/errors.js';
import { ConfinedPath, readRuleFile, readStdin, UntrustedPath } from './filter-files.js';
import {
  F,
  FROM_CONTAINER,
  FilterError,
  SIDES,
  X,
  isDirMerge,
  latin1,
  ruleOrigin,
  rulePrefix,
  ruleWhere,
  shown,
  type Active,
  type DirMergeRule,
  type Entry,
  type ScopeRules,
  type Side,
  type Target,
} from './filter-rules.js';
import { hasWildcards } from './glob.js';
import { ELOOP_TEXT, UNTRUSTED_SYMLINK } from './operator-path.js';
import { PATH_MAX as MAXPATHLEN } from '../model/path-max.js';

export interface FilterOptions {
  /** -C/--cvs-exclude. */
  cvsExclude?: boolean;
  /** --delete-excluded: rules without an explicit side act on the sender only. */
  deleteExcluded?: boolean;
  /**
   * -C's rules keep acting on this side under --delete-excluded: a pull's receiving client, which
   * rsync's client gives them after it has sent its rules (exclude.c send_filter_list), so they are
   * never made the sender's (their dir-merge and defaults still protect the destination's names).
   */
  cvsOnThisSide?: boolean;
  /** Where relative rule-file names resolve (default: process.cwd()). */
  cwd?: string;
  /** For -C: HOME and CVSIGNORE are read from here (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Source of `--exclude-from=-` (default: read fd 0 to its end). */
  readStdin?: () => Buffer;
  /** --insecure-links: rule files may be read through anyone's symlinks (see operator-path.ts). */
  insecureLinks?: boolean;
  /** --confine-root: a per-directory rule file resolving outside it is not read (operator-path.ts). */
  confineRoot?: Buffer;
  /** Told when a rule file that is not fatal to miss (a per-directory one) was refused as untrusted. */
  onRefusal?: (message: string) => void;
  /** -0/--from0: rule files are NUL-separated (word-split lists are not affected). */
  eolNulls?: boolean;
  /**
   * Told rsync's messages about rules as they are added: "discarding over-long filter" (an error, for
   * stderr) and, with `trace` (--debug=FILTER), an operator's rule that ends in white space.
   */
  onNote?: (line: string, error: boolean) => void;
  trace?: boolean;
}


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

/** The rule list of one run while it is parsed, and the per-directory files its scopes read later. */
export class RuleParser implements ScopeRules {
  /** --delete-excluded was given: unqualified rules do not protect anything on the receiver. */
  deleteExcluded: boolean;
  /** The rules of the command line and the files they merged. */
  readonly rules: Entry[] = [];
  private cvsRules: Entry[] | undefined;
  /** The dir-merge rules registered so far (the global list's). */
  readonly active: Active = { merges: [] };
  private nextId = 1;
  private depth = 0;
  /** latin1, like every path held here. */
  readonly cwd: string;
  private readonly env: Record<string, string | undefined>;
  private readonly readStdin: () => Buffer;
  private readonly insecureLinks: boolean;
  private readonly confineRoot: Buffer | undefined;
  /**
   * rsync settles --confine-root only after the command line is parsed, so the rule files the options
   * name (and the merges inside them) are read unconfined; those read during the transfer (per-directory
   * files and the merges they name) are confined. Set by confineFromNowOn().
   */
  private confining = false;
  private readonly onRefusal: (message: string) => void;
  private readonly eolNulls: boolean;
  private readonly onNote: (line: string, error: boolean) => void;
  private readonly trace: boolean;

  constructor(opts: FilterOptions) {
    this.onNote = opts.onNote ?? (() => {});
    this.trace = Boolean(opts.trace);
    this.insecureLinks = Boolean(opts.insecureLinks);
    this.confineRoot = opts.confineRoot;
    this.onRefusal = opts.onRefusal ?? (() => {});
    this.eolNulls = Boolean(opts.eolNulls);
    this.deleteExcluded = Boolean(opts.deleteExcluded);
    this.cwd = latin1(opts.cwd ?? process.cwd());
    this.env = opts.env ?? process.env;
    this.readStdin = opts.readStdin ?? readStdin;
  }

  globalRules(): readonly Entry[] {
    return this.rules;
  }

  cvsList(): readonly Entry[] {
    return this.cvsRules ?? [];
  }

  /** I/O errors the per-directory merge names caused (rsync's io_error): the run's exit code counts them. */
  ioErrors = 0;
  readonly unjoined = new Set<number>();
  dirTrace: ScopeRules['dirTrace'];
  /** The root directory each side scanned the parents of (the first it entered). */
  private readonly scannedAt = new Map<Side, string>();

  scansParents(side: Side, absDir: string): boolean {
    const at = this.scannedAt.get(side);
    if (at === undefined) this.scannedAt.set(side, absDir);
    return at === undefined || at === absDir;
  }

  longName(message: string): void {
    this.ioErrors++;
    this.onNote(message, true);
  }

  /** Read one per-directory merge file (missing or unreadable: no rules, as in rsync). */
  readDirFile(merge: DirMergeRule, absRoot: string, absDir: string, filePath: string, active: Active): Target {
    // Messages name the file as rsync's dirbuf does: absolute (the read itself may go through a relative path).
    const source = filePath.startsWith('/') ? filePath : `${absDir === '/' ? '' : absDir}/${merge.base}`;
    const target: Target = { rules: [], inheritedCleared: false, dir: absDir, root: absRoot, source, readEarlier: merge.fromFile, added: [] };
    let data: Buffer;
    try {
      data = this.readRuleFile(filePath);
    } catch (err) {
      if (err instanceof UntrustedPath) this.onRefusal(UNTRUSTED_SYMLINK);
      target.missing = true;
      return target;
    }
    this.parseBuffer(target, data, merge.flags, X.ANCHORED2ABS, active);
    return target;
  }


  // ---------------------------------------------------------------------------------------------------
  // Parsing (rsync's parse_rule_tok / parse_filter_str / parse_filter_file).

  /** A rule that cannot be used: `bare` unless the reason is a file's (rsync's rsyserr lines). */
  private fail(message: string, code: number = Exit.Usage, bare = true): never {
    throw new FilterError(message, code, bare);
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
        this.fail(`Unknown filter rule: ${what}`);
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
          this.fail(`Unknown filter rule: ${what}`);
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
  parseString(target: Target, s: string, tmpl: number, xflags: number, active: Active = this.active): void {
    let pos = 0;
    for (;;) {
      const origin = ruleOrigin(target);
      const tok = this.parseToken(s, pos, tmpl, xflags, origin);
      if (!tok) return;
      pos = tok.next;
      let { flags, pattern } = tok;
      if (pattern.length >= MAXPATHLEN) {
        this.onNote(`discarding over-long filter: ${origin ?? shown(pattern)}`, true);
        continue;
      }
      // An operator's rule that ends in white space is almost always a mistake (a file's is never quoted).
      if (this.trace && origin === undefined && /[ \t]$/.test(pattern)) {
        this.onNote(`[client] add_rule(${rulePrefix(flags)}${shown(pattern)}) -- CAUTION: trailing whitespace!`, false);
      }

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
    target.added?.push(target.line ?? 0);
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
      const rule: DirMergeRule = { flags, id: this.nextId++, pattern: pat, base, ...(target.source !== undefined ? { fromFile: true } : {}) };
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
    target.rules.push({ flags, pattern: pat, slashCnt, ...(target.source !== undefined ? { fromFile: true } : {}) });
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
  parseFile(target: Target, name: string, tmpl: number, xflags: number, active: Active = this.active): void {
    let data: Buffer;
    if (name === '-') {
      data = this.readStdin();
    } else {
      try {
        data = this.readRuleFile(nodePath.resolve(this.cwd, name));
      } catch (err) {
        // A directory: rsync's fopen opens it and its first read fails, which rsync takes for the end of
        // the file, so a directory reads as a file of no rules.
        if ((err as NodeJS.ErrnoException).code !== 'EISDIR') return this.openFailed(err, target, name, tmpl, xflags);
        data = Buffer.alloc(0);
      }
    }
    // A merge file that merges itself would recurse until the stack gives out.
    if (this.depth >= 32) {
      // rsync prefixes its role here (exclude.c); the sender reads rule files in a local copy and a push.
      this.fail(`[sender] merge-file include depth limit (32) exceeded at ${ruleOrigin(target) ?? `\`${shown(name)}'`}`, Exit.FileIO);
    }
    // A merge file named inside another file is shown only by where it was named.
    const sub: Target = { ...target, source: name, line: undefined, readEarlier: undefined, namedAt: target.source === undefined ? undefined : ruleWhere(target) };
    // `rules` is shared, so rules land in the caller's list; a "!" must clear that same list.
    this.depth++;
    try {
      this.parseBuffer(sub, data, tmpl, xflags, active);
    } finally {
      this.depth--;
    }
    if (sub.inheritedCleared) target.inheritedCleared = true;
  }

  /** A rule file that could not be read: fatal only for --*-from and merge ('.') files, in rsync's words. */
  private openFailed(err: unknown, target: Target, name: string, tmpl: number, xflags: number): void {
    if (!(xflags & X.FATAL_ERRORS)) return;
    // A name read from a file is not echoed: the rule's place stands for it (rsync 3.5). A name given on
    // the command line is rsync's rsyserr line, with the role it has while starting up.
    const origin = ruleOrigin(target);
    const what = `${origin ? '' : '[client] '}failed to open ${tmpl & F.INCLUDE ? 'in' : 'ex'}clude file ${origin ?? shown(name)}`;
    if (err instanceof UntrustedPath) this.fail(`${UNTRUSTED_SYMLINK}\narsync: ${what}: ${ELOOP_TEXT}`, Exit.FileIO, false);
    // Outside --confine-root: rsync names no errno for a name read from a file (an existence oracle).
    if (err instanceof ConfinedPath) this.fail(origin ? what : `${what}: ${ELOOP_TEXT}`, Exit.FileIO, false);
    const e = err as NodeJS.ErrnoException;
    const errno = typeof e.errno === 'number' ? Math.abs(e.errno) : 0;
    this.fail(`${what}: ${errno ? errnoText(errno) : e.message} (${errno})`, Exit.FileIO, false);
  }

  /** A rule file's bytes, read through the operator-path rule (throws UntrustedPath on a refusal). */
  private readRuleFile(absPath: string): Buffer {
    return readRuleFile(absPath, this.insecureLinks, this.confining ? this.confineRoot : undefined);
  }

  /** The command line's rules are parsed: rule files read from now on are confined (--confine-root). */
  confineFromNowOn(): void {
    this.confining = true;
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
