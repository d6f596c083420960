// -vvv's trace (src/run/trace.ts, trace-render.ts) without a run: rsync's numbering of its incremental
// lists, and which process a caught line goes to.

import { describe, expect, it } from 'vitest';
import { RunTrace, traceLevels } from '../../../src/run/trace.js';
import { renderTrace } from '../../../src/run/trace-render.js';
import { NO_CHANGES } from '../../../src/run/lines.js';
import type { Reporter } from '../../../src/progress/reporter.js';
import { levelsForVerbosity, newDebug } from '../../../src/model/output-levels.js';

function capture(): { reporter: Reporter; lines: string[] } {
  const lines: string[] = [];
  const put = (l: string): void => {
    lines.push(l);
  };
  const reporter: Reporter = { start: async () => {}, stop: () => {}, print: put, item: put, info: put, warn: put, error: () => {}, draw: put };
  return { reporter, lines };
}

const ALL = { flist: true, del: true, backup: true, filter: true, genr: true, send: true, recv: true, deltasum: true };
const file = (name: string, size = 1) => ({ name, base: Buffer.from(name.split('/').at(-1)!), isDir: false, size, basis: 0, mode: 0o100644, rdev: 0 });
const dir = (name: string) => ({ name, base: Buffer.from(name.split('/').at(-1)!), isDir: true, size: 0, basis: 0, mode: 0o40755, rdev: 0 });
const NOWHERE = Buffer.from('/nonexistent/arsync-trace-test');

describe('trace numbering', () => {
  it('"dir/": "." heads the first list at 0, each later list starts past the one before, directories numbered as received', () => {
    const { reporter, lines } = capture();
    const t = new RunTrace(ALL, reporter);
    t.rootDir('src', '/abs/src');
    t.generatorStarts();
    t.enterDir('', NOWHERE, '/abs/src');
    t.listed('', [file('t'), dir('a'), dir('b')]);
    t.decide('dir', './', { action: 'create' }, { dryRun: false, hardlinked: false }, () => t.sender('./'));
    t.decide('reg', 't', { action: 'create' }, { dryRun: false, hardlinked: false }, () => t.sender('t'));
    t.enterDir('a', NOWHERE, '/abs/src/a');
    t.listed('a', [dir('a/x')]);
    t.enterDir('a/x', NOWHERE, '/abs/src/a/x');
    t.listed('a/x', [file('a/x/y')]);
    t.enterDir('b', NOWHERE, '/abs/src/b');
    t.listed('b', []);
    t.passDone();
    renderTrace(t, { dest: 'dst/', pid: 7, hardLinks: false, inplace: false, dryRun: false });
    // ".": 1, t: 2, a: 3, b: 4; a's list: a at 5, a/x at 6; a/x's: 7, 8; b's: 9.
    expect(lines).toContain('recv_generator(.,0)');
    expect(lines).toContain('recv_generator(b,4)');
    expect(lines).toContain('recv_generator(a,5)');
    expect(lines).toContain('recv_generator(a/x,7)');
    expect(lines).toContain('recv_generator(a/x/y,8)');
    expect(lines).toContain('recv_generator(b,9)');
    // a is dir 1, b dir 2, a/x dir 3 (received in a's list, after the first list's).
    expect(lines.filter((l) => l.startsWith('[receiver] receiving flist'))).toEqual([
      '[receiver] receiving flist for dir 1',
      '[receiver] receiving flist for dir 3',
      '[receiver] receiving flist for dir 2',
    ]);
    expect(lines).toContain('send_files(2, src/t)');
    expect(lines.indexOf('t')).toBeGreaterThan(lines.indexOf('calling match_sums src/t'));
    expect(lines).toContain('renaming .t.XXXXXX to t');
    expect(lines).toContain('get_local_name count=4 dst/');
  });

  it('a named source: the first list holds only it, and its own entries are received with it', () => {
    const { reporter, lines } = capture();
    const t = new RunTrace(ALL, reporter);
    t.rootNamed('x/', 'src', true, 0);
    t.generatorStarts();
    t.enterDir('src', NOWHERE, '/abs/x/src');
    t.listed('src', [file('src/g')]);
    t.decide('dir', 'src/', { action: 'create' }, { dryRun: false, hardlinked: false }, () => {});
    t.passDone();
    renderTrace(t, { dest: 'd/', pid: 7, hardLinks: false, inplace: false, dryRun: false });
    expect(lines.slice(0, 3)).toEqual(['[sender] make_file(src,*,0)', 'send_file_list done', '[sender] pushing local filters for /abs/x/src/']);
    expect(lines).toContain('recv_generator(src,1)');
    expect(lines).toContain('recv_generator(src,2)');
    expect(lines).toContain('send_files(2, x/src)');
    expect(lines).toContain('recv_files(1) starting');
    expect(lines).toContain('get_local_name count=2 d/');
    expect(lines.some((l) => l.includes('receiving flist'))).toBe(false);
  });

  it('lines printed while an entry is decided are the generator\'s; the rest before the walk the receiving side\'s', () => {
    const { reporter, lines } = capture();
    const t = new RunTrace(ALL, reporter);
    t.rootDir('src', '/abs/src');
    t.reporter.print('created directory dst');
    t.generatorStarts();
    t.reporter.print('delta-transmission disabled for local transfer or --whole-file');
    t.enterDir('', NOWHERE, '/abs/src');
    t.listed('', [file('g')]);
    t.decide('reg', 'g', { action: 'none', changes: NO_CHANGES }, { dryRun: false, hardlinked: false }, () => t.reporter.item('g is uptodate'));
    t.passDone();
    renderTrace(t, { dest: 'dst/', pid: 7, hardLinks: false, inplace: false, dryRun: false });
    expect(lines.indexOf('created directory dst')).toBe(lines.indexOf('get_local_name count=2 dst/') + 1);
    expect(lines.indexOf('delta-transmission disabled for local transfer or --whole-file')).toBe(lines.indexOf('generator starting pid=7') + 1);
    expect(lines.indexOf('g is uptodate')).toBe(lines.indexOf('recv_generator(g,2)') + 1);
    expect(lines).not.toContain('renaming .g.XXXXXX to g');
  });

  it('is kept when -vvv or one of its --debug words asks for it', () => {
    expect(traceLevels(levelsForVerbosity(2).debug)).toBeUndefined();
    expect(traceLevels(levelsForVerbosity(3).debug)).toEqual(ALL);
    const levels = (flags: string) => {
      const d = newDebug();
      d.apply(flags, 2);
      return traceLevels(d.levels);
    };
    expect(levels('genr')?.genr).toBe(true);
    expect(levels('flist')).toBeUndefined();
    expect(levels('flist2')?.flist).toBe(true);
  });
});
