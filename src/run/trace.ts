// rsync's -vvv trace of a local copy (its --debug words FLIST2, FILTER2, DEL2, DELTASUM2, GENR, SEND, RECV, BACKUP): the
// lines a local rsync's sender, receiver and generator print about its incremental file list, built from
// what this run really did. The run tells it which directories it listed (in its walk order, which is the
// order rsync's sender sends their file lists in), which entries each held, and what it decided for each
// entry (Lines' emit); the lines the run prints meanwhile are caught and given to the process that prints
// them in rsync (an entry's -v line to the sender, "is uptodate" and deletions to the generator). When the
// pass is over, trace-render.ts writes the three processes' lines in an order rsync could print them in.

import { opendirSync } from 'node:fs';
import type { Reporter } from '../progress/reporter.js';
import { showPath } from '../util/errors.js';
import type { Verdict } from '../plan/quickcheck.js';
import type { FileType } from '../model/stat.js';
import { devMajor, devMinor } from '../model/devnum.js';
import type { DebugLevels } from '../model/output-levels.js';
import type { DeltaSeen } from './local-delta.js';
import { anyChange } from './lines.js';
import { tempName } from '../model/temp-name.js';
import type { DirMergeTrace, Side } from '../plan/filter-rules.js';

/** A line the run printed, kept with the reporter method that prints it. */
export interface Said {
  how: 'print' | 'item' | 'info';
  text: string;
  /** A "renaming" line printed before its op ran: its temp letters are the entry's, once reported. */
  renames?: TraceEntry;
}

/** One entry of rsync's file list. */
export interface TraceEntry {
  /** Its name in the list, as printed ("." for a "dir/" root); the receiving side's name for a file copied to a new name. */
  name: string;
  /** A file copied to a new name: the sender's name for it (its make_file, recv_file_name and send_files lines). */
  sentAs?: string;
  /** What the sender names it under: the path above its source operand (srcBase when it was listed). */
  base: string;
  /** A source operand after the first, in the first list (the sender's make_file(NAME,*,0)). */
  operand?: boolean;
  /** -R: a directory above an operand (rsync's implied directory), or an operand sent in the list of the one above it: the sender's make_file(NAME,*,2). */
  implied?: boolean;
  isDir: boolean;
  /** The run decided it (an itemized entry: rsync's generator hands its index to the sender). */
  decided: boolean;
  /** A regular file whose data is sent (the sender maps it, the receiver renames its temp file in). */
  data: boolean;
  /** Settled by rsync's generator alone (a --link-dest twin, a directory matching a --*-dest twin): its index never reaches the sender. */
  generatorOnly: boolean;
  /** Its file op failed or never ran: nothing was renamed into place. */
  failed: boolean;
  /** The six letters of the temp file its file op renamed into place, as the engine reported them. */
  temp?: string;
  /** -H: linked to its group's leader once the leader is in place (rsync's generator hands it over then). */
  follower: boolean;
  /** -H: a follower's leader, by name (under -n rsync hands the follower over right after it). */
  leader?: string;
  /** Its size (the sender's "mapped ... of size N"). */
  size: number;
  /** A device's or special file's mode and device number (the generator's "mknod" line). */
  mode: number;
  rdev: number;
  /** The destination's regular file it replaces, by size (the receiver maps it as its basis); 0: none. */
  basis: number;
  /** The basis is a --*-dest twin: rsync's name for it. */
  basisName?: string;
  /** Where its directory's readdir() returned it: rsync's sender lists entries in that order. */
  pos: number;
  /** --no-whole-file: the delta search against the file it replaces (local-delta.ts). */
  delta?: DeltaSeen;
  /** The generator's own lines about it (for a directory: said where its own list starts). */
  gen: Said[];
  /** The sender's lines about it (its -v line). */
  send: Said[];
  /** The receiver's lines about it as it puts it in place (the backup of the file it replaces). */
  recv: Said[];
}

