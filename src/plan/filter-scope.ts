// Per-directory merge files (`dir-merge`/`:`), read as the walk descends: `scope.enterDir(relDir)`
// returns a new immutable scope holding that directory's rules in front of the inherited ones; the walker
// keeps the parent scope for the siblings, so "leaving" a directory is just dropping its scope. The sender
// reads merge files in the source tree and the receiver in the destination tree, as rsync does. A scope
// answers the walker's questions by going through its rules in order (rsync's check_filter).

import { ruleMatches } from './filter-match.js';
import {
  F,
  SIDES,
  cleanAbs,
  isDirMerge,
  latin1,
  shown,
  type Active,
  type CheckOptions,
  type DirMergeRule,
  type DirMergeTrace,
  type Entry,
  type PatternRule,
  type ScopeRules,
  type Side,
  type Target,
  type Verdict,
} from './filter-rules.js';
import { PATH_MAX as MAXPATHLEN } from '../model/path-max.js';


/** The length of rsync's dirbuf for a directory: its path with the trailing slash. */
const dirLength = (dir: string): number => (dir === '/' ? 1 : dir.length + 1);

/** rsync's clean_fname() of a relative name (CFN_COLLAPSE_DOT_DOT_DIRS): empty and "." parts dropped, ".." collapsed. */
function cleanRel(p: string): string {
  const parts: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..' && parts.length && parts[parts.length - 1] !== '..') parts.pop();
    else parts.push(c);
  }
  return parts.join('/');
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

/** rsync's rflags bits (rsync.h FILTRULE_*) for the modifiers a dir-merge rule keeps: its parse_filter_file line prints them. */
const RSYNC_RFLAGS: ReadonlyArray<[number, number]> = [
  [F.INCLUDE, 0x20],
  [F.WORD_SPLIT, 0x80],
  [F.NO_INHERIT, 0x100],
  [F.NO_PREFIXES, 0x200],
  [F.MERGE_FILE, 0x400],
  [F.PERDIR_MERGE, 0x800],
  [F.NEGATE, 0x4000],
  [F.CVS_IGNORE, 0x8000],
  [F.SENDER_SIDE, 0x10000],
  [F.RECEIVER_SIDE, 0x20000],
  [F.PERISHABLE, 0x80000],
];

/** The lines rsync's push_local_filters prints (--debug=FILTER2) as one side enters one directory. */
class MergeTrace {
  private readonly lines: string[] = [];
  private readonly types: string[] = [];
  private readonly who: string;

  constructor(
    side: Side,
    private readonly abs: string,
  ) {
    this.who = side === 'sender' ? '[sender]' : '[generator]';
  }

  private type = (m: DirMergeRule): string => ` [per-dir ${m.fromFile ? FROM_FILE.slice(1, -1) : m.base}]`;

  push(i: number, m: DirMergeRule): void {
    this.types[i] = this.type(m);
    this.lines.push(`${this.who} pushing mergelist #${i}${this.type(m)}`);
  }

  scan(i: number, m: DirMergeRule, how: 'performing' | 'completed'): void {
    this.lines.push(`${this.who} ${how} parent_dirscan for mergelist #${i}${this.type(m)}`);
  }

  file(m: DirMergeRule, t: Target): void {
    const rflags = RSYNC_RFLAGS.reduce((n, [ours, theirs]) => (m.flags & ours ? n | theirs : n), 0);
    const name = m.fromFile ? FROM_FILE : shown(t.source ?? '');
    // rsync's XFLG_ANCHORED2ABS (4): a per-directory file's anchored rules are anchored at its directory.
    this.lines.push(`${this.who} parse_filter_file(${name},${rflags.toString(16)},4)${t.missing ? ' [not found]' : ''}`);
    for (const n of t.added ?? []) this.lines.push(`${this.who} add_rule(<rule from ${name} line ${n}>)${this.type(m)}`);
  }

  done(): DirMergeTrace {
    return { abs: this.abs === '/' ? '/' : `${this.abs}/`, lines: this.lines, types: this.types };
  }
}

/**
 * The rules in force inside one directory of one transfer root, on one side. Immutable: `enterDir`
 * returns the child's scope.
 */
