// A non-directory entry on its way to a decision, and the -H groups that hold such entries back until
// the walk is over (hardlinks.ts chooses each group's leader then).

import { fileType, type FileType, type Stat } from '../model/stat.js';
import type { Config } from '../model/config.js';
import type { DirRecord } from './dirmeta.js';

export interface Member {
  src: Buffer;
  rel: Buffer;
  st: Stat;
  destSt: Stat | undefined;
  /** The parent directory's record, whose mtime must be restored when this entry changes. */
  record: DirRecord | undefined;
  flags: number;
  /** The name printed, when it is not rel (a single file copied to a new name prints the source's). */
  display: Buffer | undefined;
  /** A symlink's target as read once and judged (--safe-links, --copy-unsafe-links): the one written. */
  target?: Buffer;
  /**
   * Made from a --copy-dest/--link-dest twin, which rsync's generator does itself (no transfer): a -H
   * leader made so is finished at its place, and the other members are linked at theirs.
   */
  fromTwin?: boolean;
  /**
   * A --*-dest directory holds an entry of its name and type: rsync's generator itemizes it against
   * that twin, never as new ("Number of created files" leaves it out).
   */
  hasTwin?: boolean;
  /**
   * Its plan skipped it (--ignore-existing, --existing, -u): rsync's generator then drops it from its
   * -H group, which neither leads nor is linked, and the group's next member takes its place.
   */
  skipped?: boolean;
  /**
   * Without -p, the mode its op gets when rsync judges it against a file the engine does not see (a
   * basis found elsewhere, an entry replaced): run/basis-mode.ts, OpFlag.GivenMode.
   */
  mode?: number;
  /**
   * Reached through a link --copy-unsafe-links follows (not -L): the link's own lstat, which rsync's
   * sender compares with the listed file before it removes the source (run/remove-source.ts).
   */
  linkSt?: Stat;
}

/** The --*-dest directories as -H's choice of leader asks them (run/alt-dest.ts AltDests). */
export interface AltTwins {
  readonly any: boolean;
  hasTwin(rel: Buffer, st: Stat): boolean;
}

/**
 * A regular member rsync could send at its place (so it leads its group): the destination has it, or a
 * --*-dest directory does (rsync's basis for it).
 */
export function hasBasis(m: Member, alt?: AltTwins): boolean {
  return (m.destSt !== undefined && fileType(m.destSt.mode) === 'reg') || (alt !== undefined && alt.any && alt.hasTwin(m.rel, m.st));
}

/**
 * What a leader's plan left of its destination entry for its group's others to be linked to: the entry
 * when the plan left it as it was, or when it wrote a regular file in place (--inplace, with or without
 * a backup, which is then a copy; no --*-dest twin: its inode stays, so the names already linked to it stay linked and up to date, as
 * rsync's hard_link_check finds them); undefined when it was replaced or created.
 */
export function keptEntry(c: Pick<Config, 'inplace' | 'backup'>, kind: FileType, changed: boolean, destSt: Member['destSt'], alt?: AltTwins): Member['destSt'] {
  if (!changed) return destSt;
  const inPlace = c.inplace && !(alt?.any ?? false) && kind === 'reg' && destSt !== undefined && fileType(destSt.mode) === 'reg';
  return inPlace ? destSt : undefined;
}

/**
 * A group's leader as it was planned during the walk: a non-regular group's others link to it where the
 * walk meets them, a regular group's after the walk.
 */
export interface PlannedLeader {
  leader: Member;
  /** The destination entry the leader left in place (undefined when it was replaced or created). */
  kept: Member['destSt'];
  /** Its plan changed the destination (false: left as it was, or matched in --compare-dest). */
  changed?: boolean;
}

/** A planned leader that is finished where the walk met it: its group's others are linked at their places. */
export const finishedAtPlace = (p: PlannedLeader): boolean => p.leader.fromTwin === true;

/**
 * The leader matched its --compare-dest twin, so nothing was made to link to (a destination file there
 * was removed, as rsync's generator removes it): each other member is looked up there on its own, as
 * rsync's hard_link_check does for a member whose leader was not transferred.
 */
export const leftToTwins = (leader: Member, changed: boolean, alt: AltTwins): boolean => !changed && alt.any && (!leader.destSt || leader.fromTwin === true);

/** -H: the members of each inode (dev:ino) with more than one link, in the order the walk found them. */
export class HardLinkGroups {
  private readonly groups = new Map<string, Member[]>();
  private readonly leaders = new Map<string, PlannedLeader>();

  /**
   * Devices, FIFOs, sockets and symlinks carry no data: rsync links each of them at its own place in
   * the list, to the group's first member, instead of after the transfer. The leader already planned
   * for m's inode, if any.
   */
  leaderOf(m: Member): PlannedLeader | undefined {
    return this.leaders.get(`${m.st.dev}:${m.st.ino}`);
  }

  /**
   * An inode already met as a group's member: --remove-source-files may have unlinked the members met
   * before (their links counted no more), where rsync's list holds the counts its sender saw first.
   */
  holds(st: Stat): boolean {
    const key = `${st.dev}:${st.ino}`;
    return this.groups.has(key) || this.leaders.has(key);
  }

  /** m, just planned, leads its inode's group. */
  lead(m: Member, kept: Member['destSt'], changed?: boolean): void {
    this.leaders.set(`${m.st.dev}:${m.st.ino}`, { leader: m, kept, ...(changed !== undefined ? { changed } : {}) });
  }

  add(m: Member): void {
    const key = `${m.st.dev}:${m.st.ino}`;
    const group = this.groups.get(key);
    if (group) group.push(m);
    else this.groups.set(key, [m]);
  }

  /** Every group, once (the groups are emptied), with the leader already planned during the walk, if any. */
  *take(): Generator<[Member[], PlannedLeader | undefined]> {
    for (const [key, g] of this.groups) yield [g, this.leaders.get(key)];
    this.groups.clear();
  }
}
