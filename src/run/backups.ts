// The run's glue to plan/backup.ts: which destination entries may be backed up at all, judged on what
// the destination holds (the planner's rule lives in BackupPlan; this only reads the destination for it), and
// --info=backup's line for each backup made.

import { type Stat, fileType } from '../model/stat.js';
import { receiverOutput, type Config } from '../model/config.js';
import { unsafeSymlink } from '../plan/safelinks.js';
import type { DestReads } from './dest.js';
import type { Reporter } from '../progress/reporter.js';
import { showPath } from '../util/errors.js';

/**
 * rsync's make_backup under --safe-links: an unsafe destination symlink (or one whose target cannot be
 * read) is not backed up, only replaced or deleted, so a backup never preserves what --safe-links drops.
 */
export function unsafeToBackUp(c: Config, dest: DestReads, rel: Buffer, destSt: Stat): boolean {
  if (!c.safeLinks || !c.links || fileType(destSt.mode) !== 'link') return false;
  const target = dest.readlink(rel);
  return !target || unsafeSymlink(target, rel);
}

/** --info=backup (-vv): rsync's line for a backup, the --backup-dir named as given. */
export function backedUpLine(c: Config, reporter: Reporter, rel: Buffer, show: (rel: Buffer) => string = showPath): void {
  if (receiverOutput(c).info.BACKUP === 0 || c.json) return;
  const name = Buffer.concat([rel, Buffer.from(c.suffix)]);
  const shown = c.backupDir !== undefined ? `${c.backupDir.replace(/\/+$/, '')}/${show(name)}` : show(name);
  reporter.print(`backed up ${show(rel)} to ${shown}`);
}
