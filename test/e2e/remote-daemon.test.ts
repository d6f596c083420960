// The rsync daemon client (`rsync://host[:port]/module/path`, `host::module/path`) against stock rsync
// daemons on this machine (3.5, and 3.1.3 and 3.2.7 where scripts/build-peers.sh built them), over TCP,
// RSYNC_CONNECT_PROG and a remote shell. Differential: rsync 3.5 as the client with the same options
// against the same daemon must leave the same tree, exit with the same code and print the same -i lines
// and module list; the login, a missing module, a read-only module; and daemons that misbehave.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { startDaemon, writeConf, type Daemon } from '../helpers/rsyncd.js';
import { sameForEveryEngine } from '../helpers/shared-case.js';

let root: string;
let src: string;
const daemons = new Map<string, Daemon>();
const VERSIONS = ['3.5', ...(peersAvailable ? ['3.1.3', '3.2.7'] : [])];
const rsyncOf = (v: string): string => (v === '3.5' ? 'rsync' : peerRsync(v));

function makeTree(): void {
  const w = (rel: string, data: string | Buffer = rel): void => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), data);
  };
  for (const n of ['a', 'b c', 'd/x', 'd/sub/y', '-dash']) w(n);
  w('big', Buffer.alloc(300_001, 7));
  fs.symlinkSync('a', path.join(src, 'ln'));
  fs.chmodSync(path.join(src, 'd', 'x'), 0o640);
  const when = new Date('2021-05-06T07:08:09Z');
  for (const rel of ['a', 'b c', 'd/x', 'd/sub/y', '-dash', 'big', 'd/sub', 'd', '.']) fs.utimesSync(path.join(src, rel), when, when);
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-daemon-'));
  src = path.join(root, 'src');
  makeTree();
  fs.mkdirSync(path.join(root, 'up'));
  fs.mkdirSync(path.join(root, 'ro'));
  fs.writeFileSync(path.join(root, 'pw'), 'sesame\n', { mode: 0o600 });
  for (const v of VERSIONS) {
    const conf = writeConf(
      path.join(root, `conf-${v}`),
      [
        { name: 'src', path: src, readOnly: true, comment: 'the source' },
        { name: 'up', path: path.join(root, 'up'), readOnly: false },
        { name: 'ro', path: path.join(root, 'ro'), readOnly: true },
        { name: 'sec', path: src, readOnly: true, secrets: ['alice:sesame'] },
      ],
      `Welcome to ${v}\n`,
    );
    daemons.set(v, await startDaemon(conf, rsyncOf(v)));
  }
});

