// Listing a directory on another machine (`arsync host:path`, rsync's implicit --list-only), through a
// remote shell, against the rsync installed on the far side: the installed rsync 3.5 and, where the
// source archives are here, rsync 3.1.3 and 3.2.7 (scripts/build-peers.sh). Differential: rsync as the
// client with the same options, the same remote shell and the same server must print the same lines
// and exit with the same code. The remote shell is a script that drops the host name and runs the
// server command locally, as ssh would on the far side (test/e2e/remote-ssh.test.ts uses real sshd).
// A listing goes through no engine; it runs under each engine's name all the same (--engine is
// accepted and changes nothing), as every e2e test does. Several sources (`--list-only host:a :b`) are
// one listing, as rsync's client makes it.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { rsyncClient } from '../helpers/remote-pull.js';
import { sameForEveryEngine } from '../helpers/shared-case.js';

let root: string;
let src: string;
let rsh: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rlist-'));
  src = path.join(root, 'src');
  const w = (rel: string, data = rel): void => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), data);
  };
  for (const n of ['a', 'a.b', 'b c', 'd/x', 'd/sub/y', 'e/z', 'weird\nname', 'big']) w(n);
  fs.writeFileSync(path.join(src, 'big'), Buffer.alloc(123_456_789 % 2_000_000));
  fs.symlinkSync('a', path.join(src, 'ln'));
  fs.linkSync(path.join(src, 'a'), path.join(src, 'd', 'hard-a'));
  execFileSync('mkfifo', [path.join(src, 'fifo')]);
  fs.chownSync(path.join(src, 'a.b'), 65534, 65534);
  fs.chmodSync(path.join(src, 'e'), 0o2750);
  // The far side: drop the host, run what rsync asked for (ssh gives the words to the remote shell too).
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The rate depends on when the clock ticks, the list's times on the server's clock: compared loosely. */
const steady = (s: string): string =>
  s
    .replace(/ [\d,.]+[KMG]? bytes\/sec$/m, ' … bytes/sec')
    // The server times its own file list: two servers, two figures.
    .replace(/^(File list (generation|transfer) time:) [\d.]+ seconds$/gm, '$1 … seconds');

const CASES: string[][] = [
  [],
  ['-r'],
  ['-a'],
  ['-av'],
  ['-aH', '--stats'],
  ['-rlpt', '--numeric-ids', '-h'],
  ['-a', '--no-h'],
  ['-a', '-8'],
];