/** The file list of one directory: rsync sends one per directory under incremental recursion. */
export interface TraceList {
  /** The directory ("." for a "dir/" root). */
  dir: TraceEntry;
  /** The first list of a named source ("src", not "src/"): it holds the source itself and no directory's entries. */
  top?: boolean;
  /** Sent and received with the first list, before the receiving side forks (a named source directory's own entries). */
  early?: boolean;
  /** Its absolute source path with a trailing "/" (the sender's "pushing local filters for"). */
  abs: string;
  /** Its entries in the walk's order (rsync's sorted list for a directory read in one chunk). */
  listed: TraceEntry[];
  /** Its entries' names (bytes as latin1) in readdir() order. */
  readdir: Map<string, number>;
  /** What the sender said about entries it left out while reading the directory (its filter lines), by readdir position. */
  said: Array<{ pos: number; text: string }>;
  /** -R under --delete-during: the generator's line as it enters an implied directory (change_local_filter_dir, no deletions there). */
  push?: string;
}

/** Which trace lines are on: rsync's DEBUG_GTE(WORD, N) for the words the trace prints. */
export interface TraceLevels {
  flist: boolean;
  /** DEL2: delete_in_dir, delete_item. */
  del: boolean;
  /** BACKUP: make_backup's way of making a backup. */
  backup: boolean;
  filter: boolean;
  genr: boolean;
  send: boolean;
  recv: boolean;
  deltasum: boolean;
}

export function traceLevels(d: DebugLevels): TraceLevels | undefined {
  const l = { flist: d.FLIST > 1, del: d.DEL > 1, backup: d.BACKUP > 0, filter: d.FILTER > 1, genr: d.GENR > 0, send: d.SEND > 0, recv: d.RECV > 0, deltasum: d.DELTASUM > 1 };
  return Object.values(l).some(Boolean) ? l : undefined;
}

type Lane = 'prefork' | 'generator' | 'tail';

export class RunTrace {
  /** Every directory's list, in the order the walk reached them (rsync's sending order). */
  readonly lists: TraceList[] = [];
  /** Lines of the receiving side before it forks (created directory ...), and the generator's first ones. */
  readonly prefork: Said[] = [];
  readonly genHead: Said[] = [];
  /** Generator lines after the pass (what the walk's end prints). */
  readonly genTail: Said[] = [];
  /** The generator's last lines before its phase 1: --delete-during's filter states popped (delete_in_dir(NULL)). */
  readonly genLast: Said[] = [];
  /** What the sender names files under: a "dir/" source with its "/", the path above a named source (the operand being walked). */
  srcBase = '';
  /** The source operands: only the first may be a "dir/" (its "." list is the first list). */
  operands = 1;
  /** -R: the lists follow the operands' paths (rootRelative); the operands' names in command-line order. */
  relative = false;
  readonly relativeOperands: string[] = [];
  private readonly byName = new Map<string, TraceEntry>();
  /** The depths of the destination directories whose filters the generator has pushed (delete_in_dir's). */
  private readonly filterDepths: number[] = [];
  private readonly listOf = new Map<string, TraceList>();
  private lane: Lane = 'prefork';
  /** A named source directory: its list is sent with the first. */
  private earlyDir: string | undefined;
  /** The entry whose backup is being made: the lines are its receiver's. */
  private receiving: TraceEntry | undefined;
  /** The directory being listed (its list's own lines), and the entry being decided. */
  private dir: TraceEntry | undefined;
  private current: TraceEntry | undefined;
  /** The reporter the run prints through while the trace is kept: its stdout lines are caught. */
  readonly reporter: Reporter;
  /** What each side said about its per-directory merge files entering each directory, by its absolute path with "/". */
  private readonly merges = { sender: new Map<string, DirMergeTrace>(), receiver: new Map<string, DirMergeTrace>() };
  /** The merge lists the generator pushed at each depth in filterDepths, for their pops. */
  private readonly filterTypes: string[][] = [];

  constructor(
    readonly levels: TraceLevels,
    readonly inner: Reporter,
    /** Per-directory merge rules are in play: only then has a pushed directory state to pop (rsync's push_local_filters). */
    readonly dirMerge = false,
  ) {
    const caught = (how: Said['how']) => (text: string) => this.said({ how, text });
    this.reporter = { ...inner, print: caught('print'), item: caught('item'), info: caught('info') };
  }

