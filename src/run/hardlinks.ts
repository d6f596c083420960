// -H after the walk: each group of source names for one inode (members.ts) gets rsync's choice of
// leader, which is planned like any entry (unless the walk could tell it and planned it at its place);
// the others are linked to it once every file exists (OpSink.later), each with its backup right before it.

import { OpFlag } from '../model/ops.js';
import { isFailure } from '../model/failure.js';
import { fileType } from '../model/stat.js';
import { ERRNO } from '../util/errors.js';
import type { RunContext } from './context.js';
import { planMember } from './entry.js';
import { linkMember } from './link-member.js';
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

/**
 * The groups found by the walk: the leader is planned, the others are linked to it. A member whose
 * source vanished since the walk is reported and left out, so a survivor is sent in its place (as rsync
 * does).
 */
export async function finishHardLinks(rc: RunContext): Promise<void> {
  for (const [group, planned] of rc.hardLinks.take()) {
    if (rc.abort.aborted) return;
    // Members skipped at their place (--ignore-existing, -u) are out of the group: they lead nothing.
    const members = group.filter((m) => !m.skipped && (m === planned?.leader || stillThere(rc, m)));
    if (!members.length) continue;
    const kind = fileType(members[0]!.st.mode);
    let leader: Member;
    let leaderDest: Member['destSt'];
    let changed: boolean;
    if (planned) {
      // Planned where the walk met it (entry.ts), as rsync sends it at its place in the list.
      ({ leader, kept: leaderDest } = planned);
      changed = planned.changed ?? true;
    } else {
      leader = chooseLeader(members, rc.alt);
      const before = leader.destSt;
      changed = await planMember(rc, leader, kind, true);
      if (changed) rc.dirs.touch(leader.record);
      leaderDest = keptEntry(rc.c, kind, changed, before, rc.alt);
    }
    if (leftToTwins(leader, changed, rc.alt)) {
      for (const m of members) {
        if (m !== leader && (await planMember(rc, m, kind, true))) rc.dirs.touch(m.record);
      }
      continue;
    }
    for (const m of members) {
      if (m !== leader) linkMember(rc, leader, leaderDest, m, kind, { listFirst: m === group[0], leaderSent: changed && leader.fromTwin !== true });
    }
  }
}

/** A -H member's source is still the file the walk saw; if not, it is reported as vanished. */
function stillThere(rc: RunContext, m: Member): boolean {
  const now = rc.source.lstat(m.src);
  if (!isFailure(now) && now.ino === m.st.ino && now.dev === m.st.dev) return true;
  if ((m.flags & OpFlag.FollowSource) !== 0) return true; // -L: the walk saw the link's target
  rc.fail({ index: -1, errno: isFailure(now) ? now.errno : ERRNO.ENOENT, syscall: 'lstat', path: m.src, onDest: false });
  return false;
}
