// -H after the walk: each group of source names for one inode (members.ts) gets rsync's choice of
// leader, which is planned like any entry (unless the walk could tell it and planned it at its place);
// once the leaders' ops are done, a leader that could not be made gives way to the member before it
// (sent in its place), and the others are linked to the leader, each with its backup right before it.

import { OpFlag } from '../model/ops.js';
import { isFailure } from '../model/failure.js';
import { fileType, type FileType } from '../model/stat.js';
import { ERRNO } from '../util/errors.js';
import type { RunContext } from './context.js';
import { planMember } from './entry.js';
import { MemberLinks, linkMember } from './link-member.js';
import { hasBasis, keptEntry, leftToTwins, type AltTwins, type Member } from './members.js';

/**
 * rsync's choice of leader: for regular files the first member the destination already has (sent again
 * if it is stale) or a --*-dest directory has (`inAlt`: its basis then), else the last one; for other
 * types the first one.
 */
export function chooseLeader(members: Member[], alt?: AltTwins): Member {
  const kind = fileType(members[0]!.st.mode);
  if (kind !== 'reg') return members[0]!;
  return members.find((m) => hasBasis(m, alt)) ?? members[members.length - 1]!;
}

/** A group whose leader is planned: its members wait for it to exist (linkHardLinks). */
export interface LedGroup {
  /** The walk's members, in list order (the first one is handled by rsync as any file). */
  group: Member[];
  /** The members still in it (a vanished or skipped one is left out, so is a leader that was not made). */
  members: Member[];
  kind: FileType;
  leader: Member;
  leaderDest: Member['destSt'];
  changed: boolean;
  /** The leader was chosen after the walk: rsync's last member, made new, which may give way (linkHardLinks). */
  last: boolean;
}

/**
 * The groups found by the walk: the leader is planned (its op queued); the others wait for it
 * (linkHardLinks). A member whose source vanished since the walk is reported and left out, so a survivor
 * is sent in its place (as rsync does).
 */
export async function finishHardLinks(rc: RunContext): Promise<LedGroup[]> {
  const led: LedGroup[] = [];
  for (const [group, planned] of rc.hardLinks.take()) {
    if (rc.abort.aborted) break;
    // Members skipped at their place (--ignore-existing, -u) are out of the group: they lead nothing.
    const members = group.filter((m) => !m.skipped && (m === planned?.leader || stillThere(rc, m)));
    if (!members.length) continue;
    const kind = fileType(members[0]!.st.mode);
    if (planned) {
      // Planned where the walk met it (entry.ts), as rsync sends it at its place in the list.
      const { leader, kept } = planned;
      const changed = planned.changed ?? true;
      if (leftToTwins(leader, changed, rc.alt)) await planOthers(rc, members, leader, kind);
      else led.push({ group, members, kind, leader, leaderDest: kept, changed, last: false });
      continue;
    }
    const leader = chooseLeader(members, rc.alt);
    const g: LedGroup = { group, members, kind, leader, leaderDest: undefined, changed: false, last: leader === members[members.length - 1] && !leader.destSt };
    await planLeader(rc, g, leader);
    if (leftToTwins(leader, g.changed, rc.alt)) await planOthers(rc, members, leader, kind);
    else led.push(g);
  }
  return led;
}

/** The leader matched its --compare-dest twin: nothing was made to link to, each other member is planned on its own. */
async function planOthers(rc: RunContext, members: Member[], leader: Member, kind: FileType): Promise<void> {
  for (const m of members) if (m !== leader && (await planMember(rc, m, kind, true))) rc.dirs.touch(m.record);
}

/** `leader` planned to lead `g`. */
async function planLeader(rc: RunContext, g: LedGroup, leader: Member): Promise<void> {
  const before = leader.destSt;
  g.leader = leader;
  g.changed = await planMember(rc, leader, g.kind, true);
  if (g.changed) rc.dirs.touch(leader.record);
  g.leaderDest = keptEntry(rc.c, g.kind, g.changed, before, rc.alt);
}

/**
 * The groups' members linked to their leaders, once the leaders' ops are done (`opsDone` waits for the ops
 * queued since). A leader made new that is not there (its creation failed) is left out of its group and
 * the member before it is sent in its place, as rsync's generator does when its receiver could not make
 * the group's last member (generator.c handle_skipped_hlink, hlink.c skip_hard_link): again until one is
 * made or none is left. Without incremental recursion rsync's receiver does not tell its generator of that
 * failure (receiver.c sends MSG_NO_SEND only then), so the others wait for a leader that never comes:
 * they are neither made nor printed. Then every link runs at once, each member's line and count once it
 * was made.
 */
export async function linkHardLinks(rc: RunContext, led: LedGroup[], opsDone: () => Promise<void>): Promise<void> {
  let waiting = rc.c.dryRun ? [] : led.filter((g) => g.last && g.changed && g.leader.fromTwin !== true);
  while (waiting.length && !rc.abort.aborted) {
    const next: LedGroup[] = [];
    for (const g of waiting) {
      if (rc.dest.stat(g.leader.rel)) continue;
      g.members = rc.c.incRecursive ? g.members.filter((m) => m !== g.leader) : [g.leader];
      const before = g.members[g.members.length - 1];
      if (!before || before === g.leader) continue;
      await planLeader(rc, g, before);
      if (g.changed && !before.destSt && before.fromTwin !== true) next.push(g);
    }
    if (next.length) await opsDone();
    waiting = next;
  }
  const links = new MemberLinks();
  for (const { group, members, kind, leader, leaderDest, changed } of led) {
    if (rc.abort.aborted) return;
    for (const m of members) {
      if (m !== leader) linkMember(rc, leader, leaderDest, m, kind, { listFirst: m === group[0], leaderSent: changed && leader.fromTwin !== true, links });
    }
  }
  if (!rc.abort.aborted) links.run(rc.sink);
}

/** A -H member's source is still the file the walk saw; if not, it is reported as vanished. */
function stillThere(rc: RunContext, m: Member): boolean {
  const now = rc.source.lstat(m.src);
  if (!isFailure(now) && now.ino === m.st.ino && now.dev === m.st.dev) return true;
  if ((m.flags & OpFlag.FollowSource) !== 0) return true; // -L: the walk saw the link's target
  rc.fail({ index: -1, errno: isFailure(now) ? now.errno : ERRNO.ENOENT, syscall: 'lstat', path: m.src, onDest: false });
  return false;
}
