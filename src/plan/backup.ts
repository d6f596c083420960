// --backup, --backup-dir, --suffix: where the old version of a replaced or deleted entry goes, and the
// Backup op that keeps it (rsync's backup rules). Nothing here touches disk: the engines make the backup
// under the destination safety rules, and the op that replaces an entry is flagged to run only when its
// backup succeeded, so a file whose backup cannot be made is neither replaced nor deleted.

import { posix } from 'node:path';
import type { Config } from '../model/config.js';
import { OpFlag, OpKind, type OpAppender } from '../model/ops.js';
import { S_IFDIR, S_IFMT, type Stat } from '../model/stat.js';
import { joinPath } from '../util/names.js';
import { UsageError } from '../util/errors.js';
import { PATH_MAX as MAXPATHLEN } from '../model/path-max.js';

/** Something ops can be appended to: a BatchWriter, or the run's current batch. */
type AddOp = (kind: OpKind, src: Buffer, rel: Buffer, st: Stat, flags: number) => void;

export class BackupPlan {
  /** The --backup-dir as an absolute, normalised path (relative ones are relative to the destination). */
  readonly dir: Buffer | undefined;
  private readonly suffix: Buffer;

  constructor(
    private readonly c: Config,
    private readonly destRoot: Buffer,
    /** Entries never backed up (an unsafe destination symlink under --safe-links: rsync's make_backup). */
    private readonly skip: (rel: Buffer, st: Stat) => boolean = () => false,
    /** The directory as the operator-path rule resolved it (followed symlinks replaced by their targets). */
    resolvedDir?: Buffer,
    /** Told of each backup of a replaced entry as it is planned (--info=backup's line). */
    private readonly onBackup: (rel: Buffer) => void = () => {},
  ) {
    this.suffix = Buffer.from(c.suffix);
    if (resolvedDir) this.dir = resolvedDir;
    else if (c.backupDir !== undefined) {
      // latin1 carries the destination's bytes through path.resolve unchanged; the option is UTF-8 text.
      const d = Buffer.from(c.backupDir).toString('latin1');
      this.dir = Buffer.from(posix.resolve(destRoot.toString('latin1'), d), 'latin1');
    }
  }

  /** The absolute backup name of a destination entry. */
  path(rel: Buffer): Buffer {
    return joinPath(this.dir ?? this.destRoot, Buffer.concat([rel, this.suffix]));
  }

  /** Without --backup-dir, earlier backups (name ends with the suffix) are protected from deletion. */
  isBackupName(rel: Buffer): boolean {
    const s = this.suffix;
    return !this.dir && s.length > 0 && rel.length >= s.length && rel.subarray(rel.length - s.length).equals(s);
  }

  /**
   * Before `rel` is replaced: a Backup op that keeps it in place (hard link, or copy), then the flag the
   * replacing op must carry (AfterBackup), to be added right after it in the same batch. --inplace writes
   * into the old file itself, so there the engines copy a regular file (Preserve.Inplace), as rsync's
   * make_backup does: the file keeps its inode, and with it its owner and, without -p, its mode.
   * Directories are not backed up (rsync neither); 0 when no backup is made.
   */
  beforeReplace(add: AddOp, rel: Buffer, destSt: Stat): number {
    if (!this.c.backup || this.c.dryRun || (destSt.mode & S_IFMT) === S_IFDIR || this.skip(rel, destSt)) return 0;
    add(OpKind.Backup, this.path(rel), rel, destSt, OpFlag.BackupKeep);
    this.onBackup(rel);
    return OpFlag.AfterBackup;
  }

  /** Instead of deleting `rel`: move it to its backup name (when that fails, it stays). */
  insteadOfDelete(w: OpAppender, rel: Buffer, st: Stat, flags = 0): void {
    w.add(OpKind.Backup, this.path(rel), rel, st, flags);
  }
}


/** rsync's parse_arguments(): a --backup-dir (after leading "./"s) longer than its buffer allows is refused. */
export function checkBackupDirLength(dir: string): void {
  let d = Buffer.from(dir);
  while (d.length >= 2 && d[0] === 0x2e && d[1] === 0x2f) d = d.subarray(2);
  if (d.length > MAXPATHLEN - 128) throw new UsageError('the --backup-dir path is WAY too long.');
}
