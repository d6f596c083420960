// The remote listing, and a pull (`arsync -a host:src/ dst/`), over a real ssh connection to localhost (a throw-away sshd, test/helpers/sshd.ts),
// against the installed rsync 3.5 and, where their archives are here, rsync 3.1.3 and 3.2.7: the same
// lines and exit codes as rsync's own client over the same connection. Also $RSYNC_RSH and user@host.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { startSshd, sshdUnavailable, type Sshd } from '../helpers/sshd.js';
import { rsyncClient } from '../helpers/remote-pull.js';
import { sameForEveryEngine } from '../helpers/shared-case.js';
import { clone } from '../helpers/differential.js';

const unavailable = sshdUnavailable();
let sshd: Sshd;
let root: string;
let src: string;

beforeAll(async () => {
  if (unavailable) return;
  sshd = await startSshd({ shareConnection: true });
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rssh-'));
  src = path.join(root, 'src');
  fs.mkdirSync(path.join(src, 'd', 'sub'), { recursive: true });
  for (const n of ['a', 'b c', 'd/x', 'd/sub/y']) fs.writeFileSync(path.join(src, n), n.repeat(100));
  fs.symlinkSync('a', path.join(src, 'ln'));
  // Whole seconds, which a test that changes a file can put back exactly (a Date holds milliseconds).
  for (const n of ['a', 'b c', 'd/x', 'd/sub/y', 'd/sub', 'd', '.']) fs.utimesSync(path.join(src, n), 1_600_000_000, 1_600_000_000);
  // The symlink's too: rsync 3.1.3's receiver compares times in whole seconds before it sets one, so a
  // link it makes within the second the source's was made keeps its own time, nanoseconds and all (a
  // run within that second then differs from one just after it: a flaky tree comparison).
  fs.lutimesSync(path.join(src, 'ln'), 1_600_000_000, 1_600_000_000);
}, 60_000);

