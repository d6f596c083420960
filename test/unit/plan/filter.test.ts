// Filter rules: the wildcard matcher, rule parsing and errors, matching tables, per-directory merge files,
// sides (hide/show, protect/risk, --delete-excluded), and differential runs against the real rsync over a
// generated tree (skipped when rsync is not on PATH).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { FilterList } from '../../../src/plan/filter.js';
import { FilterError } from '../../../src/plan/filter-rules.js';
import type { FilterScope } from '../../../src/plan/filter-scope.js';
import type { FilterItem } from '../../../src/model/config.js';
import { litmatchWhere, trailingElements, wildmatch, wildmatchWhere } from '../../../src/plan/glob.js';
import { escapeName } from '../../../src/util/names.js';
import { removeTemps, tempDir } from '../../helpers/tree.js';

afterAll(() => removeTemps());

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** rsync-style argv ("--exclude=X", "-f", "RULE", "-C", ...) to FilterItems. */
function itemsFrom(args: string[]): { items: FilterItem[]; cvsExclude: boolean; deleteExcluded: boolean } {
  const items: FilterItem[] = [];
  let cvsExclude = false;
  let deleteExcluded = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const value = (): string => (eq > 0 ? a.slice(eq + 1) : args[++i]!);
    switch (name) {
      case '-f':
      case '--filter':
        items.push({ kind: 'filter', value: value() });
        break;
      case '--exclude':
      case '--include':
      case '--exclude-from':
      case '--include-from':
        items.push({ kind: name.slice(2) as FilterItem['kind'], value: value() });
        break;
      case '-C':
        cvsExclude = true;
        break;
      case '--delete-excluded':
        deleteExcluded = true;
        break;
      default:
        throw new Error(`test helper: unknown arg ${a}`);
    }
  }
  return { items, cvsExclude, deleteExcluded };
}

const make = (args: string[], extra: { cwd?: string; env?: Record<string, string> } = {}): FilterList => {
  const { items, cvsExclude, deleteExcluded } = itemsFrom(args);
  return FilterList.fromOptions(items, { cvsExclude, deleteExcluded, env: extra.env ?? {}, ...(extra.cwd ? { cwd: extra.cwd } : {}) });
};

