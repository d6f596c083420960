// --delete with --files-from in a pull (`arsync -r --delete --files-from=LIST host:src/ dst/`): rsync's
// receiver deletes only inside the directories the sender sent with their contents (a listed directory
// under -r and what lies below it, "." when listed), never in the parents -R implies, in a directory sent
// without its contents (no -r), nor in the transfer root. Differential against rsync 3.5 as the client
// through the same fake remote shell and server, the list here and on the far side: the same tree, exit
// code and -i lines (deletions included); and against the older servers.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { fidelity, runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { destPairs, itemLines, rsyncClient } from '../helpers/remote-pull.js';

let root: string;
let src: string;
let rsh: string;
const OLD = 1_400_000_000;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rpulldel-'));
  src = path.join(root, 'src');
  const w = (rel: string, data: string): void => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), data);
  };
  w('d/x', 'x');
  w('d/sub/y', 'y');
  w('e/deep/z', 'z');
  w('e/w', 'w');
  w('top', 'top');
  w('w[1]*/in/q', 'q');
  fs.mkdirSync(path.join(src, 'f'));
  // Past times everywhere: a receiver leaves alone a time in the same second as its new entry's.
  const age = (rel: string): void => {
    const p = path.join(src, rel);
    if (fs.lstatSync(p).isDirectory()) for (const c of fs.readdirSync(p)) age(path.join(rel, c));
    fs.utimesSync(p, 1_500_000_000 + rel.length, 1_500_000_000 + rel.length);
  };
  age('');
  fs.writeFileSync(path.join(root, 'list'), 'd\ne/deep/z\ntop\nw[1]*/in/q\nf\n');
  fs.writeFileSync(path.join(root, 'list-dot'), '.\n');
  rsh = path.join(root, 'rsh');
  fs.writeFileSync(rsh, '#!/bin/sh\nshift\nexec sh -c "$*"\n', { mode: 0o755 });
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** An old destination with something extraneous at every level: in the root, in listed and implied directories. */
function seed(d: string): void {
  for (const f of ['old', 'd/old', 'd/sub/old', 'e/old', 'e/deep/old', 'zz/old', 'w[1]*/old', 'w[1]*/in/old', 'f/old']) {
    fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    fs.writeFileSync(path.join(d, f), 'old');
    fs.utimesSync(path.join(d, f), OLD, OLD);
  }
  for (const dir of ['d/sub', 'd', 'e/deep', 'e', 'zz', 'w[1]*/in', 'w[1]*', 'f', '.']) fs.utimesSync(path.join(d, dir), OLD, OLD);
}

describeEngines((e) => {
  const eng = `--engine=${e.name}`;
  const tolerance = fidelity(e.name).nsTimes ? 0 : 1000;
  const pair = destPairs(() => root, e.name);

  const cases: [string[], string][] = [
    [['-ar', '--delete'], 'list'],
    [['-a', '--delete'], 'list'],
    [['-ar', '--delete-after'], 'list'],
    [['-ar', '--delete', '--no-R'], 'list'],
    [['-ar', '--delete', '--delete-excluded', '--exclude=y'], 'list'],
    [['-ar', '--delete'], 'list-dot'],
    [['-ar', '--delete'], ':list'],
  ];
  it.each(cases)('deletes only where rsync deletes: %j --files-from=%s', async (opts, list) => {
    seed(pair.mine);
    seed(pair.theirs);
    const from = list.startsWith(':') ? `--files-from=:${path.join(root, list.slice(1))}` : `--files-from=${path.join(root, list)}`;
    const r = rsyncClient([...opts, '-i', from, '-e', rsh, `host:${src}/`, `${pair.theirs}/`]);
    const ours = await runCli([eng, ...opts, '-i', from, '-e', rsh, `host:${src}/`, `${pair.mine}/`]);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(r.code).toBe(0);
    expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
    expect(formatDiffs(compareTrees(pair.theirs, pair.mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false, rootMeta: false }))).toEqual([]);
    // Outside what was sent with its contents nothing goes: the root's and the implied directories' extras stay.
    for (const kept of ['old', 'zz/old', 'e/old', 'w[1]*/old']) expect(fs.existsSync(path.join(pair.mine, kept)), kept).toBe(list !== 'list-dot');
    if (opts.includes('-ar') && list !== 'list-dot' && !opts.includes('--no-R')) expect(fs.existsSync(path.join(pair.mine, 'd', 'old'))).toBe(false);
  });

  it.skipIf(!peersAvailable).each(['3.1.3', '3.2.7'])('deletes only where rsync deletes with an rsync %s server', async (version) => {
    const peer = peerRsync(version);
    seed(pair.mine);
    seed(pair.theirs);
    const args = ['-ari', '--delete', `--files-from=${path.join(root, 'list')}`, '-e', rsh, `--rsync-path=${peer}`, `host:${src}/`];
    const r = rsyncClient([...args, `${pair.theirs}/`]);
    const ours = await runCli([eng, ...args, `${pair.mine}/`]);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(r.code).toBe(0);
    expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
    expect(formatDiffs(compareTrees(pair.theirs, pair.mine, { mtimeToleranceNs: tolerance, xattrs: false, acls: false, rootMeta: false }))).toEqual([]);
  });
});
