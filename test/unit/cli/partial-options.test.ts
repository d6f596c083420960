// --partial-dir, --delay-updates, --no-delay-updates and RSYNC_PARTIAL_DIR (src/cli/partial-options.ts),
// settled as rsync's parse_arguments() settles them.

import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../../src/cli/options.js';
import { addPartialOptions } from '../../../src/cli/partial-options.js';
import type { WriteOptions } from '../../../src/cli/write-options.js';
import type { Config, FilterItem } from '../../../src/model/config.js';

const run = (...args: string[]): Config => {
  const p = parseArgs(['node', 'arsync', ...args, 'a', 'b']);
  if (p.kind !== 'run') throw new Error('expected a run');
  return p.config;
};

const writes = (partial: boolean, inplace = false): WriteOptions => ({
  sparse: false, inplace, partial, fsync: false, preallocate: false, tempDir: undefined, append: false, appendVerify: false,
});

/** The module alone, with an environment. */
function settle(args: string[], env: NodeJS.ProcessEnv, w: WriteOptions) {
  const p = new Command();
  p.exitOverride();
  const f = addPartialOptions(p, env);
  p.parse(['node', 'x', ...args]);
  const filters: FilterItem[] = [];
  return { ...f(p.opts(), w, filters), filters };
}

describe('--partial-dir', () => {
  it('implies --partial, and a relative one gets rsync\'s perishable directory exclude after the operator\'s rules', () => {
    const c = run('--exclude=x', '--partial-dir=.pp');
    expect(c.partial).toBe(true);
    expect(c.partialDir).toBe('.pp');
    expect(c.delayUpdates).toBe(false);
    expect(c.filters).toEqual([{ kind: 'exclude', value: 'x' }, { kind: 'filter', value: '-p .pp/' }]);
  });

  it('an absolute one adds no rule', () => {
    const c = run('--partial-dir=/var/tmp/p/');
    expect(c.partialDir).toBe('/var/tmp/p');
    expect(c.filters).toEqual([]);
  });

  it('is cleaned as rsync cleans it; "." and "" mean none, and still turn --partial on', () => {
    expect(run('--partial-dir=a//b/./c/../').partialDir).toBe('a/b');
    expect(run('--partial-dir=.').partialDir).toBeUndefined();
    expect(run('--partial-dir=.').partial).toBe(true);
    expect(run('--partial-dir=').partialDir).toBeUndefined();
  });

  it('cannot go with --inplace or --append (rsync\'s words)', () => {
    expect(() => run('--inplace', '--partial-dir=p')).toThrow('--inplace cannot be used with --partial-dir');
    expect(() => run('--append', '--partial-dir=p')).toThrow('--append cannot be used with --partial-dir');
    expect(() => run('--inplace', '--delay-updates')).toThrow('--inplace cannot be used with --delay-updates');
  });
});

describe('--delay-updates', () => {
  it('holds files in .~tmp~ without a --partial-dir, in the --partial-dir with one; incremental recursion off', () => {
    const c = run('-r', '--delay-updates');
    expect(c.delayUpdates).toBe(true);
    expect(c.partialDir).toBe('.~tmp~');
    expect(c.incRecursive).toBe(false);
    expect(run('-r', '--delay-updates', '--partial-dir=.p').partialDir).toBe('.p');
    expect(run('-r').incRecursive).toBe(true);
  });

  it('the last of --delay-updates and --no-delay-updates wins', () => {
    expect(run('--delay-updates', '--no-delay-updates').delayUpdates).toBe(false);
    expect(run('--delay-updates', '--no-delay-updates').partialDir).toBeUndefined();
    expect(run('--no-delay-updates', '--delay-updates').delayUpdates).toBe(true);
  });
});

describe('RSYNC_PARTIAL_DIR', () => {
  const env = { RSYNC_PARTIAL_DIR: '.env-pd' };
  it('is the partial dir only under --partial and without --partial-dir', () => {
    expect(settle([], env, writes(true)).partialDir).toBe('.env-pd');
    expect(settle([], env, writes(false)).partialDir).toBeUndefined();
    expect(settle(['--partial-dir=given'], env, writes(true)).partialDir).toBe('given');
    // --delay-updates names .~tmp~ first, as in rsync
    expect(settle(['--delay-updates'], env, writes(true)).partialDir).toBe('.~tmp~');
  });

  it('is ignored under --inplace (which clears --partial), and empty means unset', () => {
    expect(settle([], env, writes(false, true)).partialDir).toBeUndefined();
    expect(settle([], { RSYNC_PARTIAL_DIR: '' }, writes(true)).partialDir).toBeUndefined();
  });
});
