// Operands in rsync's remote syntax are refused before any I/O (exit 1, a message that says remote
// transfers are not supported yet) instead of becoming local directories named "host:dir"; the
// lookalikes rsync keeps local (a "/" before the first ":", a "./" prefix) are copied as usual.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeSmallTree, removeTemps, tempDir } from '../helpers/tree.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';

let base: string;

beforeAll(() => {
  base = tempDir('arsync-remote-');
  makeSmallTree(path.join(base, 'src'));
});
afterAll(() => removeTemps());

const REMOTE = [
  'host:dir/',
  'user@host:dir/',
  '[::1]:dir/',
  'host::module/dir/',
  'rsync://host/mod/',
  'rsync://user@host:873/mod/dir',
  ':dir/',
  'host:',
];

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  let cwd: string;

  beforeAll(() => {
    cwd = path.join(base, `cwd-${e.name}`);
    fs.mkdirSync(cwd);
    fs.symlinkSync(path.join(base, 'src'), path.join(cwd, 'src'));
  });

  // A destination through a remote shell is a push now (test/e2e/remote-push.test.ts), a daemon's too
  // (test/e2e/remote-daemon.test.ts): a host that does not resolve is rsync's socket error.
  it.each(REMOTE.filter((r) => /^[^[]*::/.test(r) || r.startsWith('rsync://')))('destination %s: a daemon that cannot be reached is exit 10, creates nothing', async (dest) => {
    const r = await runCli(['-a', eng, 'src/', dest], { cwd });
    expect(r.code, show(r)).toBe(10);
    expect(r.stderr, show(r)).toMatch(/getaddrinfo: host 873: Name or service not known|failed to connect to host/);
    expect(r.stderr).toMatch(/error in socket IO \(code 10\)/);
    expect(fs.readdirSync(cwd)).toEqual(['src']);
  });

  it.each(REMOTE.filter((r) => /^[^[]*::/.test(r) || r.startsWith('rsync://')))('source %s: exit 10, creates nothing', async (source) => {
    const r = await runCli(['-a', eng, source, 'dst/'], { cwd });
    expect(r.code, show(r)).toBe(10);
    expect(fs.readdirSync(cwd)).toEqual(['src']);
  });

  it('a remote operand among several sources, and a remote --files-from in a local copy, are refused too (rsync\'s words)', async () => {
    const r = await runCli(['-a', eng, 'src/', 'host:x', 'dst/'], { cwd });
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toMatch(/Unexpected remote arg: host:x/);
    const f = await runCli(['-a', eng, '--files-from=host:list', 'src/', 'dst/'], { cwd });
    expect(f.code, show(f)).toBe(1);
    expect(f.stderr).toMatch(/--files-from cannot be remote when the transfer is local/);
    expect(fs.readdirSync(cwd)).toEqual(['src']);
  });

  it('lookalikes rsync keeps local are copied: ./host:dir/, a/b:c/', async () => {
    for (const dest of ['./host:dir/', 'sub/b:c/']) {
      fs.mkdirSync(path.join(cwd, 'sub'), { recursive: true });
      const r = await runCli(['-a', eng, 'src/', dest], { cwd });
      expect(r.code, show(r)).toBe(0);
      expectExactCopy(path.join(base, 'src'), path.join(cwd, dest), e.name);
      fs.rmSync(path.join(cwd, dest), { recursive: true });
    }
    fs.rmSync(path.join(cwd, 'sub'), { recursive: true });
  });

  it('a host that starts with "-" is never given to the remote shell (ssh would read it as an option): exit 1, as rsync', async () => {
    // The remote shell leaves a mark if it is started at all; `-oProxyCommand=...` to ssh runs a command.
    const mark = path.join(base, `shell-ran-${e.name}`);
    const rsh = path.join(base, `mark-rsh-${e.name}.sh`);
    fs.writeFileSync(rsh, `#!/bin/sh\ntouch '${mark}'\nexit 1\n`, { mode: 0o755 });
    const line = "Invalid remote host: hostnames may not start with '-'.";
    for (const ops of [
      ['src/', '-oProxyCommand=id:dst/'],
      ['src/', 'user@-oProxyCommand=id:dst/'],
      ['src/', '[-x]:dst/'],
      ['-oProxyCommand=id:src/', 'dst/'],
      ['-oProxyCommand=id:src/'],
      ['-x::module/'],
    ]) {
      const args = ['-a', '-e', rsh, '--', ...ops];
      const theirs = spawnSync('rsync', args, { cwd, encoding: 'utf8' });
      expect(theirs.status, ops.join(' ')).toBe(1);
      expect(theirs.stderr.split('\n')[0]).toBe(line);
      expect(fs.existsSync(mark), `rsync started its shell for ${ops.join(' ')}`).toBe(false);
      const r = await runCli([eng, ...args], { cwd });
      expect(r.code, show(r)).toBe(1);
      expect(r.stderr).toBe(`${line}\narsync error: syntax or usage error (code 1)\n`);
      expect(fs.existsSync(mark), `the shell was started for ${ops.join(' ')}`).toBe(false);
      expect(fs.existsSync(path.join(cwd, 'dst'))).toBe(false);
    }
  });

  it('a remote shell that cannot be started: rsync\'s "Failed to exec" line with the client\'s role, and its exit, on every route', async () => {
    const missing = path.join(base, 'no-such-shell');
    // rsync's code races its forked child: 14 (the child's "error in IPC code") or 12 (the parent's broken
    // stream) for a push or a pull, 5 ("did not see server greeting") or 12 for a daemon through -e.
    // arsync gives the first of each pair, the code of the failure itself.
    for (const [ops, code, alt] of [
      [['-a', 'src/', 'host:dst/'], 14, 12],
      [['-a', 'host:src/', 'dst/'], 14, 12],
      [['host:src/'], 14, 12],
      [['host::module/'], 5, 12],
      [['-r', 'src/', 'host::module/'], 5, 12],
    ] as const) {
      const args = ['-e', missing, ...ops];
      const theirs = spawnSync('rsync', args, { cwd, encoding: 'utf8' });
      expect([code, alt], ops.join(' ')).toContain(theirs.status);
      const r = await runCli([eng, ...args], { cwd });
      expect(r.code, show(r)).toBe(code);
      if (code === 5) expect(r.stderr).toContain('arsync: did not see server greeting\n');
      const line = theirs.stderr.split('\n').find((l) => l.includes('Failed to exec'))!;
      expect(line).toMatch(/^rsync: \[(sender|Receiver)\] Failed to exec .*: No such file or directory \(2\)$/);
      expect(r.stderr.split('\n')).toContain(line.replace(/^rsync: /, 'arsync: '));
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(fs.existsSync(path.join(cwd, 'dst'))).toBe(false);
    }
  });

  it('an empty source or destination is an error (as rsync 3.5), and nothing is written', async () => {
    const r = await runCli(['-a', eng, '', 'dst/'], { cwd });
    expect(r.code, show(r)).toBe(1);
    // rsync's rprintf lines, without the program's name (as rsync 3.5 prints them).
    expect(r.stderr.split('\n')[0]).toBe('Empty source arg specified.');
    const into = path.join(base, `empty-dest-${e.name}`);
    fs.mkdirSync(into);
    const d = await runCli(['-a', eng, path.join(base, 'src') + '/', ''], { cwd: into });
    expect(d.code, show(d)).toBe(1);
    expect(d.stderr.split('\n')[0]).toBe('Empty destination arg specified (use "." or see --old-args).');
    expect(fs.readdirSync(into)).toEqual([]);
  });

  it('numbers rsync cannot hold are usage errors: --max-size past 2^63, --modify-window past a C int', async () => {
    for (const [flag, text] of [
      ['--max-size=99999999999999999999999', /--max-size=99999999999999999999999 is too large/],
      ['--min-size=9000P', /--min-size=9000P is too large/],
      ['--modify-window=2147483648', /--modify-window=2147483648: number too large or too small/],
      ['--max-delete=99999999999999999999', /--max-delete=99999999999999999999: number too large or too small/],
    ] as const) {
      const r = await runCli(['-a', eng, flag, path.join(base, 'src') + '/', 'never-made/'], { cwd });
      expect(r.code, show(r)).toBe(1);
      expect(r.stderr).toMatch(text);
      expect(fs.existsSync(path.join(cwd, 'never-made'))).toBe(false);
    }
  });
});
