import { describe, expect, it } from 'vitest';
import { itemize, quickCheck, sameTime } from '../../../src/plan/quickcheck.js';
import type { CheckOptions } from '../../../src/plan/quickcheck.js';
import { fileType, type Stat } from '../../../src/model/stat.js';

const base: Stat = {
  mode: 0o100644, uid: 0, gid: 0, size: 10, mtimeSec: 1_700_000_000, mtimeNsec: 500, ino: 1, dev: 1, nlink: 1, rdev: 0, blocks: 8,
};
const st = (over: Partial<Stat> = {}): Stat => ({ ...base, ...over });
const archive: CheckOptions = {
  checksum: false, ignoreTimes: false, sizeOnly: false, update: false, ignoreExisting: false, existing: false,
  modifyWindow: 0, timeResolutionNs: 1, times: true, perms: true, owner: true, group: true, isRoot: true,
};
const line = (src: Stat, dst: Stat | undefined, o: CheckOptions = archive, linkDiffers = false, all = false): string | undefined =>
  itemize(fileType(src.mode), quickCheck(src, dst, o, linkDiffers), o, { all });

// Expected strings were taken from rsync 3.5's own -i output on the same situations.
describe('quickCheck + itemize match rsync -i', () => {
  it('new entries', () => {
    expect(line(st(), undefined)).toBe('>f+++++++++');
    expect(line(st({ mode: 0o040755 }), undefined)).toBe('cd+++++++++');
    expect(line(st({ mode: 0o120777 }), undefined)).toBe('cL+++++++++');
    expect(line(st({ mode: 0o010644 }), undefined)).toBe('cS+++++++++');
    expect(line(st({ mode: 0o020644 }), undefined)).toBe('cD+++++++++');
  });

  it('a device over one of the other kind, a FIFO over a socket: a change, or nothing for the same numbers', () => {
    const chr = st({ mode: 0o020600, rdev: 0x103 });
    expect(line(chr, st({ mode: 0o060600, rdev: 0x7c8 }))).toBe('cDc........');
    // rsync's quick_check_ok compares a device's numbers only: the block device stays.
    expect(line(chr, st({ mode: 0o060600, rdev: 0x103 }))).toBeUndefined();
    expect(line(st({ mode: 0o010600 }), st({ mode: 0o140600 }))).toBe('cSc........');
    expect(line(st({ mode: 0o010600 }), st({ mode: 0o020600 }))).toBe('cS+++++++++');
  });

  it('size, time, perms', () => {
    expect(line(st({ size: 11 }), st())).toBe('>f.s.......');
    expect(line(st({ mtimeSec: 1_600_000_000 }), st())).toBe('>f..t......');
    expect(line(st({ mode: 0o100644 }), st({ mode: 0o100600 }))).toBe('.f...p.....');
    expect(line(st(), st())).toBeUndefined();
    expect(line(st(), st(), archive, false, true)).toBe('.f         ');
  });

  it('without -t the transfer time is set: T', () => {
    const o = { ...archive, times: false };
    expect(line(st({ size: 11, mtimeSec: 1 }), st(), o)).toBe('>f.sT......');
    expect(line(st({ mtimeSec: 1 }), st(), o)).toBe('>f..T......');
    expect(line(st({ mode: 0o120777 }), st({ mode: 0o120777 }), o, true)).toBe('cLc.T......');
    // Directories' times are not compared without -t.
    expect(line(st({ mode: 0o040755, mtimeSec: 1 }), st({ mode: 0o040755 }), o)).toBeUndefined();
  });

  it('symlinks and directories', () => {
    expect(line(st({ mode: 0o120777 }), st({ mode: 0o120777 }), archive, true)).toBe('cLc........');
    expect(line(st({ mode: 0o040755, mtimeSec: 1 }), st({ mode: 0o040755 }))).toBe('.d..t......');
    expect(line(st({ mode: 0o040755 }), st({ mode: 0o040755 }), archive, false, true)).toBe('.d         ');
  });

  it('-c compares content when sizes match, and transfers when they do not', () => {
    const o = { ...archive, checksum: true };
    expect(quickCheck(st({ mtimeSec: 1 }), st(), o).action).toBe('compare');
    expect(line(st({ size: 11 }), st(), o)).toBe('>fcs.......');
    // Same content, other time: rsync prints .f..t...... (the engine decides after comparing).
    const v = quickCheck(st({ mtimeSec: 1 }), st(), o);
    if (v.action !== 'compare') throw new Error('expected compare');
    expect(itemize('reg', { action: 'attrs', changes: v.changes }, o)).toBe('.f..t......');
  });

  it('--size-only, -I, -u, --existing, --ignore-existing', () => {
    expect(quickCheck(st({ mtimeSec: 1 }), st(), { ...archive, sizeOnly: true }).action).toBe('attrs');
    expect(quickCheck(st(), st(), { ...archive, ignoreTimes: true }).action).toBe('transfer');
    expect(quickCheck(st({ mtimeSec: 1, size: 99 }), st(), { ...archive, update: true }).action).toBe('skip');
    expect(quickCheck(st({ mtimeSec: 1_800_000_000 }), st(), { ...archive, update: true }).action).toBe('transfer');
    // -u counts whole seconds (rsync's generator): newer within the same second is not newer; with
    // --modify-window=N, up to N seconds older is.
    const dst = st();
    expect(quickCheck(st({ mtimeSec: dst.mtimeSec, mtimeNsec: 0, size: 99 }), { ...dst, mtimeNsec: 999_999_999 }, { ...archive, update: true }).action).toBe('transfer');
    expect(quickCheck(st({ mtimeSec: dst.mtimeSec + 1, size: 99 }), dst, { ...archive, update: true, modifyWindow: 2 }).action).toBe('skip');
    expect(quickCheck(st({ mtimeSec: dst.mtimeSec + 2, size: 99 }), dst, { ...archive, update: true, modifyWindow: 2 }).action).toBe('transfer');
    expect(quickCheck(st(), undefined, { ...archive, existing: true }).action).toBe('skip');
    expect(quickCheck(st({ size: 1 }), st(), { ...archive, ignoreExisting: true }).action).toBe('skip');
  });

  it('an entry of another type is replaced', () => {
    expect(quickCheck(st(), st({ mode: 0o040755 }), archive).action).toBe('create');
  });

  it('owner only counts as root', () => {
    expect(line(st({ uid: 5 }), st(), { ...archive, isRoot: false })).toBeUndefined();
    expect(line(st({ uid: 5, gid: 7 }), st())).toBe('.f....og...');
  });

  it('not acting as root, a group we are not a member of is not compared (rsync\'s FLAG_SKIP_GROUP)', () => {
    const nonRoot = { ...archive, isRoot: false, memberGids: new Set([7]) };
    expect(line(st({ gid: 8 }), st(), nonRoot)).toBeUndefined();
    expect(line(st({ gid: 7 }), st(), nonRoot)).toBe('.f.....g...');
    // As root every group counts, members or not.
    expect(line(st({ gid: 8 }), st(), { ...archive, memberGids: new Set([7]) })).toBe('.f.....g...');
  });
});

describe('sameTime', () => {
  it('compares nanoseconds by default, seconds within a window, microseconds for the node engine', () => {
    const w = { modifyWindow: 0, timeResolutionNs: 1 };
    expect(sameTime(st(), st({ mtimeNsec: 501 }), w)).toBe(false);
    expect(sameTime(st(), st({ mtimeNsec: 500 }), w)).toBe(true);
    expect(sameTime(st(), st({ mtimeSec: base.mtimeSec + 2 }), { ...w, modifyWindow: 2 })).toBe(true);
    expect(sameTime(st(), st({ mtimeSec: base.mtimeSec + 3 }), { ...w, modifyWindow: 2 })).toBe(false);
    expect(sameTime(st({ mtimeNsec: 999_999_900 }), st({ mtimeSec: base.mtimeSec + 1, mtimeNsec: 100 }), { modifyWindow: 0, timeResolutionNs: 1000 })).toBe(true);
  });
});
