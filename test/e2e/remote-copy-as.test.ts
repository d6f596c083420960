// --copy-as=USER[:GROUP] between machines: rsync's client takes USER's identity once the remote shell
// runs, then reads the sources (a push) or writes the destination (a pull) as USER. Differential
// against rsync 3.5 as the client through the same fake remote shell: the same tree (owners included:
// a pull as nobody leaves nobody's files), exit codes and -i lines; a source only root can read is not
// sent; an unknown user is rsync's usage error before anything starts. Needs root (rsync's own rule).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees, formatDiffs } from '../helpers/compare.js';
import { destPairs, itemLines, rsyncClient } from '../helpers/remote-pull.js';

const root = process.geteuid?.() === 0;
const NOBODY = 65534;
let dir: string;
let src: string;
let rsh: string;

beforeAll(() => {
  if (!root) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rcopyas-'));
  // nobody must reach everything below: the temp dir itself is 0700 root.
  fs.chmodSync(dir, 0o755);
  src = path.join(dir, 'src');
  const w = (rel: string, data: string, mode = 0o644): void => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), data, { mode });
    fs.chmodSync(path.join(src, rel), mode);
  };
  w('a', 'a');
  w('d/x', 'x'.repeat(50_000));
  w('secret', 'root only', 0o600);
  fs.symlinkSync('a', path.join(src, 'ln'));
  execFileSync('touch', ['-h', '-d', '2020-02-02 02:02:02', ...['a', 'd/x', 'secret', 'ln', 'd', '.'].map((r) => path.join(src, r))]);
  rsh = path.join(dir, 'rsh');
  fs.writeFileSync(rsh, '#!/bin/sh\nshift\nexec sh -c "$*"\n', { mode: 0o755 });
});

afterAll(() => {
  if (root) fs.rmSync(dir, { recursive: true, force: true });
});

/** uid:gid of every entry under `d`, by name. */
function owners(d: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(d, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      const st = fs.lstatSync(path.join(d, r));
      out[r] = `${st.uid}:${st.gid}`;
      if (e.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

describeEngines((e) => {
  const pair = destPairs(() => dir ?? '', e.name);

  it.skipIf(!root)('pulls as USER: the files are written as nobody, as rsync leaves them', async () => {
    for (const d of [pair.mine, pair.theirs]) {
      fs.mkdirSync(d);
      fs.chownSync(d, NOBODY, NOBODY);
    }
    const r = rsyncClient(['-ai', '--copy-as=nobody', '-e', rsh, `host:${src}/`, `${pair.theirs}/`]);
    const ours = await runCli([`--engine=${e.name}`, '-ai', '--copy-as=nobody', '-e', rsh, `host:${src}/`, `${pair.mine}/`]);
    expect(ours.code, show(ours)).toBe(r.code);
    expect(r.code).toBe(0);
    expect(itemLines(ours.stdout)).toEqual(itemLines(r.out));
    expect(owners(pair.mine)).toEqual(owners(pair.theirs));
    expect(owners(pair.mine)['a']).toBe(`${NOBODY}:${NOBODY}`);
    expect(fs.readFileSync(path.join(pair.mine, 'secret'), 'latin1')).toBe('root only');
    expect(formatDiffs(compareTrees(pair.theirs, pair.mine, { xattrs: false, acls: false, rootMeta: false }))).toEqual([]);
  });

  it.skipIf(!root)('pulls as USER into a directory USER cannot write: the same failures and exit 23 as rsync', async () => {
    for (const d of [pair.mine, pair.theirs]) fs.mkdirSync(d);
    const r = rsyncClient(['-a', '--copy-as=nobody', '-e', rsh, `host:${src}/`, `${pair.theirs}/`]);
    const ours = await runCli([`--engine=${e.name}`, '-a', '--copy-as=nobody', '-e', rsh, `host:${src}/`, `${pair.mine}/`]);
    expect(r.code).toBe(23);
    expect(ours.code, show(ours)).toBe(23);
    expect(fs.readdirSync(pair.mine)).toEqual([]);
  });

  it.skipIf(!root)('pushes as USER: a source only root can read is not sent (exit 23), the rest is', async () => {
    const r = rsyncClient(['-ai', '--copy-as=nobody', '-e', rsh, `${src}/`, `host:${pair.theirs}/`]);
    const ours = await runCli([`--engine=${e.name}`, '-ai', '--copy-as=nobody', '-e', rsh, `${src}/`, `host:${pair.mine}/`]);
    expect(r.code).toBe(23);
    expect(ours.code, show(ours)).toBe(23);
    expect(ours.stdout).toBe(r.out.replace(pair.theirs, pair.mine));
    expect(ours.stderr).toMatch(/send_files failed to open ".*secret": Permission denied \(13\)/);
    expect(fs.existsSync(path.join(pair.mine, 'secret'))).toBe(false);
    expect(fs.readFileSync(path.join(pair.mine, 'd', 'x'), 'latin1')).toBe('x'.repeat(50_000));
    // The far side ran as the caller (root): it kept the owners.
    expect(owners(pair.mine)).toEqual(owners(pair.theirs));
    expect(formatDiffs(compareTrees(pair.theirs, pair.mine, { xattrs: false, acls: false, rootMeta: false }))).toEqual([]);
  });

  it.skipIf(!root).each([['--copy-as=nosuchuser', 'Invalid copy-as user: nosuchuser'], ['--copy-as=nobody:nosuchgroup', 'Invalid copy-as group: nosuchgroup']])(
    'refuses %s as rsync (exit 1), writing nothing',
    async (opt, message) => {
      for (const [from, to] of [[`host:${src}/`, `${pair.mine}/`], [`${src}/`, `host:${pair.mine}/`]]) {
        const ours = await runCli([`--engine=${e.name}`, '-a', opt, '-e', rsh, from!, to!]);
        expect(ours.code, show(ours)).toBe(1);
        expect(ours.stderr).toContain(message);
        expect(fs.existsSync(pair.mine)).toBe(false);
      }
      const r = rsyncClient(['-a', opt, '-e', rsh, `host:${src}/`, `${pair.theirs}/`]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(message);
    },
  );
});
