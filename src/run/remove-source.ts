// --remove-source-files: which sources go, as rsync's sender decides it (sender.c successful_send). For
// an entry that needed no op the source is unlinked here by the engine, beneath the source's anchor and
// only if it is still the file the walk saw; for the others the op carries OpFlag.RemoveSource and the
// engine does the same after the op. A source reached through a link -L follows is confirmed through the
// link and the link goes (rsync's sender re-stats it under -L). One --copy-unsafe-links follows is
// re-lstatted by rsync's sender, which then finds the link's own size and time where the listed file's
// are, and keeps it with an error: said here, and nothing removed.
// --remove-sent-files (rsync's older option) removes only what was sent, so none of the unchanged ones.
// A source found gone when its turn comes is what rsync's sender says as "sender file already removed"
// (its re-stat or unlink met ENOENT), information and no error: another name of the file took it
// (run/removal-queue.ts, where such runs' removals wait). An op's own removal in the engine keeps that
// silent: only an outside change can take its source first.

import { OpFlag } from '../model/ops.js';
import type { FileType } from '../model/stat.js';
import { ERRNO, showPath } from '../util/errors.js';
import type { RunContext } from './context.js';
import type { Member } from './members.js';
import type { SourceRemoval } from './removal-queue.js';

export function removeSource(rc: RunContext, m: Member, kind: FileType): void {
  if (!rc.c.removeSourceFiles || rc.c.removeSentOnly || rc.c.dryRun || kind === 'dir') return;
  if (keptLink(rc, m)) return;
  rc.takenFromSource?.add(m.rel.toString('latin1'));
  // A pull: the source is the far side's, which its sender removes once told (cli/pull.ts).
  if (rc.sourceRemoved) return rc.sourceRemoved(m.rel);
  const r: SourceRemoval = { src: m.src, st: m.st, anchor: rc.anchors.of(m.src), follow: (m.flags & OpFlag.FollowSource) !== 0, name: m.display ?? m.rel, sent: true };
  if (rc.removals) rc.removals.add(r);
  else removeNow(rc, r);
}

/** Remove one source now, through the engine, and say what became of it as rsync's sender does. */
export function removeNow(rc: RunContext, r: SourceRemoval): void {
  const f = rc.sink.unlinkSource(r.src, r.st, r.anchor, r.follow);
  // sender.c names the file as its list has it, unquoted.
  if (f && f.errno === ERRNO.ENOENT) {
    if (!rc.c.json) rc.reporter.info(`sender file already removed: ${showPath(r.name)}`);
  } else if (f) rc.tally.ioError(r.src, f.errno, f.syscall, `[sender] sender failed to remove ${showPath(r.name)}`);
  // --info=remove (-vv): rsync's sender names each source it removed.
  else if (rc.c.info.REMOVE > 0 && !rc.c.json) rc.reporter.print(`sender removed ${showPath(r.name)}`);
}

/** OpFlag.RemoveSource for the op that sends `m`, or 0 (--remove-sent-files: files and symlinks only). */
export function removeFlag(rc: RunContext, m: Member, kind: FileType): number {
  if (!rc.c.removeSourceFiles || (rc.c.removeSentOnly && kind !== 'reg' && kind !== 'link')) return 0;
  return keptLink(rc, m) ? 0 : OpFlag.RemoveSource;
}

/** A link --copy-unsafe-links followed, which rsync's sender finds changed (its lstat's size and time). */
function keptLink(rc: RunContext, m: Member): boolean {
  const link = m.linkSt;
  if (!link || (link.size === m.st.size && link.mtimeSec === m.st.mtimeSec && link.mtimeNsec === m.st.mtimeNsec)) return false;
  if (!rc.c.dryRun) rc.tally.generatorError(m.src, `ERROR: Skipping sender remove for changed file: ${showPath(m.display ?? m.rel)}`);
  return true;
}
