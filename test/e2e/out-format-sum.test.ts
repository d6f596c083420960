// --out-format's and --log-file-format's %C against rsync 3.5 on the same trees, on every engine: the
// source's whole-file sum for transferred files, for every printed file under -c, blanks where none is
// known, zeros for a dry run's transferred files; --checksum-choice's names; a width past rsync's format
// buffer; and a default checksum this build cannot compute refused before any I/O.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli } from '../helpers/cli.js';
import { differential, freshSetup, updateSetup, put } from '../helpers/differential.js';

afterAll(() => removeTemps());

it('a %C whose default checksum the engine cannot compute (the node engine: no xxh128 in JavaScript) is refused, nothing written', async () => {
  const root = tempDir('arsync-sum-');
  put(root, 'src/f', 'x');
  const r = await runCli(['-a', '--engine=node', '--out-format=%C %n', `${root}/src/`, `${root}/dst/`]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/%C needs rsync's default checksum for a local copy, xxh128/);
  expect(fs.existsSync(path.join(root, 'dst'))).toBe(false);
});

describeEngines((e) => {
  const engine = e.name;
  const fmt = '--out-format=[%C] %i %n%L';

  it('%C with --checksum-choice=md5: transferred files, -c, a dry run, attribute-only changes', async () => {
    await differential({ engine, setup: freshSetup, args: ['-a', '--cc=md5', fmt, 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: updateSetup, args: ['-a', '--cc=md5', fmt, 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: updateSetup, args: ['-a', '-c', '--cc=md5', fmt, 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: updateSetup, args: ['-ain', '--cc=md5', fmt, 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: freshSetup, args: ['-a', '--cc=none', fmt, 'src/', 'dst/'], noItemize: true });
  });

  it('%C in the log file and past the format buffer\'s width', async () => {
    // The logs live outside the compared trees (their times and pids differ).
    const logs = tempDir('arsync-sum-logs-');
    const args = (log: string): string[] => ['-a', '-c', '--cc=md5', `--out-format=%${'0'.repeat(30)}%C %n`, `--log-file=${path.join(logs, log)}`, '--log-file-format=%C %n', 'src/', 'dst/'];
    const r = await differential({ engine, setup: freshSetup, args: args('B'), rsyncArgs: args('A'), noItemize: true });
    const tail = (root: string): string[] => fs.readFileSync(path.join(logs, path.basename(root)), 'latin1').split('\n').map((l) => l.replace(/^\S+ \S+ \[\d+\] /, '')).filter((l) => /^[0-9a-f ]{32} /.test(l)).sort();
    expect(tail(r.B)).toEqual(tail(r.A));
    expect(tail(r.B).length).toBeGreaterThan(0);
    expect(r.arsync.stdout).toMatch(/^%0{30}[0-9a-f]{32} /m);
  });

  // The addon computes the xxhash family; the node engine does not (refused above).
  it.skipIf(engine === 'node')('%C with rsync\'s default (xxh128) and --checksum-choice=xxh128', async () => {
    await differential({ engine, setup: updateSetup, args: ['-a', fmt, 'src/', 'dst/'], noItemize: true });
    await differential({ engine, setup: updateSetup, args: ['-a', '-c', '--cc=xxh128', fmt, 'src/', 'dst/'], noItemize: true });
  });
});
