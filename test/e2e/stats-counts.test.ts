// --stats' counts against rsync 3.5, on every engine, where arsync once counted differently: what rsync's
// generator itemizes against a --link-dest/--copy-dest/--compare-dest twin is not "created" (rsync counts
// an entry as created only when nothing of its name and type was found), and a twin it copies itself is
// not "transferred"; a dry run sends no literal data; -m's pruned directories (a named operand pruned
// whole too) and -R's implied ones (under --no-implied-dirs too) are in rsync's list; --append's literal data is the tail it sends.
// The whole output is compared (differential.ts), the byte totals aside (stream-bytes.test.ts). The -v
// summary's rate is rsync's: the bytes over half a second plus the whole seconds its clock ticked.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { runCli, show } from '../helpers/cli.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { describeEngines } from '../helpers/e2e.js';
import { differential, put, touchNs } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** src, and an earlier snapshot in prev: two files as they are, one changed, one missing; a directory missing. */
function snapshots(r: string): void {
  put(r, 'src/same', 'same\n', 0o644);
  put(r, 'src/d1/same2', 'same two\n', 0o644);
  put(r, 'src/d1/changed', 'new contents\n', 0o644);
  put(r, 'src/d2/new', 'new file\n', 0o644);
  fs.symlinkSync('same', path.join(r, 'src/link'));
  put(r, 'prev/same', 'same\n', 0o644);
  put(r, 'prev/d1/same2', 'same two\n', 0o644);
  put(r, 'prev/d1/changed', 'old\n', 0o644);
  // The same times where the files are the same, an older one where not; directories alike.
  const t = '1700000000.5';
  touchNs([
    [path.join(r, 'src/same'), t], [path.join(r, 'prev/same'), t],
    [path.join(r, 'src/d1/same2'), t], [path.join(r, 'prev/d1/same2'), t],
    [path.join(r, 'prev/d1/changed'), '1600000000.5'], [path.join(r, 'src/d1/changed'), t],
    [path.join(r, 'src/d2'), t], [path.join(r, 'src/d1'), t], [path.join(r, 'prev/d1'), t], [path.join(r, 'src'), t], [path.join(r, 'prev'), t],
  ]);
}

