// The command line itself: --help, --version, and usage errors (exit 1, a message naming the bad option,
// nothing written).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeSmallTree, removeTemps, tempDir } from '../helpers/tree.js';
import { REPO, runCli, show } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';

let base: string;
let src: string;

beforeAll(() => {
  base = tempDir('arsync-usage-');
  src = path.join(base, 'src');
  makeSmallTree(src);
});
afterAll(() => removeTemps());

describeEngines((e) => {
  const eng = `--engine=${e.name}`;

  it('--help prints usage and the archive options, exit 0', async () => {
    const r = await runCli(['--help', eng]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/usage/i);
    for (const opt of ['--archive', '--hard-links', '--acls', '--xattrs', '--engine', '--stats', '--numeric-ids']) expect(r.stdout).toContain(opt);
  });

  it('--version prints the package version, exit 0', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag, eng]);
      expect(r.code, show(r)).toBe(0);
      expect(r.stdout).toContain(version);
    }
  });

  it.each([
    ['--delte', /--delte/],
    ['--bogus-option', /--bogus-option/],
    ['-Z', /-Z/],
    ['--workers=0', /--workers/],
    ['--workers=lots', /--workers/],
    ['--queue-depth=-3', /--queue-depth/],
    ['--engine=warp', /--engine|warp/],
    // rsync caps a level at 4 (progress9 is taken), but an unknown word is its usage error.
    ['--info=progres9', /Unknown --info item: "progres"/],
    // rsync's own check (options.c): its records are what --fake-super keeps, -XX would copy them.
    ['-XX --fake-super', /--fake-super conflicts with -XX/],
    // rsync's receiver refuses it too (there exit 12, as its forked receiver's error ends the link).
    ['--xattrs --xattrs -M--fake-super', /--fake-super conflicts with -XX/],
  ])('%s: exit 1, the message names it, nothing is written', async (bad, names) => {
    const dst = path.join(base, `never-${e.name}`);
    const r = await runCli(['-a', eng, ...bad.split(' '), `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr, show(r)).toMatch(names);
    expect(r.stdout).toBe('');
    expect(fs.existsSync(dst)).toBe(false);
  });

  it('a near miss gets a hint when the CLI offers one (--delte -> --delete)', async () => {
    const r = await runCli(['-a', eng, '--delte', `${src}/`, `${base}/x/`]);
    expect(r.code).toBe(1);
    // Only checked loosely: a hint, if any, must point at the right option.
    if (/did you mean/i.test(r.stderr)) expect(r.stderr).toMatch(/--delete/);
  });

  it('no operands, or only one: exit 1 with a usage message', async () => {
    for (const args of [['-a'], ['-a', `${src}/`]]) {
      const r = await runCli([...args, eng]);
      // rsync lists a single source instead of copying it; arsync has no listing mode, so either a usage
      // error or rsync's listing is acceptable, but never a copy or a crash.
      if (args.length === 1) {
        expect(r.code, show(r)).toBe(1);
        expect(r.stderr).toMatch(/usage|operand|missing|argument|destination/i);
      } else {
        expect([0, 1], show(r)).toContain(r.code);
      }
    }
  });

  it('a missing destination parent with several sources: dest dir must not be guessed as a file', async () => {
    // rsync: with more than one source the destination is always a directory.
    const dst = path.join(base, `multi-${e.name}`);
    const r = await runCli(['-a', eng, `${src}/bulk`, `${src}/bulk`, dst]);
    expect(r.code, show(r)).toBe(0);
    expect(fs.lstatSync(dst).isDirectory()).toBe(true);
  });
});
