// A push whose sender fakes (`--fake-super` on arsync's line, arsync the sender): rsync's faking sender
// lists each entry as its user.rsync.%stat record describes it (owner, group, permissions with set-id
// bits, a device's numbers, a symlink kept as a file holding its target), so restoring a fake-super
// backup to a root rsync gets the real owners, modes, devices and links back. Differential against rsync
// 3.5 as the client, through the fake remote shell (the far side a root rsync): the same -i lines, trees
// (owners, modes, devices, link targets) and exit code, fresh, again (nothing to do) and under -n. A
// record that does not parse: rsync stops (exit 11), arsync says the same line, lists the entry as it
// is and goes on (exit 23), as its local copy does. The node engine refuses --fake-super (no xattrs).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { itemLines, rsyncClient } from '../helpers/remote-pull.js';
import { removeTemps } from '../helpers/tree.js';

let root: string;
let rsh: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-fspush-'));
  rsh = fakeRsh(root);
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  removeTemps();
});

const T0 = 1_600_000_000;
const record = (p: string, v: string): void => void execFileSync('setfattr', ['-n', 'user.rsync.%stat', '-v', v, p]);

/** A fake-super store: what a faking receiver keeps on disk, each entry's real attributes in its record. */
function store(src: string): void {
  fs.mkdirSync(path.join(src, 'd'), { recursive: true });
  const put = (n: string, data: string, mode = 0o600): string => {
    const p = path.join(src, n);
    fs.writeFileSync(p, data, { mode });
    fs.chmodSync(p, mode);
    return p;
  };
  record(put('owned', 'owned\n'), '100755 0,0 1234:5678');
  record(put('setuid', 'setuid\n'), '104750 0,0 0:2000');
  record(put('d/link', 'owned'), '120777 0,0 1234:0');
  record(put('d/null', ''), '20666 1,3 0:0');
  record(put('d/fifo', ''), '10640 0,0 42:42');
  put('plain', 'plain\n', 0o644);
  record(path.join(src, 'd'), '42750 0,0 1234:5678');
  for (const n of ['owned', 'setuid', 'd/link', 'd/null', 'd/fifo', 'plain', 'd', '']) fs.utimesSync(path.join(src, n), T0, T0);
}

describeEngines((e) => {
  it.runIf(e.name === 'node')('the node engine refuses it, before the remote shell runs (exit 1)', async () => {
    const base = fs.mkdtempSync(path.join(root, 'node-'));
    store(path.join(base, 'src'));
    const r = await runCli(['--engine=node', '-a', '--fake-super', '-e', rsh, `${base}/src/`, `host:${base}/dst/`]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toContain('--fake-super needs the native addon');
    expect(fs.existsSync(path.join(base, 'dst'))).toBe(false);
  });

  it.skipIf(e.name === 'node')('a push restores what the records keep, as rsync as the client does', async () => {
    const base = fs.mkdtempSync(path.join(root, 'push-'));
    const src = path.join(base, 'src');
    store(src);
    const theirs = path.join(base, 'theirs');
    const ours = path.join(base, 'ours');
    for (const n of [['-n'], [], [], ['-n']]) {
      const args = ['-aDi', ...n, '--fake-super', '-e', rsh, `${src}/`];
      const what = `push ${n.join(' ')}`;
      const t = rsyncClient([...args, `host:${theirs}/`]);
      const r = await runCli([`--engine=${e.name}`, ...args, `host:${ours}/`]);
      expect.soft(r.code, `${what}: ${show(r)}`).toBe(t.code);
      expect.soft(t.code, `${what}: ${t.err}`).toBe(0);
      expect.soft(r.stderr, what).toBe('');
      expect.soft(itemLines(r.stdout), what).toEqual(itemLines(t.out));
      if (fs.existsSync(theirs)) expect.soft(formatDiffs(compareTrees(theirs, ours, { xattrs: true, rootMeta: true })), what).toEqual([]);
      else expect.soft(fs.existsSync(ours), what).toBe(false);
    }
    // What the records said, on disk (rsync's tree is the oracle above; this names the point of it).
    const st = fs.lstatSync(path.join(ours, 'owned'));
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o755, 1234, 5678]);
    expect(fs.readlinkSync(path.join(ours, 'd', 'link'))).toBe('owned');
    expect(fs.lstatSync(path.join(ours, 'd', 'null')).isCharacterDevice()).toBe(true);
    expect(fs.lstatSync(path.join(ours, 'd', 'fifo')).isFIFO()).toBe(true);
    expect(fs.lstatSync(path.join(ours, 'd')).mode & 0o7777).toBe(0o2750);
  });

  it.skipIf(e.name === 'node')('a record that does not parse: rsync\'s line, the entry as it is, the rest sent (exit 23)', async () => {
    const base = fs.mkdtempSync(path.join(root, 'corrupt-'));
    const src = path.join(base, 'src');
    store(src);
    record(path.join(src, 'owned'), 'garbage');
    const t = rsyncClient(['-a', '--fake-super', '-e', rsh, `${src}/`, `host:${path.join(base, 'theirs')}/`]);
    expect(t.err).toContain(`Corrupt user.rsync.%stat xattr attached to "${src}/owned": "garbage"`);
    const ours = path.join(base, 'ours');
    const r = await runCli([`--engine=${e.name}`, '-a', '--fake-super', '-e', rsh, `${src}/`, `host:${ours}/`]);
    expect(r.code, show(r)).toBe(23);
    expect(r.stderr).toContain(`Corrupt user.rsync.%stat xattr attached to "${src}/owned": "garbage"`);
    const st = fs.lstatSync(path.join(ours, 'owned'));
    expect([st.mode & 0o7777, st.uid]).toEqual([0o600, 0]);
    expect(fs.lstatSync(path.join(ours, 'setuid')).uid).toBe(0);
    expect(fs.lstatSync(path.join(ours, 'setuid')).mode & 0o7777).toBe(0o4750);
  });
});
