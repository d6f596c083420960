// --engine=auto picks the best engine the host allows and says why under -v: the pure-Node engine when the
// addon is absent (ARSYNC_ADDON=none), the plain-syscall engine when io_uring is refused
// (kernel.io_uring_disabled=2). Either way the copy is exact. These tests are about `auto`, so they are not
// repeated per engine; the forced engines' behaviour in the same situations is checked too.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, makeTree, removeTemps, tempDir } from '../helpers/tree.js';
import { ADDON, IO_URING_SYSCTL, runCli, show } from '../helpers/cli.js';
import { expectExactCopy } from '../helpers/e2e.js';

let base: string;
let src: string;
let originalSysctl: string | null = null;

beforeAll(() => {
  base = tempDir('arsync-fallback-');
  src = path.join(base, 'src');
  makeTree(src, { seed: 77, files: 200 });
  try {
    originalSysctl = fs.readFileSync(IO_URING_SYSCTL, 'utf8').trim();
  } catch {
    originalSysctl = null;
  }
});
afterAll(() => {
  // runCli restores the sysctl itself after each flip; this is the safety net if something went wrong.
  if (originalSysctl !== null && fs.readFileSync(IO_URING_SYSCTL, 'utf8').trim() !== originalSysctl) {
    fs.writeFileSync(IO_URING_SYSCTL, originalSysctl);
  }
  removeTemps();
});

describe('addon absent (ARSYNC_ADDON=none)', () => {
  const env = { ARSYNC_ADDON: 'none' };

  it('auto falls back to the node engine, --debug=proto says so, and the copy is exact', async () => {
    const dst = path.join(base, 'no-addon');
    const r = await runCli(['-aHv', '--debug=proto', '--engine=auto', `${src}/`, `${dst}/`], { env });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout, show(r)).toMatch(/engine\W+node/);
    expect(r.stdout.split('\n').find((l) => /engine\W+node/.test(l)), 'the reason names the addon').toMatch(/addon/i);
    expectExactCopy(src, dst, 'node');
  });

  it('without -v it says so once on stderr, with the reason and the fix; stdout stays clean', async () => {
    const r = await runCli(['-aH', `${src}/`, `${base}/no-addon-quiet/`], { env });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).not.toMatch(/engine|addon/);
    const lines = r.stderr.split('\n').filter((l) => /addon/.test(l));
    expect(lines, show(r)).toHaveLength(1);
    expect(lines[0]).toMatch(/node engine/);
    expect(lines[0]).toMatch(/ARSYNC_ADDON=none/);
    expect(lines[0]).toMatch(/to fix/i);
    expectExactCopy(src, `${base}/no-addon-quiet`, 'node');
  });

  it('-q silences the warning; an explicit --engine=node is a choice, not a fallback: no warning', async () => {
    for (const args of [['-aHq'], ['-aH', '--engine=node']]) {
      const dst = path.join(base, `no-addon-silent-${args.join('')}`);
      const r = await runCli([...args, `${src}/`, `${dst}/`], { env });
      expect(r.code, show(r)).toBe(0);
      expect(r.stderr, show(r)).toBe('');
    }
  });

  it('an addon file that is missing or does not load: the warning names why and how to fix it', async () => {
    const garbage = path.join(base, 'garbage.node');
    fs.writeFileSync(garbage, 'not an ELF file');
    const cases: [string, RegExp][] = [
      [path.join(base, 'absent', 'arsync.node'), /absent\/arsync\.node did not load \(.*cannot open shared object file/],
      [garbage, /garbage\.node did not load \(/],
    ];
    for (const [addon, why] of cases) {
      const dst = path.join(base, `bad-addon-${path.basename(addon)}`);
      const r = await runCli(['-a', `${src}/`, `${dst}/`], { env: { ARSYNC_ADDON: addon } });
      expect(r.code, show(r)).toBe(0);
      expect(r.stderr, show(r)).toMatch(why);
      expect(r.stderr).toMatch(/liburing-dev.*npm rebuild/);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    }
  });

  it('--version lists which engines can run here and why not', async () => {
    const r = await runCli(['--version'], { env });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^arsync {2}version \d+\.\d+\.\d+ {2}protocol version 32$/);
    expect(r.stdout).toMatch(/^ +uring +not usable: .*ARSYNC_ADDON=none/m);
    expect(r.stdout).toMatch(/^ +sync +not usable: /m);
    expect(r.stdout).toMatch(/^ +node +usable/m);
    const good = await runCli(['--version']);
    expect(good.code, show(good)).toBe(0);
    expect(good.stdout).toMatch(/^ +sync +usable/m);
    expect(good.stdout).toMatch(/^ +uring +(usable|not usable: io_uring_setup failed)/m);
  });

  it('-X with auto: exit 1, the message says xattrs need the native addon, nothing written', async () => {
    const dst = path.join(base, 'no-addon-x');
    const r = await runCli(['-aX', `${src}/`, `${dst}/`], { env });
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toMatch(/-X|xattr/);
    expect(r.stderr).toMatch(/native addon/);
    expect(r.stderr, 'the fix is given').toMatch(/To fix: unset ARSYNC_ADDON/);
    expect(fs.existsSync(dst)).toBe(false);
  });

  it.each(['uring', 'sync'])('--engine=%s: exit 1 with a message, nothing written', async (name) => {
    const dst = path.join(base, `no-addon-${name}`);
    const r = await runCli(['-a', `--engine=${name}`, `${src}/`, `${dst}/`], { env });
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toMatch(/addon/);
    expect(fs.existsSync(dst)).toBe(false);
  });
});