describeEngines((e) => {
  const engine = e.name;

  it('--link-dest, --copy-dest, --compare-dest: created and transferred counts, with and without -n', async () => {
    for (const opt of ['--link-dest=../prev', '--copy-dest=../prev', '--compare-dest=../prev']) {
      for (const extra of [[], ['-n']]) await differential({ engine, setup: snapshots, args: ['-a', '--stats', ...extra, opt, 'src/', 'dst/'] });
    }
  });

  // rsync's try_dests_reg comes before the destination's own quick check: a file already up to date whose
  // twin matches exactly is linked to the twin (--link-dest; -H or not) or removed (--compare-dest).
  it('--link-dest and --compare-dest over a destination whose files are up to date but separate copies', async () => {
    const setup = (r: string): void => {
      snapshots(r);
      fs.linkSync(path.join(r, 'src/same'), path.join(r, 'src/same-link'));
      fs.linkSync(path.join(r, 'prev/same'), path.join(r, 'prev/same-link'));
      put(r, 'prev/d1/changed', 'new contents\n', 0o644);
      touchNs([[path.join(r, 'prev/d1/changed'), '1700000000.5'], [path.join(r, 'src'), '1700000000.5'], [path.join(r, 'prev'), '1700000000.5'], [path.join(r, 'prev/d1'), '1700000000.5']]);
      // dst: every file a copy of its own (cp without -l), times and modes kept.
      execFileSync('cp', ['-a', 'src', 'dst'], { cwd: r });
      execFileSync('sh', ['-c', 'rm dst/same-link && cp -p dst/same dst/same-link'], { cwd: r });
    };
    const ino = (p: string): number => fs.statSync(p).ino;
    for (const args of [['-ai'], ['-aHi']]) {
      const r = await differential({ engine, setup, args: [...args, '--link-dest=../prev', 'src/', 'dst/'] });
      for (const f of ['same', 'same-link', 'd1/same2', 'd1/changed']) expect(ino(path.join(r.B, 'dst', f)), f).toBe(ino(path.join(r.B, 'prev', f)));
    }
    const r = await differential({ engine, setup, args: ['-ai', '--compare-dest=../prev', 'src/', 'dst/'] });
    for (const f of ['same', 'd1/changed']) expect(fs.existsSync(path.join(r.B, 'dst', f)), f).toBe(false);
    expect(fs.existsSync(path.join(r.B, 'dst/d2/new'))).toBe(true);
  });

  it('-H with --link-dest: a linked member whose twin is there is not created either', async () => {
    const setup = (r: string): void => {
      snapshots(r);
      fs.linkSync(path.join(r, 'src/same'), path.join(r, 'src/d1/same-too'));
      fs.linkSync(path.join(r, 'prev/same'), path.join(r, 'prev/d1/same-too'));
      touchNs([[path.join(r, 'src/d1'), '1700000000.5'], [path.join(r, 'prev/d1'), '1700000000.5']]);
    };
    for (const opt of ['--link-dest=../prev', '--copy-dest=../prev']) await differential({ engine, setup, args: ['-aH', '--stats', opt, 'src/', 'dst/'] });
  });

  // rsync's try_dests_reg for an existing destination file: an exact --compare-dest twin makes it remove the
  // destination's other version (the destination keeps only what differs from the earlier backup), with
  // no deletion line and no backup; under -n nothing is removed.
  it('--compare-dest: a destination file whose source matches its twin exactly is removed', async () => {
    const setup = (r: string): void => {
      snapshots(r);
      put(r, 'dst/same', 'an older version\n', 0o644);
      put(r, 'dst/d1/same2', 'another\n', 0o644);
      touchNs([[path.join(r, 'dst/same'), '1600000000.5'], [path.join(r, 'dst/d1/same2'), '1600000000.5'], [path.join(r, 'dst/d1'), '1700000000.5'], [path.join(r, 'dst'), '1700000000.5']]);
    };
    for (const extra of [['-i'], ['-ii'], ['-in'], ['--stats']]) {
      await differential({ engine, setup, args: ['-a', ...extra, '--compare-dest=../prev', 'src/', 'dst/'] });
    }
    // A non-empty directory where the file goes is not removed: rsync's unlink fails, and the file cannot
    // make way for itself (exit 23).
    const dirThere = (r: string): void => {
      snapshots(r);
      put(r, 'dst/same/inner', 'x\n', 0o644);
      touchNs([[path.join(r, 'dst/same'), '1700000000.5'], [path.join(r, 'dst'), '1700000000.5']]);
    };
    await differential({ engine, setup: dirThere, args: ['-ai', '--compare-dest=../prev', 'src/', 'dst/'] });
    // With --backup neither rsync nor arsync sets the times back on the directories a removal changed.
    await differential({ engine, setup, args: ['-av', '--backup', '--compare-dest=../prev', 'src/', 'dst/'], volatileDirsUnder: ['dst'] });
  });

  it('a dry run: the files it would send counted, no literal data', async () => {
    await differential({ engine, setup: snapshots, args: ['-an', '--stats', 'src/', 'dst/'] });
  });

  it('-m: directories rsync\'s receiver prunes are still in the list', async () => {
    const setup = (r: string): void => {
      put(r, 'src/kept/f', 'f\n', 0o644);
      fs.mkdirSync(path.join(r, 'src/empty/deeper/deepest'), { recursive: true });
      fs.mkdirSync(path.join(r, 'src/kept/alone'));
      put(r, 'src/only-excluded/x.tmp', 'x\n', 0o644);
    };
    await differential({ engine, setup, args: ['-am', '--stats', 'src/', 'dst/'] });
    await differential({ engine, setup, args: ['-am', '--stats', '--exclude', '*.tmp', 'src/', 'dst/'] });
    // A named operand pruned whole: its directories, and under -R the implied ones above it, are listed.
    await differential({ engine, setup, args: ['-am', '--stats', 'src/empty', 'src/kept', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup, args: ['-amR', '--stats', 'src/./empty/deeper', 'src/kept', 'dst/'], volatile: ['dst'] });
  });

  it('-R: the implied directories are listed, and counted as created when made', async () => {
    const setup = (r: string): void => {
      put(r, 'src/a/b/f', 'f\n', 0o644);
      put(r, 'src/c/g', 'g\n', 0o644);
    };
    await differential({ engine, setup, args: ['-aR', '--stats', 'src/a/b', 'src/c/g', 'dst/'], volatile: ['dst'] });
    await differential({ engine, setup, args: ['-aR', '--stats', 'src/./a/b/f', 'dst/'], volatile: ['dst'] });
    // --no-implied-dirs: rsync's sender still sends them, flagged (protocol 30 on), so they are listed.
    await differential({ engine, setup, args: ['-aR', '--no-implied-dirs', '--stats', 'src/./a/b/f', 'src/c/g', 'dst/'], volatile: ['dst', 'dst/a', 'dst/a/b', 'dst/src', 'dst/src/c'] });
  });

  it('--append: the literal data is the tail sent, not the whole file', async () => {
    const setup = (r: string): void => {
      put(r, 'src/grow', 'x'.repeat(5000), 0o644);
      put(r, 'src/same', 'same\n', 0o644);
      put(r, 'dst/grow', 'x'.repeat(1200), 0o644);
      touchNs([[path.join(r, 'dst/grow'), '1600000000.5']]);
    };
    await differential({ engine, setup, args: ['-a', '--append', '--stats', 'src/', 'dst/'] });
    await differential({ engine, setup, args: ['-a', '--append-verify', '--stats', 'src/', 'dst/'] });
  });

  // rsync's rate (main.c): (sent + received) / (0.5 + end - start), its times whole seconds (time(NULL)),
  // so a run within one second shows twice its bytes; arsync divided by the real elapsed time. What the
  // clock ticks during a run varies, so the divisor is checked for rsync's form: half a second and whole ones.
  it("-v's rate divides by rsync's seconds: a local copy and a pull", async () => {
    const root = tempDir(`arsync-rate-${engine}-`);
    put(root, 'src/a', 'x'.repeat(5000), 0o644);
    put(root, 'src/d/b', 'y'.repeat(700), 0o644);
    const rsh = fakeRsh(root);
    const divisor = (out: string): number => {
      const m = /^sent ([\d,]+) bytes {2}received ([\d,]+) bytes {2}([\d,.]+) bytes\/sec$/m.exec(out);
      expect(m, out).not.toBeNull();
      const num = (v: string): number => Number(v.replace(/,/g, ''));
      return (num(m![1]!) + num(m![2]!)) / num(m![3]!);
    };
    for (const [args, dst] of [[['-av', 'src/', 'dst/'], 'dst'], [['-av', '-e', rsh, `host:${root}/src/`, 'pulled/'], 'pulled']] as const) {
      const r = await runCli([`--engine=${engine}`, ...args], { cwd: root });
      expect(r.code, show(r)).toBe(0);
      expect(fs.readFileSync(path.join(root, dst, 'd/b'), 'utf8')).toBe('y'.repeat(700));
      const d = divisor(r.stdout);
      // The printed rate has two decimals: the divisor is 0.5 + n to within that rounding.
      expect(Math.abs(d - 0.5 - Math.round(d - 0.5)), `${args.join(' ')}: divisor ${d}`).toBeLessThan(0.001);
      expect(d).toBeGreaterThanOrEqual(0.5);
    }
  });
});
