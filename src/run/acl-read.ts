// A sending side's ACLs for its file list, through the addon (Node has no ACL API): each entry's access
// ACL, and a directory's default ACL, as rsync's sender reads them for -A (a push's list, and the local
// lists whose bytes the -v summary counts, run/stream-list.ts).

import * as fs from 'node:fs';
import type { Config } from '../model/config.js';
import { isFailure, type Addon } from '../engine/native.js';
import { RECORD_ACCESS, RECORD_DEFAULT, fromKernel, fromRecord, type EntryAcls } from '../remote/acl-list.js';
import { isDir, isLink } from '../remote/flist.js';
import type { SendEntry } from '../remote/flist-send.js';
import { showPath } from '../util/errors.js';

/**
 * A push: each listed entry's ACLs (symlinks carry none), read where the walk found it (-L: where its
 * symlink leads). A read that fails is reported and the entry goes with the ACL its mode implies.
 */
export function readSendAcls(addon: Addon, c: Config, entries: readonly SendEntry[], report: (m: string) => void): number {
  let ioError = 0;
  for (const e of entries) {
    // A --delete-missing-args entry (mode 0) goes with no ACL, as rsync's get_acl gives it.
    if (isLink(e.mode) || e.mode === 0) continue;
    let at = e.path;
    if (c.copyLinks) {
      try {
        at = fs.realpathSync(e.path, { encoding: 'buffer' });
      } catch {
        // Gone since the walk: the sender's open reports it.
      }
    }
    const got: EntryAcls = {};
    if (c.fakeSuper) {
      ioError |= readRecords(addon, at, e, got, report);
      if (got.access || got.def) e.aclsRead = got;
      continue;
    }
    for (const def of isDir(e.mode) ? [false, true] : [false]) {
      const v = addon.aclGet(at, def);
      if (v === null) continue;
      if (isFailure(v)) {
        report(`get_acl: ${v.syscall}(${showPath(e.path)}, ${def ? 'ACL_TYPE_DEFAULT' : 'ACL_TYPE_ACCESS'}) failed: errno ${v.errno}`);
        ioError |= 1;
        continue;
      }
      try {
        const acl = fromKernel(v);
        if (def) got.def = acl;
        else got.access = acl;
      } catch {
        report(`get_acl: unpack_smb_acl(${showPath(e.path)}) failed: not a POSIX ACL`);
        ioError |= 1;
      }
    }
    if (got.access || got.def) e.aclsRead = got;
  }
  return ioError;
}

/**
 * --fake-super: the sender's ACLs are its records (user.rsync.%aacl, a directory's %dacl), as rsync's
 * faking sender reads them, its real ACLs left alone; an entry without a record has the ACL its mode says.
 */
function readRecords(addon: Addon, at: Buffer, e: SendEntry, got: EntryAcls, report: (m: string) => void): number {
  const r = addon.xattrRead(at);
  if (isFailure(r)) {
    report(`get_acl: l${r.syscall}(${showPath(e.path)}) failed: errno ${r.errno}`);
    return 1;
  }
  let ioError = 0;
  r.names.forEach((n, i) => {
    const name = n.toString('latin1');
    const def = name === RECORD_DEFAULT;
    if (name !== RECORD_ACCESS && !(def && isDir(e.mode))) return;
    try {
      const acl = fromRecord(r.values[i]!, e.mode);
      if (def) got.def = acl;
      else got.access = acl;
    } catch {
      report(`get_acl: ${showPath(e.path)}'s ${name} is not an ACL record`);
      ioError |= 1;
    }
  });
  return ioError;
}
