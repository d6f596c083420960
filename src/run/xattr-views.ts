// -X with x-rules in per-directory merge files (a `.rsync-filter` holding `-x user.secret` under -F):
// which rules an entry's xattr names are judged in, when they are not the command line's alone.
//
// rsync's sender reads a directory's merge files before it lists the directory's entries (exclude.c
// push_local_filters, from flist.c send_directory's callers) and reads each entry's xattrs while the
// directory's rules are pushed (rsync_xal_get: name_is_excluded over the whole list, the dir-merge
// rules' current lists among it). So the x-rules of `dir/.rsync-filter` (and those its subdirectories
// inherit, unless the dir-merge rule has `n`) decide the names of the entries listed in `dir`: its files
// and its subdirectories as entries, never `dir` itself, which its parent lists. rsync's receiver reads
// no per-directory file: what it sets and removes is judged in the command line's rules (the engine
// context's). Its generator reads the destination's merge files only while it deletes during the
// transfer (--delete-during, --delete-delay: generator.c delete_in_dir), and compares in them.
//
// The walk registers each directory's view as it enters it (the scopes it already holds, plan/filter-
// scope.ts xattrRules); an entry's ops and its comparison take its parent's (the engines match them:
// native/xfilter.h "An op's views").

import { OpKind } from '../model/ops.js';
import type { Config } from '../model/config.js';
import type { FilterList } from '../plan/filter.js';
import type { PatternRule } from '../plan/filter-rules.js';
import { xattrRules, xattrView } from '../plan/xattr-rules.js';
import { dirName } from '../util/names.js';
import type { FilterScope } from '../plan/filter-scope.js';

/** What the views need of a walk's directory (run/context.ts Frame). */
export interface ViewedDir {
  rel: Buffer;
  sender: FilterScope | undefined;
  receiver: FilterScope | undefined;
}

/** The op kinds whose engines read or write xattrs (native/ops.c). */
const CARRIES = new Set<OpKind>([OpKind.File, OpKind.Symlink, OpKind.Special, OpKind.Attrs, OpKind.DirMeta]);

export class XattrViews {
  /** Each directory's view for its entries (by its destination path), where it has one of its own. */
  private readonly byDir = new Map<string, Buffer>();
  /** Each directory's sending side's rules, for its subdirectories' own views. */
  private readonly sendByDir = new Map<string, readonly PatternRule[] | null>();
  /** A directory's own view where it is not its parent's view of its entries (selfView). */
  private readonly selfByDir = new Map<string, Buffer | undefined>();
  /** One Buffer per distinct view. */
  private readonly interned = new Map<string, Buffer>();
  /** The generator's rules as the last directory entered left them (selfView). */
  private lastGen: readonly PatternRule[] | null = null;

  private constructor(
    private readonly global: readonly PatternRule[],
    /** rsync's generator reads the destination's merge files (it deletes during the transfer). */
    private readonly generator: boolean,
  ) {}

  /** The run's views, or undefined when no per-directory file can hold an x-rule that matters (no -X, no dir-merge rule). */
  static of(c: Pick<Config, 'xattrs' | 'deleteMode'>, filters: FilterList | undefined): XattrViews | undefined {
    if (!c.xattrs || !filters?.hasDirMerge) return undefined;
    return new XattrViews(xattrRules(filters), c.deleteMode === 'during' || c.deleteMode === 'delay');
  }

  private intern(v: Buffer | undefined): Buffer | undefined {
    if (!v) return undefined;
    const k = v.toString('latin1');
    const shared = this.interned.get(k) ?? v;
    this.interned.set(k, shared);
    return shared;
  }

  /**
   * The walk enters `dir`, whose scopes are set, in rsync's order: the view of its entries. Returns the
   * directory's own view when it is not the one its comparison as its parent's entry took (`differs`):
   * rsync's generator compares a directory in full right before its entries (generator.c recv_generator
   * with is_dir 1, then delete_in_dir), with the rules the directory it handled last left pushed (a
   * previous sibling's, or one deep in that sibling's tree: change_local_filter_dir pops them only then).
   */
  enter(dir: ViewedDir): { differs: boolean; view: Buffer | undefined } {
    const key = dir.rel.toString('latin1');
    const send = dir.sender?.xattrRules() ?? null;
    const gen = this.generator ? (dir.receiver?.xattrRules() ?? null) : null;
    let differs = false;
    let self: Buffer | undefined;
    if (this.generator && dir.rel.length) {
      const parent = dirName(dir.rel).toString('latin1');
      self = this.intern(xattrView(this.sendByDir.get(parent) ?? null, this.lastGen, this.global));
      if (self !== this.byDir.get(parent)) {
        this.selfByDir.set(key, self);
        differs = true;
      }
    }
    this.lastGen = gen;
    this.sendByDir.set(key, send);
    const v = this.intern(xattrView(send, gen, this.global));
    if (v) this.byDir.set(key, v);
    else this.byDir.delete(key);
    return { differs, view: self };
  }

  /** The view of the entry at `rel` (its parent directory's): undefined for the context's rules. */
  ofEntry(rel: Buffer): Buffer | undefined {
    if (this.byDir.size === 0 || rel.length === 0) return undefined;
    return this.byDir.get(dirName(rel).toString('latin1'));
  }

  /**
   * As ofEntry, for an op: only the kinds whose engines read or write xattrs carry it, and a directory's
   * own metadata op takes the view its comparison took in the end (enter).
   */
  ofOp(kind: OpKind, rel: Buffer): Buffer | undefined {
    if (!CARRIES.has(kind)) return undefined;
    if (this.selfByDir.size && (kind === OpKind.DirMeta || kind === OpKind.Attrs)) {
      const key = rel.toString('latin1');
      if (this.selfByDir.has(key)) return this.selfByDir.get(key);
    }
    return this.ofEntry(rel);
  }

  /** Whether the entries of `dir` have a view of their own (the direct path encodes no views: run/direct.ts). */
  has(dir: ViewedDir): boolean {
    return this.byDir.has(dir.rel.toString('latin1'));
  }
}
