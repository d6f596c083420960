// -H: one member linked to its group's leader (its -i line, its backup, its Hardlink op), for the groups
// hardlinks.ts settles after the walk (their links run together once the leaders exist) and those entry.ts
// links where the walk meets them (their ops queued for after the walk). A member's line and count come
// only once its link was made, a queued symlink's or special's holding its place until then; a file
// queued so (its leader made from a --*-dest twin) prints at once.

import { BatchWriter } from '../engine/batch.js';
import { OpKind, Outcome } from '../model/ops.js';
import type { Stat } from '../model/stat.js';
import { fileType, type FileType } from '../model/stat.js';
import { attrChanges, itemize, sameTime } from '../plan/quickcheck.js';
import { showPath } from '../util/errors.js';
import type { RunContext } from './context.js';
import type { OpSink } from './sink.js';
import { NO_CHANGES, anyChange } from './lines.js';
import type { Member } from './members.js';
import { removeSource } from './remove-source.js';
import type { Verdict } from '../plan/quickcheck.js';
import { destPath } from './deletions.js';
import { xattrBits } from './xattrs.js';
import { onceMade } from './made-line.js';

/** m, which the destination lacks, has an exact --*-dest twin, the leader's own under --link-dest. */
function altMatched(rc: RunContext, leader: Member, m: Member, kind: FileType): boolean {
  if (!rc.alt.any || kind !== 'reg') return false;
  const none = (): undefined => undefined;
  const twin = rc.alt.best(m.rel, m.st, kind, undefined, none);
  if (twin?.level !== 3) return false;
  if (!rc.c.linkDest.length) return true;
  const led = rc.alt.best(leader.rel, leader.st, kind, undefined, none);
  return led?.level === 3 && led.st.ino === twin.st.ino && led.st.dev === twin.st.dev;
}

/**
 * Members' links run here and now, once their leaders exist: rsync's generator itemizes a member (and its
 * sender counts it as created) only once atomic_create linked it (hlink.c maybe_hard_link), so a member
 * whose link fails has no line, only the failure.
 */
export class MemberLinks {
  private readonly w = new BatchWriter(4096);
  /** What each Hardlink op's success prints and counts, by its index in the batch. */
  private readonly made = new Map<number, () => void>();

  /** Backup ops, right before the link that replaces what they keep (BackupPlan.beforeReplace's adder). */
  readonly add = (kind: OpKind, src: Buffer, rel: Buffer, st: Stat, flags: number): void => {
    this.w.add(kind, src, rel, st, flags);
  };

  link(leader: Buffer, rel: Buffer, st: Stat, flags: number, made: () => void): void {
    this.made.set(this.w.add(OpKind.Hardlink, leader, rel, st, flags), made);
  }

  /** Run every link (failures reported as they come), then the lines and counts of those made. */
  run(sink: OpSink): void {
    const outcomes = sink.nowOutcomes(this.w);
    for (const [i, made] of this.made) if (!outcomes || outcomes[i] === Outcome.Done || outcomes[i] === Outcome.Equal) made();
    this.made.clear();
  }
}

/**
 * One member linked to its group's leader (its line, its backup, the link). `listFirst`: m is its group's
 * first name in the list (which rsync's generator handles as any file, not through its hard_link_check).
 * `leaderSent`: the leader's data came from the sender, so rsync's generator finished this member only
 * once the leader was received (finish_hard_link), as new, without looking for a twin. `links`: the link
 * runs there, its line and count once it was made; without it, the link is queued for after the walk and
 * the line printed now (a member met by the walk, whose line has its place there).
 */
