import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/plan/decide.js';
import { fileType, type Stat } from '../../../src/model/stat.js';
import { OpKind } from '../../../src/model/ops.js';
import type { Config } from '../../../src/model/config.js';

const st = (mode: number, extra: Partial<Stat> = {}): Stat => ({
  mode, uid: 0, gid: 0, size: 0, mtimeSec: 0, mtimeNsec: 0, ino: 1, dev: 1, nlink: 1, rdev: 0, blocks: 0, ...extra,
});
const cfg = (over: Partial<Config> = {}): Config =>
  ({ recursive: true, dirs: true, links: true, devices: true, specials: true, ...over }) as Config;

describe('decide', () => {
  it('maps each file type to its op under -a', () => {
    expect(decide(st(0o100644), cfg())).toEqual({ op: OpKind.File });
    expect(decide(st(0o040755), cfg())).toEqual({ op: OpKind.Mkdir });
    expect(decide(st(0o120777), cfg())).toEqual({ op: OpKind.Symlink });
    expect(decide(st(0o020644), cfg())).toEqual({ op: OpKind.Special });
    expect(decide(st(0o060644), cfg())).toEqual({ op: OpKind.Special });
    expect(decide(st(0o010644), cfg())).toEqual({ op: OpKind.Special });
    expect(decide(st(0o140755), cfg())).toEqual({ op: OpKind.Special });
  });

  it('skips what the options do not ask for, with rsync\'s words', () => {
    expect(decide(st(0o040755), cfg({ recursive: false, dirs: false }))).toEqual({ skip: 'skipping directory' });
    // -d without -r (or --files-from, which implies it): a directory is made.
    expect(decide(st(0o040755), cfg({ recursive: false, dirs: true }))).toEqual({ op: OpKind.Mkdir });
    expect(decide(st(0o120777), cfg({ links: false }))).toEqual({ skip: 'skipping non-regular file' });
    expect(decide(st(0o020644), cfg({ devices: false }))).toEqual({ skip: 'skipping non-regular file' });
    expect(decide(st(0o010644), cfg({ specials: false }))).toEqual({ skip: 'skipping non-regular file' });
    // --devices alone does not bring FIFOs along.
    expect(decide(st(0o010644), cfg({ devices: true, specials: false }))).toEqual({ skip: 'skipping non-regular file' });
  });

  it('fileType', () => {
    expect(['reg', 'dir', 'link', 'dev', 'special']).toEqual(
      [0o100000, 0o040000, 0o120000, 0o060000, 0o010000].map(fileType),
    );
  });
});