afterAll(async () => {
  for (const d of daemons.values()) await d.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

function rsyncClient(args: string[], env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const r = spawnSync('rsync', args, { encoding: 'latin1', env: { ...process.env, ...env } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** rsync as the client without blocking this process (for servers this test process runs itself). */
function rsyncClientAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('rsync', args, { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('latin1')));
    child.stderr.on('data', (b: Buffer) => (err += b.toString('latin1')));
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

/**
 * rsync's result for a command whose outcome does not depend on the engine under test (a listing, or a
 * transfer into a destination of its own): run for the first engine, reused by the others.
 */
const oracles = new Map<string, { code: number; out: string; err: string }>();
function rsyncOnce(args: string[]): { code: number; out: string; err: string } {
  const key = JSON.stringify(args);
  let r = oracles.get(key);
  if (r === undefined) oracles.set(key, (r = rsyncClient(args)));
  return r;
}

/**
 * What each daemon version is run with. rsync 3.5 gets every case; the older daemons (protocol 31 without
 * 3.2's negotiation of checksums and compression in 3.1.3, with it in 3.2.7) the cases whose bytes on the
 * wire depend on the version: the greeting and module list, a file list, and a push and a pull that
 * itemize, delete and filter. The other cases (the URL forms, -a against -ai) exercise only the client's
 * side, which is the same whatever the daemon.
 */
const LISTINGS = (v: string): string[][] => {
  const all = [[url(v, '')], ['--no-motd', url(v, '')], [url(v, 'src/')], ['-r', url(v, 'src/d')], [`127.0.0.1::src/`, `--port=${daemons.get(v)!.port}`]];
  return v === '3.5' ? all : [all[0]!, all[2]!];
};
const TRANSFERS = (v: string): string[][] => {
  const all = [['-a'], ['-ai'], ['-ai', '--delete', '--exclude=b c']];
  return v === '3.5' ? all : [all[2]!];
};

const itemLines = (out: string): string[] => out.split('\n').filter((l) => /^[<>ch.*][fdLDS]/.test(l) || l.startsWith('*deleting')).sort();
const url = (v: string, rest: string): string => `rsync://127.0.0.1:${daemons.get(v)!.port}/${rest}`;

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const tolerance = fidelity(e.name).nsTimes ? 0 : 1000;
  const same = (a: string, b: string): void => {
    expect(formatDiffs(compareTrees(a, b, { mtimeToleranceNs: tolerance, xattrs: false, acls: false }))).toEqual([]);
  };

  it.each(VERSIONS)('lists the modules and a module as rsync does (daemon %s)', async (v) => {
    for (const args of LISTINGS(v)) {
      const r = rsyncOnce(args);
      const ours = await runCli([eng, ...args]);
      expect(ours.code, show(ours)).toBe(r.code);
      expect(r.code).toBe(0);
      expect(ours.stdout).toBe(r.out);
    }
    const list = await runCli([eng, url(v, '')]);
    expect(list.stdout).toContain(`Welcome to ${v}`);
    expect(list.stdout).toMatch(/^src {12}\tthe source$/m);
  });

  it.each(VERSIONS)('pushes to a module and pulls from one as rsync does (daemon %s)', async (v) => {
    for (const opts of TRANSFERS(v)) {
      const tag = `${e.name}-${v}-${opts.length}`;
      // rsync's trees are made once, for the first engine (named without one).
      const theirsTag = `${v}-${opts.length}`;
      const r = rsyncOnce([...opts, `${src}/`, url(v, `up/theirs-${theirsTag}/`)]);
      const ours = await runCli([eng, ...opts, `${src}/`, url(v, `up/mine-${tag}/`)]);
      expect(ours.code, show(ours)).toBe(r.code);
      expect(r.code).toBe(0);
      expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
      same(path.join(root, 'up', `theirs-${theirsTag}`), path.join(root, 'up', `mine-${tag}`));
      // Against the source itself only the data: a daemon without chroot munges symlinks and keeps no link times.
      for (const f of ['a', 'big', 'd/sub/y', '-dash']) expect(fs.readFileSync(path.join(root, 'up', `mine-${tag}`, f))).toEqual(fs.readFileSync(path.join(src, f)));
      const theirs = path.join(root, `pulled-theirs-${theirsTag}`);
      const mine = path.join(root, `pulled-mine-${tag}`);
      const rp = rsyncOnce([...opts, url(v, 'src/'), `${theirs}/`]);
      const op = await runCli([eng, ...opts, url(v, 'src/'), `${mine}/`]);
      expect(op.code, show(op)).toBe(rp.code);
      expect(itemLines(op.stdout)).toEqual(itemLines(rp.out));
      same(theirs, mine);
      expect(fs.readFileSync(path.join(mine, 'big'))).toEqual(fs.readFileSync(path.join(src, 'big')));
    }
  });

  it.each(VERSIONS)('pulls and lists several sources of one module, named each way rsync takes them (daemon %s)', async (v) => {
    const port = daemons.get(v)!.port;
    const at = `127.0.0.1::`;
    for (const sources of [
      [url(v, 'src/a'), url(v, 'src/d/sub')],
      [url(v, 'src/d/x'), '::src/b c', '::-dash'],
      [`${at}src/a`, `${at}src/d/`],
    ]) {
      const args = ['-ai', `--port=${port}`, ...sources];
      const tag = `${e.name}-${v}-${sources.length}-${sources[1]!.length}`;
      const theirs = path.join(root, `multi-theirs-${tag}`);
      const mine = path.join(root, `multi-mine-${tag}`);
      const r = rsyncOnce([...args, `${theirs}/`]);
      const ours = await runCli([eng, ...args, `${mine}/`]);
      expect(r.code, sources.join(' ')).toBe(0);
      expect(ours.code, show(ours)).toBe(0);
      expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
      // The destination's own directory was made by each client at its own moment: no source names it.
      expect(formatDiffs(compareTrees(theirs, mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false, rootMeta: false }))).toEqual([]);
      // A listing of the same sources (the last one a source too: it starts with ":"; from a daemon only
      // under --list-only, README "rsync daemons").
      const listArgs = ['--list-only', `--port=${port}`, ...sources];
      if (listArgs.at(-1)!.startsWith(':')) {
        const rl = rsyncOnce(listArgs);
        const ol = await runCli([eng, ...listArgs]);
        expect(ol.code, show(ol)).toBe(rl.code);
        expect(ol.stdout).toBe(rl.out);
      }
    }
    // rsync's refusals, before anything connects.
    for (const [sources, line] of [
      [[url(v, 'src/a'), `rsync://127.0.0.1:${port + 1}/src/d`], 'All source args must use the same port number.'],
      [[url(v, 'src/a'), `rsync://localhost:${port}/src/d`], 'All source args must come from the same machine.'],
      [[url(v, 'src/a'), '127.0.0.1:d'], 'All source args must use the same hostspec format.'],
    ] as const) {
      const r = rsyncOnce(['-a', ...sources, path.join(root, 'never')]);
      const ours = await runCli([eng, '-a', ...sources, path.join(root, 'never')]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(line);
      expect(ours.code, show(ours)).toBe(1);
      expect(ours.stderr).toContain(line);
      expect(fs.existsSync(path.join(root, 'never'))).toBe(false);
    }
  });

  it('logs in with --password-file and RSYNC_PASSWORD; a wrong password is exit 5 with the daemon\'s words', async () => {
    const v = '3.5';
    const good = await runCli([eng, '-a', `--password-file=${path.join(root, 'pw')}`, url(v, 'sec/').replace('//', '//alice@'), path.join(root, `sec-${e.name}/`)]);
    expect(good.code, show(good)).toBe(0);
    same(src, path.join(root, `sec-${e.name}`));
    const named = `rsync://alice@127.0.0.1:${daemons.get(v)!.port}/sec/`;
    const env = await runCli([eng, named], { env: { RSYNC_PASSWORD: 'sesame' } });
    expect(env.code, show(env)).toBe(0);
    expect(env.stdout).toMatch(/ big$/m);
    const bad = await runCli([eng, named], { env: { RSYNC_PASSWORD: 'wrong' } });
    const theirs = sameForEveryEngine('wrong password', () => rsyncClient([named], { RSYNC_PASSWORD: 'wrong' }));
    expect(bad.code).toBe(5);
    expect(theirs.code).toBe(5);
    expect(bad.stderr).toContain('@ERROR: auth failed on module sec');
    expect(bad.stderr).toContain('arsync error: error starting client-server protocol (code 5)');
  });

  it('a module that does not exist, a read-only module, a closed port: rsync\'s codes and words, nothing written', async () => {
    const v = '3.5';
    const missing = await runCli([eng, '-a', `${src}/`, url(v, 'nope/')]);
    expect(missing.code).toBe(rsyncOnce(['-a', `${src}/`, url(v, 'nope/')]).code);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain("@ERROR: Unknown module 'nope'");
    const ro = await runCli([eng, '-a', `${src}/`, url(v, 'ro/')]);
    expect(ro.code, show(ro)).toBe(rsyncOnce(['-a', `${src}/`, url(v, 'ro/')]).code);
    expect(ro.code).toBe(1);
    expect(ro.stderr).toContain('ERROR: module is read only');
    expect(fs.readdirSync(path.join(root, 'ro'))).toEqual([]);
    const closed = await runCli([eng, 'rsync://127.0.0.1:1/']);
    expect(closed.code).toBe(10);
    expect(closed.stderr).toContain('failed to connect to 127.0.0.1 (127.0.0.1): Connection refused (111)');
    const plain = await runCli([eng, '-a', `--password-file=${path.join(root, 'pw')}`, `${src}/`, path.join(root, 'x')]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('The --password-file option may only be used when accessing an rsync daemon.');
  });

  it('reaches the daemon through RSYNC_CONNECT_PROG and through a remote shell (-e), as rsync does', async () => {
    const conf = daemons.get('3.5')!.conf;
    const viaProg = { RSYNC_CONNECT_PROG: `rsync --config=${conf} --daemon` };
    const dst = path.join(root, `prog-${e.name}`);
    const ours = await runCli([eng, '-ai', 'rsync://localhost/src/', `${dst}/`], { env: viaProg });
    // (rsync's destination is the first engine's: its -i lines name no path.)
    const r = sameForEveryEngine('connect prog', () => rsyncClient(['-ai', 'rsync://localhost/src/', `${dst}-theirs/`], viaProg));
    expect(ours.code, show(ours)).toBe(0);
    expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
    same(src, dst);
    // The remote shell drops the host and runs what it is given, as ssh would on the far side.
    const rsh = path.join(root, 'rsh');
    fs.writeFileSync(rsh, '#!/bin/sh\nwhile [ "$1" = -l ]; do shift 2; done\nshift\nexec sh -c "$*"\n', { mode: 0o755 });
    const pushed = await runCli([eng, '-a', '-e', rsh, `--rsync-path=rsync --config=${conf}`, `${src}/`, `someone@localhost::up/rsh-${e.name}/`]);
    expect(pushed.code, show(pushed)).toBe(0);
    expect(fs.readFileSync(path.join(root, 'up', `rsh-${e.name}`, 'big'))).toEqual(fs.readFileSync(path.join(src, 'big')));
  });

  it('goes through RSYNC_PROXY\'s CONNECT tunnel as rsync does; a proxy that refuses is exit 10', async () => {
    const requests: string[] = [];
    const proxy = net.createServer((c) => {
      let buf = Buffer.alloc(0);
      const onData = (d: Buffer): void => {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        c.off('data', onData);
        const head = buf.subarray(0, end).toString();
        requests.push(head);
        const m = /^CONNECT (.*):(\d+) HTTP\/1\.0/.exec(head);
        if (!m || head.includes(Buffer.from('deny:x').toString('base64'))) return void c.end('HTTP/1.0 403 Forbidden\r\n\r\n');
        const up = net.connect({ host: m[1], port: Number(m[2]) }, () => {
          c.write('HTTP/1.0 200 Connection established\r\nVia: test\r\n\r\n');
          c.pipe(up);
          up.pipe(c);
        });
        up.on('error', () => c.destroy());
      };
      c.on('data', onData);
      c.on('error', () => {});
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const at = `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    try {
      const env = { RSYNC_PROXY: `user:secret@${at}` };
      const ours = await runCli([eng, url('3.5', 'src/')], { env });
      const theirs = await rsyncClientAsync([url('3.5', 'src/')], env);
      expect(ours.code, show(ours)).toBe(0);
      expect(ours.stdout).toBe(theirs.out);
      expect(requests[0]).toBe(requests[1]);
      expect(requests[0]).toBe(`CONNECT 127.0.0.1:${daemons.get('3.5')!.port} HTTP/1.0\r\nProxy-Authorization: Basic ${Buffer.from('user:secret').toString('base64')}`);
      const denied = await runCli([eng, url('3.5', 'src/')], { env: { RSYNC_PROXY: `deny:x@${at}` } });
      expect(denied.code).toBe(10);
      expect(denied.stderr).toContain('bad response from proxy -- HTTP/1.0 403 Forbidden');
    } finally {
      proxy.close();
    }
  });

  it('--address names the local end by a name too, resolved as rsync resolves it; one that does not resolve: exit 10', async () => {
    // Node's connect binds only a numeric address: a name once ended the run as an internal error.
    const args = ['--address=localhost', url('3.5', 'src/')];
    const ours = await runCli([eng, ...args]);
    const theirs = await rsyncClientAsync(args);
    expect(theirs.code).toBe(0);
    expect(ours.code, show(ours)).toBe(0);
    expect(ours.stdout).toBe(theirs.out);
    const bad = ['--address=nosuchhost.invalid', url('3.5', 'src/')];
    const ourBad = await runCli([eng, ...bad]);
    const theirBad = sameForEveryEngine('address-unresolved', () => rsyncClient(bad));
    expect(theirBad.code).toBe(10);
    expect(theirBad.err).toContain('rsync: getaddrinfo nosuchhost.invalid: Name or service not known\n');
    expect(ourBad.code, show(ourBad)).toBe(10);
    expect(ourBad.stderr).toBe('arsync: getaddrinfo nosuchhost.invalid: Name or service not known\narsync error: error in socket IO (code 10)\n');
    // An address this machine does not have: the bind fails, and rsync words only connect's failures.
    const foreign = ['--address=192.0.2.1', url('3.5', 'src/')];
    const ourForeign = await runCli([eng, ...foreign]);
    const theirForeign = sameForEveryEngine('address-foreign', () => rsyncClient(foreign));
    expect(theirForeign.code).toBe(10);
    expect(theirForeign.err).toMatch(/^rsync error: error in socket IO \(code 10\)/);
    expect(ourForeign.code, show(ourForeign)).toBe(10);
    expect(ourForeign.stderr).toBe('arsync error: error in socket IO (code 10)\n');
  });

  it('a port no socket has, or an address of the family -4/-6 excludes: exit 10 with a line, as rsync exits', async () => {
    // Nothing listens on the ports rsync ends up using (it takes 70000 modulo 2^16), so its exit is 10;
    // Node's connect threw on such a port, an internal error (exit 11).
    for (const args of [['--port=70000', 'rsync://127.0.0.1/m/'], ['--port=-5', '127.0.0.1::m/'], ['rsync://127.0.0.1:99999/m/']]) {
      const ours = await runCli([eng, ...args]);
      const theirs = sameForEveryEngine(`bad-port ${args.join(' ')}`, () => rsyncClient(args));
      expect(theirs.code, args.join(' ')).toBe(10);
      expect(ours.code, show(ours)).toBe(10);
      expect(ours.stderr).toMatch(/^arsync: failed to connect to 127\.0\.0\.1: port -?\d+ is out of range \(0 to 65535\)\narsync error: error in socket IO \(code 10\)\n$/);
    }
    // A literal of the other family: rsync's getaddrinfo refuses it, where Node's connect would ignore -4.
    for (const args of [['-4', 'rsync://[::1]:1/m/'], ['-6', '--address=127.0.0.1', 'rsync://[::1]:1/m/'], ['-4', '--address=::1', 'rsync://127.0.0.1:1/m/']]) {
      const ours = await runCli([eng, ...args]);
      const theirs = sameForEveryEngine(`family ${args.join(' ')}`, () => rsyncClient(args));
      expect(theirs.code, args.join(' ')).toBe(10);
      expect(ours.code, show(ours)).toBe(10);
      const line = theirs.err.split('\n')[0]!;
      expect(line).toMatch(/Address family for hostname not supported$/);
      expect(ours.stderr).toBe(`${line.replace(/^rsync:/, 'arsync:')}\narsync error: error in socket IO (code 10)\n`);
    }
  });

  it('--contimeout gives up on a connection that is never accepted: exit 35, as rsync', async () => {
    // A listener whose accept queue is full: further connections wait in SYN_SENT.
    const full = spawn('python3', ['-c', [
      'import socket, time',
      "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
      'print(s.getsockname()[1], flush=True)',
      'fill = []',
      'for i in range(4):',
      '    c = socket.socket(); c.setblocking(False)',
      "    try: c.connect(('127.0.0.1', s.getsockname()[1]))",
      '    except BlockingIOError: pass',
      '    fill.append(c)',
      'time.sleep(60)',
    ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<string>((resolve) => full.stdout.once('data', (b: Buffer) => resolve(b.toString().trim())));
      const ours = await runCli([eng, '--contimeout=1', `rsync://127.0.0.1:${port}/m/`], { timeoutMs: 30_000 });
      // rsync's client on a listener of the same kind: its code does not depend on the engine (or the
      // port), so the first engine's run serves all.
      const theirs = sameForEveryEngine('contimeout', () => rsyncClient(['--contimeout=1', `rsync://127.0.0.1:${port}/m/`]));
      expect(theirs.code).toBe(35);
      expect(ours.code, show(ours)).toBe(35);
      expect(ours.stderr).toBe('arsync error: timeout waiting for daemon connection (code 35)\n');
    } finally {
      full.kill();
    }
  });

  it('a daemon that sends garbage, an endless line, or nothing: exit 5 or 30, no hang', async () => {
    const serve = (behave: (s: net.Socket) => void): Promise<{ port: number; close: () => void }> =>
      new Promise((resolve) => {
        const server = net.createServer(behave);
        server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, close: () => server.close() }));
      });
    const garbage = await serve((s) => s.end('HTTP/1.0 400 Bad Request\n'));
    const g = await runCli([eng, `rsync://127.0.0.1:${garbage.port}/m/`]);
    expect(g.code).toBe(5);
    expect(g.stderr).toContain('server sent "HTTP/1.0 400 Bad Request" rather than greeting');
    garbage.close();
    const endless = await serve((s) => {
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const pump = (): void => void (s.destroyed || s.write(chunk, () => setImmediate(pump)));
      s.on('error', () => {});
      pump();
    });
    const n = await runCli([eng, `rsync://127.0.0.1:${endless.port}/m/`], { timeoutMs: 30_000 });
    expect(n.code).toBe(5);
    endless.close();
    const silent = await serve((s) => s.on('error', () => {}));
    const q = await runCli([eng, '--timeout=1', `rsync://127.0.0.1:${silent.port}/m/`], { timeoutMs: 30_000 });
    expect(q.code, show(q)).toBe(30);
    silent.close();
  });
});
