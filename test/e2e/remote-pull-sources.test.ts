// Several remote sources in one pull (`arsync [options] host:a host:b dst/`, or `host:a :b dst/`): the
// far side's sender lists them all in one file list, as for rsync's client. Differential against rsync
// 3.5 as the client through the same fake remote shell and server: the same tree, exit code and -i
// lines; rsync's usage errors (a local one among them, another machine, a daemon's) before anything
// starts; the older servers, which take several paths as well; and the pulling client's --log-file.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { destPairs, itemLines, rsyncClient, type RsyncResult } from '../helpers/remote-pull.js';
import { sameForEveryEngine } from '../helpers/shared-case.js';

let root: string;
let src: string;
let rsh: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rpullsrc-'));
  src = path.join(root, 'src');
  const w = (rel: string, data: string): void => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), data);
  };
  w('a', 'a');
  w('big', 'b'.repeat(100_000));
  w('d/x', 'x');
  w('d/sub/y', 'y');
  w('e/z', 'z');
  w('e/x', 'another x');
  fs.symlinkSync('a', path.join(src, 'ln'));
  execFileSync('touch', ['-h', '-d', '2020-02-02 02:02:02', ...['a', 'big', 'd/x', 'd/sub/y', 'e/z', 'e/x', 'ln', 'd/sub', 'd', 'e', '.'].map((r) => path.join(src, r))]);
  rsh = path.join(root, 'rsh');
  // The far side: drop the host, run the command in the source's directory (a relative path is there).
  fs.writeFileSync(rsh, `#!/bin/sh\nshift\ncd ${src} && exec sh -c "$*"\n`, { mode: 0o755 });
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** rsync's closing lines name its source file and version; arsync's do not. */
const errs = (x: string, dst: string): string =>
  x
    .split(dst)
    .join('DST')
    .replace(/^a?rsync(?= error|:)/gm, 'X')
    .replace(/ at \S+\(\d+\)/g, '')
    .replace(/ *\[(Receiver|client|generator)=[^\]]*\]$/gm, '')
    .replace(/ +$/gm, '');

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const tolerance = fidelity(e.name).nsTimes ? 0 : 1000;
  const pair = destPairs(() => root, e.name);

  /**
   * rsync's client on a case into its own destination (made ready by `prepare`): it depends on the source,
   * the far side and the arguments only, so the first engine's run serves the same test under the others
   * (test/helpers/shared-case.ts). Returns its result and that destination.
   */
  const theirs = (args: (dst: string) => string[], prepare?: (dst: string) => void): RsyncResult & { dst: string } =>
    sameForEveryEngine(args('DST'), () => {
      const dst = pair.theirs;
      prepare?.(dst);
      return { ...rsyncClient(args(dst)), dst };
    });

  const cases: [string[], (s: string) => string[]][] = [
    [['-ai'], (s) => [`host:${s}/a`, `host:${s}/d`, `host:${s}/big`]],
    [['-ai'], (s) => [`host:${s}/a`, `:${s}/d/`, `:${s}/e/`]],
    [['-i'], (s) => [`host:${s}/a`, `:${s}/d`, `:${s}/big`]],
    [['-ai', '--delete'], (s) => [`host:${s}/d/`, `:${s}/e/`]],
    [['-aiR'], (s) => [`host:${s}/./d/x`, `:${s}/./e`]],
    [['-ai'], () => ['host:a', ':e', 'host:d/sub']],
    [['-ai'], (s) => [`host:${s}/a`, `:${s}/nonexistent`, `:${s}/e`]],
  ];
  it.each(cases.map(([o, s], i) => [i, o, s] as const))('pulls several sources like rsync (case %i: %j)', async (_i, opts, sources) => {
    const seed = (d: string): void => {
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'extra'), 'extra');
      fs.utimesSync(path.join(d, 'extra'), 1_400_000_000, 1_400_000_000);
      fs.utimesSync(d, 1_400_000_000, 1_400_000_000);
    };
    const r = theirs((dst) => [...opts, '-e', rsh, ...sources(src), `${dst}/`], seed);
    seed(pair.mine);
    const ours = await runCli([eng, ...opts, '-e', rsh, ...sources(src), `${pair.mine}/`]);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
    expect(itemLines(ours.stdout).length).toBeGreaterThan(1);
    expect(errs(ours.stderr, pair.mine)).toBe(errs(r.err, r.dst));
    // Without -t each client gives its files its own time.
    const times = opts.some((o) => /^-[^-]*[at]/.test(o));
    expect(formatDiffs(compareTrees(r.dst, pair.mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false, rootMeta: false, times }))).toEqual([]);
    expect(fs.existsSync(path.join(pair.mine, 'extra'))).toBe(!opts.includes('--delete'));
  });

  it('pulls two files into a new directory, and one listed twice once', async () => {
    const r = theirs((dst) => ['-a', '-e', rsh, `host:${src}/a`, `host:${src}/big`, `host:${src}/a`, dst]);
    const ours = await runCli([eng, '-a', '-e', rsh, `host:${src}/a`, `host:${src}/big`, `host:${src}/a`, pair.mine]);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(fs.readdirSync(pair.mine).sort()).toEqual(['a', 'big']);
    expect(fs.readFileSync(path.join(pair.mine, 'big'), 'latin1')).toBe('b'.repeat(100_000));
    expect(formatDiffs(compareTrees(r.dst, pair.mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false, rootMeta: false }))).toEqual([]);
  });

  it.each([
    [['host:a', 'b'], 'Unexpected local arg: b\nIf arg is a remote file/dir, prefix it with a colon (:).'],
    [['host:a', 'other:b'], 'All source args must come from the same machine.'],
    [['host:a', 'host::mod/b'], 'All source args must use the same hostspec format.'],
  ])('refuses %j before anything starts, as rsync', async (sources, message) => {
    const r = theirs((dst) => ['-a', '-e', rsh, ...sources, `${dst}/`]);
    const ours = await runCli([eng, '-a', '-e', rsh, ...sources, `${pair.mine}/`]);
    expect(r.code).toBe(1);
    expect(ours.code, show(ours)).toBe(1);
    expect(r.err).toContain(message);
    expect(ours.stderr).toContain(message);
    expect(fs.existsSync(pair.mine)).toBe(false);
  });

  it.each([[['-a']], [['-ai', '--delete']], [['-av']], [['-a', '--stats']], [['-an']]])('logs a pull of several sources as rsync logs it: %j', async (opts) => {
    const seed = (d: string): void => {
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'gone'), 'gone');
    };
    const sources = [`host:${src}/a`, `:${src}/d`, `:${src}/big`];
    const r = theirs((dst) => [...opts, `--log-file=${dst}.log`, '-e', rsh, ...sources, `${dst}/`], seed);
    seed(pair.mine);
    const logs = { ours: `${pair.mine}.log`, theirs: `${r.dst}.log` };
    const ours = await runCli([eng, ...opts, `--log-file=${logs.ours}`, '-e', rsh, ...sources, `${pair.mine}/`]);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(r.code).toBe(0);
    const lines = (file: string): string[] =>
      fs
        .readFileSync(file, 'latin1')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          expect(l).toMatch(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[\d+\] /);
          return l
            .replace(/^\S+ \S+ \[\d+\] /, '')
            .replace(/^sent [\d,]+ bytes {2}received [\d,]+ bytes.*?(total size \d+)?$/, 'sent … received … $1')
            .replace(/^(File list size|File list (generation|transfer) time|Total bytes (sent|received)):.*$/, '$1: …')
            .replace(/speedup is .*/, 'speedup is …');
        });
    const got = lines(logs.ours);
    expect(got).toEqual(lines(logs.theirs));
    expect(got[0]).toBe('receiving file list');
    if (!opts.includes('-an')) expect(got).toContain('>f+++++++++ d/x');
  });

  it.skipIf(!peersAvailable).each(['3.1.3', '3.2.7'])('pulls several sources like rsync from an rsync %s server', async (version) => {
    const peer = peerRsync(version);
    const sources = [`host:${src}/a`, `:${src}/d`, `host:${src}/e/`];
    const r = theirs((dst) => ['-ai', '-e', rsh, `--rsync-path=${peer}`, ...sources, `${dst}/`]);
    const ours = await runCli([eng, '-ai', '-e', rsh, `--rsync-path=${peer}`, ...sources, `${pair.mine}/`]);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(r.code).toBe(0);
    expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
    expect(formatDiffs(compareTrees(r.dst, pair.mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false, rootMeta: false }))).toEqual([]);
  });
});