const canFlip = isRoot && fs.existsSync(IO_URING_SYSCTL) && fs.existsSync(ADDON);
// The flip waits for an exclusive lock behind every other running test's shared one (cli.ts): the lock
// wait is not the CLI hanging, so these tests get the helper's longer guard and a timeout to match.
describe.skipIf(!canFlip)(`io_uring refused by kernel.io_uring_disabled=2${canFlip ? '' : ' (skipped: needs root, the sysctl and the addon)'}`, { timeout: 700_000 }, () => {
  it('auto falls back to the sync engine, --debug=proto says why, and the -aHAX copy is exact', async () => {
    const dst = path.join(base, 'uring-disabled');
    const r = await runCli(['-aHAXv', '--debug=proto', '--engine=auto', `${src}/`, `${dst}/`], { ioUringDisabled: 2 });
    expect(fs.readFileSync(IO_URING_SYSCTL, 'utf8').trim(), 'sysctl restored').toBe(originalSysctl);
    expect(r.code, show(r)).toBe(0);
    const line = r.stdout.split('\n').find((l) => /engine\W+sync/.test(l));
    expect(line, show(r)).toBeDefined();
    expect(line, 'the reason names io_uring and the error').toMatch(/io_uring.*(EPERM|not permitted|disabled)/i);
    expectExactCopy(src, dst, 'sync');
  });

  it('--engine=uring: exit 1 with a message naming io_uring, nothing written', async () => {
    const dst = path.join(base, 'uring-forced');
    const r = await runCli(['-a', '--engine=uring', `${src}/`, `${dst}/`], { ioUringDisabled: 2 });
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toMatch(/io_uring/);
    expect(fs.existsSync(dst)).toBe(false);
  });

  it('with the sysctl back at its value, auto picks uring again (sync when both sides are on tmpfs)', async () => {
    const r = await runCli(['-av', '--debug=proto', `${src}/`, `${base}/uring-back/`]);
    expect(r.code, show(r)).toBe(0);
    // auto prefers plain syscalls when source and destination are in memory (measured faster there).
    const inMemory = [src, base].every((p) => [0x01021994, 0x858458f6].includes(fs.statfsSync(p).type));
    if (inMemory) expect(r.stdout).toMatch(/engine: sync \(source and destination are in memory/);
    else expect(r.stdout).toMatch(/engine\W+uring/);
  });

  it('auto picks uring as soon as one side is on a disk', async () => {
    const disk = fs.mkdtempSync('/var/tmp/arsync-fallback-');
    try {
      if ([0x01021994, 0x858458f6].includes(fs.statfsSync(disk).type)) return; // no disk here to try
      const r = await runCli(['-av', '--debug=proto', `${src}/`, `${disk}/dst/`]);
      expect(r.code, show(r)).toBe(0);
      expect(r.stdout).toMatch(/engine: uring/);
    } finally {
      fs.rmSync(disk, { recursive: true, force: true });
    }
  });
});