export class FilterScope {
  /** @internal */
  constructor(
    private readonly list: ScopeRules,
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
    const absDir = this.absOf(relDir);
    const readDir = dirPath ? dirPath.toString('latin1').replace(/\/+$/, '') || '/' : absDir;
    const active: Active = { merges: this.merges.slice() };
    const lists = new Map<number, readonly Entry[]>();
    const said = this.list.dirTrace ? new MergeTrace(this.side, absDir) : undefined;
    // rsync walks its merge list by index while reading may register more (a dir-merge rule inside a
    // per-dir file takes effect in the same directory), so the bound is re-read every iteration.
    for (let i = 0; i < active.merges.length; i++) {
      const m = active.merges[i]!;
      said?.push(i, m);
      let inherited: readonly Entry[] = m.flags & F.NO_INHERIT ? [] : (this.lists.get(m.id) ?? []);
      // A rule is set up in the first directory it is in force for (rsync's FILTRULE_FINISH_SETUP).
      const setUp = this.isRoot || i >= this.merges.length;
      if (setUp && !this.joins(m, absDir)) this.list.unjoined.add(m.id);
      else if (this.isRoot && m.pattern.includes('/') && this.list.scansParents(this.side, absDir)) {
        said?.scan(i, m, 'performing');
        inherited = this.scanParents(m, absDir, active, said);
        said?.scan(i, m, 'completed');
      }
      if (!this.fits(m, absDir)) {
        lists.set(m.id, inherited);
        continue;
      }
      const file = readDir === '/' ? `/${m.base}` : `${readDir}/${m.base}`;
      const local = this.list.readDirFile(m, this.absRoot, absDir, file, active);
      said?.file(m, local);
      lists.set(m.id, local.inheritedCleared ? local.rules : local.rules.concat(inherited));
    }
    if (said) this.list.dirTrace!(this.side, said.done());
    return new FilterScope(this.list, this.side, this.absRoot, active.merges, lists, false);
  }

  /** A directory of this root, absolute and cleaned (latin1), as rsync's dirbuf names it. */
  private absOf(relDir: Buffer | string): string {
    const rel = (typeof relDir === 'string' ? latin1(relDir) : relDir.toString('latin1')).replace(/\/+$/, '');
    return cleanAbs(rel ? `${this.absRoot}/${rel}` : this.absRoot);
  }

  /**
   * Makes `relDir` (a root's directory) the one this side scans the parents of, before any pass enters
   * a root: where the walk's order is not the order rsync's process enters its roots in (ScopeRules
   * scansParents).
   */
  claimParentScan(relDir: Buffer | string): void {
    if (this.isRoot && this.merges.length) this.list.scansParents(this.side, this.absOf(relDir));
  }

  /**
   * rsync's parse_merge_name() when the rule is set up: a relative name with a directory part is joined
   * to the directory, and a join longer than MAXPATHLEN is an error; the rule then keeps its whole name.
   */
  private joins(m: DirMergeRule, dir: string): boolean {
    if (m.pattern.startsWith('/') || !m.pattern.includes('/')) return true;
    const name = cleanRel(m.pattern);
    if (dirLength(dir) + name.length < MAXPATHLEN) return true;
    this.report(`merge-file name overflows: ${m.fromFile ? FROM_FILE : shown(name)}`);
    return false;
  }

  /**
   * rsync's push_local_filters(): the file's name after the directory must fit in MAXPATHLEN, else the
   * directory gets no rules from it and the run has an I/O error (exit 23, no deletions).
   */
  private fits(m: DirMergeRule, dir: string): boolean {
    const name = this.list.unjoined.has(m.id) ? m.pattern : m.base;
    const prefix = dir === '/' ? '/' : `${dir}/`;
    if (prefix.length + name.length < MAXPATHLEN) return true;
    const full = `${prefix}${name}`.slice(0, MAXPATHLEN - 1);
    this.report(`cannot add local filter rules in long-named directory: ${m.fromFile ? FROM_FILE : shown(full)}`);
    return false;
  }

  /** The sender says it, once: the receiver's scope meets the same names in the same directories. */
  private report(message: string): void {
    if (this.side === 'sender') this.list.longName(message);
  }

