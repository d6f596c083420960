// Differential tests against rsync (issue 3): filter rules (--exclude/--include/--filter with anchored,
// directory-only and ** patterns, P protect, merge and dir-merge files, -F, -C, --exclude-from), their
// interplay with --delete and --delete-excluded.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { clone, differential, freshSetup, mtimeOf, put, touchNs } from '../helpers/differential.js';

afterAll(() => removeTemps());

/**
 * src: the base tree plus a *file* named `cache` (so `cache/` must not exclude it), an .o file outside sub/,
 * a .keep file. dst: an earlier sync, plus extraneous entries: some under excluded paths (kept unless
 * --delete-excluded), some protected by P rules, some plain (deleted by --delete).
 */
function filterSetup(root: string): void {
  const src = path.join(root, 'src');
  const dst = path.join(root, 'dst');
  freshSetup(root);
  put(src, 'sub/cache', 'a file named cache\n');
  put(src, 'top.o', 'object at the top\n');
  put(src, 'docs/notes.keep', 'keep me\n');
  put(src, 'logs/important.log', 'important\n');
  touchNs(
    ['sub/cache', 'top.o', 'docs/notes.keep', 'logs/important.log', 'sub', '.', 'docs', 'logs'].map((r, i) => [path.join(src, r), `1700100000.${String(100 + i).padStart(9, '0')}`]),
  );
  clone(src, dst);
  // Source changes since that sync.
  fs.appendFileSync(path.join(src, 'a.txt'), 'more\n');
  fs.appendFileSync(path.join(src, 'build/keep.txt'), 'more\n');
  fs.appendFileSync(path.join(src, 'sub/deep/f.o'), 'more\n');
  // Extraneous on dst.
  put(dst, 'local/notes.txt', 'protected dir on the receiver\n');
  put(dst, 'sub/deep/mine.keep', 'protected file\n');
  put(dst, 'build/stale.o', 'under an excluded dir\n');
  put(dst, 'cache/old.dat', 'under an excluded dir\n');
  put(dst, 'sub/deep/deeper/stale.o', 'excluded by a ** pattern\n');
  put(dst, 'logs/gone.log', 'excluded by *.log\n');
  put(dst, 'stale.txt', 'plain extraneous\n');
  put(dst, 'docs/build/stale.html', 'docs/build is not excluded by /build\n');
  for (const d of ['.', 'sub/deep', 'build', 'cache', 'sub/deep/deeper', 'logs', 'docs/build']) {
    touchNs([[path.join(dst, d), mtimeOf(path.join(src, d))]]);
  }
}

const MIX = [
  '--filter=P /local/',
  '--filter=P *.keep',
  '--exclude=/build', // anchored: docs/build is still copied
  '--exclude=cache/', // directory only: sub/cache (a file) is still copied
  '--exclude=sub/**/*.o', // **: any depth under sub (top.o is still copied)
  '--include=logs/important.log', // first match wins over the *.log below
  '--exclude=*.log',
];

describeEngines((e) => {
  const engine = e.name;

  it('a mix of anchored, directory-only and ** excludes, an include before an exclude, P protect, with --delete', async () => {
    await differential({ engine, setup: filterSetup, args: ['-a', '--delete', ...MIX, 'src/', 'dst/'] });
  });

  it('the same mix without --delete', async () => {
    await differential({ engine, setup: filterSetup, args: ['-a', ...MIX, 'src/', 'dst/'] });
  });

  it('the same mix with --delete-excluded (P still protects)', async () => {
    await differential({ engine, setup: filterSetup, args: ['-a', '--delete-excluded', ...MIX, 'src/', 'dst/'] });
  });

  it('--delete-excluded with -n', async () => {
    await differential({ engine, setup: filterSetup, args: ['-an', '--delete-excluded', ...MIX, 'src/', 'dst/'], unchanged: ['.'] });
  });

  it("only *.txt files: --include='*/' --include='*.txt' --exclude='*' (fresh)", async () => {
    await differential({ engine, setup: freshSetup, args: ['-a', '--include=*/', '--include=*.txt', '--exclude=*', 'src/', 'dst/'] });
  });

  it('--filter rules with + and - and a ? and [...] pattern, with --delete-after', async () => {
    await differential({
      engine,
      setup: filterSetup,
      args: ['-a', '--delete-after', '--filter=+ sub/deep/?.txt', '--filter=- sub/deep/*', '--filter=- [ab].*', 'src/', 'dst/'],
    });
  });

  it('--exclude-from and --filter=merge FILE', async () => {
    await differential({
      engine,
      setup: (root) => {
        filterSetup(root);
        fs.writeFileSync(path.join(root, 'excl.txt'), '# comment\n/build\n*.log\n\ncache/\n');
        fs.writeFileSync(path.join(root, 'rules.txt'), '+ logs/important.log\n- *.log\nP *.keep\n- docs/build/\n');
      },
      args: ['-a', '--delete', '--filter=merge rules.txt', '--exclude-from=excl.txt', 'src/', 'dst/'],
    });
  });

  it('--filter=dir-merge .rsync-filter (per-directory rules) and -F', async () => {
    const setup = (root: string): void => {
      filterSetup(root);
      const src = path.join(root, 'src');
      const tSub = mtimeOf(path.join(src, 'sub'));
      const tTop = mtimeOf(src);
      put(src, 'sub/.rsync-filter', '- *.txt\n');
      put(src, '.rsync-filter', '- /build\n');
      touchNs([
        [path.join(src, 'sub/.rsync-filter'), '1700200000.5'],
        [path.join(src, '.rsync-filter'), '1700200001.5'],
        [path.join(src, 'sub'), tSub],
        [src, tTop],
      ]);
    };
    await differential({ engine, setup, args: ['-a', '--delete', '--filter=dir-merge .rsync-filter', 'src/', 'dst/'] });
    await differential({ engine, setup, args: ['-a', '--delete', '-F', 'src/', 'dst/'] });
    await differential({ engine, setup, args: ['-a', '--delete', '-FF', 'src/', 'dst/'] });
  });

  it("-F with several operands: only the first directory rsync's sender enters inherits its parents' .rsync-filter rules", async () => {
    const setup = (root: string): void => {
      freshSetup(root);
      put(root, 'p1/.rsync-filter', '- *.o\n');
      put(root, 'p2/.rsync-filter', '- *.t\n');
      for (const f of ['p1/a/x.o', 'p1/a/x.t', 'p1/a/k', 'p2/b/y.o', 'p2/b/y.t', 'p2/b/k']) put(root, f, `${f}\n`);
    };
    const unchanged = ['p1', 'p2'];
    // Several operands set no time on the destination directory: the run's entries in it do.
    const volatile = ['dst'];
    // Without incremental recursion the sender enters the operands as given; with it, in its sorted
    // list's order (a before b), whatever the command line's.
    for (const order of [['p2/b', 'p1/a'], ['p1/a', 'p2/b']]) {
      for (const ir of ['--no-i-r', '--i-r']) {
        await differential({ engine, setup, unchanged, volatile, args: ['-a', ir, '-F', ...order, 'dst/'] });
      }
    }
  });

  it('-C (--cvs-exclude)', async () => {
    await differential({
      engine,
      setup: (root) => {
        freshSetup(root);
        const src = path.join(root, 'src');
        put(src, 'edit.c~', 'backup\n');
        put(src, 'core', 'core dump\n');
        put(src, 'CVS/Entries', 'cvs\n');
        put(src, 'sub/x.orig', 'orig\n');
        put(src, 'sub/.git/HEAD', 'ref\n');
      },
      args: ['-a', '-C', 'src/', 'dst/'],
    });
  });
});
