// --files-from between two machines, and --old-args: differential against rsync 3.5 as the client,
// through a remote shell that runs the server command locally (as ssh would on the far side). All four
// placements rsync supports (the list here or on the far side; the source here, a push, or there, a
// pull), -0 lists, a list on stdin, with and without -r: the same tree (bytes, modes, ns times), the
// same exit code (23 for a listed name that does not exist), the same -i lines and the same error
// lines. A remote name with a space goes to the remote shell unescaped only under --old-args (or
// RSYNC_OLD_ARGS), so "host:one two" names two files there.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { BIN, runCli, show } from '../helpers/cli.js';
import { compareTrees } from '../helpers/compare.js';
import { fakeRsh } from '../helpers/fake-rsh.js';
import { sameForEveryEngine } from '../helpers/shared-case.js';

let root: string;
let src: string;
let rsh: string;
let list: string;
let list0: string;
let n = 0;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rfrom-'));
  src = path.join(root, 'src');
  const w = (rel: string): void => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), `${rel}\n`);
  };
  for (const f of ['file1', 'sp ace.txt', 'dir/a b', 'dir/text', 'dir/sub/deep', 'dir/sub/deeper/x', 'dir/sub2/z', 'dir/sub2/more/y', 'other/o', 'one', 'two']) w(f);
  fs.chmodSync(path.join(src, 'dir/a b'), 0o640);
  const age = (p: string, depth: number): void => {
    if (fs.lstatSync(p).isDirectory()) for (const c of fs.readdirSync(p)) age(path.join(p, c), depth + 1);
    fs.utimesSync(p, 1_500_000_000.5 + depth, 1_500_000_000.5 + depth);
  };
  age(src, 0);
  // A name with spaces, a directory named bare (made, not entered without -r), one with a slash (its
  // contents, one level), a name that does not exist, a comment (skipped when read here, a name when
  // forwarded: rsync's own difference), an empty line.
  const names = ['sp ace.txt', 'dir/a b', 'dir/sub', 'dir/sub2/', 'missing file', '# a comment', '', 'other/./o'];
  list = path.join(root, 'list');
  fs.writeFileSync(list, names.join('\n') + '\n');
  list0 = path.join(root, 'list0');
  fs.writeFileSync(list0, names.join('\0') + '\0');
  rsh = fakeRsh(root);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

let theirsDir: string;
let oursDir: string;
beforeEach(() => {
  n++;
  theirsDir = path.join(root, `theirs-${n}`);
  oursDir = path.join(root, `ours-${n}`);
});

interface Result {
  code: number;
  out: string;
  err: string;
}

const plainEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env['ARSYNC_ADDON'];
  delete env['RSYNC_OLD_ARGS'];
  delete env['RSYNC_PROTECT_ARGS'];
  return { ...env, ...extra };
};

function rsyncClient(args: string[], o: { input?: Buffer; cwd?: string; env?: Record<string, string> } = {}): Result {
  const r = spawnSync('rsync', ['--no-i-r', ...args], { encoding: 'latin1', input: o.input, cwd: o.cwd ?? root, env: plainEnv(o.env) });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

async function arsync(args: string[], o: { input?: Buffer; cwd?: string; env?: Record<string, string> } = {}): Promise<Result> {
  if (o.input === undefined) {
    const r = await runCli(args, { cwd: o.cwd ?? root, ...(o.env ? { env: o.env } : {}) });
    expect(r.signal, show(r)).toBe(null);
    return { code: r.code ?? -1, out: r.stdout, err: r.stderr };
  }
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'latin1', input: o.input, cwd: o.cwd ?? root, env: plainEnv(o.env) });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Byte counts and timings differ; the destination's name is the test's own. */
const steady = (s: string): string =>
  s
    .replace(/^sent [\d,.]+ bytes {2}received [\d,.]+ bytes {2}[\d,.]+ bytes\/sec$/m, 'sent … received …')
    .replace(/^total size is ([\d,.]+) {2}speedup is [\d,.]+/m, 'total size is $1  speedup is …')
    .replace(new RegExp(`${theirsDir}|${oursDir}`, 'g'), 'DST');

/** Error lines, each side's program name made one, in order of appearance per source (their order races). */
const errors = (s: string): string[] =>
  s
    .split('\n')
    .filter((l) => l && !/^a?rsync error: /.test(l))
    .map((l) => l.replace(/^arsync: /, 'rsync: ').replace(new RegExp(`${theirsDir}|${oursDir}`, 'g'), 'DST'))
    .sort();

type Where = 'here' | 'there' | 'there:';
const listArg = (file: string, where: Where): string => (where === 'here' ? file : where === 'there' ? `host:${file}` : `:${file}`);

