// The remote shell started by bin/arsync before Node (src/remote/early-shell.ts): a command line that
// worked once has its remote shell started by the launcher the next time, on FIFOs, with Node's
// signal dispositions, and the run is the same as one without it; an entry that does not start what the
// run works out is stopped before a byte reaches it and the run spawns its own, what the command it started
// says of that never seen (its stderr goes through Node, relayed only once taken over); an entry of another user,
// a failed run, or ARSYNC_NO_EARLY_SHELL leave the launcher out; the exit codes and messages of a failing
// far side or remote shell are those of a run without it. Through the fake remote shell and, where an sshd
// can run, through real ssh.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { startSshd, sshdUnavailable, type Sshd } from '../helpers/sshd.js';

let root: string;
let n = 0;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-early-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

interface Start {
  /** What the remote shell's stdin is: a socket (Node's spawn) or the launcher's FIFO (a path). */
  stdin: string;
  /** Its ignored signals (SigIgn of /proc/PID/status). */
  ignored: bigint;
  args: string;
}

/** A case's directory, its own cache, and a remote shell that logs each start and runs the command here. */
function setup(): { dir: string; cache: string; rsh: string; starts: () => Start[]; failFlag: string } {
  const dir = path.join(root, `case-${n++}`);
  const cache = path.join(dir, 'cache');
  fs.mkdirSync(path.join(dir, 'src/d'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'src/a'), 'a\n');
  fs.writeFileSync(path.join(dir, 'src/d/b'), 'b\n');
  const log = path.join(dir, 'starts.log');
  const failFlag = path.join(dir, 'fail-shell');
  const rsh = path.join(dir, 'rsh');
  fs.writeFileSync(
    rsh,
    '#!/bin/sh\n' +
      `printf '%s\\t%s\\t%s\\n' "$(readlink /proc/$$/fd/0)" "$(sed -n 's/^SigIgn:\\t//p' /proc/$$/status)" "$*" >> '${log}'\n` +
      `if [ -e '${failFlag}' ]; then echo 'ssh: connect to host h port 22: Connection refused' >&2; exit 255; fi\n` +
      // As ssh: the command runs apart from the shell, and a signal to the shell ends both quietly.
      'shift\nexec 3<&0\nsh -c "exec $*" <&3 3<&- &\nchild=$!\ntrap \'kill -9 $child 2>/dev/null; exit 255\' TERM USR1\nwait $child\n',
    { mode: 0o755 },
  );
  const starts = (): Start[] =>
    fs.existsSync(log)
      ? fs
          .readFileSync(log, 'utf8')
          .trimEnd()
          .split('\n')
          .map((l) => {
            const [stdin, ign, args] = l.split('\t');
            return { stdin: stdin!, ignored: BigInt(`0x${ign}`), args: args! };
          })
      : [];
  return { dir, cache, rsh, starts, failFlag };
}

const SIGINT_QUIT = 0x6n;
const entryDir = (cache: string): string => path.join(cache, 'arsync', 'early');
const entries = (cache: string): string[] => (fs.existsSync(entryDir(cache)) ? fs.readdirSync(entryDir(cache)) : []);
const read = (p: string): string => fs.readFileSync(p, 'utf8');

