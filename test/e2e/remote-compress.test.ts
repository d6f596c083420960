// -z and its options in a remote session, through the CLI: a listing of a directory on another machine
// (a fake remote shell running the server here, as in remote-list.test.ts) tells the server what rsync's
// client would tell it (the "z" letter, --compress-level, --new-compress/--old-compress,
// --skip-compress) and negotiates the compression as rsync does; a wrong word or a wrong negotiation
// would break the stream. Differential: rsync as the client with the same options and the same server
// must start the same server command (capability letters aside) and print the same lines.

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
let log: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rz-'));
  src = path.join(root, 'src');
  fs.mkdirSync(path.join(src, 'd'), { recursive: true });
  fs.writeFileSync(path.join(src, 'a.txt'), 'text '.repeat(1000));
  fs.writeFileSync(path.join(src, 'd', 'b.gz'), Buffer.alloc(5000, 7));
  log = path.join(root, 'log');
  // The far side: record the command, drop the host, run it.
  rsh = fakeRsh(root, { log });
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The server command lines the remote shell was given since the last call, capability letters cut off. */
function commands(): string[] {
  const lines = fs.existsSync(log) ? fs.readFileSync(log, 'latin1').split('\n').filter((l) => l) : [];
  fs.rmSync(log, { force: true });
  return lines.map((l) => l.replace(/e\.[A-Za-z]+/, 'e.'));
}

const steady = (s: string): string =>
  s.replace(/ [\d,.]+[KMG]? bytes\/sec$/m, ' … bytes/sec').replace(/^(File list (generation|transfer) time:) [\d.]+ seconds$/gm, '$1 … seconds');

/** Options with an environment: RSYNC_COMPRESS_LIST keeps rsync's client off zstd and lz4, which arsync does not have. */
const CASES: [string[], Record<string, string>][] = [
  [['-z'], { RSYNC_COMPRESS_LIST: 'zlibx zlib' }],
  [['-z'], { RSYNC_COMPRESS_LIST: 'zlib' }],
  [['-zz'], {}],
  [['--zc=zlib'], {}],
  [['--old-compress'], {}],
  [['--new-compress', '--zl=9'], {}],
  [['-z', '--zl=3'], { RSYNC_COMPRESS_LIST: 'zlibx' }],
  [['--compress-level=0'], { RSYNC_COMPRESS_LIST: 'zlib' }],
  [['-z', '--skip-compress=gz/jpg/[mM]p3'], { RSYNC_COMPRESS_LIST: 'zlib' }],
  [['-z', '--zc=auto'], { RSYNC_COMPRESS_LIST: 'zlibx' }],
  [['-z', '--zc=none'], {}],
  [['--zc=none', '--zl=4', '--skip-compress=gz'], {}],
  [['-z', '--no-compress'], {}],
  [['--skip-compress=*.gz'], {}],
  [['-z', '--no-z', '--zl=1'], { RSYNC_COMPRESS_LIST: 'zlib' }],
];

// rsync's own client runs once per case, under the first engine (test/helpers/shared-case.ts): the source,
// the far side and the options are the same under every engine, and no test changes them.
describeEngines((e) => {
  const target = () => `host:${src}/`;

  it.each(CASES)('tells the server and lists like rsync: %j %j', async (opts, env) => {
    commands();
    const { theirs, theirCommand } = sameForEveryEngine([opts, env], () => {
      const theirs = rsyncClient(['-a', ...opts, '-e', rsh, target()], { env: { ...process.env, ...env } });
      return { theirs, theirCommand: commands() };
    });
    const ours = await runCli([`--engine=${e.name}`, '-a', ...opts, '-e', rsh, target()], { env });
    const ourCommand = commands();
    expect(theirs.code, theirs.err).toBe(0);
    expect(ours.code, show(ours)).toBe(0);
    expect(ourCommand).toEqual(theirCommand);
    expect(steady(ours.stdout)).toBe(steady(theirs.out));
  });

  it('refuses a compression arsync does not have (zstd, lz4) before starting the remote shell, exit 4', async () => {
    commands();
    for (const name of ['zstd', 'lz4']) {
      const ours = await runCli([`--engine=${e.name}`, '-a', `--zc=${name}`, '-e', rsh, target()]);
      expect(ours.code, show(ours)).toBe(4);
      expect(ours.stderr).toContain(`--compress-choice=${name}: arsync compresses with zlibx or zlib only`);
    }
    expect(commands()).toEqual([]);
  });

  it('fails the negotiation as rsync does when RSYNC_COMPRESS_LIST leaves nothing the server has', async () => {
    const env = { RSYNC_COMPRESS_LIST: 'bogus' };
    const theirs = sameForEveryEngine(env, () => rsyncClient(['-a', '-z', '-e', rsh, target()], { env: { ...process.env, ...env } }));
    const ours = await runCli([`--engine=${e.name}`, '-a', '-z', '-e', rsh, target()], { env });
    commands();
    expect(theirs.code).not.toBe(0);
    expect(ours.code, show(ours)).toBe(theirs.code);
    expect(ours.stdout).toBe('');
  });

  it.skipIf(!peersAvailable)('lists with -z from rsync 3.2.7 (negotiated) and 3.1.3 (zlib, no negotiation)', async () => {
    for (const v of ['3.2.7', '3.1.3']) {
      const opts = ['-a', '-z', `--rsync-path=${peerRsync(v)}`, '-e', rsh, target()];
      const env = { RSYNC_COMPRESS_LIST: 'zlibx zlib' };
      const theirs = sameForEveryEngine(v, () => rsyncClient(opts, { env: { ...process.env, ...env } }));
      const ours = await runCli([`--engine=${e.name}`, ...opts], { env });
      commands();
      expect(theirs.code, theirs.err).toBe(0);
      expect(ours.code, show(ours)).toBe(0);
      expect(steady(ours.stdout)).toBe(steady(theirs.out));
    }
  });
});
