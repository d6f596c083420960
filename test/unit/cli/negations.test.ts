// The --no-X forms (src/cli/negations.ts): each undoes exactly what its option sets, in argv order, as
// rsync's popt table does (one variable per setting, the last word on the line wins).

import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../../src/cli/options.js';
import type { Config } from '../../../src/model/config.js';

const run = (...args: string[]): Config => {
  const p = parseArgs(['node', 'arsync', ...args, 'a', 'b']);
  if (p.kind !== 'run') throw new Error('expected a run');
  return p.config;
};

describe('--no-X forms', () => {
  // [form, the option it undoes, the Config field, the field's value when on]
  const cases: ReadonlyArray<readonly [string, string[], keyof Config, unknown]> = [
    ['--no-r', ['-r'], 'recursive', true],
    ['--no-l', ['-l'], 'links', true],
    ['--no-p', ['-p'], 'perms', true],
    ['--no-t', ['-t'], 'times', true],
    ['--no-g', ['-g'], 'group', true],
    ['--no-o', ['-o'], 'owner', true],
    ['--no-hard-links', ['-H'], 'hardLinks', true],
    ['--no-H', ['-H'], 'hardLinks', true],
    ['--no-acls', ['-A'], 'acls', true],
    ['--no-A', ['-A'], 'acls', true],
    ['--no-xattrs', ['-X'], 'xattrs', true],
    ['--no-X', ['-X'], 'xattrs', true],
    ['--no-omit-dir-times', ['-O'], 'omitDirTimes', true],
    ['--no-O', ['-O'], 'omitDirTimes', true],
    ['--no-R', ['-R'], 'relative', true],
    ['--no-one-file-system', ['-xx'], 'oneFileSystem', 2],
    ['--no-x', ['-x'], 'oneFileSystem', 1],
    ['--no-sparse', ['-S'], 'sparse', true],
    ['--no-S', ['-S'], 'sparse', true],
    ['--no-inplace', ['--inplace'], 'inplace', true],
    ['--no-ignore-errors', ['--ignore-errors'], 'ignoreErrors', true],
    ['--no-checksum', ['-c'], 'checksum', true],
    ['--no-c', ['-c'], 'checksum', true],
    ['--no-progress', ['--progress'], 'progressFiles', true],
    ['--no-partial', ['--partial'], 'partial', true],
    ['--no-itemize-changes', ['-ii'], 'itemize', 2],
    ['--no-i', ['-i'], 'itemize', 1],
    ['--no-backup', ['-b'], 'backup', true],
    ['--no-numeric-ids', ['--numeric-ids'], 'numericIds', true],
    ['--no-mkpath', ['--mkpath'], 'mkpath', true],
  ];
  for (const [form, on, field, value] of cases) {
    it(`${form} after ${on.join(' ')} turns it off; ${on.join(' ')} after ${form} turns it on`, () => {
      expect(run(...on)[field]).toEqual(value);
      const off = run(...on, form)[field];
      expect(off === false || off === 0).toBe(true);
      expect(run(form, ...on)[field]).toEqual(value);
    });
  }

  it('-a then --no-o / --no-g / --no-t / --no-p / --no-l / --no-r: only that part is off', () => {
    const parts = ['recursive', 'links', 'perms', 'times', 'group', 'owner', 'devices', 'specials'] as const;
    for (const [form, field] of [['--no-r', 'recursive'], ['--no-l', 'links'], ['--no-p', 'perms'], ['--no-t', 'times'], ['--no-g', 'group'], ['--no-o', 'owner']] as const) {
      const c = run('-a', form);
      for (const p of parts) expect(c[p], `${form} ${p}`).toBe(p !== field);
    }
  });

  it('--no-X forms before -a are undone by it (rsync sets its parts when it meets -a)', () => {
    const c = run('--no-o', '--no-D', '--no-p', '--no-r', '-a');
    expect([c.owner, c.devices, c.specials, c.perms, c.recursive]).toEqual([true, true, true, true, true]);
  });

  it('--no-D after -a or -D turns off devices and specials; -D after --no-D turns them on', () => {
    for (const on of ['-a', '-D']) {
      const c = run(on, '--no-D');
      expect([c.devices, c.specials]).toEqual([false, false]);
    }
    const c = run('--no-D', '-D');
    expect([c.devices, c.specials]).toEqual([true, true]);
    expect(run('--no-D').devices).toBe(false);
    // --no-devices then -D: rsync's -D sets both again.
    expect(run('--no-devices', '-D').devices).toBe(true);
  });

  it('-A implies -p when met: a later --no-p turns perms off, an earlier one does not', () => {
    expect(run('-A', '--no-p').perms).toBe(false);
    expect(run('--no-p', '-A').perms).toBe(true);
  });

  it('-P is --partial --progress: --no-progress and --no-partial each undo one half', () => {
    const a = run('-P', '--no-progress');
    expect([a.progressFiles, a.partial]).toEqual([false, true]);
    const b = run('-P', '--no-partial');
    expect([b.progressFiles, b.partial]).toEqual([true, false]);
  });

  it('--no-i then -i counts from 0; --no-x then -x counts from 0', () => {
    expect(run('-ii', '--no-i', '-i').itemize).toBe(1);
    expect(run('-xx', '--no-x', '-x').oneFileSystem).toBe(1);
  });

  it('--no-backup does not undo --backup-dir (it implies -b after parsing, as in rsync)', () => {
    expect(run('--backup-dir=bk', '--no-backup').backup).toBe(true);
  });

  it('--no-R turns off the -R that --files-from implies', () => {
    expect(run('--files-from=list').relative).toBe(true);
    expect(run('--files-from=list', '--no-R').relative).toBe(false);
  });
});
