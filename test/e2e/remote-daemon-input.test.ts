// What a daemon session sends before the transfer, on every engine, against stock rsync daemons and
// rsync 3.5 as the client for the oracle: -s/--secluded-args (the command line stops at the first option
// cluster, the rest follows through the protocol, so names with spaces, a " module/" inside them or a
// leading "-" arrive whole) and --early-input (the file's bytes reach the module's "early exec" program;
// an unreadable or oversized file is rsync's message and exit 5, before the module is named).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { compareTrees } from '../helpers/compare.js';
import { peerRsync, peersAvailable } from '../helpers/rsync-server.js';
import { startDaemon, writeConf, type Daemon } from '../helpers/rsyncd.js';

const VERSIONS = ['3.5', ...(peersAvailable ? ['3.1.3', '3.2.7'] : [])];
const rsyncOf = (v: string): string => (v === '3.5' ? 'rsync' : peerRsync(v));

let root: string;
let src: string;
let got: string;
const daemons = new Map<string, Daemon>();
let n = 0;

/** Names a shell would cut or expand: spaces, a leading "-", glob characters. */
const NAMES = ['plain', 'two  spaces', '-dash', 'glob*[x]'];
/** A directory whose path holds " src/" (the module's name): without -s the daemon splits the argument there. */
const DIR = 'sub dir/a src';

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-dinput-'));
  src = path.join(root, 'src');
  fs.mkdirSync(path.join(src, DIR), { recursive: true });
  for (const name of NAMES) fs.writeFileSync(path.join(src, DIR, name), `${name}\n`);
  // Times well in the past: a receiving rsync leaves a new directory's time alone when the source's is in
  // the same second as its own (its quick same-second rule), which a tree made just now would hit.
  for (const rel of [...NAMES.map((name) => path.join(DIR, name)), DIR, 'sub dir']) fs.utimesSync(path.join(src, rel), 1_500_000_000, 1_500_000_000);
  fs.mkdirSync(path.join(root, 'up'));
  got = path.join(root, 'early-got');
  // The module's early exec program keeps what it was given on stdin.
  const early = path.join(root, 'early.sh');
  fs.writeFileSync(early, `#!/bin/sh\ncat >> '${got}'\n`, { mode: 0o755 });
  for (const v of VERSIONS) {
    const extra = v === '3.5' ? [`early exec = ${early}`] : [];
    const conf = writeConf(path.join(root, `conf-${v}`), [
      { name: 'up', path: path.join(root, 'up'), readOnly: false, extra },
      { name: 'src', path: src, readOnly: true, extra },
    ]);
    daemons.set(v, await startDaemon(conf, rsyncOf(v)));
  }
});

afterAll(async () => {
  for (const d of daemons.values()) await d.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

/** The node engine sets mtimes to the microsecond. */
const times = (engine: string): { mtimeToleranceNs?: number } => (engine === 'node' ? { mtimeToleranceNs: 1000 } : {});

const url = (v: string, rest: string): string => `rsync://127.0.0.1:${daemons.get(v)!.port}/${rest}`;

describeEngines(({ name: engine }) => {
  for (const v of VERSIONS) {
    it(`-s: a pull from a daemon ${v} of a directory whose path holds " src/" gets it whole, as rsync -s does`, async () => {
      const ours = path.join(root, `ours-${++n}`);
      const theirs = path.join(root, `theirs-${n}`);
      const source = url(v, `src/${DIR}/`);
      const r = await runCli([`--engine=${engine}`, '-s', '-rt', source, `${ours}/`]);
      expect(r.code, show(r)).toBe(0);
      const rs = spawnSync('rsync', ['-s', '-rt', source, `${theirs}/`], { encoding: 'latin1' });
      expect(rs.status, rs.stderr).toBe(0);
      expect(fs.readdirSync(ours).sort()).toEqual([...NAMES].sort());
      expect(compareTrees(theirs, ours, { ...times(engine), xattrs: false, acls: false, rootMeta: false })).toEqual([]);
    });

    it(`-s: a push to a daemon ${v} into a directory named with spaces and glob characters, as rsync -s`, async () => {
      const ours = `ours  ${++n} *[x]`;
      const theirs = `theirs  ${n} *[x]`;
      const r = await runCli([`--engine=${engine}`, '-s', '-rt', `${src}/`, url(v, `up/${ours}/`)]);
      expect(r.code, show(r)).toBe(0);
      const rs = spawnSync('rsync', ['-s', '-rt', `${src}/`, url(v, `up/${theirs}/`)], { encoding: 'latin1' });
      expect(rs.status, rs.stderr).toBe(0);
      expect(compareTrees(path.join(root, 'up', theirs), path.join(root, 'up', ours), { ...times(engine), xattrs: false, acls: false, rootMeta: false })).toEqual([]);
    });
  }

  it('--early-input: the file reaches the module\'s early exec program, as from rsync', async () => {
    const input = path.join(root, `input-${++n}`);
    fs.writeFileSync(input, `early ${n} from arsync\n`);
    fs.rmSync(got, { force: true });
    const r = await runCli([`--engine=${engine}`, '-a', `--early-input=${input}`, url('3.5', 'src/'), path.join(root, `out-${n}/`)]);
    expect(r.code, show(r)).toBe(0);
    expect(fs.readFileSync(got, 'utf8')).toBe(`early ${n} from arsync\n`);
    fs.rmSync(got, { force: true });
    const rs = spawnSync('rsync', ['-a', `--early-input=${input}`, url('3.5', 'src/'), path.join(root, `theirs-out-${n}/`)], { encoding: 'latin1' });
    expect(rs.status, rs.stderr).toBe(0);
    expect(fs.readFileSync(got, 'utf8')).toBe(`early ${n} from arsync\n`);
    expect(compareTrees(path.join(root, `theirs-out-${n}`), path.join(root, `out-${n}`), { ...times(engine), xattrs: false, acls: false })).toEqual([]);
  });

  it('--early-input that cannot be read, or is over 5,120 bytes: rsync\'s message and exit 5, nothing copied', async () => {
    const missing = path.join(root, 'no-such-input');
    const big = path.join(root, `big-input-${++n}`);
    fs.writeFileSync(big, Buffer.alloc(5121, 0x61));
    for (const [file, says] of [
      [missing, `failed to open ${missing}: No such file or directory (2)`],
      [big, `${big} is > 5120 bytes.`],
    ] as const) {
      const out = path.join(root, `none-${++n}`);
      const r = await runCli([`--engine=${engine}`, '-a', `--early-input=${file}`, url('3.5', 'src/'), `${out}/`]);
      const rs = spawnSync('rsync', ['-a', `--early-input=${file}`, url('3.5', 'src/'), `${out}-rsync/`], { encoding: 'latin1' });
      expect(rs.status).toBe(5);
      expect(r.code, show(r)).toBe(5);
      expect(r.stderr).toContain(says);
      expect(rs.stderr).toContain(says);
      expect(fs.existsSync(out)).toBe(false);
    }
  });
});