  /** The sender entered a directory with per-directory merge rules in force (the first time counts: the walk may enter it again). */
  readonly mergeRead = (side: Side, d: DirMergeTrace): void => {
    if (!this.merges[side].has(d.abs)) this.merges[side].set(d.abs, d);
  };

  /** The sender's merge-file lines for the directory `abs` (a list's abs), when it entered it. */
  mergesOf(abs: string): DirMergeTrace | undefined {
    return this.merges.sender.get(abs);
  }

  /** A "dir/" root: its list starts with "." (rsync's make_file(.,*,0)); `base`: the source as given, without its "/". */
  rootDir(base: string, abs: string): void {
    this.srcBase = `${base}/`;
    const dir = this.entryFor('.', true, 0, -1);
    const list: TraceList = { dir, abs: withSlash(abs), listed: [dir], readdir: new Map(), said: [] };
    this.lists.push(list);
    this.listOf.set('.', list);
  }

  /**
   * A named source ("src", "a/src", a file): the first list holds just it, and a directory's own entries
   * follow in a list sent with it. `base`: the path above it, with its "/" ("" for none); `sentAs`: a file
   * copied to a new name `name`, its own name; `basis`: the size of the regular file it replaces (0: none).
   */
  rootNamed(base: string, name: string, isDir: boolean, size: number, sentAs?: string, basis = 0): void {
    this.srcBase = base;
    const first = this.lists[0];
    const root = this.entryFor(name, isDir, size, first ? OPERAND_POS + first.listed.length : 0);
    root.basis = basis;
    // A later operand: in the first list, after what the sender read before it.
    if (first) {
      root.operand = true;
      first.listed.push(root);
      return;
    }
    // A file copied to a new name: the run prints (and decides) it under the sender's name.
    if (sentAs !== undefined && sentAs !== name) {
      root.sentAs = sentAs;
      this.byName.set(sentAs, root);
    }
    const top: TraceList = { dir: this.entryFor('', true, 0, -1), top: true, abs: '', listed: [root], readdir: new Map(), said: [] };
    this.lists.push(top);
    // A lone directory's own list is sent with the first (rsync sends it at once when the list holds only it).
    this.earlyDir = isDir && this.operands === 1 ? name : undefined;
  }

  /** The walk lists `rel` ("" for the root): its list's lines go after the ones listed before. */
  enterDir(rel: string, src: Buffer, abs: string): void {
    this.lane = 'generator';
    const name = rel || '.';
    let list = this.listOf.get(name);
    if (!list) {
      list = { dir: this.entryFor(name, true, 0, -1), abs: withSlash(abs), listed: [], readdir: new Map(), said: [] };
      if (name === this.earlyDir) list.early = true;
      this.lists.push(list);
      this.listOf.set(name, list);
    }
    list.readdir = readdirOrder(src);
    this.dir = list.dir;
    // A directory entered while its entry is decided (-L's followed link): its lines are its own.
    this.current = undefined;
  }

  /**
   * -R: an operand whose relative path is `parts` ("src", "a", "x"), below `base` (the path before its
   * "/./", with its "/"; "" for none) at `absBase`. Under an incremental list rsync's sender puts only the
   * first part in the first list (make_file(src,*,2) when more follow) and each later part in the list of
   * the one above it, so every directory above the operand has a list of its own that holds the next part;
   * several operands share those lists (send_implied_dirs, send1extra). The operand's own list is the walk's.
   * `destAbs`: the destination root, when the generator deletes during the pass.
   */
  rootRelative(base: string, absBase: string, parts: string[], isDir: boolean, size: number, basis: number, destAbs?: string): void {
    this.srcBase = base;
    this.relative = true;
    this.relativeOperands.push(parts.join('/'));
    let parent = this.lists[0];
    if (!parent) {
      parent = { dir: this.entryFor('', true, 0, -1), top: true, abs: '', listed: [], readdir: new Map(), said: [] };
      this.lists.push(parent);
    }
    for (let k = 0; k < parts.length; k++) {
      const name = parts.slice(0, k + 1).join('/');
      const last = k === parts.length - 1;
      const known = this.byName.get(name);
      if (!known || !parent.listed.includes(known)) {
        const e = this.entryFor(name, last ? isDir : true, last ? size : 0, parent.listed.length);
        if (last) e.basis = basis;
        // In the first list only the operand itself is sent without filters (level 0).
        e.implied = !(last && parent.top);
        parent.listed.push(e);
      }
      if (last) break;
      let list = this.listOf.get(name);
      if (!list) {
        list = { dir: this.entryFor(name, true, 0, -1), abs: withSlash(`${absBase}/${name}`), listed: [], readdir: new Map(), said: [] };
        if (destAbs !== undefined && this.levels.filter) list.push = `[generator] pushing local filters for ${withSlash(`${destAbs}/${name}`)}`;
        this.lists.push(list);
        this.listOf.set(name, list);
      }
      parent = list;
    }
  }