// rsync's own client runs once per case, under the first engine (test/helpers/shared-case.ts): the source
// and the far side are the same under every engine, and no test changes them.
describeEngines((e) => {
  const target = () => `host:${src}/`;

  it.each(CASES)('lists like rsync: %j', async (...opts) => {
    const theirs = sameForEveryEngine(opts, () => rsyncClient([...opts, '-e', rsh, target()]));
    const ours = await runCli([`--engine=${e.name}`, ...opts, '-e', rsh, target()]);
    expect(ours.code, show(ours)).toBe(theirs.code);
    expect(steady(ours.stdout)).toBe(steady(theirs.out));
    expect(theirs.code).toBe(0);
  });

  it('lists a single file, and an operand with a space, as rsync', async () => {
    for (const p of [`${src}/a`, `${src}/b c`]) {
      const theirs = sameForEveryEngine(p, () => rsyncClient(['-a', '-e', rsh, `host:${p}`]));
      const ours = await runCli([`--engine=${e.name}`, '-a', '-e', rsh, `host:${p}`]);
      expect(ours.stdout).toBe(theirs.out);
      expect(ours.code).toBe(0);
    }
  });

  it('--list-only of several remote sources (`host:a :b`, the last one no destination) as rsync; two hosts\' paths its bare usage error', async () => {
    const cases = [
      ['--list-only', '-e', rsh, `host:${src}/a`, `:${src}/d`],
      ['--list-only', '-r', '-e', rsh, `host:${src}/a`, `:${src}/d`, `:${src}/e`],
      ['--list-only', '--delete-missing-args', '-e', rsh, `host:${src}/a`, `:${src}/nothere`],
      ['--list-only', '-e', rsh, `host:${src}/a`, `host:${src}/d`],
    ];
    for (const args of cases) {
      const theirs = sameForEveryEngine(args, () => rsyncClient(args));
      const ours = await runCli([`--engine=${e.name}`, ...args]);
      expect(ours.code, show(ours)).toBe(theirs.code);
      expect(ours.stdout, show(ours)).toBe(theirs.out);
      expect(ours.stderr.replace(/^arsync([: ])/gm, 'rsync$1'), show(ours)).toBe(theirs.err.replace(/ at \S+\(\d+\) \[\w+=[^\]]+\]$/gm, ''));
    }
  });

  it("reports a missing remote path with the server's own message and rsync's exit code 23", async () => {
    const missing = `host:${root}/nope/`;
    const theirs = sameForEveryEngine(missing, () => rsyncClient(['-a', '-e', rsh, missing]));
    const ours = await runCli([`--engine=${e.name}`, '-a', '-e', rsh, missing]);
    expect(theirs.code).toBe(23);
    expect(ours.code).toBe(23);
    expect(ours.stderr).toMatch(/rsync: \[sender\] change_dir ".*nope" failed: No such file or directory \(2\)/);
    expect(ours.stderr).toMatch(/\(code 23\)/);
    expect(ours.stdout).toBe('');
  });

  // The empty list it ends with: rsync's client prints its own figures under -v and --stats (the sender
  // left without its own); arsync printed nothing.
  it.each([[['-av']], [['-a', '--stats']]])('a missing remote path under %j: the summary from the client\'s own counts, as rsync', async (opts) => {
    const missing = `host:${root}/nope/`;
    const rate = (out: string): string => out.replace(/ [\d,.]+ bytes\/sec$/m, ' … bytes/sec');
    const theirs = sameForEveryEngine([missing, ...opts], () => rsyncClient([...opts, '-e', rsh, missing]));
    const ours = await runCli([`--engine=${e.name}`, ...opts, '-e', rsh, missing]);
    expect(theirs.code).toBe(23);
    expect(ours.code, show(ours)).toBe(23);
    expect(theirs.out).toMatch(/^sent \d+ bytes/m);
    expect(rate(ours.stdout)).toBe(rate(theirs.out));
  });

  it('exits with the remote shell\'s own code when it cannot start the server (255 from ssh)', async () => {
    const failing = path.join(root, 'fail-rsh');
    fs.writeFileSync(failing, '#!/bin/sh\necho "ssh: connect to host nohost port 22: Connection refused" >&2\nexit 255\n', { mode: 0o755 });
    const theirs = sameForEveryEngine(failing, () => rsyncClient(['-e', failing, 'nohost:/x']));
    const ours = await runCli([`--engine=${e.name}`, '-e', failing, 'nohost:/x']);
    // rsync itself races here: 255 when it reaps the remote shell first, 12 when it sees the closed pipe first.
    expect([12, 255]).toContain(theirs.code);
    expect(ours.code, show(ours)).toBe(255);
    expect(ours.stderr).toMatch(/Connection refused/);
    expect(ours.stderr).toMatch(/connection unexpectedly closed \(0 bytes received so far\) \[Receiver\]/);
    expect(ours.stderr).toMatch(/unexplained error \(code 255\)/);
  });

  it('refuses a server that is not rsync with the protocol error (exit 2)', async () => {
    const noisy = path.join(root, 'noisy-rsh');
    // A login script that prints a banner: rsync's "is your shell clean?" case.
    fs.writeFileSync(noisy, '#!/bin/sh\necho "Welcome to the machine"\nexec cat >/dev/null\n', { mode: 0o755 });
    const ours = await runCli([`--engine=${e.name}`, '-e', noisy, 'host:/x'], { timeoutMs: 20_000 });
    expect(ours.code).toBe(2);
    expect(ours.stderr).toMatch(/protocol version mismatch -- is your shell clean\?/);
  });

  it('--list-only (with or without a destination) lists, and tells the server so, as rsync does', async () => {
    // A remote shell that also records the server command line each client asked for.
    const log = path.join(root, `rsh-${e.name}.log`);
    const logging = fakeRsh(root, { log, name: `logging-rsh-${e.name}` });
    const dst = path.join(root, `never-${e.name}`);
    for (const tail of [[target()], [target(), dst]]) {
      // (rsync's destination, which it never makes, is the first engine's: the listing does not name it.)
      const { theirs, theirCmd } = sameForEveryEngine(tail.length, () => {
        fs.rmSync(log, { force: true });
        const theirs = rsyncClient(['--list-only', '-r', '-e', logging, ...tail]);
        return { theirs, theirCmd: fs.readFileSync(log, 'utf8') };
      });
      fs.rmSync(log, { force: true });
      const ours = await runCli([`--engine=${e.name}`, '--list-only', '-r', '-e', logging, ...tail]);
      const ourCmd = fs.readFileSync(log, 'utf8');
      expect(ours.code, show(ours)).toBe(0);
      expect(theirs.code).toBe(0);
      expect(steady(ours.stdout)).toBe(steady(theirs.out));
      expect(theirCmd).toMatch(/ --list-only /);
      expect(ourCmd).toMatch(/^rsync --server --sender -\S+ --list-only \. /);
      expect(fs.existsSync(dst)).toBe(false);
    }
  });

  it('a daemon over the remote shell that never greets (no rsyncd.conf there): exit 5 as rsync, nothing written', async () => {
    const dst = path.join(root, `dst-${e.name}`);
    const r = await runCli([`--engine=${e.name}`, '-a', '-e', rsh, '--rsync-path=rsync --config=/nonexistent/rsyncd.conf', `${src}/`, `host::module${dst}`]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/did not see server greeting/);
    expect(fs.existsSync(dst)).toBe(false);
  });

  it.skipIf(!peersAvailable).each(['3.1.3', '3.2.7'])('lists like rsync against an rsync %s server', async (version) => {
    const peer = peerRsync(version);
    for (const opts of [['-av'], ['-aH', '--stats']]) {
      const theirs = sameForEveryEngine(opts, () => rsyncClient([...opts, '-e', rsh, `--rsync-path=${peer}`, target()]));
      const ours = await runCli([`--engine=${e.name}`, ...opts, '-e', rsh, `--rsync-path=${peer}`, target()]);
      expect(ours.code, show(ours)).toBe(0);
      expect(steady(ours.stdout)).toBe(steady(theirs.out));
    }
  });
});
