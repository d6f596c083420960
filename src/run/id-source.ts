// The local walk's entries as rsync's receiver sees them in the file list it received, before it compares
// or sets anything: an EntrySource that hands the planner every source entry's stat mapped. Used for
// --usermap/--groupmap/--chown (owner and group mapped, plan/idmap.ts: the quick check, the ops' chown,
// -i's o/g letters and alt-dest ownership checks all see the mapped ids) and for a --protocol before 31
// (whole-second mtimes, plan/old-protocol.ts). The source itself is untouched.

import type { Config } from '../model/config.js';
import { isFailure, type SysFailure } from '../model/failure.js';
import type { PairListing, TreeScan } from '../model/listing.js';
import { seenAs, type Stat } from '../model/stat.js';
import { loadAddon } from '../engine/native.js';
import { IdMapper } from '../plan/idmap.js';
import { groups, users } from '../util/userdb.js';
import type { DirEntries, EntrySource } from './source.js';

/**
 * The mappers a run applies, or undefined when it maps nothing: rsync maps uids only where it sets
 * owners (-o as root or --super), gids only with -g. `warn` gets rsync's message for a target name this
 * machine does not know.
 */
export function idMappers(c: Config, isRoot: boolean, warn: (m: string) => void): { uid?: IdMapper; gid?: IdMapper } | undefined {
  const uid = c.usermap && c.owner && isRoot ? new IdMapper(c.usermap, users, c.numericIds, true, warn) : undefined;
  const gid = c.groupmap && c.group ? new IdMapper(c.groupmap, groups, c.numericIds, false, warn) : undefined;
  if (!uid && !gid) return undefined;
  return { ...(uid ? { uid } : {}), ...(gid ? { gid } : {}) };
}

/**
 * -A with --usermap, --groupmap or --chown: the ACLs' named users and groups are mapped as owners are,
 * by the native side as it copies them (native/aclids.c: ranges from IdMapper.aclRanges). rsync's
 * receiver maps every ACL entry's id by the same rules, even without -o/-g and as any user. Without a
 * map a local copy's ids stay as they are (a name names its own id here).
 */
export function setAclIdRules(c: Config, isRoot: boolean): void {
  if (!c.acls || c.fakeSuper) return;
  // Under incremental recursion rsync's receiver maps an ACL's users only without --numeric-ids, and its
  // groups then too as a user who is not root (acls.c recv_ida_entries); without it, every id (uidlist.c
  // match_acl_ids).
  const numeric = (c.receiverIncRecursive ?? c.incRecursive) && c.numericIds;
  const userMap = !numeric ? c.usermap : undefined;
  const groupMap = !(numeric && isRoot) ? c.groupmap : undefined;
  // (-A runs on the native engines only: the node engine refuses it.)
  const a = loadAddon();
  if (!a.ok) return;
  // Both tables are set for every -A run, empty where nothing maps: the addon's are the process's, and
  // nothing of an earlier run in this process may stay in them.
  const quiet = (): void => {};
  const none = new Uint32Array(0);
  a.addon.aclIdRules(true, userMap ? new IdMapper(userMap, users, c.numericIds, true, quiet).aclRanges() : none);
  a.addon.aclIdRules(false, groupMap ? new IdMapper(groupMap, groups, c.numericIds, false, quiet).aclRanges() : none);
}

/** The stat map of the id mappers. */
export function mapIds(ids: { uid?: IdMapper; gid?: IdMapper }): (st: Stat) => Stat {
  return (st) =>
    seenAs(st, {
      uid: ids.uid ? ids.uid.map(st.uid) : st.uid,
      gid: ids.gid ? ids.gid.map(st.gid) : st.gid,
    });
}

/** `inner`'s entries with their stats mapped. */
export class MappedSource implements EntrySource {
  /** Listings already mapped (a whole listing is handed out again for a second pass). */
  private readonly done = new WeakSet<PairListing>();

  constructor(
    private readonly inner: EntrySource,
    /** `dest`: the destination twin's lstat, for the entries of a paired listing. */
    private readonly mapped: (st: Stat, dest?: Stat) => Stat,
  ) {}

  private listing(l: PairListing): PairListing {
    if (this.done.has(l)) return l;
    for (const e of l.entries) if (e.st) e.st = this.mapped(e.st, e.dest);
    this.done.add(l);
    return l;
  }

  lstat(path: Buffer): Stat | SysFailure {
    const st = this.inner.lstat(path);
    return isFailure(st) ? st : this.mapped(st);
  }

  follow(path: Buffer): Stat | undefined {
    const st = this.inner.follow(path);
    return st && this.mapped(st);
  }

  readlink(path: Buffer): Buffer | undefined {
    return this.inner.readlink(path);
  }

  names(path: Buffer, anchor: number): Buffer[] | SysFailure {
    return this.inner.names(path, anchor);
  }

  openDir(src: Buffer, destRel: Buffer | null, anchor: number): DirEntries | SysFailure {
    const d = this.inner.openDir(src, destRel, anchor);
    if (isFailure(d)) return d;
    const whole = d.whole && this.listing(d.whole);
    const mapChunks = function* (this: MappedSource, extrasOnly?: boolean): Generator<PairListing> {
      for (const l of d.chunks(extrasOnly)) yield this.listing(l);
    };
    return {
      whole,
      destErrno: d.destErrno,
      chunks: (extrasOnly?: boolean) => mapChunks.call(this, extrasOnly),
      close: () => d.close(),
    };
  }

  /** The dirty directories' listings mapped too (a run that maps ids never asks: run/spec.ts). */
  unfetched(path: Buffer): boolean {
    return this.inner.unfetched?.(path) === true;
  }

  dirtyDirs(src: Buffer, destRel: Buffer, recordOnly?: boolean): TreeScan | SysFailure | undefined {
    // (No direct path asked: its ops would carry the ids unmapped.)
    const t = this.inner.dirtyDirs(src, destRel, recordOnly);
    if (t && !isFailure(t)) {
      for (const d of t.dirty) {
        if (d.pair) this.listing(d.pair);
        if (d.self) d.self = this.mapped(d.self);
      }
    }
    return t;
  }
}