  /** Entries of the directory being listed that are in the transfer (filters applied); `base`: the name in it. */
  listed(rel: string, entries: Array<{ name: string; base: Buffer; isDir: boolean; size: number; basis: number; mode: number; rdev: number }>): void {
    const list = this.listOf.get(rel || '.');
    if (!list) return;
    for (const e of entries) {
      const t = this.entryFor(e.name, e.isDir, e.size, list.readdir.get(e.base.toString('latin1')) ?? list.readdir.size);
      t.basis = e.basis;
      t.mode = e.mode;
      t.rdev = e.rdev;
      list.listed.push(t);
    }
  }

  /** A line the sender prints about the entry `name` of the directory being read (a filter's verdict). */
  senderListing(name: Buffer, text: string): void {
    const list = this.dir && this.listOf.get(this.dir.name);
    if (!list) return this.inner.print(text);
    list.said.push({ pos: list.readdir.get(name.toString('latin1')) ?? list.readdir.size, text });
  }

  /** The run decided an entry (Lines' emit): lines printed by `print` are this entry's. */
  decide(kind: FileType, shown: string, verdict: Verdict, o: { dryRun: boolean; hardlinked: boolean; leader?: string; local?: boolean; all?: boolean }, print: () => void): void {
    const name = kind === 'dir' ? shown.replace(/\/$/, '') || '.' : shown;
    const e = this.byName.get(name);
    if (!e) return print();
    // A directory matching a --*-dest twin is up to date for rsync's generator, which hands nothing on.
    if (kind === 'dir' && o.local && verdict.action === 'attrs' && !anyChange(verdict.changes)) e.generatorOnly = true;
    const made = verdict.action === 'create' || verdict.action === 'transfer';
    // rsync's generator hands the sender an entry that changed, and under -vv/-ii every entry (its itemize()).
    const changed = made || (verdict.action === 'attrs' && anyChange(verdict.changes));
    e.decided = !e.generatorOnly && (changed || o.all !== false);
    if (o.hardlinked && made) {
      e.follower = true;
      e.leader = o.leader;
    }
    else if (kind === 'reg' && !o.dryRun && made) e.data = true;
    const was = this.current;
    this.current = e;
    try {
      // rsync's generator makes devices and special files itself.
      if ((kind === 'dev' || kind === 'special') && made && !o.hardlinked) {
        this.generatorLine(this.levels.genr, `mknod(${name}, 0${e.mode.toString(8)}, [${devMajor(e.rdev)},${devMinor(e.rdev)}])`);
      }
      // --copy-dest: rsync's generator copies the twin into a temp file and renames it in itself.
      if (kind === 'reg' && o.local && !o.dryRun && this.levels.recv) this.said({ how: 'item', text: `renaming ${tempOf(name)} to ${name}`, renames: e });
      print();
    } finally {
      this.current = was;
    }
  }

  /**
   * The run decides the entry `name` (entry.ts): lines printed meanwhile are its own (its skip line, the
   * deletions that make room for it). The walk waits for it, so no other entry is decided meanwhile but
   * those whose outcome comes back (decide() restores this one after them).
   */
  async deciding<T>(name: string, f: () => Promise<T>): Promise<T> {
    const e = this.byName.get(name);
    if (!e) return f();
    const was = this.current;
    this.current = e;
    try {
      return await f();
    } finally {
      this.current = was;
    }
  }

