// What an older --protocol changes in a local run, as pure rules (the CLI's side is cli/protocol-option.ts).
// rsync's file list carries nanoseconds only from protocol 31 (flist.c): before it every mtime the
// receiver compares and sets is whole seconds. Its --stats block names created files from 29 and deleted
// ones from 31 (main.c output_summary).

import { S_IFMT, S_IFREG, type Stat } from '../model/stat.js';

/** rsync's PROTOCOL_VERSION: a run with no --protocol, or 31, behaves alike locally. */
export const CURRENT_PROTOCOL = 32;

/** Whether the file list has whole-second mtimes only (before protocol 31). */
export const wholeSecondList = (protocol: number | undefined): boolean => (protocol ?? CURRENT_PROTOCOL) < 31;

/**
 * An entry's stat as the file list of such a protocol carries it (its mtime's nanoseconds dropped), with
 * the time rsync's receiver leaves on it: set_file_attrs() sets an mtime only when it is not the same as
 * the destination's by same_time() (whole seconds with a window of 0, or within --modify-window; -1
 * compares nanoseconds), so an entry whose time counts as the same keeps the destination's, fraction
 * included (a directory whose entries the run changes is the exception: run/dirmeta.ts). A regular file that is sent is set exactly (its list time): one whose size differs, or any
 * under -c or -I, which may be sent whatever its time.
 */
export function listStat(st: Stat, dest: Stat | undefined, o: { modifyWindow: number; sendsAnyway: boolean }): Stat {
  const type = st.mode & S_IFMT;
  if (dest && (dest.mode & S_IFMT) === type && !(type === S_IFREG && (o.sendsAnyway || dest.size !== st.size))) {
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
