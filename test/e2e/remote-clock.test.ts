// --bwlimit and --timeout between machines, on every engine, through the fake remote shell with rsync 3.5
// as the far side. --bwlimit holds what this side writes: a push's file data leaves no faster than the
// limit (before, only the far side was told, and a receiving rsync writes next to nothing, so a push ran
// unthrottled). --timeout ends a session whose far side stays silent (exit 30, rsync's line, and the
// hung remote shell stopped, not waited for), but not one that is slow and alive. rsync's own client
// runs the same commands as the oracle of the lines and codes.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { startDaemon, writeConf, type Daemon } from '../helpers/rsyncd.js';
import { fuseSkipReason, mountFaultFs } from '../helpers/fusefs.js';
import { sameForEveryEngine } from '../helpers/shared-case.js';

let root: string;
let src: string;
let rsh: string;
/** A far side that starts and then says nothing for far longer than any timeout here. */
let mute: string;
let n = 0;
let daemon: Daemon;

/** Bytes no block of another file matches by chance. */
const noise = (len: number, seed: number): Buffer => Buffer.from(Array.from({ length: len }, (_, i) => (i * 7919 + seed * 104_729 + (i >> 9) * 131) & 0xff));

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rclock-'));
  src = path.join(root, 'src');
  fs.mkdirSync(path.join(src, 'd'), { recursive: true });
  fs.writeFileSync(path.join(src, 'big'), noise(3 << 20, 1));
  fs.writeFileSync(path.join(src, 'd', 'small'), 'small\n');
  rsh = fakeRsh(root);
  mute = path.join(root, 'mute');
  // (Its own stdio let go: what it would hold open is the test harness's pipes, not arsync's concern.)
  fs.writeFileSync(mute, '#!/bin/sh\nexec sleep 60 </dev/null >/dev/null 2>&1\n', { mode: 0o755 });
  fs.mkdirSync(path.join(root, 'up'));
  daemon = await startDaemon(writeConf(path.join(root, 'conf'), [{ name: 'up', path: path.join(root, 'up'), readOnly: false }]));
});

afterAll(async () => {
  await daemon?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

const fresh = (): string => path.join(root, `dst-${++n}`);

/** rsync's closing lines name its source file and version; arsync's do not. */
const errs = (x: string): string =>
  x
    .replace(/^a?rsync/gm, 'X')
    .replace(/ at \S+\(\d+\)/g, '')
    .replace(/ *\[(sender|Receiver)=[^\]]*\]$/gm, '');

describeEngines(({ name: engine }) => {
  // Also the slow but live session that --timeout must not cut off: data moves every second, 3 s in all,
  // against --timeout=2. (Not --timeout=1: the far side's generator then sends its keep-alives a whole
  // second apart, the limit itself, and rsync's own client fails the same way now and then.) One run for
  // both: the pacer is the same with and without --timeout.
  it('a push under --bwlimit=1024 sends 3 MiB in no less than ~2.5 s and is not cut off by --timeout=2; the copy is exact', async () => {
    const dst = fresh();
    const began = performance.now();
    const r = await runCli([`--engine=${engine}`, '-a', '--bwlimit=1024', '--timeout=2', '-e', rsh, `${src}/`, `host:${dst}/`]);
    const took = (performance.now() - began) / 1000;
    expect(r.code, show(r)).toBe(0);
    // 3 MiB at 1 MiB/s is 3 s; the meter may start a little ahead (its slack, the pipe's buffer).
    expect(took).toBeGreaterThan(2.5);
    expectExactCopy(src, dst, engine, { withXattrs: false });
  });

  it('a push to a daemon under --bwlimit=1024 is held the same way (the socket is paced)', async () => {
    const dst = `dst-${++n}`;
    const began = performance.now();
    const r = await runCli([`--engine=${engine}`, '-a', '--bwlimit=1024', `${src}/`, `rsync://127.0.0.1:${daemon.port}/up/${dst}/`]);
    const took = (performance.now() - began) / 1000;
    expect(r.code, show(r)).toBe(0);
    expect(took).toBeGreaterThan(2.5);
    expectExactCopy(src, path.join(root, 'up', dst), engine, { withXattrs: false });
  });

  it('a pull under --bwlimit=1024 is held by the far side as rsync asks it to, and the copy is exact', async () => {
    const dst = fresh();
    const began = performance.now();
    const r = await runCli([`--engine=${engine}`, '-a', '--bwlimit=1024', '-e', rsh, `host:${src}/`, `${dst}/`]);
    const took = (performance.now() - began) / 1000;
    expect(r.code, show(r)).toBe(0);
    expect(took).toBeGreaterThan(2.5);
    expectExactCopy(src, dst, engine, { withXattrs: false });
  });

  // A walk of 10 directories that take 300 ms each to list (faultfs), 3 s in all, against a far side
  // told --timeout=2: it ends a session silent that long. rsync's own client survives it only by its
  // incremental recursion (with --no-inc-recursive it fails, exit 30: the oracle that the walk is long
  // enough); arsync walks after the handshake and sends rsync's keep-alives on the way.
  it.skipIf(fuseSkipReason() !== null)('a push whose walk outlasts the far side\'s --timeout is kept alive', async () => {
    const backing = path.join(root, `slow-${++n}`);
    for (let i = 0; i < 10; i++) {
      fs.mkdirSync(path.join(backing, `d${i}`), { recursive: true });
      fs.writeFileSync(path.join(backing, `d${i}`, 'f'), `file ${i}\n`);
    }
    const m = mountFaultFs(backing, path.join(root, `mnt-${n}`), { dirMs: 300 });
    try {
      const args = ['-a', '--timeout=2', '-e', rsh, `${m.path}/`];
      // (The same tree behind the same delays under every engine: rsync's run under the first serves all.)
      const theirs = sameForEveryEngine('walk', () => spawnSync('rsync', ['--no-inc-recursive', ...args, `host:${fresh()}/`], { encoding: 'latin1' }));
      expect(theirs.status, theirs.stderr).toBe(30);
      const dst = fresh();
      const ours = await runCli([`--engine=${engine}`, ...args, `host:${dst}/`]);
      expect(ours.code, show(ours)).toBe(0);
      expectExactCopy(backing, dst, engine, { withXattrs: false });
    } finally {
      m.unmount();
    }
  });

  for (const dir of ['push', 'pull'] as const) {
    it(`a ${dir} whose far side never answers ends at --timeout=1: exit 30 and rsync's lines`, async () => {
      const dst = fresh();
      const operands = dir === 'push' ? [`${src}/`, `host:${dst}/`] : [`host:${src}/`, `${dst}/`];
      const args = ['-a', '--timeout=1', '-e', rsh, `--rsync-path=${mute}`, ...operands];
      const began = performance.now();
      const ours = await runCli([`--engine=${engine}`, ...args]);
      // Far less than the mute side's 60 s: the hung remote shell was stopped, not waited for.
      expect((performance.now() - began) / 1000).toBeLessThan(30);
      // rsync's client on the same mute far side: its lines name no path, the first engine's run serves all.
      const theirs = sameForEveryEngine(dir, () => spawnSync('rsync', args, { encoding: 'latin1' }));
      expect(theirs.status).toBe(30);
      expect(ours.code, show(ours)).toBe(30);
      expect(errs(ours.stderr)).toBe(errs(theirs.stderr));
      expect(fs.existsSync(path.join(dst, 'big'))).toBe(false);
    });
  }
});