describeEngines((e) => {
  const run = (c: { dir: string; cache: string }, args: string[], env: Record<string, string> = {}) =>
    runCli([`--engine=${e.name}`, ...args], { cwd: c.dir, env: { XDG_CACHE_HOME: c.cache, ...env } });

  it('a push that worked starts its remote shell from the launcher the next time, with the same result', async () => {
    const c = setup();
    const args = ['-ai', '-e', c.rsh, 'src/', `h:${c.dir}/dst/`];
    const first = await run(c, args);
    expect(first.code, show(first)).toBe(0);
    expect(c.starts()).toHaveLength(1);
    expect(c.starts()[0]!.stdin).toMatch(/^socket:/);
    // The entry: the cache directory and the file this user's alone.
    const names = entries(c.cache);
    expect(names).toHaveLength(1);
    expect(fs.statSync(entryDir(c.cache)).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(entryDir(c.cache), names[0]!)).mode & 0o777).toBe(0o600);
    // Something to send the second time.
    fs.writeFileSync(path.join(c.dir, 'src/a'), 'changed\n');
    fs.writeFileSync(path.join(c.dir, 'src/d/new'), 'new\n');
    const second = await run(c, args);
    expect(second.code, show(second)).toBe(0);
    expect(second.stdout).toContain('<f+++++++++ d/new');
    const [before, early] = c.starts();
    expect(early!.stdin.startsWith(entryDir(c.cache) + '/.fifo.'), early!.stdin).toBe(true);
    expect(early!.args).toBe(before!.args);
    // Node's children start with no signal ignored; the launcher's, put back the same way.
    expect(early!.ignored & SIGINT_QUIT).toBe(before!.ignored & SIGINT_QUIT);
    expect(read(path.join(c.dir, 'dst/a'))).toBe('changed\n');
    expect(read(path.join(c.dir, 'dst/d/new'))).toBe('new\n');
    // The FIFOs' names are gone, the entry kept as it was.
    expect(entries(c.cache)).toEqual(names);
  });

  it('a pull starts early the same way', async () => {
    const c = setup();
    const args = ['-a', '-e', c.rsh, `h:${c.dir}/src/`, 'dst/'];
    expect((await run(c, args)).code).toBe(0);
    fs.writeFileSync(path.join(c.dir, 'src/d/b'), 'pulled again\n');
    const second = await run(c, args);
    expect(second.code, show(second)).toBe(0);
    expect(c.starts().map((s) => s.stdin.startsWith(entryDir(c.cache)))).toEqual([false, true]);
    expect(read(path.join(c.dir, 'dst/d/b'))).toBe('pulled again\n');
  });

  it('an entry that does not start what the run works out is stopped before it is used, and replaced', async () => {
    const c = setup();
    const args = ['-a', '-e', c.rsh, 'src/', `h:${c.dir}/dst/`];
    expect((await run(c, args)).code).toBe(0);
    // The same key, another destination in the argv it starts.
    const file = path.join(entryDir(c.cache), entries(c.cache)[0]!);
    const text = read(file);
    const at = text.lastIndexOf(`${c.dir}/dst/\n`);
    fs.writeFileSync(file, text.slice(0, at) + `${c.dir}/elsewhere/\n`);
    fs.rmSync(path.join(c.dir, 'dst'), { recursive: true });
    const second = await run(c, args);
    expect(second.code, show(second)).toBe(0);
    expect(second.stderr).toBe('');
    const [, stopped, spawned] = c.starts();
    expect(stopped!.stdin.startsWith(entryDir(c.cache))).toBe(true);
    expect(stopped!.args).toContain('/elsewhere/');
    expect(spawned!.stdin).toMatch(/^socket:/);
    expect(fs.existsSync(path.join(c.dir, 'elsewhere'))).toBe(false);
    expect(read(path.join(c.dir, 'dst/a'))).toBe('a\n');
    // The entry is this run's again: the third run starts early and right.
    expect(read(file)).not.toContain('/elsewhere/');
    expect((await run(c, args)).code).toBe(0);
    expect(c.starts()[3]!.stdin.startsWith(entryDir(c.cache))).toBe(true);
  });

  it("a stopped entry's command says nothing of its closed input; a taken-over shell's stderr is relayed", async () => {
    const c = setup();
    // A wrapper script as a user writes one: a word on stderr, then the command run as its child, which
    // the signal to the script does not reach (it sees its input end instead, and says so).
    const rsh = path.join(c.dir, 'wrapper');
    const log = path.join(c.dir, 'wrapper.log');
    fs.writeFileSync(
      rsh,
      '#!/bin/sh\n' +
        `readlink /proc/$$/fd/0 >> '${log}'\n` +
        'echo "wrapper: connecting" >&2\n' +
        "trap 'exit 0' TERM\nshift\nexec 3<&0\nsh -c \"$*\" <&3 3<&- &\nwait $!\n",
      { mode: 0o755 },
    );
    const args = ['-a', '-e', rsh, 'src/', `h:${c.dir}/dst/`];
    const first = await run(c, args);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: 'wrapper: connecting\n' });
    const file = path.join(entryDir(c.cache), entries(c.cache)[0]!);
    const text = read(file);
    fs.writeFileSync(file, text.slice(0, text.lastIndexOf(`${c.dir}/dst/\n`)) + `${c.dir}/elsewhere/\n`);
    // The stopped shell's word and its rsync's "connection unexpectedly closed" go nowhere; the shell
    // the run spawns speaks once.
    const second = await run(c, args);
    expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: 'wrapper: connecting\n' });
    // Taken over: what the shell writes to stderr reaches the run's stderr, as a spawned one's does, and
    // `_` (the program the calling shell ran, here another one) does not keep the entry from matching.
    fs.writeFileSync(path.join(c.dir, 'src/a'), 'third\n');
    const third = await run(c, args, { _: '/usr/bin/time' });
    expect({ code: third.code, stderr: third.stderr }).toEqual({ code: 0, stderr: 'wrapper: connecting\n' });
    expect(read(log).trimEnd().split('\n').map((s) => s.startsWith(entryDir(c.cache)))).toEqual([false, true, false, true]);
    expect(read(path.join(c.dir, 'dst/a'))).toBe('third\n');
    expect(fs.existsSync(path.join(c.dir, 'elsewhere'))).toBe(false);
  });

  it("leaves the launcher out for another user's entry, a failed run, or ARSYNC_NO_EARLY_SHELL", async () => {
    const c = setup();
    const args = ['-a', '-e', c.rsh, 'src/', `h:${c.dir}/dst/`];
    // A run that fails writes no entry.
    fs.writeFileSync(c.failFlag, '');
    expect((await run(c, args)).code).toBe(255);
    expect(entries(c.cache)).toEqual([]);
    fs.rmSync(c.failFlag);
    expect((await run(c, args)).code).toBe(0);
    expect((await run(c, args, { ARSYNC_NO_EARLY_SHELL: '1' })).code).toBe(0);
    if (process.getuid?.() === 0) {
      const file = path.join(entryDir(c.cache), entries(c.cache)[0]!);
      fs.chownSync(file, 65534, 65534);
      expect((await run(c, args)).code).toBe(0);
      fs.chownSync(file, 0, 0);
    }
    expect(c.starts().every((s) => s.stdin.startsWith('socket:'))).toBe(true);
  });

  it('a far side or remote shell that fails gives the exit code and messages of a run without it', async () => {
    const c = setup();
    const args = ['-a', '-e', c.rsh, 'src/', `h:${c.dir}/dst/`];
    expect((await run(c, args)).code).toBe(0);
    // The far side cannot make way for a file where a full directory stands (23).
    fs.rmSync(path.join(c.dir, 'dst/a'));
    fs.mkdirSync(path.join(c.dir, 'dst/a/x'), { recursive: true });
    fs.writeFileSync(path.join(c.dir, 'dst/a/x/y'), 'y\n');
    const early = await run(c, args);
    const plain = await run(c, args, { ARSYNC_NO_EARLY_SHELL: '1' });
    expect(early.code).toBe(23);
    expect({ code: early.code, stderr: early.stderr }).toEqual({ code: plain.code, stderr: plain.stderr });
    // The remote shell itself fails (255), quickly and then as rsync's client reports it.
    fs.writeFileSync(c.failFlag, '');
    const shellEarly = await run(c, args);
    const shellPlain = await run(c, args, { ARSYNC_NO_EARLY_SHELL: '1' });
    expect(shellEarly.code).toBe(255);
    expect({ code: shellEarly.code, stderr: shellEarly.stderr }).toEqual({ code: shellPlain.code, stderr: shellPlain.stderr });
    const used = c.starts().map((s) => s.stdin.startsWith(entryDir(c.cache)));
    expect(used).toEqual([false, true, false, true, false]);
  });

  const unavailable = sshdUnavailable();
  let sshd: Sshd | undefined;
  afterAll(() => sshd?.stop());

  it.skipIf(unavailable !== null)('through a real ssh connection, push and pull', async () => {
    sshd ??= await startSshd();
    const c = setup();
    const log = path.join(c.dir, 'ssh-starts.log');
    const wrapper = path.join(c.dir, 'ssh-wrapper');
    fs.writeFileSync(wrapper, `#!/bin/sh\nreadlink /proc/$$/fd/0 >> '${log}'\nexec "$@"\n`, { mode: 0o755 });
    const rsh = `${wrapper} ${sshd.rsh}`;
    const push = ['-a', '-e', rsh, 'src/', `127.0.0.1:${c.dir}/pushed/`];
    const twice = async (args: string[]): Promise<void> => {
      for (let i = 0; i < 2; i++) {
        const r = await run(c, args);
        expect(r.code, show(r)).toBe(0);
        expect(r.stderr).toBe('');
      }
    };
    await twice(push);
    // An entry that does not match (another destination): the ssh it starts is stopped without a word.
    const file = path.join(entryDir(c.cache), entries(c.cache)[0]!);
    const text = read(file);
    fs.writeFileSync(file, text.slice(0, text.lastIndexOf(`${c.dir}/pushed/\n`)) + `${c.dir}/elsewhere/\n`);
    const again = await run(c, push);
    expect(again.code, show(again)).toBe(0);
    expect(again.stderr).toBe('');
    expect(fs.existsSync(path.join(c.dir, 'elsewhere'))).toBe(false);
    await twice(['-a', '-e', rsh, `127.0.0.1:${c.dir}/src/`, 'pulled/']);
    const stdins = read(log).trimEnd().split('\n');
    expect(stdins.map((s) => s.startsWith(entryDir(c.cache)))).toEqual([false, true, true, false, false, true]);
    for (const d of ['pushed', 'pulled']) {
      expect(read(path.join(c.dir, d, 'a'))).toBe('a\n');
      expect(read(path.join(c.dir, d, 'd/b'))).toBe('b\n');
    }
  }, 60_000);
});
