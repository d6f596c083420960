// What an older --protocol changes in a local run, as pure rules (the CLI's side is cli/protocol-option.ts).
// rsync's file list carries nanoseconds only from protocol 31 (flist.c): before it every mtime the
// receiver compares and sets is whole seconds. Its --stats block names created files from 29 and deleted
// ones from 31 (main.c output_summary).

import { S_IFLNK, S_IFMT, S_IFREG, type Stat } from '../model/stat.js';
import { F } from './filter-rules.js';

/** rsync's PROTOCOL_VERSION: a run with no --protocol, or 31, behaves alike locally. */
export const CURRENT_PROTOCOL = 32;

/** Whether the file list has whole-second mtimes only (before protocol 31). */
export const wholeSecondList = (protocol: number | undefined): boolean => (protocol ?? CURRENT_PROTOCOL) < 31;

/**
 * An entry's stat as the file list of such a protocol carries it (its mtime's nanoseconds dropped), with
 * the time rsync's receiver leaves on it: set_file_attrs() sets an mtime only when it is not the same as
 * the destination's by same_time() (whole seconds with a window of 0, or within --modify-window; -1
 * compares nanoseconds), so an entry whose time counts as the same keeps the destination's, fraction
 * included (a directory whose entries the run changes is the exception: run/dirmeta.ts; and a symlink). A regular file that is sent is set exactly (its list time): one whose size differs, or any
 * under -c or -I, which may be sent whatever its time.
 */
export function listStat(st: Stat, dest: Stat | undefined, o: { modifyWindow: number; sendsAnyway: boolean }): Stat {
  const type = st.mode & S_IFMT;
  // A symlink whose time is set at all is usually one made again (another target): rsync compares the list's
  // time with the new link's, "now", and sets it.
  if (dest && (dest.mode & S_IFMT) === type && type !== S_IFLNK && !(type === S_IFREG && (o.sendsAnyway || dest.size !== st.size))) {
    const ds = Math.abs(dest.mtimeSec - st.mtimeSec);
    const same = o.modifyWindow < 0 ? ds === 0 && dest.mtimeNsec === 0 : ds <= o.modifyWindow;
    if (same) return dest.mtimeSec === st.mtimeSec && dest.mtimeNsec === st.mtimeNsec ? st : { ...st, mtimeSec: dest.mtimeSec, mtimeNsec: dest.mtimeNsec };
  }
  return st.mtimeNsec === 0 ? st : { ...st, mtimeNsec: 0 };
}

/**
 * The quick check's --modify-window for such a list: rsync's same_time() with a window of 0 compares
 * whole seconds, which a window of half a second is to both quick checks (plan/quickcheck.ts sameTime,
 * native/quickcheck.c same_time: |Δs| ≤ window holds only for Δs = 0); a window the line gave stays.
 */
export const listWindow = (protocol: number | undefined, modifyWindow: number): number =>
  modifyWindow === 0 && wholeSecondList(protocol) ? 0.5 : modifyWindow;

/** Whether rsync's sender knows the receiver sets symlink times (CF_SYMLINK_TIMES, protocol 30+): -i's 't', else 'T'. */
export const symlinkTimesTold = (protocol: number | undefined): boolean => (protocol ?? CURRENT_PROTOCOL) >= 30;

/** Before protocol 23 rsync's receiver writes its messages to its own stderr (main.c: no multiplexed output). */
export const receiverOutputUnmultiplexed = (protocol: number | undefined): boolean => (protocol ?? CURRENT_PROTOCOL) < 23;

/** --stats' "Number of created files" (29+) and "Number of deleted files" (31+) lines. */
export const statsCountLines = (protocol: number | undefined): { created: boolean; deleted: boolean } => {
  const p = protocol ?? CURRENT_PROTOCOL;
  return { created: p >= 29, deleted: p >= 31 };
};

/** A filter rule as the check below reads it (plan/filter-rules.ts Entry). */
interface RuleFlags {
  flags: number;
  pattern: string;
}

/**
 * rsync's get_rule_prefix() for the wire before protocol 29 (exclude.c), from the side that checks the
 * rule: only "+" (or "-" before a pattern that starts like a prefix) can be spelled; a modifier, a
 * per-directory merge, or a perishable rule on the sender cannot.
 */
function spellable(r: RuleFlags, amSender: boolean, deleteExcluded: boolean): boolean {
  const f = r.flags;
  if (f & F.PERDIR_MERGE) return false;
  let n = 0;
  let legal = 1;
  if (f & F.INCLUDE || ((r.pattern[0] === '-' || r.pattern[0] === '+') && r.pattern[1] === ' ')) n++;
  else legal = 0;
  const mods = f & F.CVS_IGNORE ? [F.ABS_PATH, F.NEGATE, F.CVS_IGNORE] : [F.ABS_PATH, F.NEGATE, F.NO_INHERIT, F.WORD_SPLIT, F.NO_PREFIXES];
  for (const m of [...mods, F.EXCLUDE_SELF, F.XATTR]) if (f & m) n++;
  if (f & F.RECEIVER_SIDE && deleteExcluded && amSender) n++;
  if (f & F.PERISHABLE && amSender) return false;
  return n <= legal;
}

/**
 * Before protocol 29 both ends of a local rsync spell every filter rule for the wire (send_rules, even
 * when nothing is sent) and stop at one they cannot: "filter rules are too modern for remote rsync.".
 * The sender (client) checks the rules that are not its own side's alone and exits 2; the receiver
 * checks the rest, and -C's per-directory ":C" it adds itself, and the run ends with exit 12 (the sender
 * sees its peer gone). `rules`: the command line's rules in order, without -C's (rsync's -C list itself
 * is plain patterns). Returns the exit code, or undefined when every rule can be spelled.
 */
export function filterRulesTooModern(rules: readonly RuleFlags[], o: { deleteExcluded: boolean; cvsExclude: boolean }): number | undefined {
  // -C's rule is replaced by its plain list on both sides.
  const checked = rules.filter((r) => !(r.flags & F.CVS_IGNORE && !(r.flags & F.MERGE_FILE)));
  const senderOnly = (r: RuleFlags): boolean => (r.flags & F.SENDER_SIDE) !== 0 && !(r.flags & F.RECEIVER_SIDE);
  if (checked.some((r) => !senderOnly(r) && !spellable(r, true, o.deleteExcluded))) return 2;
  if (o.cvsExclude) return 12;
  const receiverOnly = (r: RuleFlags): boolean => (r.flags & F.RECEIVER_SIDE) !== 0 && !(r.flags & F.SENDER_SIDE);
  if (checked.some((r) => !receiverOnly(r) && !spellable(r, false, o.deleteExcluded))) return 12;
  return undefined;
}
