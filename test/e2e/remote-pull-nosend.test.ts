// A pull whose far side cannot open a file it listed (here: rsync runs as nobody through the remote
// shell, and one source file is mode 000): rsync's sender prints "send_files failed to open", tells the
// receiver so (MSG_NO_SEND) and goes on. rsync's client writes the other files, keeps what the
// destination has of that one (--delete does not take it: the list names it), and exits 23. arsync
// ended such a pull with exit 12 and nothing written. rsync 3.5 as the client is the oracle: the same
// exit code, -i lines and tree, on every engine; with -H the whole group stays as it was.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { destPairs, itemLines, rsyncClient } from '../helpers/remote-pull.js';
import { isRoot } from '../helpers/tree.js';

let root: string;
let src: string;
let rsh: string;

beforeAll(() => {
  if (!isRoot) return;
  // Not a 0700 mkdtemp directory alone: nobody must reach the source.
  root = fs.mkdtempSync('/tmp/arsync-nosend-');
  fs.chmodSync(root, 0o755);
  src = path.join(root, 'src');
  fs.mkdirSync(path.join(src, 'd'), { recursive: true });
  fs.writeFileSync(path.join(src, 'a'), 'aaa');
  fs.writeFileSync(path.join(src, 'locked'), 'the new locked bytes');
  fs.linkSync(path.join(src, 'locked'), path.join(src, 'd', 'locked-too'));
  fs.writeFileSync(path.join(src, 'd', 'z'), 'zzz');
  fs.chmodSync(path.join(src, 'locked'), 0o000);
  const when = new Date('2022-02-03T04:05:06Z');
  for (const rel of ['a', 'locked', 'd/z', 'd', '.']) fs.utimesSync(path.join(src, rel), when, when);
  // The far side runs as nobody, so the sending rsync cannot open `locked`.
  rsh = path.join(root, 'rsh-nobody');
  fs.writeFileSync(rsh, '#!/bin/sh\nshift\nexec su nobody -s /bin/sh -c "$*"\n', { mode: 0o755 });
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** An old destination: an older `locked` (and its link), an extraneous file. */
function seed(dst: string): void {
  fs.mkdirSync(path.join(dst, 'd'), { recursive: true });
  fs.writeFileSync(path.join(dst, 'locked'), 'old');
  fs.linkSync(path.join(dst, 'locked'), path.join(dst, 'd', 'locked-too'));
  fs.writeFileSync(path.join(dst, 'extra'), 'extraneous');
  // Both destinations' old copy the same to the nanosecond (it stays as it is: that is the point).
  const old = new Date('2021-01-02T03:04:05Z');
  fs.utimesSync(path.join(dst, 'locked'), old, old);
}

describeEngines(({ name: engine }) => {
  const pair = destPairs(() => root, engine);

  for (const c of [
    { what: 'into an empty destination', args: ['-a'], seeded: false },
    { what: 'with --delete over an older copy', args: ['-a', '--delete'], seeded: true },
    { what: 'with -H --delete over an older copy', args: ['-aH', '--delete'], seeded: true },
  ]) {
    it.skipIf(!isRoot)(`a file the far side cannot open, ${c.what}: exit 23, the rest pulled, the old copy kept`, async () => {
      if (c.seeded) {
        seed(pair.mine);
        seed(pair.theirs);
      }
      const theirs = rsyncClient([...c.args, '-i', '-e', rsh, `host:${src}/`, `${pair.theirs}/`]);
      const ours = await runCli([`--engine=${engine}`, ...c.args, '-i', '-e', rsh, `host:${src}/`, `${pair.mine}/`]);
      expect(theirs.code, theirs.err).toBe(23);
      expect(ours.code, show(ours)).toBe(23);
      expect(ours.stderr).toContain(`send_files failed to open "${src}/locked": Permission denied (13)`);
      expect(itemLines(ours.stdout)).toEqual(itemLines(theirs.out));
      expect(formatDiffs(compareTrees(pair.theirs, pair.mine)), JSON.stringify(formatDiffs(compareTrees(pair.theirs, pair.mine)))).toEqual([]);
      expect(fs.readFileSync(path.join(pair.mine, 'a'), 'latin1')).toBe('aaa');
      if (c.seeded) expect(fs.readFileSync(path.join(pair.mine, 'locked'), 'latin1')).toBe('old');
      else expect(fs.existsSync(path.join(pair.mine, 'locked'))).toBe(false);
    });
  }
});