export function linkMember(rc: RunContext, leader: Member, leaderDest: Member['destSt'], m: Member, kind: FileType, how: { listFirst?: boolean; leaderSent?: boolean; links?: MemberLinks } = {}): void {
  const { listFirst = false, leaderSent = false, links } = how;
  const c = rc.c;
  if (leaderDest && m.destSt && m.destSt.ino === leaderDest.ino && m.destSt.dev === leaderDest.dev) {
    // Already linked: rsync's hard_link_check names it only with -ii ("hf" and blanks) or -vv ("is uptodate").
    if (rc.lines.all) rc.lines.emit(kind, { action: 'attrs', changes: NO_CHANGES }, rc.lines.lineFor(m.display ?? m.rel, m.src, m.st, kind), true);
    removeSource(rc, m, kind);
    return;
  }
  if (c.ignoreExisting && m.destSt) return;
  if (c.existing && !m.destSt) return;
  // --iconv: rsync's receiver names the leader, so in the destination's charset.
  const line = rc.lines.lineFor(m.display ?? m.rel, m.src, m.st, kind, ` => ${showPath(leader.rel)}`);
  // The group's first name in the list, when another type (a directory, a symlink) holds it, is new to
  // rsync: its generator deletes that entry first and itemizes the link against nothing. Any later name
  // goes through its hard_link_check, which itemizes the link against whatever was there.
  const existing = m.destSt && !(listFirst && kind === 'reg' && fileType(m.destSt.mode) !== 'reg') ? m.destSt : undefined;
  let matched = false;
  // What the link's success prints (rsync's itemize after atomic_create).
  let print: (() => void) | undefined;
  if (existing) {
    // An existing member is relinked: rsync prints what differed from the old file, or blanks;
    // without -t its time is always reported (the link is a local change, named after its leader).
    const check = rc.spec.check;
    // -X/-A: rsync's itemize compares the old file's xattrs and ACLs with the source's too.
    const flags = rc.spec.xattrFlags;
    const differ = flags ? rc.dest.basisXattrDiff(m.src, destPath(rc, m.rel), flags, rc.xattrViews?.ofEntry(m.rel)) : 0;
    const ch = { ...attrChanges(m.st, existing, check), size: kind === 'reg' && m.st.size !== existing.size, time: c.times ? !sameTime(m.st, existing, check) : true, ...(differ ? xattrBits(differ) : {}) };
    if (rc.lines.active) {
      const v: Verdict = { action: anyChange(ch) ? 'transfer' : 'attrs', changes: ch };
      print = () => rc.lines.out.entry({ ...line, changed: true, isDir: false }, itemize(kind, v, c, { hardlinked: true, all: true }));
    }
  } else if (!leaderSent && (matched = altMatched(rc, leader, m, kind))) {
    // rsync's hard_link_check: a member that matches its --link-dest twin (the very file the leader was
    // linked to) is no change: shown only with -ii/-vv, blank. One that matches its --copy-dest twin is
    // still linked and named ("=> leader"), its attributes compared with the twin's: blank.
    if (c.linkDest.length) {
      if (rc.lines.all) print = () => rc.lines.emit(kind, { action: 'attrs', changes: NO_CHANGES }, line, true);
    } else if (rc.lines.active) {
      print = () => rc.lines.out.entry({ ...line, changed: true, isDir: false }, itemize(kind, { action: 'attrs', changes: NO_CHANGES }, c, { hardlinked: true, all: true }));
    }
  } else {
    print = () => rc.lines.emit(kind, { action: 'create' }, line, true);
  }
  // rsync counts a member as created exactly when it itemizes it as new (ITEM_IS_NEW: the `+++` line),
  // so not when its --*-dest twin matched.
  const isNew = !existing && !matched;
  const made = (): void => {
    print?.();
    if (isNew) rc.tally.totals.created[kind]++;
  };
  rc.dirs.touch(m.record);
  if (c.dryRun) {
    made();
    return;
  }
  // The backup goes in the same batch as the link, right before it: the link waits for it.
  const add = links ? links.add : (...a: Parameters<MemberLinks['add']>): void => rc.sink.later(...a);
  const after = m.destSt ? rc.backups.beforeReplace(add, m.rel, m.destSt) : 0;
  if (links) links.link(leader.rel, m.rel, m.st, after, made);
  // A symlink's or special's member, linked after the walk: its line keeps its place meanwhile, and goes
  // only if the link was made. (A file linked to a leader made from a --*-dest twin prints at once: its
  // -vv line is rsync's sender's, whose place the line order keeps only when printed now.)
  else if (kind !== 'reg') rc.sink.later(OpKind.Hardlink, leader.rel, m.rel, m.st, after, onceMade(rc, m.rel, made));
  else {
    made();
    rc.sink.later(OpKind.Hardlink, leader.rel, m.rel, m.st, after);
  }
  removeSource(rc, m, kind);
}