  private scanParents(m: DirMergeRule, absDir: string, active: Active, said: MergeTrace | undefined): readonly Entry[] {
    // The name's directory is resolved from the first directory entered; only if it is above that
    // directory are the files in between read (e.g. -F's "/.rsync-filter": from / down to the parent).
    const slash = m.pattern.lastIndexOf('/');
    const mergeDir = cleanAbs(m.pattern.startsWith('/') ? m.pattern.slice(0, slash) || '/' : `${absDir}/${m.pattern.slice(0, slash)}`);
    let inherited: Entry[] = [];
    for (const dir of parentDirs(mergeDir, absDir)) {
      const file = dir === '/' ? `/${m.base}` : `${dir}/${m.base}`;
      const got = this.list.readDirFile(m, this.absRoot, dir, file, active);
      said?.file(m, got);
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
    return this.match(relPath, isDir, opts)?.verdict;
  }

  /** The first matching rule itself, and the list it is in (for --debug=FILTER's trace, filterTrace()). */
  match(relPath: Buffer | string, isDir: boolean, opts: CheckOptions = {}): Match | undefined {
    let name = typeof relPath === 'string' ? latin1(relPath) : relPath.toString('latin1');
    if (name.startsWith('/')) name = name.slice(1);
    if (!name) return undefined;
    return this.walk(this.list.globalRules(), name, isDir, opts, '');
  }

  /** Receiver side: is this destination entry protected from deletion? */
  isProtected(relPath: Buffer | string, isDir: boolean, opts: CheckOptions = {}): boolean {
    return this.check(relPath, isDir, opts) === 'exclude';
  }

  private xrules: readonly PatternRule[] | null | undefined;

  /**
   * The x-rules (`-x NAME`, F.XATTR) this side meets while it handles the entries of this scope's
   * directory: the list check_filter walks for an xattr name (rsync's name_is_excluded with NAME_IS_XATTR),
   * each dir-merge rule's current rules where that rule stands, the other side's rules left out. Null
   * when no per-directory file adds one: the command line's rules alone (plan/xattr-rules.ts xattrRules).
   */
  xattrRules(): readonly PatternRule[] | null {
    if (this.xrules !== undefined) return this.xrules;
    const out: PatternRule[] = [];
    let own = false;
    const other = this.side === 'sender' ? F.RECEIVER_SIDE : F.SENDER_SIDE;
    const take = (entries: readonly Entry[], perDir: boolean): void => {
      for (const e of entries) {
        if ((e.flags & SIDES) === other) continue;
        if (isDirMerge(e)) take(this.lists.get(e.id) ?? [], true);
        else if (e.flags & F.XATTR) {
          out.push(e);
          own ||= perDir;
        }
      }
    };
    take(this.list.globalRules(), false);
    this.xrules = own ? out : null;
    return this.xrules;
  }

  /** `list`: rsync's debug_type of the list being walked ("", " [per-dir NAME]", " [global CVS]"). */
  private walk(entries: readonly Entry[], name: string, isDir: boolean, opts: CheckOptions, list: string): Match | undefined {
    const other = this.side === 'sender' ? F.RECEIVER_SIDE : F.SENDER_SIDE;
    for (const e of entries) {
      if (opts.ignorePerishable && e.flags & F.PERISHABLE) continue;
      // A rule for the other side only does not exist on this side.
      if ((e.flags & SIDES) === other) continue;
      if (isDirMerge(e)) {
        const m = this.walk(this.lists.get(e.id) ?? [], name, isDir, opts, ` [per-dir ${e.fromFile ? FROM_FILE : e.base}]`);
        if (m) return m;
        continue;
      }
      if (e.flags & F.CVS_IGNORE && !(e.flags & F.MERGE_FILE)) {
        const m = this.walk(this.list.cvsList(), name, isDir, opts, ' [global CVS]');
        if (m) return m;
        continue;
      }
      if (ruleMatches(e, name, isDir, this.absRoot)) return { verdict: e.flags & F.INCLUDE ? 'include' : 'exclude', rule: e, list };
    }
    return undefined;
  }
}

/** What rsync shows in place of a rule's text that came out of a file (rule_text after parsing). */
const FROM_FILE = '<rule from a file read earlier>';

/** A rule that matched, and rsync's name for the list it is in. */
export interface Match {
  verdict: 'include' | 'exclude';
  rule: PatternRule;
  list: string;
}

/**
 * rsync's report_filter_result line (--debug=FILTER, which -vv turns on): "[sender] hiding file NAME
 * because of pattern PATTERN", "[generator] protecting ..." on the receiving side; a rule read from a
 * file is never quoted (nor its directory slash).
 */
export function filterTrace(side: 'sender' | 'receiver', name: string, isDir: boolean, m: Match): string {
  const include = m.verdict === 'include';
  const action = side === 'sender' ? (include ? 'showing' : 'hiding') : include ? 'risking' : 'protecting';
  const text = m.rule.fromFile ? FROM_FILE : `${shown(m.rule.pattern)}${m.rule.flags & F.DIRECTORY ? '/' : ''}`;
  return `[${side === 'sender' ? 'sender' : 'generator'}] ${action} ${isDir ? 'directory' : 'file'} ${name} because of pattern ${text}${m.list}`;
}