// -------------------------------------------------------------------------------------------------------
describe('glob (rsync wildmatch)', () => {
  const cases: [string, string, boolean][] = [
    ['foo', 'foo', true],
    ['foo', 'bar', false],
    ['*', 'foo', true],
    ['*', 'a/b', false],
    ['**', 'a/b', true],
    ['f*', 'foo', true],
    ['*o', 'foo', true],
    ['*.c', 'x.c', true],
    ['*.c', 'dir/x.c', false],
    ['**.c', 'dir/x.c', true],
    ['a/*/c', 'a/b/c', true],
    ['a/*/c', 'a/b/b/c', false],
    ['a/**/c', 'a/b/b/c', true],
    ['a/**/c', 'a/c', false],
    ['???', 'abc', true],
    ['???', 'a/c', false],
    ['[abc]', 'b', true],
    ['[abc]', 'd', false],
    ['[!abc]', 'd', true],
    ['[^abc]', 'a', false],
    ['[a-c]x', 'bx', true],
    ['[a-c]x', 'dx', false],
    ['[]]', ']', true],
    ['[]a]', 'a', true],
    ['[!]]', 'a', true],
    ['[a-]', '-', true],
    ['[[:digit:]]', '7', true],
    ['[[:digit:]]', 'x', false],
    ['[[:alpha:][:digit:]]x', '9x', true],
    ['[[:upper:]]*', 'Foo', true],
    ['[[:upper:]]*', 'foo', false],
    ['[[:bogus:]]', 'a', false],
    ['[[:digit:]', 'x', false],
    ['[/]', '/', false],
    ['[!a]', '/', false],
    ['\\*', '*', true],
    ['\\*', 'x', false],
    ['a\\?c', 'abc', false],
    ['a\\?c', 'a?c', true],
    ['[\\]]', ']', true],
    ['[', '[', false],
    ['a[', 'a[', false],
    ['*/', 'a/', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['*\xe9*', 'caf\xe9', true],
    ['\xff?', '\xff\xfe', true],
    ['[\x80-\xff]', '\xc3', true],
    ['[[:alpha:]]', '\xe9', false],
  ];
  it.each(cases)('%j vs %j → %s', (p, t, want) => {
    expect(wildmatch(p, t)).toBe(want);
  });

  it('matches a tail of N elements, or after any slash', () => {
    expect(trailingElements('a/b/c', 1)).toBe('c');
    expect(trailingElements('a/b/c', 2)).toBe('b/c');
    expect(trailingElements('a/b/c', 3)).toBe('a/b/c');
    expect(trailingElements('a/b/c', 4)).toBeUndefined();
    expect(wildmatchWhere('b/*', 'a/b/c', 2)).toBe(true);
    expect(wildmatchWhere('b/*', 'b/c', 2)).toBe(true);
    expect(wildmatchWhere('b/*', 'c', 2)).toBe(false);
    expect(wildmatchWhere('b/**', 'a/b/c/d', -1)).toBe(true);
    expect(wildmatchWhere('b/**', 'ab/c/d', -1)).toBe(false);
    expect(litmatchWhere('b/c', 'a/b/c', 2)).toBe(true);
    expect(litmatchWhere('b/c', 'ab/c', 2)).toBe(false);
  });
});

// -------------------------------------------------------------------------------------------------------
describe('parsing', () => {
  const err = (fn: () => unknown): FilterError => {
    try {
      fn();
    } catch (e) {
      if (e instanceof FilterError) return e;
      throw e;
    }
    throw new Error('expected a FilterError');
  };

  it.each([
    ['bogus', /^Unknown filter rule: bogus$/],
    ['excludes foo', /Unknown filter rule/],
    ['X foo', /Unknown filter rule/],
    ['-X foo', /invalid modifier 'X' at position 1 in filter rule: -X foo/],
    ['+e foo', /invalid modifier 'e'/],
    ['-n foo', /invalid modifier 'n'/],
    ['.! file', /invalid modifier '!'/],
    ['Hs foo', /invalid modifier 's'/],
    ['PC', /invalid modifier 'C'/],
    ['-', /unexpected end of filter rule/],
    ['exclude', /unexpected end of filter rule/],
    ['! foo', /'!' rule has trailing characters/],
    ['-\tfoo', /invalid modifier/],
  ])('rejects %j with exit 1 (as rsync does)', (rule, message) => {
    const e = err(() => make(['-f', rule]));
    expect(e.message).toMatch(message);
    expect(e.exitCode).toBe(1);
  });

  it('a missing --exclude-from/--include-from/merge file is exit 11, worded like rsync; a directory is a file of no rules', () => {
    const d = tempDir();
    const missing = path.join(d, 'nope');
    for (const [args, word] of [
      [['--exclude-from', missing], 'exclude'],
      [['--include-from', missing], 'include'],
      [['-f', `merge ${missing}`], 'exclude'],
      [['-f', `.+ ${missing}`], 'include'],
    ] as const) {
      const e = err(() => make([...args]));
      expect(e.exitCode).toBe(11);
      expect(e.message).toBe(`[client] failed to open ${word} file ${missing}: No such file or directory (2)`);
    }
    // A directory reads as a file of no rules, as rsync's fopen and failing first read make it.
    expect(make(['--exclude-from', d]).root('sender', d).check(b('x'), false)).toBeUndefined();
    // Any other failure is worded by strerror (Node's code names are not rsync's words).
    const file = path.join(d, 'file');
    fs.writeFileSync(file, '');
    const notDir = err(() => make(['--exclude-from', path.join(file, 'below')]));
    expect(notDir.message).toBe(`[client] failed to open exclude file ${path.join(file, 'below')}: Not a directory (20)`);
    // A missing per-directory file is not an error.
    expect(() => make(['-f', ': .nothing-here']).root('sender', d).enterDir('')).not.toThrow();
  });

  it('reads long names, commas, "_" separators, and keeps extra spaces in the pattern', () => {
    const l = make(['-f', 'exclude,! */', '-f', '+_keep me', '-f', 'include  two']);
    const c = (p: string, d = false) => l.check(b(p), d);
    expect(c('x')).toBe('exclude'); // -! */ : every non-directory
    expect(c('dir', true)).toBeUndefined();
    const k = make(['-f', '+_keep me', '-f', 'include  two', '-f', '- *']);
    expect(k.check(b('keep me'), false)).toBe('include');
    expect(k.check(b(' two'), false)).toBe('include');
    expect(k.check(b('two'), false)).toBe('exclude');
    const s = make(['-f', '-,s x', '-f', 'hide,/ /abs', '-f', 'protect y', '-f', 'risk z', '-f', 'show w']);
    expect(s.check(b('x'), false)).toBe('exclude');
    expect(s.check(b('y'), false)).toBeUndefined();
    expect(s.isProtected(b('y'), false)).toBe(true);
  });

  it('--exclude/--include take "+ "/"- " prefixes and a lone "!" (rsync\'s old-style rules)', () => {
    const l = make(['--exclude', '+ keep', '--exclude', 'keep*', '--include', '- drop', '--include', '*']);
    expect(l.check(b('keep'), false)).toBe('include');
    expect(l.check(b('keeper'), false)).toBe('exclude');
    expect(l.check(b('drop'), false)).toBe('exclude');
    expect(l.check(b('other'), false)).toBe('include');
    const c = make(['--exclude', 'a', '--exclude', '!', '--exclude', 'b']);
    expect(c.check(b('a'), false)).toBeUndefined();
    expect(c.check(b('b'), false)).toBe('exclude');
    // "!x" is a pattern, not a clear.
    expect(make(['--exclude', '!x']).check(b('!x'), false)).toBe('exclude');
    // --filter's "!" clears too.
    expect(make(['-f', '- a', '-f', '!']).isEmpty).toBe(true);
  });

  it('reads *-from files: comments, blank lines, CR/LF, prefixes, "!", trailing spaces kept', () => {
    const d = tempDir();
    const f = path.join(d, 'rules');
    fs.writeFileSync(f, '# comment\n; comment\n\n*.o\r\n+ *.keep\n- *.tmp \n!\n*.log\n+ x.o\n');
    const ex = make(['--exclude-from', f]);
    expect(ex.check(b('a.o'), false)).toBeUndefined(); // cleared by "!"
    expect(ex.check(b('a.log'), false)).toBe('exclude');
    expect(ex.check(b('x.o'), false)).toBe('include');
    fs.writeFileSync(f, '*.c\n- *.o\n#x\n- b.tmp \n');
    const inc = make(['--include-from', f, '--exclude', '*']);
    expect(inc.check(b('a.c'), false)).toBe('include');
    expect(inc.check(b('a.o'), false)).toBe('exclude');
    expect(inc.check(b('#x'), false)).toBe('exclude'); // a comment, not a rule
    expect(inc.check(b('b.tmp '), false)).toBe('exclude');
    // Relative names resolve from the given cwd; "-" reads standard input.
    expect(make(['--exclude-from', 'rules'], { cwd: d }).check(b('a.c'), false)).toBe('exclude');
    const viaStdin = FilterList.fromOptions([{ kind: 'exclude-from', value: '-' }], {
      readStdin: () => Buffer.from('*.z\n'),
    });
    expect(viaStdin.check(b('q.z'), false)).toBe('exclude');
  });

  it('merge files: in place, with +/- (no prefixes) and e (exclude the file itself)', () => {
    const d = tempDir();
    const m = path.join(d, 'm.rules');
    fs.writeFileSync(m, '+ *.c\n- *\n');
    const l = make(['-f', '- skip.c', '-f', `merge ${m}`, '-f', '+ never']);
    expect(l.check(b('skip.c'), false)).toBe('exclude');
    expect(l.check(b('a.c'), false)).toBe('include');
    expect(l.check(b('never'), false)).toBe('exclude');
    fs.writeFileSync(m, '*.c\n# comment\n+ odd\n');
    const minus = make(['-f', `.-e ${m}`]);
    expect(minus.check(b('a.c'), false)).toBe('exclude');
    expect(minus.check(b('+ odd'), false)).toBe('exclude'); // no prefixes: the line is the pattern
    expect(minus.check(b('m.rules'), false)).toBe('exclude'); // e
    const plus = make(['-f', `merge,+ ${m}`, '-f', '- *']);
    expect(plus.check(b('a.c'), false)).toBe('include');
    // A sided merge file may not name sides inside.
    fs.writeFileSync(m, 'H x\n');
    expect(() => make(['-f', `.s ${m}`])).toThrow(/specified-side merge file contains specified-side filter/);
    fs.writeFileSync(m, '- x\n');
    const sided = make(['-f', `.r ${m}`]);
    expect(sided.check(b('x'), false)).toBeUndefined();
    expect(sided.isProtected(b('x'), false)).toBe(true);
  });

  it('refuses a merge file that merges itself', () => {
    const d = tempDir();
    fs.writeFileSync(path.join(d, 'loop'), 'merge loop\n');
    expect(() => make(['-f', 'merge loop'], { cwd: d })).toThrow(/merge-file include depth limit \(32\) exceeded/);
  });

  it('keeps pattern bytes that are not UTF-8', () => {
    const l = FilterList.fromOptions([{ kind: 'exclude', value: Buffer.from([0xff, 0x2a]) }]);
    expect(l.check(Buffer.from([0xff, 0x41]), false)).toBe('exclude');
    expect(l.check(Buffer.from('\u00ffA'), false)).toBeUndefined(); // the UTF-8 spelling is other bytes
    const u = make(['--exclude', 'caf\u00e9']); // a UTF-8 pattern from argv
    expect(FilterList.fromOptions([{ kind: 'exclude', value: 'café' }]).check(Buffer.from('café'), false)).toBe('exclude');
    expect(u.isEmpty).toBe(false);
  });
});

// -------------------------------------------------------------------------------------------------------
describe('matching (global rules)', () => {
  // [rules, path, isDir, expected]
  const table: [string[], string, boolean, 'include' | 'exclude' | undefined][] = [
    [['--exclude=*.o'], 'a.o', false, 'exclude'],
    [['--exclude=*.o'], 'd/e/a.o', false, 'exclude'],
    [['--exclude=*.o'], 'a.oo', false, undefined],
    [['--exclude=foo'], 'x/foo', true, 'exclude'],
    [['--exclude=/foo'], 'foo', false, 'exclude'],
    [['--exclude=/foo'], 'x/foo', false, undefined],
    [['--exclude=foo/'], 'foo', true, 'exclude'],
    [['--exclude=foo/'], 'foo', false, undefined],
    [['--exclude=foo/bar'], 'foo/bar', false, 'exclude'],
    [['--exclude=foo/bar'], 'x/foo/bar', false, 'exclude'],
    [['--exclude=foo/bar'], 'xfoo/bar', false, undefined],
    [['--exclude=foo/*/bar'], 'foo/x/bar', false, 'exclude'],
    [['--exclude=foo/*/bar'], 'foo/x/y/bar', false, undefined],
    [['--exclude=/foo/**/bar'], 'foo/x/y/bar', false, 'exclude'],
    [['--exclude=/foo/**/bar'], 'foo/bar', false, undefined],
    [['--exclude=**/bar'], 'bar', false, 'exclude'],
    [['--exclude=**/bar'], 'a/b/bar', false, 'exclude'],
    [['--exclude=foo**'], 'a/foo/b', false, 'exclude'],
    [['--exclude=a/**'], 'x/a/b', false, 'exclude'],
    [['--exclude=a/**'], 'a', true, undefined],
    [['--exclude=a/***'], 'a', true, 'exclude'],
    [['--exclude=a/***'], 'a', false, undefined],
    [['--exclude=a/***'], 'x/a/b/c', false, 'exclude'],
    [['--exclude=/a/***'], 'x/a/b', false, undefined],
    [['--exclude=foo\\bar'], 'foo\\bar', false, 'exclude'], // no wildcard: backslash is literal
    [['--exclude=foo\\bar*'], 'foobarx', false, 'exclude'], // wildcard: backslash escapes
    [['--exclude=a\\*'], 'a*', false, 'exclude'],
    [['--exclude=a\\*'], 'ab', false, undefined],
    [['--exclude=[ab].c'], 'b.c', false, 'exclude'],
    [['--exclude=/'], 'x', false, undefined],
    [['-f', '-! */'], 'f', false, 'exclude'],
    [['-f', '-! */'], 'd', true, undefined],
    [['-f', '-! *.c'], 'x.c', false, undefined],
    [['-f', '-! *.c'], 'x.h', false, 'exclude'],
    [['-f', '- *', '-f', '+ *.c'], 'a.c', false, 'exclude'], // first match wins
    [['-f', '+ *.c', '-f', '- *'], 'a.c', false, 'include'],
    [['-f', '-/ /abs/root/x'], 'x', false, 'exclude'], // absolute path (root /abs/root)
    [['-f', '-/ root/x'], 'x', false, 'exclude'],
    [['-f', '-/ /x'], 'x', false, undefined],
    [['-f', '-/ x'], 'x', false, 'exclude'], // no slash: still the last component
    [['-f', 'H x'], 'x', false, 'exclude'],
    [['-f', 'S x', '-f', '- x'], 'x', false, 'include'],
    [['-f', 'P x'], 'x', false, undefined],
    [['-f', 'R x', '-f', '- x'], 'x', false, 'exclude'],
    [['-f', '-r x'], 'x', false, undefined],
    [['-f', '-sr x'], 'x', false, 'exclude'],
    [['-f', '-x user.*'], 'user.foo', false, undefined], // xattr rules never match names
    [['--delete-excluded', '-f', '- x'], 'x', false, 'exclude'],
  ];
  it.each(table)('%j %j (dir %s) → %s', (rules, p, isDir, want) => {
    const l = make(rules);
    expect(l.check(b(p), isDir, l.root('sender', '/abs/root'))).toBe(want);
  });

  it('never matches the transfer root itself', () => {
    expect(make(['-f', '- *']).check(b(''), true)).toBeUndefined();
  });

  // [rules, path, isDir, protected?]
  const protect: [string[], string, boolean, boolean][] = [
    [['-f', '- *.o'], 'a.o', false, true],
    [['-f', '+ *.o'], 'a.o', false, false],
    [['-f', 'P *.o'], 'a.o', false, true],
    [['-f', 'R keep.o', '-f', 'P *.o'], 'keep.o', false, false],
    [['-f', 'H *.o'], 'a.o', false, false],
    [['-f', '-s *.o'], 'a.o', false, false],
    [['-f', '-r *.o'], 'a.o', false, true],
    [['--delete-excluded', '-f', '- *.o'], 'a.o', false, false],
    [['--delete-excluded', '-f', '-sr *.o'], 'a.o', false, true],
    [['--delete-excluded', '-f', 'P *.o'], 'a.o', false, true],
    [['-f', '-p *.o'], 'a.o', false, true],
  ];
  it.each(protect)('protect: %j %j (dir %s) → %s', (rules, p, isDir, want) => {
    const l = make(rules);
    expect(l.isProtected(b(p), isDir)).toBe(want);
    expect(l.deleteExcluded).toBe(rules.includes('--delete-excluded'));
  });

  it('perishable rules can be skipped (inside directories being deleted)', () => {
    const l = make(['-f', '-p *.o', '-f', '- *.c']);
    expect(l.isProtected(b('a.o'), false, undefined, { ignorePerishable: true })).toBe(false);
    expect(l.isProtected(b('a.c'), false, undefined, { ignorePerishable: true })).toBe(true);
    const c = make(['-C']);
    expect(c.isProtected(b('a.o'), false)).toBe(true);
    expect(c.isProtected(b('a.o'), false, undefined, { ignorePerishable: true })).toBe(false);
  });

  it('a scope of the wrong side is refused', () => {
    const l = make(['-f', '- x']);
    expect(() => l.check(b('x'), false, l.root('receiver', '/'))).toThrow();
    expect(() => l.isProtected(b('x'), false, l.root('sender', '/'))).toThrow();
  });
});

// -------------------------------------------------------------------------------------------------------
describe('-C and per-directory merge files', () => {
  it('-C: default list, $HOME/.cvsignore, $CVSIGNORE (with "!"), after all other rules', () => {
    const home = tempDir();
    fs.writeFileSync(path.join(home, '.cvsignore'), 'home-ignored  *.hx\n');
    const l = make(['-C', '-f', '+ core'], { env: { HOME: home, CVSIGNORE: 'env1 env2' } });
    const c = (p: string, d = false) => l.check(b(p), d);
    for (const p of ['a.o', 'x~', '#x', '.#x', 'CVS', 'RCS', 'tags', 'home-ignored', 'y.hx', 'env1', 'env2', 'dir/z.so']) {
      expect(c(p), p).toBe('exclude');
    }
    expect(c('.git', true)).toBe('exclude');
    expect(c('.git', false)).toBeUndefined(); // ".git/" is directory-only
    expect(c('core')).toBe('include'); // -C's rules come last
    const cleared = make(['-C'], { env: { CVSIGNORE: '! only-this' } });
    expect(cleared.check(b('a.o'), false)).toBeUndefined();
    expect(cleared.check(b('only-this'), false)).toBe('exclude');
  });

  function tree(spec: Record<string, string | null>): string {
    const root = tempDir();
    for (const [p, content] of Object.entries(spec)) {
      const full = path.join(root, p);
      if (content === null) fs.mkdirSync(full, { recursive: true });
      else {
        fs.mkdirSync(path.dirname(full), { recursive: true });
        fs.writeFileSync(full, content);
      }
    }
    return root;
  }

  it('dir-merge rules apply to their directory and below, before the rules after the dir-merge', () => {
    const root = tree({
      '.rules': '- *.tmp\n',
      'a/.rules': '+ keep.tmp\n- /local\n- *.log\n',
      'a/b/.rules': '!\n- *.b\n',
    });
    const l = make(['-f', '- late', '-f', ': .rules', '-f', '+ *.log', '-f', '- *.b']);
    const top = l.root('sender', root).enterDir('');
    const a = top.enterDir('a');
    const ab = a.enterDir('a/b');
    expect(top.check('x.tmp', false)).toBe('exclude');
    expect(top.check('x.log', false)).toBe('include');
    expect(top.check('late', false)).toBe('exclude');
    expect(a.check('a/keep.tmp', false)).toBe('include');
    expect(a.check('a/x.tmp', false)).toBe('exclude'); // inherited
    expect(a.check('a/x.log', false)).toBe('exclude'); // per-dir rule wins over the later global "+ *.log"
    expect(a.check('a/late', false)).toBe('exclude'); // but the earlier global rule wins over it
    expect(a.check('a/local', false)).toBe('exclude'); // anchored at a/
    expect(ab.check('a/b/local', false)).toBeUndefined();
    expect(ab.check('a/b/x.tmp', false)).toBeUndefined(); // "!" cleared the inherited rules
    expect(ab.check('a/b/x.b', false)).toBe('exclude');
    // Siblings do not see a/'s rules: the parent scope is untouched.
    expect(top.enterDir('c').check('c/x.log', false)).toBe('include');
  });

  it('n does not inherit, e excludes the file, a dir-merge inside a file reads in that dir too', () => {
    const root = tree({ '.x': 'top\n', 'a/.x': 'mid\n', 'a/.y': '- why\n', 'a/b/.y': '- deeper\n', 'a/.z': ': .y\n' });
    const l = make(['-f', ':n-e .x', '-f', ': .z']);
    const top = l.root('sender', root).enterDir('');
    const a = top.enterDir('a');
    const ab = a.enterDir('a/b');
    expect(top.check('top', false)).toBe('exclude');
    expect(a.check('a/top', false)).toBeUndefined();
    expect(a.check('a/mid', false)).toBe('exclude');
    expect(a.check('a/.x', false)).toBe('exclude');
    expect(a.check('a/why', false)).toBe('exclude');
    expect(ab.check('a/b/deeper', false)).toBe('exclude');
    expect(ab.check('a/b/why', false)).toBe('exclude');
  });

  it('a duplicate dir-merge is dropped (so -f:C places the -C per-directory rules)', () => {
    const root = tree({ '.cvsignore': 'zz\n' });
    const l = make(['-f', ':C', '-f', '+ zz', '-C']);
    const top = l.root('sender', root).enterDir('');
    expect(top.check('zz', false)).toBe('exclude');
    const after = make(['-f', '+ zz', '-C']).root('sender', root).enterDir('');
    expect(after.check('zz', false)).toBe('include');
  });

  it('enterDir reads from dirPath when given (the receiver reads the destination tree)', () => {
    const src = tree({ 'a/.r': '- x\n' });
    const dst = tree({ 'a/.r': '- y\n' });
    const l = make(['-f', ': .r']);
    const recv = l.root('receiver', dst).enterDir('').enterDir('a', Buffer.from(path.join(dst, 'a')));
    expect(recv.isProtected('a/y', false)).toBe(true);
    expect(recv.isProtected('a/x', false)).toBe(false);
    const send = l.root('sender', src).enterDir('').enterDir('a');
    expect(send.check('a/x', false)).toBe('exclude');
  });
});

// -------------------------------------------------------------------------------------------------------
// Differential tests: rsync itself decides over a generated tree, and our scopes must decide the same.

const haveRsync = spawnSync('rsync', ['--version']).status === 0;

/** A tree with names that exercise the rules, including bytes that are not UTF-8. */
function buildTree(root: string): void {
  const files = [
    'a.o', 'a.c', 'b.txt', 'core', '#tmp', 'x~', '.hidden', 'sp ace', 'br[ack]et', 'bs\\x', 'CAPS.TXT', 'keep.o',
    'foo/bar', 'foo/bar.c', 'foo/baz/bar', 'foo/deep/x/bar', 'foo/qux',
    'sub/foo/bar', 'sub/foo/qux', 'sub/a.o', 'sub/keep.o', 'sub/local', 'sub/x.c', 'sub/inner/local', 'sub/inner/z.c',
    'build/out.bin', 'build/build/out.bin', 'CVS/Entries', '.git/config', 'x/y/z/w.txt', 'x/y/z', 'x/q/z/v',
    'cvs/.cvsignore', 'cvs/ign1', 'cvs/kept', 'cvs/deep/ign1', 'ms/.mrg', 'ms/m1', 'ms/m2', 'ms/d/m1', 'ms/d/.mrg', 'ms/d/m3',
  ];
  for (const f of files) {
    const full = path.join(root, f);
    if (f === 'x/y/z') continue; // a directory (made below)
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, f);
  }
  fs.mkdirSync(path.join(root, 'x/y/z'), { recursive: true });
  fs.mkdirSync(path.join(root, 'empty'), { recursive: true });
  fs.writeFileSync(Buffer.concat([Buffer.from(root + '/'), Buffer.from([0xff, 0xfe]), Buffer.from('.bin')]), 'bin');
  fs.writeFileSync(path.join(root, 'sub/.rules'), '- /local\n+ keep.o\n- *.o\n');
  fs.writeFileSync(path.join(root, 'cvs/.cvsignore'), 'ign1 *.zz\n');
  fs.writeFileSync(path.join(root, 'ms/.mrg'), '- m1\n');
  fs.writeFileSync(path.join(root, 'ms/d/.mrg'), '+ m1\n- m3\n');
}

