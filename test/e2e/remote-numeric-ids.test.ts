// -M--numeric-ids (and --numeric-ids -M--no-numeric-ids) between machines: the far side's --numeric-ids
// unlike this side's. rsync's client sends its list incrementally, where each id's name goes inline, so
// the two may differ (a list without names maps each id to itself); a whole list ends with id lists that
// only a side without --numeric-ids sends or reads, and arsync's sessions go without incremental
// recursion: a pull waited for ever for lists the far sender never sent. Against rsync 3.5 as the client
// on the same trees, push and pull, on every engine: exit 0, the same owners, groups and ACLs.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { fakeRsh } from '../helpers/fake-rsh.js';

const root0 = process.getuid?.() === 0;
let root: string;
let src: string;
let rsh: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-numids-'));
  src = path.join(root, 'src');
  rsh = fakeRsh(root);
  // Owners with names (root, nobody) and without (4242:4343), a file's ACL naming one of each.
  const files: [string, number, number][] = [
    ['root-owned', 0, 0],
    ['d/nobody-owned', 65534, 65534],
    ['d/unnamed', 4242, 4343],
  ];
  for (const [rel, uid, gid] of files) {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), `${rel}\n`);
    if (root0) fs.chownSync(path.join(src, rel), uid, gid);
  }
  if (root0) fs.chownSync(path.join(src, 'd'), 4242, 65534);
  spawnSync('setfacl', ['-m', 'u:65534:r,u:4242:rw,g:4343:r', path.join(src, 'root-owned')]);
  // Times in the past: an entry changed within the current second may keep its new time on rsync's receiver.
  const when = new Date('2021-05-06T07:08:09Z');
  for (const rel of [...files.map(([f]) => f), 'd', '.']) fs.utimesSync(path.join(src, rel), when, when);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const CASES: string[][] = [
  ['-a', '-M--numeric-ids'],
  ['-a', '--numeric-ids', '-M--no-numeric-ids'],
  ['-aA', '-M--numeric-ids'],
  ['-a', '-M--numeric-ids', '-M--no-numeric-ids'],
];

describeEngines((e) => {
  let n = 0;
  for (const way of ['push', 'pull'] as const) {
    it.runIf(root0).each(CASES)(`${way} %j: no hang, the tree rsync's client makes`, async (...opts) => {
      const acls = opts.includes('-aA');
      // (The node engine refuses -A: it needs the addon.)
      if (acls && !fidelity(e.name).acls) return;
      const [theirs, mine] = ['theirs', 'mine'].map((w) => path.join(root, `${way}-${w}-${e.name}-${++n}`));
      const operands = (dst: string): string[] => (way === 'push' ? [`${src}/`, `host:${dst}/`] : [`host:${src}/`, `${dst}/`]);
      const r = spawnSync('rsync', [...opts, '-e', rsh, ...operands(theirs!)], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const ours = await runCli([`--engine=${e.name}`, '--timeout=30', ...opts, '-e', rsh, ...operands(mine!)]);
      expect({ code: ours.code, stderr: ours.stderr }, show(ours)).toEqual({ code: 0, stderr: '' });
      expect(formatDiffs(compareTrees(theirs!, mine!, { acls, mtimeToleranceNs: fidelity(e.name).mtimeToleranceNs }))).toEqual([]);
      expect(fs.statSync(path.join(mine!, 'd/unnamed')).uid).toBe(4242);
      expect(fs.statSync(path.join(mine!, 'd/nobody-owned')).gid).toBe(65534);
    });
  }
});
