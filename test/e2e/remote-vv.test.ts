// -vv between machines: the lines rsync's client prints at that level, in its order. The command line
// it starts ("opening connection using: ... (N args)", --debug=cmd), "delta-transmission enabled" for a
// pull (its generator's line; a local copy's says "disabled"), and "total: matches=N  hash_hits=N
// false_alarms=N data=N" (--debug=deltasum, match.c's counters), which a push's sender prints itself
// and a pull's client prints from its sending server, after the names. Differential against rsync 3.5
// as the client (given --no-inc-recursive, which arsync never does, so the list lines are the same) on
// every engine: fresh, and a file with a few changed bytes sent as a delta. Compared: stdout's lines
// but the byte totals (rsync's client offers one more capability letter, `s`, docs/protocol.md), the
// tree and the exit code.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { rsyncClient } from '../helpers/remote-pull.js';

let root: string;
let src: string;
let rsh: string;
/** A file large enough for many blocks, and the same with a few bytes changed in the middle. */
let big: Buffer;
let changed: Buffer;

const stamp = (p: string, t: string): void => void execFileSync('touch', ['-h', '-d', `@${t}`, p]);

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rvv-'));
  src = path.join(root, 'src');
  fs.mkdirSync(path.join(src, 'd'), { recursive: true });
  big = Buffer.alloc(2_000_000);
  for (let i = 0, x = 12345; i < big.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    big[i] = x >>> 24;
  }
  changed = Buffer.from(big);
  changed.write('changed!', 700_000, 'latin1');
  fs.writeFileSync(path.join(src, 'big'), big);
  fs.writeFileSync(path.join(src, 'a'), 'hello\n');
  fs.writeFileSync(path.join(src, 'd', 'b'), 'world\n');
  fs.symlinkSync('a', path.join(src, 'ln'));
  for (const f of ['big', 'a', 'd/b', 'ln', 'd', '.']) stamp(path.join(src, f), '1700000000');
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** stdout's lines without the byte totals, and with the client's capability letters made one. */
const lines = (out: string): string[] =>
  out
    .split('\n')
    .filter((l) => !/^sent [\d,]+ bytes|^total size is /.test(l))
    .map((l) => l.replace(/(-vvlogDtpre)\.[A-Za-z]+ /, '$1.CAPS '));

/** A destination holding the older, changed copy of big (another mtime, so the quick check sends it). */
function drifted(dst: string): void {
  fs.mkdirSync(dst, { recursive: true });
  fs.writeFileSync(path.join(dst, 'big'), changed);
  stamp(path.join(dst, 'big'), '1600000000');
}

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const tolerance = fidelity(e.name).nsTimes ? 0 : 1000;
  let n = 0;
  for (const direction of ['push', 'pull'] as const) {
    for (const state of ['fresh', 'delta'] as const) {
      it(`-avv ${direction}, ${state}: rsync's lines (command, delta-transmission, total: matches=...)`, async () => {
        const base = path.join(root, `${e.name}-${direction}-${state}-${n++}`);
        const theirs = path.join(base, 'theirs');
        const mine = path.join(base, 'mine');
        fs.mkdirSync(base, { recursive: true });
        if (state === 'delta') {
          drifted(theirs);
          drifted(mine);
        }
        // The remote side's path is what the fake shell's server sees: absolute, the same for both but
        // the last component, which the command line shows (made the same below).
        const ends = (dst: string): string[] => (direction === 'push' ? [`${src}/`, `host:${dst}/`] : [`host:${src}/`, `${dst}/`]);
        const r = rsyncClient(['-avv', '--no-i-r', '-e', rsh, ...ends(theirs)]);
        const ours = await runCli([eng, '-avv', '--no-i-r', '-e', rsh, ...ends(mine)]);
        expect(r.code, r.out + r.err).toBe(0);
        expect(ours.code, show(ours)).toBe(0);
        const mineLines = lines(ours.stdout.replaceAll(mine, theirs));
        expect(mineLines).toEqual(lines(r.out));
        expect(mineLines[0]).toMatch(/^opening connection using: \S+ host rsync --server .* \(\d+ args\)$/);
        expect(mineLines).toContain('delta-transmission enabled');
        // The delta: the search's counters are the same as rsync's sender's, and most of big matched.
        const total = mineLines.find((l) => l.startsWith('total: matches='));
        expect(total).toBeDefined();
        if (state === 'delta') expect(Number(/matches=(\d+)/.exec(total!)![1])).toBeGreaterThan(10);
        expect(formatDiffs(compareTrees(theirs, mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false }))).toEqual([]);
        expect(fs.readFileSync(path.join(mine, 'big')).equals(big)).toBe(true);
      });
    }
  }
});
