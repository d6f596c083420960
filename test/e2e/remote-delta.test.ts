// Delta transfers both ways through a remote shell, differential against rsync as the client: the same
// changed files pushed to and pulled from rsync 3.5 (and 3.2.7, 3.1.3 where built) as the far side, with
// the strong sums each negotiates or --checksum-choice names, must leave the same bytes and report the
// same --stats "Literal data" and "Matched data" as rsync's own client. The files are the search's hard
// cases: sizes that are not a multiple of the block length (a last short block), changes at the very
// start and end, a file made of one repeated block, a basis larger than the new file, a file shorter
// than a block, reordered blocks. On the native engines the push searches in C (native/deltamatch.c),
// on the node engine in TypeScript (remote/match.ts).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bytes as random } from '../helpers/differential.js';
import { describeEngines } from '../helpers/e2e.js';
import { sameForEveryEngine } from '../helpers/shared-case.js';
import { runCli, show } from '../helpers/cli.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { fakeRsh } from '../helpers/fake-rsh.js';

let root: string;
let src: string;
let basis: string;
let rsh: string;
let n = 0;

/** Each file as the destination has it (the basis) and as the source has it now. */
function makeFiles(): void {
  const put = (name: string, old: Buffer, now: Buffer): void => {
    fs.writeFileSync(path.join(basis, name), old);
    fs.writeFileSync(path.join(src, name), now);
  };
  const big = random(300_001, 1);
  const edited = Buffer.from(big);
  for (const at of [17_000, 90_000, 150_500, 222_222, 280_000]) random(300, at).copy(edited, at);
  put('odd-size', big, edited);
  put('start', big, Buffer.concat([random(100, 2), big.subarray(100)]));
  put('end', big, Buffer.concat([big.subarray(0, big.length - 100), random(100, 3)]));
  const block = random(700, 4);
  const repeated = Buffer.concat(Array.from({ length: 300 }, () => block));
  put('repeated', repeated, Buffer.concat([repeated.subarray(0, 100_000), random(50, 5), repeated.subarray(99_000), block.subarray(0, 333)]));
  put('basis-larger', big, big.subarray(50_001, 150_000));
  put('shorter-than-a-block', big, big.subarray(1000, 1500));
  put('exact-blocks', random(700 * 700, 6), Buffer.concat([random(700 * 700, 6).subarray(0, 700 * 400), random(700, 7), random(700 * 700, 6).subarray(700 * 401)]));
  const parts = Array.from({ length: 40 }, (_, i) => big.subarray(i * 7000, (i + 1) * 7000));
  put('reordered', big, Buffer.concat([...parts.slice(20), random(10, 8), ...parts.slice(0, 20)]));
  // In place, blocks of zeros found ahead of their own offset: rsync moves the match on to it.
  put('zeros', Buffer.concat([random(3000, 9), Buffer.alloc(700 * 8), random(2000, 10)]), Buffer.concat([random(2500, 9), Buffer.alloc(700 * 9), random(2000, 10)]));
  const t = 1_600_000_000;
  for (const f of fs.readdirSync(src)) fs.utimesSync(path.join(src, f), t, t);
  for (const f of fs.readdirSync(basis)) fs.utimesSync(path.join(basis, f), t - 100, t - 100);
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rdelta-'));
  src = path.join(root, 'src');
  basis = path.join(root, 'basis');
  fs.mkdirSync(src);
  fs.mkdirSync(basis);
  makeFiles();
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A fresh destination holding the old files. */
function seeded(): string {
  const d = path.join(root, `dst-${++n}`);
  fs.cpSync(basis, d, { recursive: true, preserveTimestamps: true });
  return d;
}

const figures = (out: string): string[] => out.split('\n').filter((l) => /^(Literal|Matched) data:/.test(l));

function sameFiles(dst: string): void {
  for (const f of fs.readdirSync(src)) expect(fs.readFileSync(path.join(dst, f)).equals(fs.readFileSync(path.join(src, f))), f).toBe(true);
}

interface Setup {
  peer: string;
  opts: string[];
}

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const setups: [string, Setup][] = [
    ['rsync 3.5', { peer: 'rsync', opts: [] }],
    ['rsync 3.5, md5', { peer: 'rsync', opts: ['--checksum-choice=md5'] }],
    ['rsync 3.5, -B 1000', { peer: 'rsync', opts: ['-B', '1000'] }],
  ];
  // The xxhash family comes with the addon: the node engine offers md5 alone.
  if (e.name !== 'node') {
    setups.push(['rsync 3.5, xxh3', { peer: 'rsync', opts: ['--checksum-choice=xxh3'] }], ['rsync 3.5, xxh64', { peer: 'rsync', opts: ['--checksum-choice=xxh64'] }]);
  }
  if (peersAvailable) {
    // The 3.2.7 built here has no xxhash (its list: md5 md4 none): md5, as with 3.1.3.
    setups.push(['rsync 3.2.7', { peer: '3.2.7', opts: [] }], ['rsync 3.1.3', { peer: '3.1.3', opts: [] }]);
  }

  /**
   * rsync's client, then arsync, each onto a fresh copy of the basis: both exit 0, both end with the new
   * files, and both report the same Literal/Matched figures. rsync's run depends on the files, the far
   * side and the options only: the first engine's serves the same test under the others
   * (test/helpers/shared-case.ts).
   */
  async function both(args: (dst: string) => string[]): Promise<{ ours: Awaited<ReturnType<typeof runCli>> }> {
    const theirFigures = sameForEveryEngine(args('DST'), () => {
      const theirs = seeded();
      const r = spawnSync('rsync', args(theirs), { encoding: 'latin1' });
      expect(r.status, String(r.stderr)).toBe(0);
      sameFiles(theirs);
      return figures(String(r.stdout));
    });
    const mine = seeded();
    const ours = await runCli([eng, ...args(mine)]);
    expect(ours.code, show(ours)).toBe(0);
    sameFiles(mine);
    expect(figures(ours.stdout)).toEqual(theirFigures);
    return { ours };
  }

  for (const dir of ['push', 'pull'] as const) {
    it.each(setups)(`${dir}: the same bytes and Literal/Matched data as rsync's client, far side %s`, async (_, s) => {
      const far = s.peer === 'rsync' ? [] : [`--rsync-path=${peerRsync(s.peer)}`];
      const args = (dst: string): string[] => ['-a', '--stats', ...s.opts, ...far, '-e', rsh, ...(dir === 'push' ? [`${src}/`, `host:${dst}/`] : [`host:${src}/`, `${dst}/`])];
      const { ours } = await both(args);
      const matched = Number(/^Matched data: ([\d,]+)/m.exec(ours.stdout)![1]!.replace(/,/g, ''));
      expect(matched).toBeGreaterThan(1_000_000);
    });
  }

  it.each([
    ['--inplace', ['--inplace']],
    ['-z', ['-z']],
  ])("push %s: the same bytes and Literal/Matched data as rsync's client", async (_, opts) => {
    const args = (dst: string): string[] => ['-a', '--stats', ...opts, '-e', rsh, `${src}/`, `host:${dst}/`];
    await both(args);
  });
});
