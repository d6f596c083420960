import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../../src/cli/options.js';
import type { Config } from '../../../src/model/config.js';
import { PairBits } from '../../../src/engine/pair.js';
import { Preserve } from '../../../src/model/ops.js';
import { deriveSpec } from '../../../src/run/spec.js';
import { engineNamed } from '../../../src/engine/engine.js';

const config = (...args: string[]): Config => {
  const p = parseArgs(['node', 'arsync', ...args, 'src/', 'dst/']);
  if (p.kind !== 'run') throw new Error('expected a run');
  return p.config;
};

const spec = (c: Config, engine: 'uring' | 'sync' | 'node' = 'sync', seesEveryEntry = false) =>
  deriveSpec(c, { engine: engineNamed(engine), destRoot: Buffer.from('/dst'), backupDir: undefined, counters: new BigInt64Array(24), seesEveryEntry });

describe('RunSpec', () => {
  it('engine capabilities: the node engine keeps microseconds, the uring engine retries on the sync engine', () => {
    expect(spec(config('-a'), 'node').check.timeResolutionNs).toBe(1000);
    expect(spec(config('-a'), 'node').pairQuery[2]).toBe(1000);
    expect(spec(config('-a'), 'sync').check.timeResolutionNs).toBe(1);
    expect(spec(config('-a'), 'uring').serialEngine).toBe('sync');
    expect(spec(config('-a'), 'sync').serialEngine).toBe('sync');
    expect(spec(config('-a'), 'node').serialEngine).toBe('node');
  });

  it('-a: unchanged entries are left to the native check, with the preserved attributes compared', () => {
    const s = spec(config('-a'));
    const bits = s.pairQuery[0]!;
    expect(bits & PairBits.Collapse).toBeTruthy();
    expect(bits & PairBits.Perms).toBeTruthy();
    expect(bits & PairBits.Times).toBeTruthy();
    expect(bits & PairBits.Links).toBeTruthy();
    expect(s.treeQuery).toBeDefined();
    expect(s.treeQuery![0]! & 128).toBe(128); // directory times
  });

  it('scanTree records the source\'s lists only when the byte figures will count them', () => {
    const records = (...args: string[]): number | undefined => spec(config(...args)).treeQuery?.[5];
    expect(records('-av')).toBe(1);
    expect(records('-a', '--stats')).toBe(1);
    expect(records('-a', '--log-file=/dev/null')).toBe(1);
    expect(records('-a')).toBe(0); // nothing prints them
    expect(records('-av', '--json')).toBe(0);
    expect(records('-avH')).toBe(0); // the record carries no hard-link groups
    expect(records('-av', '--protocol=30')).toBe(0); // outside the model (stream-list.ts unmodelled)
  });

  it('options that must see every entry turn the native quick check off, and scanTree with it', () => {
    for (const args of [['-a', '-c'], ['-a', '--size-only'], ['-a', '-I'], ['-a', '-ii'], ['-a', '--chmod=u+x'], ['-a', '--remove-source-files']]) {
      const s = spec(config(...args));
      expect(s.pairQuery[0]! & PairBits.Collapse, args.join(' ')).toBe(0);
      expect(s.treeQuery, args.join(' ')).toBeUndefined();
    }
    expect(spec(config('-a'), 'sync', true).pairQuery[0]! & PairBits.Collapse).toBe(0);
  });

  it('options that need every directory in order keep the walk off scanTree', () => {
    for (const args of [['-a', '--delete-before'], ['-a', '--delete-after'], ['-a', '-x'], ['-a', '-L'], ['-a', '-K'], ['-rlptD']]) {
      const s = spec(config(...args));
      if (args[0] === '-rlptD') {
        expect(s.treeQuery).toBeDefined();
        continue;
      }
      expect(s.treeQuery, args.join(' ')).toBeUndefined();
    }
    expect(spec(config('-lpt')).treeQuery).toBeUndefined(); // not recursive
  });

  it('a run that skips special files with rsync\'s message (--info=nonreg, on by default) sees every entry', () => {
    expect(spec(config('-rpt')).treeQuery).toBeUndefined();
    expect(spec(config('-rlpt')).treeQuery).toBeUndefined();
    expect(spec(config('-rlpt', '--info=nonreg0')).treeQuery).toBeDefined();
    expect(spec(config('-rlpt', '-q')).treeQuery).toBeDefined();
  });

  it('directories compare times only when they are kept (-O)', () => {
    expect(spec(config('-a')).dirCheck.times).toBe(true);
    expect(spec(config('-a', '-O')).dirCheck.times).toBe(false);
    expect(spec(config('-a', '-O')).check.times).toBe(true);
  });

  it('the engines get the preserve flags and -X/-A are compared through xattrDiff', () => {
    const s = spec(config('-a', '-X'));
    expect(s.engineOptions.flags & Preserve.Xattrs).toBeTruthy();
    expect(s.xattrFlags).toBe(Preserve.Xattrs);
    expect(spec(config('-a')).xattrFlags).toBe(0);
    expect(spec(config('-a')).engineOptions.backupDir).toBeUndefined();
  });
});