  /**
   * The file `name` replaces is backed up first: rsync's receiver does it as it puts the new file in
   * place (linking the old one to the backup name), and says so there.
   */
  backedUp(name: string, print: () => void): void {
    const e = this.byName.get(name);
    if (!e) return print();
    const was = this.receiving;
    this.receiving = e;
    try {
      if (this.levels.backup) this.said({ how: 'item', text: `make_backup: HLINK ${name} successful.` });
      print();
    } finally {
      this.receiving = was;
    }
  }

  /** The entry `name` has a --*-dest twin of its name only: its basis, `shown` as rsync names it. */
  basisIn(name: string, shown: string, size: number): void {
    const e = this.byName.get(name);
    if (!e) return;
    e.basis = size;
    e.basisName = shown;
  }

  /** The entry `name` is linked from its --link-dest twin: rsync's generator settles it alone. */
  settledByGenerator(name: string): void {
    const e = this.byName.get(name);
    if (e) e.generatorOnly = true;
  }

  /**
   * A symlink, device or special file, or a -H member linked after the walk, whose op failed: rsync's
   * generator itemizes one only once made, so it hands its sender nothing of it (no line, no send_files,
   * no receiver's recv_files for a member). Its own lines (the mknod line) stay.
   */
  unmade(name: string): void {
    const e = this.byName.get(name);
    if (!e) return;
    e.decided = false;
    e.follower = false;
    e.send = [];
  }

  /** A file op's outcome: it failed, or never ran (its temp file is not renamed into place). */
  notPlaced(name: string): void {
    const e = this.byName.get(name);
    if (e) e.failed = true;
  }

  /** A file op's temp file, renamed into place: its letters (the receiver's "renaming" line names it). */
  placedAs(name: string, letters: string): void {
    const e = this.byName.get(name);
    if (e) e.temp = letters;
  }

  /** --no-whole-file: what the delta search of an entry found. */
  delta(name: string, d: DeltaSeen): void {
    const e = this.byName.get(name);
    if (e) e.delta = d;
  }

  /** An entry's line that rsync's sender prints (-v's names). */
  readonly sender = (text: string): void => {
    const at = this.current ?? this.dir;
    if (at) at.send.push({ how: 'item', text });
    else this.inner.item(text);
  };

  /**
   * --delete-during: the generator looks for what `rel`'s destination directory has that the list lacks
   * (rsync's delete_in_dir), with that directory's filters in force: those of a directory not above it
   * are popped first (change_local_filter_dir).
   */
  deleteInDir(rel: string, destAbs: Buffer, hidden?: ReadonlySet<string>): void {
    this.generatorLine(this.levels.del, `delete_in_dir(${rel || '.'})`);
    const depth = rel ? rel.split('/').length : 0;
    while (this.filterDepths.length && this.filterDepths.at(-1)! >= depth) {
      this.filterDepths.pop();
      this.popFilters(this.filterTypes.pop());
    }
    const types = this.pushFilters(rel, destAbs, hidden);
    if (this.dirMerge) {
      this.filterDepths.push(depth);
      this.filterTypes.push(types);
    }
  }

  /** rsync's delete_item for an entry of the destination: its mode and delete flags (DEL_RECURSE 2, DEL_DIR_IS_EMPTY 4). */
  deleteItem(name: string, mode: number, flags: number): void {
    this.generatorLine(this.levels.del, `delete_item(${name}) mode=${mode.toString(8)} flags=${flags}`);
  }

  /**
   * The generator reads a destination directory's filters, then lists it (get_dirlist's make_file, in
   * readdir order) to find what to delete (delete_dir_contents, delete_in_dir).
   */
  pushFilters(rel: string, destAbs: Buffer, hidden?: ReadonlySet<string>): string[] {
    const abs = withSlash(destAbs.toString('latin1'));
    this.generatorLine(this.levels.filter, `[generator] pushing local filters for ${abs}`);
    // The destination's merge files, as the receiving side's filters read them there.
    const m = this.merges.receiver.get(abs);
    m?.lines.forEach((l) => this.generatorLine(this.levels.filter, l));
    if (this.levels.flist) for (const name of readdirOrder(destAbs).keys()) if (!hidden?.has(name)) this.generatorLine(true, `[generator] make_file(${rel ? `${rel}/` : ''}${showPath(Buffer.from(name, 'latin1'))},*,2)`);
    return m?.types ?? [];
  }

