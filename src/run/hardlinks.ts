// -H after the walk: each group of source names for one inode (members.ts) gets rsync's choice of
// leader, which is planned like any entry; the others are linked to it once every file exists
// (OpSink.later), each with its backup right before it.

import { OpFlag, OpKind } from '../model/ops.js';
import { isFailure } from '../model/failure.js';
import { fileType } from '../model/stat.js';
import { attrChanges, itemize, sameTime } from '../plan/quickcheck.js';
import { ERRNO, showPath } from '../util/errors.js';
import type { FileType } from '../model/stat.js';
import type { RunContext } from './context.js';
import { planMember } from './entry.js';
import { anyChange } from './lines.js';
import type { Member } from './members.js';
import { removeSource } from './remove-source.js';
import type { Verdict } from '../plan/quickcheck.js';

/**
 * rsync's choice of leader: for regular files the first member the destination already has (sent again
 * if it is stale), else the last one; for other types the first one.
 */
export function chooseLeader(members: Member[]): Member {
  const kind = fileType(members[0]!.st.mode);
  return kind === 'reg'
    ? (members.find((m) => m.destSt && fileType(m.destSt.mode) === 'reg') ?? members[members.length - 1]!)
    : members[0]!;
}

/**
 * The groups found by the walk: the leader is planned, the others are linked to it. A member whose
 * source vanished since the walk is reported and left out, so a survivor is sent in its place (as rsync
 * does).
 */
export async function finishHardLinks(rc: RunContext): Promise<void> {
  for (const group of rc.hardLinks.take()) {
    if (rc.abort.aborted) return;
    const members = group.filter((m) => stillThere(rc, m));
    if (!members.length) continue;
    const kind = fileType(members[0]!.st.mode);
    const leader = chooseLeader(members);
    const before = leader.destSt;
    const changed = await planMember(rc, leader, kind, true);
    if (changed) rc.dirs.touch(leader.record);
    const leaderDest = changed ? undefined : before;
    for (const m of members) {
      if (m !== leader) linkMember(rc, leader, leaderDest, m, kind);
    }
  }
}

/**
 * -H for a device, FIFO, socket or symlink: the first member of its inode is planned where the walk
 * meets it, each later one is linked to it at its own place (rsync's order: its lines come in list
 * order, not after the transfer). The links themselves wait until every file exists.
 */
export async function planNonRegularMember(rc: RunContext, m: Member, kind: FileType): Promise<boolean> {
  const planned = rc.hardLinks.leaderOf(m);
  if (!planned) {
    const before = m.destSt;
    const changed = await planMember(rc, m, kind, true);
    rc.hardLinks.lead(m, changed ? undefined : before);
    return changed;
  }
  linkMember(rc, planned.leader, planned.kept, m, kind);
  return false;
}

/** One member linked to its group's leader (its line, its backup, the link after the walk). */
function linkMember(rc: RunContext, leader: Member, leaderDest: Member['destSt'], m: Member, kind: FileType): void {
  const c = rc.c;
  if (leaderDest && m.destSt && m.destSt.ino === leaderDest.ino && m.destSt.dev === leaderDest.dev) {
    removeSource(rc, m, kind);
    return;
  }
  if (c.ignoreExisting && m.destSt) return;
  if (c.existing && !m.destSt) return;
  const line = rc.lines.lineFor(m.display ?? m.rel, m.src, m.st, kind, ` => ${showPath(leader.rel)}`);
  if (m.destSt) {
    // An existing member is relinked: rsync prints what differed from the old file, or blanks;
    // without -t its time is always reported (the link is a local change, named after its leader).
    const check = rc.spec.check;
    const ch = { ...attrChanges(m.st, m.destSt, check), size: kind === 'reg' && m.st.size !== m.destSt.size, time: c.times ? !sameTime(m.st, m.destSt, check) : true };
    if (rc.lines.active) {
      const v: Verdict = { action: anyChange(ch) ? 'transfer' : 'attrs', changes: ch };
      rc.lines.out.entry({ ...line, changed: true, isDir: false }, itemize(kind, v, c, { hardlinked: true, all: true }));
    }
  } else {
    rc.lines.emit(kind, { action: 'create' }, line, true);
  }
  if (!m.destSt) rc.tally.totals.created[kind]++;
  rc.dirs.touch(m.record);
  if (c.dryRun) return;
  // The backup goes in the same batch as the link, right before it: the link waits for it.
  const after = m.destSt ? rc.backups.beforeReplace((...a) => rc.sink.later(...a), m.rel, m.destSt) : 0;
  rc.sink.later(OpKind.Hardlink, leader.rel, m.rel, m.st, after);
  removeSource(rc, m, kind);
}

/** A -H member's source is still the file the walk saw; if not, it is reported as vanished. */
function stillThere(rc: RunContext, m: Member): boolean {
  const now = rc.source.lstat(m.src);
  if (!isFailure(now) && now.ino === m.st.ino && now.dev === m.st.dev) return true;
  if ((m.flags & OpFlag.FollowSource) !== 0) return true; // -L: the walk saw the link's target
  rc.fail({ index: -1, errno: isFailure(now) ? now.errno : ERRNO.ENOENT, syscall: 'lstat', path: m.src, onDest: false });
  return false;
}