afterAll(() => {
  if (unavailable) return;
  sshd.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

const steady = (s: string): string =>
  s
    .replace(/ [\d,.]+[KMG]? bytes\/sec$/m, ' … bytes/sec')
    // The server times its own file list: two servers, two figures.
    .replace(/^(File list (generation|transfer) time:) [\d.]+ seconds$/gm, '$1 … seconds');

// rsync's own client runs once per case, under the first engine: the source, the far side and the options
// are the same under every engine (test/helpers/shared-case.ts), and each test leaves the source as it
// found it, times included.
describeEngines((e) => {
  it.skipIf(unavailable !== null)('lists over ssh like rsync', async () => {
    for (const opts of [['-av'], ['-a', '--stats']]) {
      const theirs = sameForEveryEngine(opts, () => rsyncClient([...opts, '-e', sshd.rsh, `127.0.0.1:${src}/`]));
      const ours = await runCli([`--engine=${e.name}`, ...opts, '-e', sshd.rsh, `127.0.0.1:${src}/`]);
      expect(ours.code, show(ours)).toBe(0);
      expect(theirs.code).toBe(0);
      expect(steady(ours.stdout)).toBe(steady(theirs.out));
    }
  });

  it.skipIf(unavailable !== null)('takes the remote shell from $RSYNC_RSH and the user from user@host', async () => {
    const user = os.userInfo().username;
    const env = { ...process.env, RSYNC_RSH: sshd.rsh };
    const theirs = sameForEveryEngine(user, () => rsyncClient(['-r', `${user}@127.0.0.1:${src}/`], { env }));
    const ours = await runCli([`--engine=${e.name}`, '-r', `${user}@127.0.0.1:${src}/`], { env: { RSYNC_RSH: sshd.rsh } });
    expect(ours.code, show(ours)).toBe(0);
    expect(ours.stdout).toBe(theirs.out);
  });

  it.skipIf(unavailable !== null || !peersAvailable).each(['3.1.3', '3.2.7'])('lists over ssh against rsync %s', async (version) => {
    const peer = peerRsync(version);
    const theirs = sameForEveryEngine(version, () => rsyncClient(['-av', '-e', sshd.rsh, `--rsync-path=${peer}`, `127.0.0.1:${src}/`]));
    const ours = await runCli([`--engine=${e.name}`, '-av', '-e', sshd.rsh, `--rsync-path=${peer}`, `127.0.0.1:${src}/`]);
    expect(ours.code, show(ours)).toBe(0);
    expect(steady(ours.stdout)).toBe(steady(theirs.out));
  });

  it.skipIf(unavailable !== null || !peersAvailable).each(['3.1.3', '3.2.7'])('pushes over ssh like rsync to an rsync %s server', async (version) => {
    const peer = peerRsync(version);
    const mine = path.join(root, `push-mine-${e.name}-${version}`);
    const args = (dst: string): string[] => ['-ai', '-e', sshd.rsh, `--rsync-path=${peer}`, `${src}/`, `127.0.0.1:${dst}/`];
    const { r, theirs } = sameForEveryEngine(version, () => {
      const theirs = path.join(root, `push-theirs-${version}`);
      return { r: rsyncClient(args(theirs)), theirs };
    });
    const ours = await runCli([`--engine=${e.name}`, ...args(mine)]);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(r.code, r.err).toBe(0);
    expect(ours.stdout.replaceAll(mine, 'DST')).toBe(r.out.replaceAll(theirs, 'DST'));
    // Directory times: each client made the roots at its own time; the node engine keeps microseconds.
    expect(formatDiffs(compareTrees(theirs, mine, { xattrs: false, acls: false, rootMeta: false, mtimeToleranceNs: e.name === 'node' ? 1000 : 0 }))).toEqual([]);
  });

  it.skipIf(unavailable !== null)('pushes over ssh like rsync, then a small change as a delta', async () => {
    // rsync's destination is the first engine's, and so is its name in rsync's output.
    const theirsDir = path.join(root, 'push-theirs');
    const oursDir = path.join(root, `push-ours-${e.name}`);
    const push = async (opts: string[]): Promise<void> => {
      const theirs = sameForEveryEngine(opts, () => rsyncClient([...opts, '-e', sshd.rsh, `${src}/`, `127.0.0.1:${theirsDir}/`]));
      const ours = await runCli([`--engine=${e.name}`, ...opts, '-e', sshd.rsh, `${src}/`, `127.0.0.1:${oursDir}/`]);
      expect(ours.code, show(ours)).toBe(0);
      expect(theirs.code).toBe(0);
      const lines = (s: string): string => s.replace(new RegExp(`${theirsDir}|${oursDir}`, 'g'), 'DST').split('\n').filter((l) => !/^(sent|total size|File list|Total bytes)/.test(l)).join('\n');
      expect(lines(ours.stdout)).toBe(lines(theirs.out));
    };
    await push(['-ai']);
    expect(fs.readFileSync(path.join(oursDir, 'd', 'sub', 'y'), 'utf8')).toBe('d/sub/y'.repeat(100));
    const a = path.join(src, 'a');
    const saved = fs.readFileSync(a);
    const was = fs.statSync(a);
    try {
      // The changed file's time is put back too, as the other engines' runs and rsync's shared ones expect it.
      fs.writeFileSync(a, Buffer.concat([saved, Buffer.from('more')]));
      fs.utimesSync(a, was.atime, new Date(was.mtimeMs + 1000));
      await push(['-ai', '--stats', '-B', '100']);
      expect(fs.readFileSync(path.join(oursDir, 'a')).equals(fs.readFileSync(a))).toBe(true);
    } finally {
      fs.writeFileSync(a, saved);
      fs.utimesSync(a, was.atime, was.mtime);
    }
  });

  it.skipIf(unavailable !== null).each(['rsync', ...(peersAvailable ? ['3.1.3', '3.2.7'] : [])])('pulls over ssh like rsync (server %s)', async (version) => {
    const peer = version === 'rsync' ? 'rsync' : peerRsync(version);
    const theirsDir = path.join(root, `theirs-${version}`);
    const mine = path.join(root, `mine-${e.name}-${version}`);
    for (const opts of [['-ai'], ['-ai', '--delete', '-c']]) {
      // rsync's tree after each step is kept in a copy of its own for the other engines' comparisons.
      const { r, theirs } = sameForEveryEngine(opts, () => {
        const r = rsyncClient([...opts, '-e', sshd.rsh, `--rsync-path=${peer}`, `127.0.0.1:${src}/`, `${theirsDir}/`]);
        const theirs = `${theirsDir}-after-${opts.length}`;
        clone(theirsDir, theirs);
        return { r, theirs };
      });
      const ours = await runCli([`--engine=${e.name}`, ...opts, '-e', sshd.rsh, `--rsync-path=${peer}`, `127.0.0.1:${src}/`, `${mine}/`]);
      expect(ours.code, show(ours)).toBe(r.code);
      expect(r.code).toBe(0);
      const lines = (out: string): string[] => out.split('\n').filter((l) => /^[>c.h][fdL]/.test(l)).sort();
      expect(lines(ours.stdout)).toEqual(lines(r.out));
      // Directory times: each client made the roots at its own time; the node engine keeps microseconds.
      expect(formatDiffs(compareTrees(theirs, mine, { xattrs: false, acls: false, rootMeta: false, mtimeToleranceNs: e.name === 'node' ? 1000 : 0 }))).toEqual([]);
    }
  });

  it.skipIf(unavailable !== null)('exits 255 as rsync does when ssh cannot connect', async () => {
    const closed = sshd.rsh.replace(/-p \d+/, '-p 1');
    const theirs = sameForEveryEngine('closed', () => rsyncClient(['-e', closed, `127.0.0.1:${src}/`]));
    const ours = await runCli([`--engine=${e.name}`, '-e', closed, `127.0.0.1:${src}/`]);
    // rsync itself races here: 255 when it reaps ssh first, 12 when it sees the closed pipe first.
    expect([12, 255]).toContain(theirs.code);
    expect(ours.code, show(ours)).toBe(255);
    expect(ours.stderr).toMatch(/Connection refused/);
    expect(ours.stderr).toMatch(/connection unexpectedly closed \(0 bytes received so far\) \[Receiver\]/);
  });
});
