// Protocol 30 between machines (`--protocol=30`, what an rsync 3.0.x server speaks): a pull, a push and a
// listing against the installed rsync 3.5 and, where built, 3.1.3 and 3.2.7, each differential against
// rsync as the client with the same --protocol=30: the same tree, exit code, -i lines and --stats counts.
// The byte figures are left out ("Total bytes", and a push's "File list size", which rsync's client
// reports as 0 at this protocol): each side's framing differs. Before protocol 31 the sender reads the
// goodbye and leaves without answering it, and --stats has no "Number of deleted files" line.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { rsyncClient } from '../helpers/remote-pull.js';

let root: string;
let src: string;
let rsh: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-proto30-'));
  src = path.join(root, 'src');
  const w = (rel: string, data: string | Buffer): void => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), data);
  };
  w('a', 'a');
  w('d/b', 'b');
  w('big', Buffer.alloc(200_000, 3));
  fs.symlinkSync('a', path.join(src, 'ln'));
  // Times in the past, whole seconds (rsync leaves a directory made in the same second as its source's
  // time with the time of its making, and protocol 30's list has no nanoseconds).
  for (const f of ['a', 'd/b', 'big', 'd', '.']) fs.utimesSync(path.join(src, f), 1_500_000_000, 1_500_000_000);
  fs.lutimesSync(path.join(src, 'ln'), 1_500_000_000, 1_500_000_000);
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The lines both clients print alike: sorted (rsync's client prints from two processes), no rates or byte figures. */
const steady = (out: string, dst: string): string[] =>
  (dst ? out.replaceAll(dst, 'DST') : out)
    .split('\n')
    .filter((l) => l !== '' && !/^(sent |Total bytes|File list size|File list generation|File list transfer|total size is)/.test(l))
    .sort();

/** An old destination: a changed file (a delta), an extra one (--delete). */
function seed(dst: string): void {
  fs.mkdirSync(path.join(dst, 'd'), { recursive: true });
  const big = Buffer.alloc(200_000, 3);
  big.write('changed', 100_000);
  fs.writeFileSync(path.join(dst, 'big'), big);
  fs.writeFileSync(path.join(dst, 'extra'), 'x');
  // Older than the source, in whole seconds (protocol 30's list has no nanoseconds).
  for (const f of ['big', 'extra', 'd', '.']) fs.utimesSync(path.join(dst, f), 1_400_000_000, 1_400_000_000);
}

describeEngines((e) => {
  let n = 0;
  const servers = ['3.5', ...(peersAvailable ? ['3.1.3', '3.2.7'] : [])];

  it.each(servers)('pulls, pushes and lists at protocol 30 like rsync, against an rsync %s server', async (version) => {
    const peer = version === '3.5' ? [] : [`--rsync-path=${peerRsync(version)}`];
    for (const opts of [['-ai', '--stats'], ['-ai', '--delete', '--stats']]) {
      for (const dir of ['pull', 'push'] as const) {
        n++;
        const theirs = path.join(root, `theirs-${e.name}-${n}`);
        const mine = path.join(root, `mine-${e.name}-${n}`);
        seed(theirs);
        seed(mine);
        const args = (dst: string): string[] => [...opts, '--protocol=30', ...peer, '-e', rsh, ...(dir === 'pull' ? [`host:${src}/`, `${dst}/`] : [`${src}/`, `host:${dst}/`])];
        const r = rsyncClient(args(theirs));
        const ours = await runCli([`--engine=${e.name}`, ...args(mine)]);
        const what = `${dir} ${opts.join(' ')}`;
        expect(r.code, `${what}: ${r.err}`).toBe(0);
        expect(ours.code, `${what}: ${show(ours)}`).toBe(0);
        expect(steady(ours.stdout, mine), what).toEqual(steady(r.out, theirs));
        expect(ours.stdout, what).not.toMatch(/^Number of deleted files/m);
        expect(ours.stdout, what).toMatch(/^Matched data: [1-9]/m);
        expect(formatDiffs(compareTrees(theirs, mine, { xattrs: false, acls: false, mtimeToleranceNs: e.name === 'node' ? 1000 : 0 })), what).toEqual([]);
      }
    }
    const list = (client: string[]): string[] => [...client, '-a', '--stats', '--protocol=30', ...peer, '-e', rsh, `host:${src}/`];
    const r = rsyncClient(list([]));
    const ours = await runCli(list([`--engine=${e.name}`]));
    expect(ours.code, show(ours)).toBe(r.code);
    expect(steady(ours.stdout, ''), 'listing').toEqual(steady(r.out, ''));
  });

  it('refuses an older protocol between machines, before anything starts (exit 1)', async () => {
    const ours = await runCli([`--engine=${e.name}`, '-a', '--protocol=29', '-e', rsh, `host:${src}/`, path.join(root, `never-${e.name}`)]);
    expect(ours.code, show(ours)).toBe(1);
    expect(ours.stderr).toMatch(/--protocol=29: arsync speaks older protocols on a local copy only \(to another machine: 30 to 32\)/);
    expect(fs.existsSync(path.join(root, `never-${e.name}`))).toBe(false);
  });
});
