// A push's output in rsync's order, line for line: the far side's messages ("*deleting" under -i, from
// its generator) and the sender's item lines reach the client interleaved in one stream, and rsync's
// client prints each as its reader meets it. arsync used to print a message as soon as its frame came
// in, ahead of the lines of entries whose requests were still buffered, so on a tree of a few thousand
// entries the two kinds of line came out shuffled, and differently on each run. rsync's own order is
// the same run after run for this tree; arsync must print exactly it, on every engine.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { rsyncClient } from '../helpers/remote-pull.js';

let root: string;
let src: string;
let base: string;
let rsh: string;
let n = 0;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rpushorder-'));
  src = path.join(root, 'src');
  base = path.join(root, 'base');
  // 40 directories of 60 files; the destination has an extra file in each (deleted) and one file in
  // each with an older mtime (sent again): both kinds of line in every directory.
  for (let d = 1; d <= 40; d++) {
    fs.mkdirSync(path.join(src, `d${d}`), { recursive: true });
    for (let f = 1; f <= 60; f++) fs.writeFileSync(path.join(src, `d${d}`, `f${f}`), `${d}.${f}\n`);
  }
  const r = spawnSync('cp', ['-a', src, base]);
  if (r.status !== 0) throw new Error(String(r.stderr));
  for (let d = 1; d <= 40; d++) {
    fs.writeFileSync(path.join(base, `d${d}`, 'zz-extra'), 'x\n');
    fs.utimesSync(path.join(base, `d${d}`, 'f1'), 978_307_200, 978_307_200);
  }
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A fresh copy of the stale destination. */
function stale(): string {
  const to = path.join(root, `dst-${++n}`);
  const r = spawnSync('cp', ['-a', base, to]);
  if (r.status !== 0) throw new Error(String(r.stderr));
  return to;
}

describeEngines(({ name: engine }) => {
  it('-ai --delete prints the deletions and the sent files in the order rsync prints them', async () => {
    const theirs = rsyncClient(['-ai', '--delete', '-e', rsh, `${src}/`, `host:${stale()}/`]);
    expect(theirs.code, theirs.err).toBe(0);
    const ours = await runCli([`--engine=${engine}`, '-ai', '--delete', '-e', rsh, `${src}/`, `host:${stale()}/`]);
    expect(ours.code, show(ours)).toBe(0);
    // 40 deletions and 40 files sent, each kind in every directory.
    expect(ours.stdout.split('\n').filter((l) => l.startsWith('*deleting')).length).toBe(40);
    expect(ours.stdout).toBe(theirs.out);
  });
});