/**
 * rsync's client on a case, into `theirsDir`: it depends on the source, the list, the far side and the
 * options only, so the first engine's run serves the same test under the others
 * (test/helpers/shared-case.ts). `theirsDir` becomes that run's destination, which steady() and
 * errors() then replace in rsync's output.
 */
function theirRun(dependsOn: unknown, run: (dst: string) => Result): Result {
  const shared = sameForEveryEngine(dependsOn, () => ({ dir: theirsDir, theirs: run(theirsDir) }));
  theirsDir = shared.dir;
  return shared.theirs;
}

async function both(opts: string[], pull: boolean, engine: string, o: { input?: Buffer } = {}): Promise<{ theirs: Result; ours: Result }> {
  const ends = (dst: string): string[] => (pull ? [`host:${src}`, `${dst}/`] : [src, `host:${dst}/`]);
  const theirs = theirRun([opts, pull, o.input?.toString('latin1') ?? null], (dst) => rsyncClient([...opts, '-e', rsh, ...ends(dst)], o));
  const ours = await arsync([`--engine=${engine}`, ...opts, '-e', rsh, ...ends(oursDir)], o);
  return { theirs, ours };
}

/**
 * `racy`: only the sender's own error lines (how rsync's receiver notices the sender's end varies from
 * run to run). `unordered`: the receiver's deletions interleave with the sender's lines in another order
 * (a push prints the receiver's messages as they arrive, ahead of the requests still queued before them).
 */
const expectSame = (theirs: Result, ours: Result, racy = false, unordered = false): void => {
  expect(ours.code, `${ours.out}\n${ours.err}`).toBe(theirs.code);
  const lines = (s: string): string => (unordered ? steady(s).split('\n').sort().join('\n') : steady(s));
  expect(lines(ours.out)).toBe(lines(theirs.out));
  const pick = (s: string): string[] => errors(s).filter((l) => !racy || l.includes('[sender]'));
  expect(pick(ours.err)).toEqual(pick(theirs.err));
  expect(fs.existsSync(oursDir)).toBe(fs.existsSync(theirsDir));
  if (fs.existsSync(theirsDir)) expect(compareTrees(theirsDir, oursDir, { xattrs: false, acls: false, rootMeta: false })).toEqual([]);
};

