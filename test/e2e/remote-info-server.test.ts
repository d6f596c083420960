// --info levels the user names reach the far side of a push or a pull as rsync's client sends them
// (its server_options: make_output_option over the words the server acts on), so the lines the server
// prints itself come back as they do to rsync's client: --ignore-existing's and -u's skip lines, the
// backups' lines, the unchanged names of name2 from a receiving server, "sender removed" from a sending
// one. Differential against rsync 3.5 as the client, same remote shell and server, every engine;
// stdout compared as sorted lines (the server's lines and the client's interleave by timing).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli } from '../helpers/cli.js';
import { fakeRsh } from '../helpers/fake-rsh.js';

let root: string;
let rsh: string;
let n = 0;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rinfo-'));
  rsh = fakeRsh(root);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const T = 1_600_000_000;

/** src: a, b, d/c; dst: a the same, b older and different, d/c newer. */
function setup(dir: string): void {
  const put = (rel: string, data: string, t: number): void => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), data);
    fs.utimesSync(path.join(dir, rel), t, t);
  };
  put('src/a', 'a\n', T);
  put('src/b', 'new b\n', T + 100);
  put('src/d/c', 'c\n', T);
  put('dst/a', 'a\n', T);
  put('dst/b', 'old\n', T);
  put('dst/d/c', 'newer c\n', T + 500);
  for (const d of ['src', 'src/d', 'dst', 'dst/d']) fs.utimesSync(path.join(dir, d), T, T);
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l && !/^(sent|total size|sending|receiving|building)/.test(l)).sort();

describeEngines((e) => {
  it.each([
    ['push', ['-a', '--info=skip2', '--ignore-existing']],
    ['push', ['-a', '--info=skip2', '-u']],
    ['push', ['-a', '--info=backup', '-b', '--backup-dir=bk']],
    ['push', ['-a', '--info=name2']],
    ['pull', ['-a', '--info=remove', '--remove-source-files']],
    ['pull', ['-a', '--info=name2,skip2', '-u']],
  ] as const)('%s %j: the far side\'s lines as rsync\'s client gets them', async (way, opts) => {
    const out: Record<string, { code: number | null; lines: string[] }> = {};
    for (const tool of ['rsync', 'arsync'] as const) {
      const dir = path.join(root, `case-${n++}`);
      setup(dir);
      const ops = way === 'push' ? ['src/', `h:${dir}/dst/`] : [`h:${dir}/src/`, 'dst/'];
      const argv = ['-e', rsh, ...opts, ...ops];
      const r = tool === 'rsync' ? spawnSync('rsync', argv, { cwd: dir, encoding: 'utf8' }) : await runCli([`--engine=${e.name}`, ...argv], { cwd: dir });
      out[tool] = { code: 'status' in r ? r.status : r.code, lines: lines(r.stdout.replaceAll(dir, 'DIR')) };
    }
    expect(out['arsync']).toEqual(out['rsync']);
    // Each case has lines only the server prints, so the comparison is not of two empty outputs.
    expect(out['arsync']!.lines.length, JSON.stringify(out)).toBeGreaterThan(0);
  });

  it.each([['--info=stats1'], ['--info=stats2'], ['-q', '--stats']])('push %j: the summary and statistics lines rsync\'s client prints (their figures aside)', async (...opts) => {
    const out: Record<string, { code: number | null; labels: string[] }> = {};
    for (const tool of ['rsync', 'arsync'] as const) {
      const dir = path.join(root, `case-${n++}`);
      setup(dir);
      const argv = ['-e', rsh, '-a', ...opts, 'src/', `h:${dir}/dst/`];
      const r = tool === 'rsync' ? spawnSync('rsync', argv, { cwd: dir, encoding: 'utf8' }) : await runCli([`--engine=${e.name}`, ...argv], { cwd: dir });
      // Each line's words without its figures: the byte counts of the two clients' streams differ (README).
      out[tool] = { code: 'status' in r ? r.status : r.code, labels: r.stdout.split('\n').map((l) => l.replace(/[\d.,]+/g, 'N')) };
    }
    expect(out['arsync']).toEqual(out['rsync']);
  });
});
