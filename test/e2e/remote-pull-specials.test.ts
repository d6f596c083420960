// Pulling special files (`arsync -a host:src/ dst/`): unix sockets, FIFOs and devices, against rsync 3.5
// as the client on the same far side. A socket in the list failed the whole pull (exit 23, "cannot stage
// socket"), where rsync makes it (mknod S_IFSOCK) and exits 0: a home directory with an agent's socket
// in it failed every nightly pull. Differential: the trees (types, modes, device numbers, times), the exit
// code and the -i lines, with names that are not UTF-8 too (the staged node is made under a plain name and
// renamed), on a new destination and again onto the result (nothing to do).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { destPairs, itemLines, rsyncClient } from '../helpers/remote-pull.js';
import { NOBODY, rsyncAs } from '../helpers/as-user.js';

let root: string;
let src: string;
let rsh: string;
const root0 = process.getuid?.() === 0;

/** The source tree, made by Python (bytes names, bind() for the sockets, times without following). */
function makeTree(): void {
  const script = `
import os, socket, sys
src = sys.argv[1].encode()
def p(rel): return os.path.join(src, rel)
os.makedirs(p(b'sub'))
with open(p(b'f'), 'wb') as f: f.write(b'data')
for rel in [b'sock', b'sub/agent.sock', b'sub/s\\xffock']:
    s = socket.socket(socket.AF_UNIX); s.bind(p(rel)); s.close()
os.chmod(p(b'sock'), 0o751)
os.mkfifo(p(b'fifo'), 0o640)
os.mkfifo(p(b'sub/fi\\xfefo'))
if sys.argv[2] == '1':
    os.mknod(p(b'null'), 0o620 | 0o020000, os.makedev(1, 3))
    os.mknod(p(b'sub/blk'), 0o600 | 0o060000, os.makedev(7, 200))
for d, dirs, files in os.walk(src, topdown=False):
    for n in dirs + files: os.utime(os.path.join(d, n), ns=(1620284889123456789, 1620284889123456789), follow_symlinks=False)
os.utime(src, ns=(1620284889123456789, 1620284889123456789))
`;
  execFileSync('python3', ['-c', script, src, root0 ? '1' : '0']);
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rpull-special-'));
  // Reachable by the unprivileged user of the last cases (the source is read, the script run).
  fs.chmodSync(root, 0o755);
  src = path.join(root, 'src');
  makeTree();
  rsh = fakeRsh(root);
  fs.mkdirSync(path.join(root, 'nobody'));
  fs.chmodSync(path.join(root, 'nobody'), 0o1777);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

// -a (which holds -D), -D spelled out with -rlpt, and -rlpt alone (no specials sent: nothing made, by
// either client); -R keeps the names' directories.
const CASES: string[][] = [['-ai'], ['-rlpti', '-D'], ['-rlpti'], ['-aiR']];

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const tolerance = fidelity(e.name).nsTimes ? 0 : 1000;
  const pair = destPairs(() => root, e.name);

  it.each(CASES)('pulls sockets, FIFOs and devices like rsync: %j, then again onto the result', async (...opts) => {
    const from = opts.includes('-aiR') ? `host:${root}/./src/` : `host:${src}/`;
    for (const round of [1, 2]) {
      const r = rsyncClient([...opts, '-e', rsh, from, `${pair.theirs}/`]);
      const ours = await runCli([eng, ...opts, '-e', rsh, from, `${pair.mine}/`]);
      expect(r.code, r.err).toBe(0);
      expect(ours.code, show(ours)).toBe(r.code);
      expect(ours.stderr).toBe('');
      expect(itemLines(ours.stdout), `round ${round}`).toEqual(itemLines(r.out));
      // Under -R the destination's own directory is made by each client, not sent: its time is its making's.
      const diffs = compareTrees(pair.theirs, pair.mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false, rootMeta: !opts.includes('-aiR') });
      expect(formatDiffs(diffs)).toEqual([]);
    }
    // The specials are there (or, without -D, absent) in both: the comparison above is not of two empty trees.
    const base = opts.includes('-aiR') ? path.join(pair.mine, 'src') : pair.mine;
    const made = fs.readdirSync(path.join(base, 'sub'), { encoding: 'buffer' }).map((n) => n.toString('latin1')).sort();
    const specials = opts.includes('-ai') || opts.includes('-aiR') || opts.includes('-D');
    expect(made).toEqual(specials ? ['agent.sock', ...(root0 ? ['blk'] : []), 'fi\xfefo', 's\xffock'].sort() : []);
    if (specials) expect(fs.lstatSync(path.join(base, 'sock')).isSocket()).toBe(true);
  });

  // Not root: a device cannot be made. rsync's receiver skips it ("skipping non-regular file", exit 0),
  // or under --fake-super makes a file recording it in user.rsync.%stat; the pull failed each (exit 23,
  // "staging null failed: EPERM").
  it.runIf(root0).each([['-ai'], ['-ai', '--fake-super']])('as a user who may not make devices: %j', async (...opts) => {
    const dirs = ['theirs', 'mine'].map((w) => path.join(root, 'nobody', `${w}-${e.name}-${opts.length}`));
    const fake = opts.includes('--fake-super');
    const ours = await runCli([eng, ...opts, '-e', rsh, `host:${src}/`, `${dirs[1]}/`], { user: NOBODY, cwd: root });
    if (fake && e.name === 'node') {
      // Refused before anything starts, as for a local copy: the node engine has no xattr calls.
      expect(ours.code, show(ours)).toBe(1);
      expect(ours.stderr).toContain('--fake-super needs the native addon');
      return;
    }
    const r = rsyncAs(NOBODY, ['--no-i-r', ...opts, '-e', rsh, `host:${src}/`, `${dirs[0]}/`], root);
    expect(r.code, r.stderr).toBe(0);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(ours.stderr).toBe('');
    const lines = (out: string): string[] => out.split('\n').filter((l) => l.startsWith('skipping') || itemLines(l).length > 0).sort();
    expect(lines(ours.stdout)).toEqual(lines(r.stdout));
    expect(lines(ours.stdout).some((l) => l.includes('"null"') || / null$/.test(l))).toBe(true);
    const diffs = compareTrees(dirs[0]!, dirs[1]!, { mtimeToleranceNs: tolerance, xattrs: fake, acls: false });
    expect(formatDiffs(diffs)).toEqual([]);
    expect(fs.existsSync(path.join(dirs[1]!, 'null'))).toBe(fake);
  });
});