/** Our decisions, walked like rsync's sender: excluded directories are not entered. */
function ourTransfer(list: FilterList, cwd: string, arg: string): string[] {
  const out: string[] = [];
  const walk = (scope: FilterScope, abs: string, rel: string): void => {
    for (const name of fs.readdirSync(Buffer.from(abs), { encoding: 'buffer' })) {
      const relB = rel ? Buffer.concat([Buffer.from(rel, 'latin1'), Buffer.from('/'), name]) : name;
      const absB = Buffer.concat([Buffer.from(abs, 'latin1'), Buffer.from('/'), name]);
      const isDir = fs.lstatSync(absB).isDirectory();
      if (scope.check(relB, isDir) === 'exclude') continue;
      out.push(escapeName(relB) + (isDir ? '/' : ''));
      if (isDir) walk(scope.enterDir(relB), absB.toString('latin1'), relB.toString('latin1'));
    }
  };
  if (arg.endsWith('/')) {
    const abs = path.join(cwd, arg);
    out.push('./');
    walk(list.root('sender', abs).enterDir(''), abs, '');
  } else {
    const root = list.root('sender', cwd);
    if (root.check(arg, true) !== 'exclude') {
      out.push(`${arg}/`);
      walk(root.enterDir(arg), path.join(cwd, arg), arg);
    }
  }
  return out.sort();
}

