import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/model/config.js';
import { BackupPlan } from '../../../src/plan/backup.js';
import { OpFlag, OpKind } from '../../../src/model/ops.js';
import { S_IFDIR, S_IFREG, type Stat } from '../../../src/model/stat.js';

const cfg = (over: Partial<Config> = {}): Config => ({ backup: true, backupDir: undefined, suffix: '~', inplace: false, dryRun: false, ...over }) as Config;
const st = (mode: number): Stat => ({ mode, uid: 0, gid: 0, size: 1, mtimeSec: 0, mtimeNsec: 0, ino: 1, dev: 1, nlink: 1, rdev: 0, blocks: 0 }) as Stat;
const B = (s: string): Buffer => Buffer.from(s);
const root = B('/d/dst');

type Added = [number, string, string, number];
function collect(): { add: (k: number, s: Buffer, r: Buffer, _st: Stat, f: number) => void; ops: Added[] } {
  const ops: Added[] = [];
  return { ops, add: (k, s, r, _st, f) => ops.push([k, s.toString(), r.toString(), f]) };
}

describe('BackupPlan', () => {
  it('names backups beside the file with the suffix, or under --backup-dir (relative to the destination)', () => {
    expect(new BackupPlan(cfg(), root).path(B('a/b')).toString()).toBe('/d/dst/a/b~');
    const p = new BackupPlan(cfg({ backupDir: '../bak', suffix: '' }), root);
    expect(p.dir?.toString()).toBe('/d/bak');
    expect(p.path(B('a/b')).toString()).toBe('/d/bak/a/b');
    expect(new BackupPlan(cfg({ backupDir: '/abs//x/', suffix: '.old' }), root).path(B('f')).toString()).toBe('/abs/x/f.old');
  });

  it('keeps non-ASCII option text as its UTF-8 bytes', () => {
    const p = new BackupPlan(cfg({ backupDir: 'bäk', suffix: '.ä' }), root);
    expect(p.path(B('f')).equals(Buffer.from('/d/dst/bäk/f.ä'))).toBe(true);
  });

  it('a replaced entry: a Backup op that keeps it in place, and AfterBackup for the op that replaces it', () => {
    const c = collect();
    const flag = new BackupPlan(cfg(), root).beforeReplace(c.add, B('f'), st(S_IFREG));
    expect(flag).toBe(OpFlag.AfterBackup);
    expect(c.ops).toEqual([[OpKind.Backup, '/d/dst/f~', 'f', OpFlag.BackupKeep]]);
  });

  it('--inplace keeps the old file in place too (the engines copy it under Preserve.Inplace, then write into it)', () => {
    const c = collect();
    new BackupPlan(cfg({ inplace: true }), root).beforeReplace(c.add, B('f'), st(S_IFREG));
    expect(c.ops).toEqual([[OpKind.Backup, '/d/dst/f~', 'f', OpFlag.BackupKeep]]);
  });

  it('no backup for directories, under -n, or without --backup', () => {
    for (const [c, mode] of [[cfg(), S_IFDIR], [cfg({ dryRun: true }), S_IFREG], [cfg({ backup: false }), S_IFREG]] as const) {
      const k = collect();
      expect(new BackupPlan(c, root).beforeReplace(k.add, B('f'), st(mode))).toBe(0);
      expect(k.ops).toEqual([]);
    }
  });

  it('protects earlier backups from deletion only without --backup-dir', () => {
    expect(new BackupPlan(cfg(), root).isBackupName(B('x/f~'))).toBe(true);
    expect(new BackupPlan(cfg(), root).isBackupName(B('x/f'))).toBe(false);
    expect(new BackupPlan(cfg({ backupDir: 'b', suffix: '~' }), root).isBackupName(B('f~'))).toBe(false);
  });
});
