// --remove-source-files for an entry that needed no op (rsync removes those too): the source is
// unlinked by the engine, beneath the source's anchor and only if it is still the file the walk saw.
// --remove-sent-files (rsync's older option) removes only what was sent, so none of these.

import type { FileType } from '../model/stat.js';
import { showPath } from '../util/errors.js';
import type { RunContext } from './context.js';
import type { Member } from './members.js';

export function removeSource(rc: RunContext, m: Member, kind: FileType): void {
  if (!rc.c.removeSourceFiles || rc.c.removeSentOnly || rc.c.dryRun || kind === 'dir') return;
  rc.takenFromSource?.add(m.rel.toString('latin1'));
  // A pull: the source is the far side's, which its sender removes once told (cli/pull.ts).
  if (rc.sourceRemoved) return rc.sourceRemoved(m.rel);
  const r = rc.sink.unlinkSource(m.src, m.st, rc.anchors.of(m.src));
  // sender.c names the file as its list has it, unquoted.
  if (r) rc.tally.ioError(m.src, r.errno, r.syscall, `[sender] sender failed to remove ${showPath(m.display ?? m.rel)}`);
  // --info=remove (-vv): rsync's sender names each source it removed.
  else if (rc.c.info.REMOVE > 0 && !rc.c.json) rc.reporter.print(`sender removed ${showPath(m.display ?? m.rel)}`);
}