/** Our deletions for a destination that is a copy of the source plus extras (global rules only). */
function ourDeletions(list: FilterList, sent: Set<string>, dst: string): string[] {
  const out: string[] = [];
  const join = (a: Buffer, n: Buffer): Buffer => (a.length ? Buffer.concat([a, Buffer.from('/'), n]) : n);
  const entries = (abs: Buffer, rel: Buffer) =>
    fs.readdirSync(abs, { encoding: 'buffer' }).map((n) => {
      const full = Buffer.concat([abs, Buffer.from('/'), n]);
      return { full, rel: join(rel, n), isDir: fs.lstatSync(full).isDirectory() };
    });
  // Inside a directory being deleted rsync ignores perishable rules (-C's defaults, "p").
  const deleteTree = (scope: FilterScope, abs: Buffer, rel: Buffer): void => {
    for (const e of entries(abs, rel)) {
      if (scope.isProtected(e.rel, e.isDir, { ignorePerishable: true })) continue;
      if (e.isDir) deleteTree(scope, e.full, e.rel);
      out.push(`deleting ${escapeName(e.rel)}${e.isDir ? '/' : ''}`);
    }
  };
  // The receiver reads per-directory files in the destination, for each directory it scans.
  const walk = (scope: FilterScope, abs: Buffer, rel: Buffer): void => {
    for (const e of entries(abs, rel)) {
      const key = escapeName(e.rel) + (e.isDir ? '/' : '');
      if (sent.has(key)) {
        if (e.isDir) walk(scope.enterDir(e.rel, e.full), e.full, e.rel);
      } else if (!scope.isProtected(e.rel, e.isDir)) {
        if (e.isDir) deleteTree(scope, e.full, e.rel);
        out.push(`deleting ${key}`);
      }
    }
  };
  walk(list.root('receiver', dst).enterDir(''), Buffer.from(dst), Buffer.alloc(0));
  // Directory lines depend on rsync's "cannot delete non-empty directory" handling, not on the filters.
  return out.filter((l) => !l.endsWith('/')).sort();
}

