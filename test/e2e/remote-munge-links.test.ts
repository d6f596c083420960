// --munge-links between machines, each side its own half as in rsync 3.5 (the option is not sent to the
// server): a pull's client receives, so it writes every link target it is sent behind "/rsyncd-munged/"
// (staged munged, cli/pull-stage.ts, and taken as it is by the local half); a batch's reader likewise; a
// push's client sends, so it drops that prefix from the targets it reads (run/push-source.ts).
// Differential against rsync 3.5 as the client through the same fake remote shell and the same server:
// the same tree (symlink targets included), exit code and -i lines, fresh (the staged tree placed whole
// too), onto a destination already munged (nothing to do) or holding the targets as sent, with -v
// --safe-links (every munged target is absolute, so every link is ignored) and --copy-unsafe-links; and
// a listing of the far side's tree, which the client receives (so munged too).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show, type CliResult } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { put, stampTree } from '../helpers/differential.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { destPairs, itemLines, rsyncClient, stagingDirs, type RsyncResult } from '../helpers/remote-pull.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;
// CI installs strace (.ci/run): there the check that the tree was moved whole never goes unasserted.
if (process.env.CI && !hasStrace) throw new Error('strace is needed (apt-get install strace)');

let root: string;
let src: string;
let rsh: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rmunge-'));
  src = path.join(root, 'src');
  put(src, 'small.txt', 'small\n');
  put(src, 'd/inner', 'inner\n');
  fs.mkdirSync(path.join(src, 'dir'));
  put(root, 'outside', 'outside the tree\n');
  const link = (target: string, rel: string): void => fs.symlinkSync(target, path.join(src, rel));
  link('small.txt', 'ln');
  link('../small.txt', 'd/up');
  link('dir', 'dirlink');
  link('no/such', 'dangling');
  link(path.join(root, 'outside'), 'abs');
  // Already munged (a munging receiver wrote it): a sender unmunges it, a receiver munges it again.
  link('/rsyncd-munged/small.txt', 'pre');
  // The prefix alone is not unmunged (rsync drops it only from a longer target).
  link('/rsyncd-munged/', 'bare');
  stampTree(src);
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Every symlink under `dir` with its target, by relative name. */
function targets(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const n of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${n.name}` : n.name;
      if (n.isSymbolicLink()) out[r] = fs.readlinkSync(path.join(dir, r));
      else if (n.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

/** A plain copy of the source (targets as sent), what a pull without munging leaves. */
function plainCopy(to: string): void {
  const r = spawnSync('rsync', ['-a', `${src}/`, `${to}/`], { encoding: 'latin1' });
  if (r.status !== 0) throw new Error(r.stderr);
}

/** -v's lines as a set, without the figures and the destination's name (rsync's client prints them from two processes). */
const nameLines = (out: string): string[] => out.split('\n').filter((l) => l && !/^(sent |total size |receiving |building |sending |created directory )/.test(l)).sort();

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const tolerance = fidelity(e.name).nsTimes ? 0 : 1000;
  const pair = destPairs(() => root, e.name);
  const staging = stagingDirs(() => root, e.name, pair);

  const sameTrees = (): void => {
    expect(targets(pair.mine)).toEqual(targets(pair.theirs));
    expect(formatDiffs(compareTrees(pair.theirs, pair.mine, { mtimeToleranceNs: tolerance }))).toEqual([]);
  };
  const sameRun = (r: RsyncResult, ours: CliResult, code = 0): void => {
    expect(r.code, r.out + r.err).toBe(code);
    expect(ours.code, show(ours)).toBe(code);
    expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
  };
  /** rsync's pull and arsync's with `opts`, into the pair's destinations. */
  const pull = async (opts: string[], strace?: { calls: string; log: string }): Promise<{ r: RsyncResult; ours: CliResult }> => {
    const r = rsyncClient([...opts, '--munge-links', '-e', rsh, `host:${src}/`, `${pair.theirs}/`]);
    const ours = await runCli([eng, ...opts, '--munge-links', '-e', rsh, `host:${src}/`, `${pair.mine}/`], { env: { TMPDIR: staging.dir }, ...(strace ? { strace } : {}) });
    return { r, ours };
  };

  it('pull -ai into a new destination: every target munged, the -i lines show it', async () => {
    const { r, ours } = await pull(['-ai']);
    sameRun(r, ours);
    expect(ours.stdout).toContain('cL+++++++++ ln -> /rsyncd-munged/small.txt\n');
    expect(targets(pair.mine)).toMatchObject({ ln: '/rsyncd-munged/small.txt', pre: '/rsyncd-munged//rsyncd-munged/small.txt', bare: '/rsyncd-munged//rsyncd-munged/', 'd/up': '/rsyncd-munged/../small.txt' });
    sameTrees();
    expect(fs.readdirSync(staging.dir)).toEqual([]);
  });

  it('pull -a into a new destination (the staged tree placed whole): munged as rsync munges', async () => {
    const log = path.join(root, `strace-${e.name}-${pair.n}.log`);
    const { r, ours } = await pull(['-a'], hasStrace ? { calls: 'renameat2', log } : undefined);
    sameRun(r, ours);
    expect(fs.readlinkSync(path.join(pair.mine, 'ln'))).toBe('/rsyncd-munged/small.txt');
    sameTrees();
    expect(fs.readdirSync(staging.dir)).toEqual([]);
    // The shortcut was taken (cli/pull-place.ts): the staged tree itself renamed to the destination's name.
    if (hasStrace) expect(fs.readFileSync(log, 'latin1')).toContain(`, AT_FDCWD, "${pair.mine}", RENAME_NOREPLACE) = 0`);
  });

  it('pull -ai again onto what it made: the munged links are up to date, no line', async () => {
    await pull(['-a']);
    const log = path.join(root, `strace-${e.name}-${pair.n}.log`);
    const { r, ours } = await pull(['-ai'], hasStrace ? { calls: 'symlink,symlinkat', log } : undefined);
    sameRun(r, ours);
    expect(itemLines(ours.stdout)).toEqual([]);
    sameTrees();
    // Judged current from the list (cli/pull-current.ts): nothing staged, not one link made.
    if (hasStrace) expect(fs.readFileSync(log, 'latin1')).not.toMatch(/symlink/);
  });

  it('pull -ai onto the targets as sent: each link made again, munged', async () => {
    plainCopy(pair.theirs);
    plainCopy(pair.mine);
    const { r, ours } = await pull(['-ai']);
    sameRun(r, ours);
    expect(ours.stdout).toContain('cLc........ ln -> /rsyncd-munged/small.txt\n');
    sameTrees();
  });

  it('pull -v --safe-links: every munged target is absolute, every link ignored with its munged target', async () => {
    const { r, ours } = await pull(['-av', '--safe-links']);
    sameRun(r, ours);
    expect(nameLines(ours.stdout)).toEqual(nameLines(r.out));
    expect(ours.stdout).toContain('ignoring unsafe symlink "ln" -> "/rsyncd-munged/small.txt"\n');
    expect(targets(pair.mine)).toEqual({});
    sameTrees();
  });

  it('pull -ai --copy-unsafe-links: the sender follows the unsafe links, the safe ones come munged', async () => {
    const { r, ours } = await pull(['-ai', '--copy-unsafe-links']);
    // The dangling link and the two absolute ones that lead nowhere here: the sender's errors, exit 23.
    sameRun(r, ours, 23);
    expect(fs.readFileSync(path.join(pair.mine, 'abs'), 'latin1')).toBe('outside the tree\n');
    expect(fs.readlinkSync(path.join(pair.mine, 'd/up'))).toBe('/rsyncd-munged/../small.txt');
    sameTrees();
  });

  it('--read-batch: the batch\'s reader munges as a pull\'s client does', async () => {
    const batch = path.join(root, `batch-${e.name}`);
    const w = spawnSync('rsync', ['-a', '--no-i-r', `--only-write-batch=${batch}`, `${src}/`, path.join(root, `unwritten-${e.name}/`)], { encoding: 'latin1' });
    expect(w.status, w.stderr).toBe(0);
    const r = rsyncClient(['-ai', '--munge-links', `--read-batch=${batch}`, `${pair.theirs}/`]);
    const ours = await runCli([eng, '-ai', '--munge-links', `--read-batch=${batch}`, `${pair.mine}/`], { env: { TMPDIR: staging.dir } });
    sameRun(r, ours);
    expect(fs.readlinkSync(path.join(pair.mine, 'ln'))).toBe('/rsyncd-munged/small.txt');
    sameTrees();
  });

  it('a listing (`host:src/`, -a): the client receives the list, so it shows every target munged, the length as sent', async () => {
    const args = ['-a', '--munge-links', '-e', rsh, `host:${src}/`];
    const r = rsyncClient(args);
    const ours = await runCli([eng, ...args]);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(ours.stdout).toBe(r.out);
    expect(ours.stdout).toMatch(/ 9 \S+ \S+ ln -> \/rsyncd-munged\/small\.txt\n/);
  });

  it('push -ai: the client unmunges the targets it sends, the server writes them as sent', async () => {
    const args = ['-ai', '--stats', '--munge-links', '-e', rsh, `${src}/`];
    const r = rsyncClient([...args, `host:${pair.theirs}/`]);
    const ours = await runCli([eng, ...args, `host:${pair.mine}/`]);
    sameRun(r, ours);
    expect(ours.stdout).toContain('cL+++++++++ pre -> small.txt\n');
    // The length listed is the link's own (rsync's lstat), not the unmunged target's.
    const total = (out: string): string | undefined => out.split('\n').find((l) => l.startsWith('Total file size'));
    expect(total(ours.stdout)).toBe(total(r.out));
    expect(targets(pair.mine)).toMatchObject({ ln: 'small.txt', pre: 'small.txt', bare: '/rsyncd-munged/' });
    sameTrees();
  });
});