describeEngines((e) => {
  const placements: [string, boolean, Where][] = [
    ['a push, the list here', false, 'here'],
    ['a push, the list on the far side', false, 'there'],
    ['a push, the list on the far side as ":path"', false, 'there:'],
    ['a pull, the list here', true, 'here'],
    ['a pull, the list on the far side', true, 'there'],
  ];
  it.each(placements)('%s: the tree, -i lines, errors and exit 23 of rsync', async (_what, pull, where) => {
    const { theirs, ours } = await both(['-ai', `--files-from=${listArg(list, where)}`], pull, e.name);
    expect(theirs.code).toBe(23);
    expectSame(theirs, ours);
    // What the list named, and nothing it did not: a bare directory made empty, "dir/sub2/" one level.
    expect(fs.readFileSync(path.join(oursDir, 'sp ace.txt'), 'utf8')).toBe('sp ace.txt\n');
    expect(fs.statSync(path.join(oursDir, 'dir/a b')).mode & 0o777).toBe(0o640);
    expect(fs.readdirSync(path.join(oursDir, 'dir/sub'))).toEqual([]);
    expect(fs.readdirSync(path.join(oursDir, 'dir/sub2')).sort()).toEqual(['more', 'z']);
    expect(fs.readdirSync(path.join(oursDir, 'dir/sub2/more'))).toEqual([]);
    expect(fs.existsSync(path.join(oursDir, 'other'))).toBe(false);
    expect(fs.readFileSync(path.join(oursDir, 'o'), 'utf8')).toBe('other/o\n');
  });

  it.each(placements)('%s, -r and -0: the listed directories whole', async (_what, pull, where) => {
    const { theirs, ours } = await both(['-rtv', '-0', `--files-from=${listArg(list0, where)}`], pull, e.name);
    expectSame(theirs, ours);
    expect(fs.readFileSync(path.join(oursDir, 'dir/sub/deeper/x'), 'utf8')).toBe('dir/sub/deeper/x\n');
  });

  // A list here that cannot be read: rsync's client says so and exits 1 before it starts the remote shell.
  // arsync's push had started it (its walk overlaps the far side's start) and its pull threw an internal
  // error (exit 11); the message carried Node's wording.
  it('a local list that cannot be read: exit 1 and rsync\'s message, the remote shell never started (push and pull)', async () => {
    const log = path.join(root, `rsh-log-${n}`);
    const logged = fakeRsh(root, { log, name: `rsh-logged-${n}` });
    const missing = path.join(root, 'no-such-list');
    for (const args of [['-a', `--files-from=${missing}`, '-e', logged, `${src}/`, `host:${oursDir}/`], ['-a', `--files-from=${missing}`, '-e', logged, `host:${src}/`, `${oursDir}/`]]) {
      const theirs = rsyncClient(args);
      const ours = await arsync([`--engine=${e.name}`, ...args]);
      expect(ours.code).toBe(1);
      expect(theirs.code).toBe(1);
      expect(ours.err).toBe(`arsync: failed to open files-from file ${missing}: No such file or directory\narsync error: syntax or usage error (code 1)\n`);
      expect(theirs.err.split('\n')[0]).toBe(`rsync: failed to open files-from file ${missing}: No such file or directory`);
      expect(fs.existsSync(oursDir)).toBe(false);
    }
    // Neither client ran the remote shell.
    expect(fs.existsSync(log)).toBe(false);
  });

  it('a push with --delete deletes only in the directories the list sent with their contents, as rsync', async () => {
    for (const d of [theirsDir, oursDir]) {
      for (const extra of ['dir/sub2/gone', 'dir/sub/kept', 'dir/kept too', 'gone top']) {
        fs.mkdirSync(path.dirname(path.join(d, extra)), { recursive: true });
        fs.writeFileSync(path.join(d, extra), 'extra\n');
        fs.utimesSync(path.join(d, extra), 1_400_000_000, 1_400_000_000);
      }
    }
    const { theirs, ours } = await both(['-ai', '--delete', `--files-from=${list}`], false, e.name);
    expectSame(theirs, ours, false, true);
    expect(fs.existsSync(path.join(oursDir, 'dir/sub2/gone'))).toBe(false);
    expect(fs.existsSync(path.join(oursDir, 'dir/sub/kept'))).toBe(true);
    expect(fs.existsSync(path.join(oursDir, 'dir/kept too'))).toBe(true);
  });

  it.each([[false], [true]])('reads the list from stdin (pull: %s)', async (pull) => {
    const { theirs, ours } = await both(['-a', '--files-from=-'], pull, e.name, { input: fs.readFileSync(list) });
    expectSame(theirs, ours);
    expect(fs.existsSync(path.join(oursDir, 'dir/a b'))).toBe(true);
  });

  it.each([[false], [true]])('keeps the names flat with --no-R (pull: %s)', async (pull) => {
    const { theirs, ours } = await both(['-a', '--no-R', `--files-from=${list}`], pull, e.name);
    expectSame(theirs, ours);
    expect(fs.existsSync(path.join(oursDir, 'a b'))).toBe(true);
  });

  it('pushes -R sources with their implied directories as rsync does', async () => {
    const theirs = theirRun('-R', (dst) => rsyncClient(['-aiR', '-e', rsh, 'src/dir/sub/deeper', 'src/./other', `host:${dst}/`]));
    const ours = await arsync([`--engine=${e.name}`, '-aiR', '-e', rsh, 'src/dir/sub/deeper', 'src/./other', `host:${oursDir}/`]);
    expect(theirs.code).toBe(0);
    expectSame(theirs, ours);
    expect(fs.existsSync(path.join(oursDir, 'src/dir/sub/deeper/x'))).toBe(true);
  });

  it.each([
    ['-s', ['-s'], {}],
    ['RSYNC_PROTECT_ARGS=1', [], { RSYNC_PROTECT_ARGS: '1' }],
  ] as const)('under %s the names reach the server through the connection, not the remote shell', async (_what, opts, env) => {
    // A remote shell that records what it was given, then runs it as ssh would.
    const seen = path.join(root, `seen-${n}`);
    const recording = path.join(root, `rsh-rec-${n}`);
    fs.writeFileSync(recording, `#!/bin/sh\nprintf '%s\\n' "$@" >> ${seen}\nshift\nexec sh -c "$*"\n`, { mode: 0o755 });
    for (const pull of [false, true]) {
      const ends = (dst: string): string[] => (pull ? [`host:${src}/dir/`, `${dst}/x y;z/`] : [`${src}/dir/`, `host:${dst}/x y;z/`]);
      fs.mkdirSync(theirsDir, { recursive: true });
      fs.mkdirSync(oursDir, { recursive: true });
      const theirs = rsyncClient(['-ai', ...opts, '-e', recording, ...ends(theirsDir)], { env });
      fs.rmSync(seen, { force: true });
      const ours = await arsync([`--engine=${e.name}`, '-ai', ...opts, '-e', recording, ...ends(oursDir)], { env });
      expect(theirs.code).toBe(0);
      expectSame(theirs, ours);
      expect(fs.readFileSync(path.join(oursDir, 'x y;z', 'a b'), 'utf8')).toBe('dir/a b\n');
      const argv = fs.readFileSync(seen, 'utf8').split('\n');
      expect(argv.some((a) => a.includes(src) || a.includes(oursDir))).toBe(false);
      expect(argv.find((a) => a.startsWith('-') && !a.startsWith('--'))).toMatch(/^-s/);
      fs.rmSync(theirsDir, { recursive: true });
      fs.rmSync(oursDir, { recursive: true });
    }
  });

  // A named symlink rsync's sender looks through: -k one that leads to a directory, --copy-unsafe-links
  // one that leads out of the transfer (absolute here), as a --files-from name or as an operand. arsync's
  // push sent the link itself (its walk looked through such links only below a named directory), before
  // session 52. Pushed and pulled, rsync as the client beside.
  it.each([['-k'], ['--copy-unsafe-links'], ['-k', '-r'], ['--copy-unsafe-links', '-r'], ['-L']].map((o) => [o.join(' '), o] as const))('%s: a named symlink to a directory sent as that directory, as rsync', async (_what, opts) => {
    const lsrc = path.join(root, 'linked');
    if (!fs.existsSync(lsrc)) {
      fs.mkdirSync(path.join(lsrc, 'b'), { recursive: true });
      fs.mkdirSync(path.join(lsrc, 'x'));
      fs.writeFileSync(path.join(lsrc, 'b', 's'), 's\n');
      fs.symlinkSync('b', path.join(lsrc, 'lb'));
      fs.symlinkSync(path.join(lsrc, 'b'), path.join(lsrc, 'abs'));
      fs.writeFileSync(path.join(root, 'linked-list'), 'abs\nlb\nx\n');
      // Whole seconds: the node engine sets times to the microsecond.
      for (const d of ['b/s', 'b', 'x', '.']) fs.utimesSync(path.join(lsrc, d), 1_500_000_000, 1_500_000_000);
    }
    const forms: [string, string[]][] = [
      ['list', [`--files-from=${path.join(root, 'linked-list')}`, `${lsrc}/`]],
      ['lb', [`${lsrc}/lb`]],
      ['abs', [`${lsrc}/abs`]],
    ];
    for (const pull of [false, true]) {
      for (const [form, from] of forms) {
        const ends = (dst: string): string[] => (pull ? [...from.slice(0, -1), `host:${from.at(-1)!}`, `${dst}/`] : [...from, `host:${dst}/`]);
        const theirs = theirRun([opts, pull, form], (dst) => rsyncClient(['-it', ...opts, '-e', rsh, ...ends(dst)]));
        const ours = await arsync([`--engine=${e.name}`, '-it', ...opts, '-e', rsh, ...ends(oursDir)]);
        expect(theirs.code, `${form} ${pull}`).toBe(0);
        expectSame(theirs, ours);
        fs.rmSync(oursDir, { recursive: true, force: true });
        n++;
        theirsDir = path.join(root, `theirs-${n}`);
        oursDir = path.join(root, `ours-${n}`);
      }
    }
  });

  it.each([
    ['with --old-args', ['--old-args'], {}, 0],
    ['with RSYNC_OLD_ARGS=1', [], { RSYNC_OLD_ARGS: '1' }, 0],
    ['without either (one name with a space, which does not exist)', [], {}, 23],
  ] as const)('pulls "host:one two" %s as rsync does', async (_what, opts, env, code) => {
    const theirs = rsyncClient(['-ai', ...opts, '-e', rsh, 'host:one two', `${theirsDir}/`], { cwd: src, env });
    const ours = await arsync([`--engine=${e.name}`, '-ai', ...opts, '-e', rsh, 'host:one two', `${oursDir}/`], { cwd: src, env });
    expect(theirs.code).toBe(code);
    expectSame(theirs, ours, code !== 0);
    expect(fs.existsSync(path.join(oursDir, 'one'))).toBe(code === 0);
    expect(fs.existsSync(path.join(oursDir, 'two'))).toBe(code === 0);
  });
});

it('refuses a list on another host, "host:-", and a remote list in a local copy, as rsync does (exit 1, nothing written)', async () => {
  for (const [args, message] of [
    [['--files-from=other:/x', src, `host:${oursDir}/`], '--files-from hostname is not the same as the transfer hostname'],
    [['--files-from=host:-', `host:${src}`, `${oursDir}/`], 'Invalid --files-from remote filename'],
    [['--files-from=host:/x', src, `${oursDir}/`], '--files-from cannot be remote when the transfer is local'],
  ] as const) {
    const theirs = rsyncClient(['-a', '-e', rsh, ...args]);
    const ours = await arsync(['-a', '-e', rsh, ...args]);
    expect(theirs.code).toBe(1);
    expect(ours.code, ours.err).toBe(1);
    expect(theirs.err).toContain(message);
    expect(ours.err).toContain(message);
    expect(fs.existsSync(oursDir)).toBe(false);
  }
});