function rsyncRun(cwd: string, args: string[]): { sent: string[]; deleted: string[] } {
  const r = spawnSync('rsync', ['-a', '-n', '--out-format=%n', ...args], { cwd, encoding: 'latin1', env: { ...process.env, HOME: cwd, CVSIGNORE: '' } });
  if (r.status !== 0) throw new Error(`rsync ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const lines = r.stdout.split('\n').filter(Boolean);
  // rsync prints in UTF-8; decode what came back as latin1 to compare escaped names.
  const fix = (s: string): string => Buffer.from(s, 'latin1').toString('utf8');
  return {
    sent: lines.filter((l) => !l.startsWith('deleting ')).map(fix).sort(),
    deleted: lines.filter((l) => l.startsWith('deleting ')).map(fix).sort(),
  };
}

describe.skipIf(!haveRsync)('differential against rsync', () => {
  const cwd = tempDir('arsync-filter-oracle-');
  buildTree(path.join(cwd, 'src'));
  fs.writeFileSync(path.join(cwd, 'from.txt'), '# rules\n+ *.c\n- foo/\n\n*.txt\n; more\n- b*\n');
  fs.writeFileSync(path.join(cwd, 'merge.rules'), '- /build/\n+ x/y/***\n- x/**\n');

  const ruleSets: string[][] = [
    ['--exclude=*.o'],
    ['--exclude=/foo'],
    ['--exclude=foo/'],
    ['--exclude=foo/bar'],
    ['--exclude=/foo/**/bar'],
    ['--exclude=**/bar'],
    ['--exclude=foo/*/bar'],
    ['--exclude=x/*/z'],
    ['--exclude=z/'],
    ['--include=*/', '--include=*.c', '--exclude=*'],
    ['--include=foo/***', '--exclude=*'],
    ['--include=/x/', '--include=/x/y/***', '--exclude=*'],
    ['-f', '-! */'],
    ['-f', '- [a-c].*'],
    ['-f', '- [!a-c]*.txt'],
    ['-f', '- *[[:upper:]]*'],
    ['-f', '- br\\[ack\\]et', '-f', '- bs\\x'],
    ['-f', '- br[[]ack]et'],
    ['-f', '- *.bin'],
    ['-f', '- ?'],
    ['-f', 'exclude,s *.c', '-f', 'P *.txt', '-f', 'H core'],
    ['-f', '+ sub/foo/', '-f', '- sub/*', '-f', '- foo'],
    ['-f', '- build/', '-f', '+ build/out.bin'],
    ['-f', '+ build/build/', '-f', '- build/*'],
    ['-C'],
    ['-C', '--include=core', '--include=*.o'],
    ['-f', ': .rules'],
    ['-f', ':e .rules', '-f', '- *.c'],
    ['-f', '- *.c', '-f', ': .rules'],
    ['-f', ':n .mrg'],
    ['-f', ': .mrg'],
    ['-f', ':- .cvsignore'],
    ['-f', ':C'],
    ['-f', 'merge merge.rules'],
    ['--exclude-from=from.txt'],
    ['--include-from=from.txt', '--exclude=*.o'],
    ['--exclude', '+ *.c', '--exclude', '*.?'],
    ['-f', '-/ SRCABS/foo/bar', '-f', '-/ sub/*.o'],
    ['-f', '- /*/bar'],
    ['-f', '- */*/bar'],
    ['-f', '+ **/z/', '-f', '- z'],
  ];

  for (const rules of ruleSets) {
    for (const arg of ['src/', 'src']) {
      it(`${arg} ${rules.join(' ')}`, () => {
        const real = rules.map((r) => r.replace('SRCABS', path.join(cwd, 'src')));
        const list = make(real, { cwd, env: { HOME: cwd, CVSIGNORE: '' } });
        const want = rsyncRun(cwd, [...real, arg, 'nowhere/']).sent;
        expect(ourTransfer(list, cwd, arg)).toEqual(want);
      });
    }
  }

  it('-F style dir-merge scans parent directories (": /.rsync-filter")', () => {
    const base = tempDir('arsync-filter-F-');
    buildTree(path.join(base, 'p/src'));
    fs.writeFileSync(path.join(base, 'p/.rsync-filter'), '- a.c\n- /src/b.txt\n- /p/src/core\n');
    fs.writeFileSync(path.join(base, 'p/src/foo/.rsync-filter'), '- /qux\n');
    for (const arg of ['src/', 'src']) {
      const list = make(['-f', ': /.rsync-filter'], { cwd: path.join(base, 'p') });
      const want = rsyncRun(path.join(base, 'p'), ['-f', ': /.rsync-filter', arg, 'nowhere/']).sent;
      expect(ourTransfer(list, path.join(base, 'p'), arg)).toEqual(want);
    }
  });

  const deleteSets: string[][] = [
    ['-f', '- *.o'],
    ['-f', 'P keep*', '-f', '- *.o'],
    ['-f', 'H *.txt'],
    ['-f', '-s *.txt'],
    ['-f', 'R extra.o', '-f', 'P *.o'],
    ['-f', '-r *.c'],
    ['--delete-excluded', '-f', '- *.o'],
    ['--delete-excluded', '-f', '- *.o', '-f', 'P keep*'],
    ['-C'],
    ['-f', '- gone/'],
    ['-f', 'protect /extra.c'],
    ['-f', '-p *.o'],
    ['-f', ': .rules'],
    ['-f', ':C'],
  ];
  for (const rules of deleteSets) {
    it(`--delete ${rules.join(' ')}`, () => {
      const dst = path.join(cwd, `dst-${deleteSets.indexOf(rules)}`);
      fs.rmSync(dst, { recursive: true, force: true });
      spawnSync('cp', ['-a', path.join(cwd, 'src') + '/.', dst]);
      for (const extra of ['extra.o', 'extra.c', 'keep.extra', 'foo/extra.txt', 'gone/a.o', 'gone/b', 'gone/keep.x', 'gone/sub/c.c', 'sub/extra.o']) {
        fs.mkdirSync(path.dirname(path.join(dst, extra)), { recursive: true });
        fs.writeFileSync(path.join(dst, extra), 'x');
      }
      const list = make(rules, { cwd, env: { HOME: cwd, CVSIGNORE: '' } });
      // Per-directory files in the tree are not in play here (no dir-merge rules), so global scopes do.
      const real = rsyncRun(cwd, ['--delete', ...rules, 'src/', `${dst}/`]);
      const sent = new Set(ourTransfer(list, cwd, 'src/'));
      expect(ourDeletions(list, sent, dst)).toEqual(real.deleted.filter((l) => !l.endsWith('/')));
    });
  }
});