  /** rsync's pop_local_filters: the merge lists pushed (`types`, by index) go last first. */
  popFilters(types: readonly string[] = []): void {
    this.generatorLine(this.levels.filter, '[generator] popping local filters');
    for (let i = types.length; i-- > 0; ) if (types[i] !== undefined) this.generatorLine(this.levels.filter, `[generator] popping mergelist #${i}${types[i]}`);
  }

  private generatorLine(on: boolean, text: string): void {
    if (on) this.said({ how: 'item', text });
  }

  /** The generator starts (its first lines follow the receiving side's). */
  generatorStarts(): void {
    this.lane = 'generator';
  }

  /** The pass over the list is over. */
  passDone(): void {
    this.lane = 'tail';
    this.dir = undefined;
    // -R: a first list of one directory has that directory's list sent with it (as for a named source).
    const only = this.relative && this.lists[0]?.listed.length === 1 ? this.lists[0].listed[0] : undefined;
    const early = only?.isDir ? this.listOf.get(only.name) : undefined;
    if (early) early.early = true;
    while (this.filterDepths.length) {
      this.filterDepths.pop();
      const types = this.filterTypes.pop() ?? [];
      const pops = ['[generator] popping local filters', ...types.map((t, i) => `[generator] popping mergelist #${i}${t}`).reverse()];
      if (this.levels.filter) this.genLast.push(...pops.map((text) => ({ how: 'item' as const, text })));
    }
  }

  private said(s: Said): void {
    if (this.receiving) this.receiving.recv.push(s);
    else if (this.current) this.current.gen.push(s);
    else if (this.lane === 'prefork') this.prefork.push(s);
    else if (this.lane === 'tail') this.genTail.push(s);
    else if (this.dir) this.dir.gen.push(s);
    else this.genHead.push(s);
  }

  private entryFor(name: string, isDir: boolean, size: number, pos: number): TraceEntry {
    let e = this.byName.get(name);
    if (!e) {
      e = { name, base: this.srcBase, isDir, decided: false, generatorOnly: false, data: false, failed: false, follower: false, size, mode: 0, rdev: 0, basis: 0, pos, gen: [], send: [], recv: [] };
      this.byName.set(name, e);
    }
    return e;
  }
}

/** The letters of a temp name no engine reported (--copy-dest's copies, which the run does not follow). */
export const UNKNOWN_LETTERS = 'XXXXXX';

/** `dir/.name.XXXXXX`: a temp file's name beside `name` (model/temp-name.ts), with letters not known. */
export function tempOf(name: string): string {
  const slash = name.lastIndexOf('/');
  return `${name.slice(0, slash + 1)}${tempName(Buffer.from(name.slice(slash + 1)), false, UNKNOWN_LETTERS).toString()}`;
}

/** Where the sender lists a later operand among the first list's entries: after every name it read there. */
const OPERAND_POS = 1e9;

/** The name the sender gives an entry (its own, for a file copied to a new name). */
export const sentName = (e: TraceEntry): string => e.sentAs ?? e.name;

const withSlash = (p: string): string => (p.endsWith('/') ? p : `${p}/`);

/**
 * The order readdir() gives a directory's names in (the sender's make_file order): read again here, as
 * the walk's listings come sorted. Empty when the directory cannot be read (the walk reports that).
 */
function readdirOrder(dir: Buffer): Map<string, number> {
  const order = new Map<string, number>();
  try {
    const d = opendirSync(dir.length ? dir : '.', { encoding: 'buffer' as BufferEncoding });
    try {
      for (let e = d.readSync(); e; e = d.readSync()) order.set((e.name as unknown as Buffer).toString('latin1'), order.size);
    } finally {
      d.closeSync();
    }
  } catch {
    // Listed as the walk found it.
  }
  return order;
}
