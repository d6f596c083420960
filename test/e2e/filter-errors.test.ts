// A bad filter rule ends the run with rsync's message and code, wherever it comes from: the command line
// (echoed, it is the user's own text), a merge file or a per-directory .rsync-filter met mid-walk (never
// echoed: "<rule from FILE line N>"), and the merge-file depth cap (exit 11). Never an internal error.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { findTempFiles } from '../helpers/compare.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';

let base: string;

beforeAll(() => {
  base = tempDir('arsync-filtererr-');
});
afterAll(() => removeTemps());

function tree(name: string, files: Record<string, string>): string {
  const root = path.join(base, name);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

const noCrash = (stderr: string): void => {
  expect(stderr).not.toMatch(/internal error|FilterError|\n\s+at /);
};

describeEngines((e) => {
  const eng = `--engine=${e.name}`;

  it('a bad rule in a per-directory .rsync-filter (-F): exit 1, the file and line named, the rule not echoed', async () => {
    const src = tree(`perdir-${e.name}`, { a: 'a', 'sub/b': 'b', 'sub/.rsync-filter': '- *.o\nxSECRET-TOKEN-123 bogus\n' });
    const dst = path.join(base, `perdir-dst-${e.name}`);
    const r = await runCli(['-aF', eng, `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr, show(r)).toMatch(/Unknown filter rule: <rule from .*sub\/\.rsync-filter line 2>/);
    expect(r.stderr).not.toMatch(/SECRET-TOKEN-123/);
    expect(r.stderr).toMatch(/syntax or usage error \(code 1\)/);
    noCrash(r.stderr);
    if (fs.existsSync(dst)) expect(findTempFiles(dst, src)).toEqual([]);
  });

  it('a push whose walk meets a bad per-directory rule, or the depth cap: rsync\'s line and exit code (1, 11), as rsync\'s client', async () => {
    const rsh = path.join(base, 'rsh');
    fs.writeFileSync(rsh, '#!/bin/sh\nshift\nexec sh -c "$*"\n', { mode: 0o755 });
    const bad = tree(`push-perdir-${e.name}`, { a: 'a', 'sub/b': 'b', 'sub/.rsync-filter': 'xSECRET-TOKEN-123 bogus\n' });
    const loop = tree(`push-loop-${e.name}`, { '.rsync-filter': ': .loop\n', 'sub/b': 'b' });
    fs.writeFileSync(path.join(loop, 'sub', '.loop'), `merge ${path.join(loop, 'sub', '.loop')}\n`);
    const cases: [string, RegExp][] = [
      [bad, /^Unknown filter rule: <rule from .*sub\/\.rsync-filter line 1>$/m],
      [loop, /^\[sender\] merge-file include depth limit \(32\) exceeded at <rule from .*a file read earlier>$/m],
    ];
    for (const [src, want] of cases) {
      const theirs = spawnSync('rsync', ['-aF', '-e', rsh, `${src}/`, `host:${src}-rsync/`], { encoding: 'utf8' });
      const r = await runCli([eng, '-aF', '-e', rsh, `${src}/`, `host:${src}-mine/`]);
      expect(r.code, show(r)).toBe(theirs.status);
      expect(theirs.stderr).toMatch(want);
      expect(r.stderr, show(r)).toMatch(want);
      expect(r.stderr).not.toMatch(/SECRET-TOKEN-123/);
      noCrash(r.stderr);
    }
  });

  it("a file named by another file is never named itself: rsync's 'a file read earlier' and 'a file named at'", async () => {
    const root = path.join(base, `named-${e.name}`);
    const w = (rel: string, text: string): void => {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), text);
    };
    w('src/f', 'f\n');
    w('secret', 'TOP-SECRET-LINE\n');
    w('src/.rsync-filter', ': ../secret\n');
    w('outer', `. ${root}/inner\n`);
    w('inner', 'TOP-SECRET-LINE\n');
    w('outer2', `. ${root}/nested\n`);
    w('nested', '. TOP-SECRET-NAME\n');
    const cases: [string[], RegExp][] = [
      [['-r', '-F'], /filter rule: <rule from a file read earlier>$/m],
      [['-r', `--filter=. ${root}/outer`], /filter rule: <rule from a file named at .*\/outer line 1>$/m],
      [['-r', `--filter=. ${root}/outer2`], /^arsync: failed to open exclude file <rule from a file named at .*\/outer2 line 1>: No such file or directory \(2\)$/m],
    ];
    for (const [args, want] of cases) {
      const r = await runCli([eng, ...args, `${root}/src/`, `${root}/dst/`]);
      const theirs = spawnSync('rsync', [...args, `${root}/src/`, `${root}/dst/`], { encoding: 'utf8' });
      expect(r.code, show(r)).toBe(theirs.status);
      expect(r.stderr).toMatch(want);
      // rsync's own message says the same (its prefix and the text after the rule's place aside).
      expect(theirs.stderr).toContain(want.exec(r.stderr)![0].replace(/^arsync: /, '').replace(/: No such.*$/, ''));
      expect(r.stderr + r.stdout).not.toMatch(/TOP-SECRET|\/inner\b|\/nested\b/);
      fs.rmSync(path.join(root, 'dst'), { recursive: true, force: true });
    }
  });

  it('a rule file that is a directory reads as no rules (exit 0); one that cannot be opened is rsync\'s line, exit 11', async () => {
    const root = tree(`rulefile-${e.name}`, { 'src/a': 'a', 'src/b.o': 'b', 'rules/keep': '' });
    for (const args of [['--exclude-from', `${root}/rules`], ['-f', `merge ${root}/rules`], ['--exclude-from', `${root}/rules/keep/x`], ['--include-from', `${root}/none`]]) {
      const theirs = spawnSync('rsync', ['-a', ...args, `${root}/src/`, `${root}/dst-rsync/`], { encoding: 'utf8' });
      const r = await runCli(['-a', eng, ...args, `${root}/src/`, `${root}/dst/`]);
      expect(r.code, show(r)).toBe(theirs.status);
      if (theirs.status === 0) {
        expect(fs.readdirSync(`${root}/dst`).sort()).toEqual(fs.readdirSync(`${root}/dst-rsync`).sort());
        expect(r.stderr).toBe('');
      } else {
        expect(theirs.status).toBe(11);
        expect(r.stderr.split('\n')[0]).toBe(theirs.stderr.split('\n')[0]!.replace(/^rsync: /, 'arsync: '));
      }
      noCrash(r.stderr);
      fs.rmSync(`${root}/dst`, { recursive: true, force: true });
      fs.rmSync(`${root}/dst-rsync`, { recursive: true, force: true });
    }
  });

  it('merge files that include each other: the depth limit, exit 11', async () => {
    const src = tree(`loop-${e.name}`, { a: 'a', 'sub/b': 'b' });
    const loop = path.join(base, `loop-rules-${e.name}`);
    fs.writeFileSync(loop, `merge ${loop}\n`);
    const r = await runCli(['-a', eng, `--filter=merge ${loop}`, `${src}/`, `${base}/loop-dst-${e.name}/`]);
    expect(r.code, show(r)).toBe(11);
    expect(r.stderr, show(r)).toMatch(/merge-file include depth limit \(32\) exceeded at <rule from .*line 1>/);
    noCrash(r.stderr);
    // The same loop through a per-directory file, met mid-walk.
    const src2 = tree(`loop2-${e.name}`, { '.rsync-filter': ': .loop\n', 'sub/b': 'b' });
    fs.writeFileSync(path.join(src2, 'sub', '.loop'), `merge ${path.join(src2, 'sub', '.loop')}\n`);
    const dst2 = path.join(base, `loop2-dst-${e.name}`);
    const r2 = await runCli(['-aF', eng, `${src2}/`, `${dst2}/`]);
    expect(r2.code, show(r2)).toBe(11);
    expect(r2.stderr, show(r2)).toMatch(/^\[sender\] merge-file include depth limit \(32\) exceeded/m);
    noCrash(r2.stderr);
    if (fs.existsSync(dst2)) expect(findTempFiles(dst2, src2)).toEqual([]);
  });

  it('a bad rule in a --filter merge file (before any I/O): exit 1, not echoed; on the command line: echoed', async () => {
    const src = tree(`merge-${e.name}`, { a: 'a' });
    const rules = path.join(base, `bad-rules-${e.name}`);
    fs.writeFileSync(rules, '+ keep\r\n\r\nxbogus-PRIVATE\n');
    const dst = path.join(base, `merge-dst-${e.name}`);
    const r = await runCli(['-a', eng, `--filter=merge ${rules}`, `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr, show(r)).toMatch(/Unknown filter rule: <rule from .*bad-rules-[a-z]+ line 3>/);
    expect(r.stderr).not.toMatch(/PRIVATE/);
    expect(fs.existsSync(dst)).toBe(false);
    const c = await runCli(['-a', eng, '--filter=xbogus', `${src}/`, `${dst}/`]);
    expect(c.code, show(c)).toBe(1);
    // rsync 3.5's plain rprintf line: the rule as given, no quotes, no program name.
    expect(c.stderr).toMatch(/^Unknown filter rule: xbogus$/m);
    expect(r.stderr).toMatch(/^Unknown filter rule: <rule from /m);
    noCrash(c.stderr);
    expect(fs.existsSync(dst)).toBe(false);
  });

  let attempt = 0;
  it('a bad merge file in the destination is read only where rsync reads one, to delete: the copy goes on without --delete and stops with it, as rsync', async () => {
    for (const args of [['-ai', '-F'], ['-ai', '-FF'], ['-ai', '-F', '--delete'], ['-ai', '-F', '--delete-after'], ['-ai', '-F', '--delete-before']]) {
      const out: Record<string, { code: number | null; stdout: string; stderr: string; copied: boolean }> = {};
      for (const tool of ['rsync', 'arsync'] as const) {
        // (A fresh directory each attempt: a retried test must not start from the last attempt's copy.)
        const root = tree(`destmerge-${e.name}-${args.join('')}-${tool}-${attempt++}`, { 'src/a/f': 'f\n', 'dst/a/.rsync-filter': 'bogus-rule\n' });
        for (const d of ['src', 'src/a', 'dst', 'dst/a']) fs.utimesSync(path.join(root, d), 1_600_000_000, 1_600_000_000);
        const r = tool === 'rsync' ? spawnSync('rsync', [...args, 'src/', 'dst/'], { cwd: root, encoding: 'utf8' }) : await runCli([eng, ...args, 'src/', 'dst/'], { cwd: root });
        const code = 'status' in r ? r.status : r.code;
        // rsync's receiver, stopped by its generator's exit, sometimes says so as well (a race in its teardown).
        const stderr = r.stderr
          .replaceAll(root, 'ROOT')
          .replace(/^rsync error: received SIGUSR1 \(code 19\).*\n/gm, '')
          .replace(/^rsync error: (.*) at \S+ \[.*\]$/gm, 'arsync error: $1');
        out[tool] = { code, stdout: r.stdout, stderr, copied: fs.existsSync(path.join(root, 'dst/a/f')) };
      }
      const ctx = args.join(' ');
      expect(out['arsync'], ctx).toEqual(out['rsync']);
      expect(out['arsync']!.code, ctx).toBe(args.length === 2 ? 0 : 1);
    }
  });
});
