// -XX with another machine, both ways, against the installed rsync 3.5 as the server through a remote
// shell that runs it locally: the client asks for "-XX" in the server options (its log shows it), and
// rsync's own user.rsync.% records travel in the lists like any other name. Differential: rsync as the
// client with the same options must leave the same tree (every xattr name), print the same -i lines and
// exit alike, fresh and on a re-sync where records changed, went missing or are stale; one -X still
// leaves the records out. The node engine refuses -X before anything starts (remote-xattrs.test.ts).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs, readXattrs } from '../helpers/compare.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { rsyncClient } from '../helpers/remote-pull.js';

let root: string;
let rsh: string;
let log: string;
let n = 0;

const setx = (p: string, name: string, value: string): void => void execFileSync('setfattr', ['-n', name, '-v', value, p]);
const rmx = (p: string, name: string): void => void execFileSync('setfattr', ['-x', name, p]);
const hex = (s: string): string => `0x${Buffer.from(s).toString('hex')}`;

/** A source whose entries hold rsync's records (one value over 32 bytes: sent as its checksum) beside user.* ones. */
function makeSource(): string {
  const at = path.join(root, `src-${++n}`);
  fs.mkdirSync(path.join(at, 'd'), { recursive: true });
  for (const f of ['f', 'plain', 'd/g']) fs.writeFileSync(path.join(at, f), f);
  setx(path.join(at, 'f'), 'user.a', '1');
  setx(path.join(at, 'f'), 'user.rsync.%stat', '100644 0,0 0:0');
  setx(path.join(at, 'd'), 'user.rsync.%aacl', 'A'.repeat(40));
  setx(path.join(at, 'd/g'), 'user.rsync.%foo', 'foo');
  setx(path.join(at, 'plain'), 'user.c', '3');
  for (const f of ['f', 'plain', 'd/g', 'd', '']) fs.utimesSync(path.join(at, f), 1_500_000_000, 1_500_000_000);
  return at;
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rxx-'));
  log = path.join(root, 'rsh.log');
  rsh = fakeRsh(root, { log });
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const steady = (s: string, dirs: string[]): string => {
  let out = s;
  for (const d of dirs) out = out.split(d).join('DST');
  // rsync's pulling client prints from two processes: the lines' order is its own; the set must agree.
  return out.split('\n').sort().join('\n');
};

const sameTrees = (a: string, b: string): void => {
  expect(formatDiffs(compareTrees(a, b, { xattrs: true, acls: false, rootMeta: false })), `${a} vs ${b}`).toEqual([]);
};

describeEngines((e) => {
  for (const way of ['push', 'pull'] as const) {
    it.skipIf(e.name === 'node')(`-XX: a ${way} carries rsync's own records like rsync 3.5, then updates and removes them`, async () => {
      const src = makeSource();
      const theirs = path.join(root, `theirs-${n}`);
      const ours = path.join(root, `ours-${n}`);
      const ends = (dst: string): string[] => (way === 'push' ? [`${src}/`, `host:${dst}/`] : [`host:${src}/`, `${dst}/`]);
      const run = async (flags: string): Promise<void> => {
        const args = [flags, '-e', rsh];
        const t = rsyncClient([...args, ...ends(theirs)]);
        fs.rmSync(log, { force: true });
        const o = await runCli([`--engine=${e.name}`, ...args, ...ends(ours)]);
        expect(o.code, show(o)).toBe(t.code);
        expect(t.code, t.err).toBe(0);
        expect(steady(o.stdout, [ours]), o.stderr).toBe(steady(t.out, [theirs]));
        // The server's single-letter options: X twice for -XX, once for -X (rsync's server_options).
        const letters = / -(\w[^ ]*)/.exec(fs.readFileSync(log, 'utf8'))?.[1] ?? '';
        expect(letters.match(/X/g)?.length, `the server options ${letters}`).toBe(flags === '-aXXi' ? 2 : 1);
        sameTrees(theirs, ours);
      };
      await run('-aXXi');
      const x = readXattrs(ours, [Buffer.from('f'), Buffer.from('d'), Buffer.from('d/g')]);
      expect(x.get('f')?.get('user.rsync.%stat')).toBe(hex('100644 0,0 0:0'));
      expect(x.get('d')?.get('user.rsync.%aacl')).toBe(hex('A'.repeat(40)));
      expect(x.get('d/g')?.get('user.rsync.%foo')).toBe(hex('foo'));
      // Changed, missing and stale records on the far side of the next run.
      setx(path.join(src, 'f'), 'user.rsync.%stat', '100600 0,0 0:0');
      rmx(path.join(src, 'd/g'), 'user.rsync.%foo');
      setx(path.join(src, 'plain'), 'user.rsync.%new', 'N'.repeat(40));
      await run('-aXXi');
      const y = readXattrs(ours, [Buffer.from('f'), Buffer.from('d/g'), Buffer.from('plain')]);
      expect(y.get('f')?.get('user.rsync.%stat')).toBe(hex('100600 0,0 0:0'));
      expect(y.get('d/g')?.has('user.rsync.%foo') ?? false).toBe(false);
      expect(y.get('plain')?.get('user.rsync.%new')).toBe(hex('N'.repeat(40)));
      // One -X: the records are neither sent nor kept.
      await run('-aXi');
      const z = readXattrs(ours, [Buffer.from('f'), Buffer.from('d')]);
      expect(z.get('f')?.has('user.rsync.%stat') ?? false).toBe(false);
      expect(z.get('d')?.has('user.rsync.%aacl') ?? false).toBe(false);
    });
  }
});
