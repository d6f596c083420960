// --copy-as=USER[:GROUP]: the CLI becomes that user before it reads or writes anything, as rsync's
// become_copy_as_user() does on both sides of a local copy: the group (GROUP, else USER's primary
// group), the supplementary groups (only GROUP when given, else USER's from the group database), then
// the uid. Only root can do this; anyone else gets rsync's "setgid/setgroups/setuid failed" (exit 1).

import { constants } from 'node:os';
import { groups, users } from '../util/userdb.js';

/** rsync's strerror text for the errnos these calls give, with the number rsync appends. */
function sysText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  const errno = (constants.errno as Record<string, number>)[code] ?? 0;
  const text: Record<string, string> = { EPERM: 'Operation not permitted', EINVAL: 'Invalid argument' };
  return `${text[code] ?? code} (${errno})`;
}

/** A name or (all digits) a number, as rsync's user_to_uid/group_to_gid with num_ok. */
const idOf = (db: typeof users, name: string): number | undefined => (/^\d+$/.test(name) ? Number(name) : name === '' ? undefined : db.idOf(name));

/** The identity --copy-as names (rsync's checks and messages), without switching to it. */
export function copyAsIds(spec: string): { error: string } | { user: string; group: string | undefined; uid: number; gid: number } {
  const colon = spec.indexOf(':');
  const user = colon < 0 ? spec : spec.slice(0, colon);
  const group = colon < 0 ? undefined : spec.slice(colon + 1);
  const uid = idOf(users, user);
  if (uid === undefined || uid > 0xffffffff) return { error: `Invalid copy-as user: ${user}` };
  let gid: number | undefined;
  if (group !== undefined) {
    gid = idOf(groups, group);
    if (gid === undefined || gid > 0xffffffff) return { error: `Invalid copy-as group: ${group}` };
  } else {
    gid = users.primaryGid(users.nameOf(uid) ?? '');
    if (gid === undefined) return { error: 'getpwuid failed' };
  }
  return { user, group, uid, gid };
}

/**
 * Switch this process to the --copy-as identity. Returns rsync's message when it cannot (the caller
 * exits 1 before any I/O), else the new am_root (rsync recomputes it from the uid it now has).
 */
export function becomeCopyAsUser(spec: string): { error: string } | { amRoot: number } {
  const ids = copyAsIds(spec);
  if ('error' in ids) return ids;
  const { user, group, uid, gid } = ids;
  const steps: [string, () => void][] = [
    ['setgid', () => process.setgid!(gid)],
    ['setgroups', () => process.setgroups!([gid])],
    // USER's supplementary groups, as initgroups(3) reads them (only when no GROUP was named).
    ['initgroups', () => group === undefined && (process as unknown as { initgroups(user: string, extra: number): void }).initgroups(user, gid)],
    ['setuid', () => process.setuid!(uid)],
    ['setuid', () => process.seteuid!(uid)],
  ];
  for (const [call, step] of steps) {
    try {
      step();
    } catch (err) {
      return { error: `${call} failed: ${sysText(err)}` };
    }
  }
  return { amRoot: uid === 0 ? 1 : 0 };
}
