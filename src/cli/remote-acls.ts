// -A in a push and a pull: the ACLs reach the file list and leave it through the addon (Node has no
// xattr API; the node engine refuses -A, and so does a remote run without the addon). A push reads each
// listed source's ACLs for its entry (run/acl-read.ts; remote/acl-list.ts encodes them). A pull puts each received entry's
// ACLs, rebuilt from its mode and with the ids mapped as the owners are, on its file in the private
// staging tree once the data is in; the local run then copies them to the destination as local -A
// copies any source's (run/staged-source.ts gives it the sender's mode, which the ACLs agree with).

import type { Config } from '../model/config.js';
import { isFailure, loadAddon, type Addon } from '../engine/native.js';
import { toKernel } from '../remote/acl-list.js';
import { isDir, isLink, type RemoteEntry } from '../remote/flist.js';
import { attrRefusedMessage, showPath } from '../util/errors.js';
import { applyChmod } from '../plan/chmod.js';

/** The addon for -A in a remote run, or rsync's usage message when there is none (checked before any I/O). */
export function aclAddon(c: Config): { addon?: Addon; error?: string } {
  if (!c.acls) return {};
  const a = loadAddon();
  if (!a.ok) return { error: `-A/--acls needs the native addon: ${a.reason}. To fix: ${a.fix}` };
  return { addon: a.addon };
}

const ACCESS = 'system.posix_acl_access';
const DEFAULT = 'system.posix_acl_default';


/**
 * A pull: the received ACLs onto the staging tree (`pathOf` gives an entry's staged path; entries not
 * staged are skipped). Every staged entry gets exactly the sender's ACLs: one its mode says all of is
 * removed, so nothing inherited on this machine is copied. Returns how many could not be set.
 *
 * Under --chmod the owning group differs from a local copy's: rsync's sending side leaves the group
 * entry out when it equals the group bits of the mode it lists, and a pull's far sender lists the mode
 * before --chmod (the receiver applies it), so the entry comes back from the mode after it. The local
 * half keeps a staged group entry as it is, so it is staged that way (`c`'s --chmod, with -p, which -A
 * implies).
 */
export function applyStagedAcls(
  addon: Addon,
  entries: readonly (RemoteEntry | undefined)[],
  pathOf: (e: RemoteEntry) => string | undefined,
  mapId: (id: number, user: boolean) => number,
  report: (m: string) => void,
  c: Pick<Config, 'chmod' | 'perms'>,
): number {
  let failed = 0;
  const umask = process.umask();
  const finalMode = (mode: number): number => (c.perms && c.chmod.length ? applyChmod(mode, c.chmod, umask) : mode);
  for (const e of entries) {
    if (!e?.acls || isLink(e.mode)) continue;
    const p = pathOf(e);
    if (p === undefined) continue;
    const at = Buffer.from(p, 'latin1');
    const sets: [boolean, Buffer | undefined][] = [[false, toKernel(e.acls.access, e.mode, false, mapId, finalMode(e.mode))]];
    if (isDir(e.mode) && e.acls.def) sets.push([true, toKernel(e.acls.def, e.mode, true, mapId)]);
    for (const [def, value] of sets) {
      const r = addon.aclSet(at, def, value ?? null);
      if (r && isFailure(r)) {
        // A discarded file (failed verification) is no longer staged: nothing to say.
        if (r.errno === 2) break;
        report(attrRefusedMessage(r.errno, r.syscall, showPath(e.name), Buffer.from(def ? DEFAULT : ACCESS)));
        failed++;
      }
    }
  }
  return failed;
}
