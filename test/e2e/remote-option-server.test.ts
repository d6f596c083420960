// -M/--remote-option to another machine: rsync's client does not judge the values, it appends them to the
// server's command line after every option of its own (escaped for the remote shell as an option's value
// is; as they are under -s, where they travel through the connection), and the server acts on them or
// refuses them. rsync 3.5 as the client on a clone is the oracle: the same command line on the far side
// (but for the capability letters), the same exit code and -i lines, the same tree.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { rsyncClient, itemLines, type RsyncResult } from '../helpers/remote-pull.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { clone, startingState, type StartingState } from '../helpers/differential.js';
import { sameForEveryEngine } from '../helpers/shared-case.js';
import { removeTemps, sh } from '../helpers/tree.js';

// The starting states (tempDir) are this file's to remove: left behind, every run adds to /dev/shm.
afterAll(() => removeTemps());

/** A source and a destination whose `same` has the source's size but not its data nor its time. */
function setup(root: string): void {
  for (const d of ['src/d', 'dst']) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.writeFileSync(path.join(root, 'src/same'), 'new!');
  fs.writeFileSync(path.join(root, 'dst/same'), 'old!');
  fs.writeFileSync(path.join(root, 'src/d/f'), 'f');
  sh(`find '${root}' -exec touch -h -d @1700000000 {} + && touch -d @1600000000 '${root}/dst/same'`);
}

/** The far side's command line without the capability letters after the option cluster's dot. */
const farSide = (log: string, root: string): string[] =>
  fs
    .readFileSync(log, 'latin1')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(root).join('ROOT').replace(/(\s-[A-Za-z]*\.)[A-Za-z]+/, '$1'));

const CASES: { what: string; args: (dir: string) => string[]; code: number }[] = [
  { what: 'a push with the server\'s --size-only', args: (d) => ['-ai', '-M--size-only', 'src/', `h:${d}/dst/`], code: 0 },
  { what: 'a pull with the server\'s --size-only (the sender: no change)', args: (d) => ['-ai', '-M--size-only', `h:${d}/src/`, 'dst/'], code: 0 },
  { what: 'a push whose -M value has a space: one argument on the far side', args: (d) => ['-ai', '-b', '-M--backup-dir=old copies', 'src/', `h:${d}/dst/`], code: 0 },
  { what: 'the same under -s', args: (d) => ['-ais', '-b', '-M--backup-dir=old copies', 'src/', `h:${d}/dst/`], code: 0 },
  { what: 'a value the server does not know: its refusal', args: (d) => ['-ai', '-M--no-such-option', `h:${d}/src/`, 'dst/'], code: 12 },
];

/**
 * rsync's client on case `i`, in a clone A<i> of the starting state with its own logging remote shell: it
 * depends on the starting state and the case only, so the first engine's run serves the same test under
 * the others (test/helpers/shared-case.ts).
 */
function rsyncSide(state: StartingState, i: number, c: (typeof CASES)[number]): { A: string; theirs: RsyncResult; log: string } {
  return sameForEveryEngine(i, () => {
    const A = path.join(state.base, `A${i}`);
    const log = path.join(state.base, `log-a${i}`);
    clone(state.O, A);
    const rshA = fakeRsh(state.base, { name: `rsh-a${i}`, log });
    return { A, theirs: rsyncClient(['-e', rshA, ...c.args(A)], { cwd: A }), log };
  });
}

describeEngines(({ name: engine }) => {
  it('-M values go to the remote server after its options, and it acts on them as with rsync\'s client', async () => {
    const state = startingState(`arsync-mserver-${engine}-`, setup);
    const base = state.base;
    for (const [i, c] of CASES.entries()) {
      const { A, theirs, log } = rsyncSide(state, i, c);
      const B = path.join(base, `B${i}`);
      clone(state.O, B);
      const rshB = fakeRsh(base, { name: `rsh-b${i}`, log: path.join(base, `log-b${i}`) });
      const ours = await runCli([`--engine=${engine}`, '-e', rshB, ...c.args(B)], { cwd: B });
      const what = `${c.what}\n${show(ours)}\nrsync: ${theirs.err}`;
      expect(theirs.code, what).toBe(c.code);
      expect(ours.code, what).toBe(c.code);
      expect(farSide(path.join(base, `log-b${i}`), B), what).toEqual(farSide(log, A));
      expect(itemLines(ours.stdout), what).toEqual(itemLines(theirs.out));
      if (c.code === 12) expect(ours.stderr, what).toContain('on remote machine: --no-such-option: unknown option');
      // A backup directory the server made has the time it was made.
      for (const r of [A, B]) if (fs.existsSync(path.join(r, 'dst/old copies'))) fs.utimesSync(path.join(r, 'dst/old copies'), 1_700_000_000, 1_700_000_000);
      const diffs = compareTrees(A, B, { mtimeToleranceNs: 1000, rootMeta: false });
      expect(formatDiffs(diffs), what).toEqual([]);
    }
    // --size-only on the receiving server kept the destination's file of the same size.
    expect(fs.readFileSync(path.join(base, 'B0/dst/same'), 'utf8')).toBe('old!');
    // The backup directory's name arrived whole.
    expect(fs.readFileSync(path.join(base, 'B2/dst/old copies/same'), 'utf8')).toBe('old!');
    expect(fs.readFileSync(path.join(base, 'B3/dst/old copies/same'), 'utf8')).toBe('old!');
  });
});
