// Without -p, rsync gives an entry the permission bits of the file it judges it against (rsync.c
// dest_mode with `exists`). The engines see one such file, the destination's own regular file; here are
// the others, which only the planner knows: the basis rsync's receiver opens elsewhere for a file it
// receives (a --partial-dir file, a --*-dest twin whose data differs, a --fuzzy match: receiver.c
// recv_files), and the entry rsync's generator replaces with one it makes itself (a device or FIFO, a
// file copied from a --copy-dest twin: generator.c recv_generator takes the bits of whatever is there,
// a directory excepted). The mode worked out travels in the op (OpFlag.GivenMode).

import { OpFlag } from '../model/ops.js';
import { fileType, type Stat } from '../model/stat.js';
import { keptMode } from '../plan/dest-mode.js';
import type { RunContext } from './context.js';
import type { Member } from './members.js';
import { surelyUnreadable } from './unopenable.js';

/**
 * A regular file received against `basis`, a file rsync's receiver opens (one it cannot read leaves it
 * none: the new file's mode then, as for no basis at all).
 */
export function againstBasis(rc: RunContext, m: Member, basis: Stat | undefined): void {
  if (rc.c.perms || basis === undefined || fileType(basis.mode) !== 'reg' || surelyUnreadable(basis)) return;
  m.mode = keptMode(m.st.mode, basis.mode, rc.c.executability);
}

/** An entry rsync's generator makes itself in place of the destination's entry, unless that is a directory. */
export function overReplaced(rc: RunContext, m: Member): void {
  const there = m.destSt;
  if (rc.c.perms || there === undefined || fileType(there.mode) === 'dir') return;
  m.mode = keptMode(m.st.mode, there.mode, rc.c.executability);
}

/** The op's stat and flags for `m`: its given mode, when it has one. */
export function opStat(m: Member, st: Stat, flags: number): { st: Stat; flags: number } {
  return m.mode === undefined ? { st, flags } : { st: { ...st, mode: m.mode }, flags: flags | OpFlag.GivenMode };
}
