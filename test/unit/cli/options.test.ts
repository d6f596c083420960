import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../../src/cli/options.js';
import { UsageError } from '../../../src/util/errors.js';
import type { Config } from '../../../src/model/config.js';

const run = (...args: string[]): Config => {
  const p = parseArgs(['node', 'arsync', ...args]);
  if (p.kind !== 'run') throw new Error('expected a run');
  return p.config;
};

describe('parseArgs', () => {
  it('-a means -rlptgoD and nothing more', () => {
    const c = run('-a', 'src/', 'dst');
    expect([c.recursive, c.links, c.perms, c.times, c.group, c.owner, c.devices, c.specials]).toEqual(
      Array(8).fill(true),
    );
    expect([c.hardLinks, c.acls, c.xattrs]).toEqual([false, false, false]);
  });

  it('without -a nothing is preserved', () => {
    const c = run('src', 'dst');
    expect([c.recursive, c.links, c.perms, c.times, c.group, c.owner, c.devices, c.specials]).toEqual(
      Array(8).fill(false),
    );
  });

  it('combined short flags and --no-OPTION after -a', () => {
    const c = run('-aHAX', '--no-owner', '--no-times', 'a', 'b');
    expect(c.hardLinks && c.acls && c.xattrs).toBe(true);
    expect(c.owner).toBe(false);
    expect(c.times).toBe(false);
    expect(c.group).toBe(true);
  });

  it('-A implies -p', () => {
    expect(run('-A', 'a', 'b').perms).toBe(true);
  });

  it('-D is --devices --specials', () => {
    const c = run('-D', 'a', 'b');
    expect([c.devices, c.specials]).toEqual([true, true]);
  });

  it('keeps the trailing slash of operands as bytes', () => {
    const c = run('-a', 'one/', 'two', 'dest/');
    expect(c.sources.map((s) => s.toString())).toEqual(['one/', 'two']);
    expect(c.dest.toString()).toBe('dest/');
  });

  it('counts -v and lets -q silence it', () => {
    expect(run('-vv', 'a', 'b').verbose).toBe(2);
    expect(run('-v', '-q', 'a', 'b').verbose).toBe(0);
  });

  it('--info=progress2 and --progress turn on the bar; -q turns it off', () => {
    expect(run('--info=progress2', 'a', 'b').progress).toBe(true);
    expect(run('--progress', 'a', 'b').progress).toBe(true);
    expect(run('--progress', '-q', 'a', 'b').progress).toBe(false);
  });

  it('--progress, -P and --info=progress1 print per-file lines; progress2 only the bar', () => {
    expect(run('--progress', 'a', 'b').progressFiles).toBe(true);
    expect(run('--info=progress1', 'a', 'b').progressFiles).toBe(true);
    expect(run('--info=progress2', 'a', 'b').progressFiles).toBe(false);
    const p = run('-P', 'a', 'b');
    expect([p.progressFiles, p.partial]).toEqual([true, true]);
  });

  it('engine, workers and queue depth', () => {
    const c = run('--engine=sync', '--workers', '3', '--queue-depth=128', 'a', 'b');
    expect([c.engine, c.workers, c.queueDepth]).toEqual(['sync', 3, 128]);
  });

  it.each([
    [['--delte', 'a', 'b'], /unknown option '--delte'/],
    [['--engine=fast', 'a', 'b'], /--engine/],
    [['--workers', '0', 'a', 'b'], /between 1 and/],
    [['--workers', 'x', 'a', 'b'], /whole number/],
    [['--info=stat2', 'a', 'b'], /^Unknown --info item: "stat"$/],
    [[], /no source or destination given/],
    [['-X', '--engine=node', 'a', 'b'], /needs the native addon/],
    [['--direct', '--engine=sync', 'a', 'b'], /uring engine only/],
  ])('rejects %j', (args, message) => {
    expect(() => parseArgs(['node', 'arsync', ...args])).toThrow(UsageError);
    expect(() => parseArgs(['node', 'arsync', ...args])).toThrow(message);
  });

  it('suggests the option a misspelling was close to', () => {
    expect(() => parseArgs(['node', 'arsync', '--stat', 'a', 'b'])).toThrow(/Did you mean --stats\?/);
  });

  it('--help and --version print instead of running', () => {
    const h = parseArgs(['node', 'arsync', '--help']);
    expect(h.kind === 'print' && h.text.includes('--archive')).toBe(true);
    const v = parseArgs(['node', 'arsync', '--version']);
    expect(v.kind === 'print' && /^arsync {2}version \d+\.\d+\.\d+ {2}protocol version 32\n/.test(v.text)).toBe(true);
  });

  it('-h counts the human-readable level; alone it is the help; --no-h is 0', () => {
    expect(run('-a', 'a', 'b').humanReadable).toBe(1);
    expect(run('-avh', 'a', 'b').humanReadable).toBe(2);
    expect(run('-hh', 'a', 'b').humanReadable).toBe(3);
    expect(run('--no-h', 'a', 'b').humanReadable).toBe(0);
    expect(run('--no-human-readable', '-h', 'a', 'b').humanReadable).toBe(1);
    expect(parseArgs(['node', 'arsync', '-h']).kind).toBe('print');
    expect(parseArgs(['node', 'arsync', '--help', '-a']).kind).toBe('print');
  });

  it('-8 and -0', () => {
    expect(run('-8', 'a', 'b').eightBit).toBe(true);
    expect(run('-8', '--no-8', 'a', 'b').eightBit).toBe(false);
    expect(run('-0', 'a', 'b').from0).toBe(true);
    expect(run('--from0', '--no-from0', 'a', 'b').from0).toBe(false);
  });

  it('an unknown option is a usage error even next to --version or --help', () => {
    for (const args of [['--version', '--bogus'], ['--bogus', '--help'], ['-h', '-Z']]) {
      expect(() => parseArgs(['node', 'arsync', ...args])).toThrow(UsageError);
    }
  });

  it('a daemon operand is a pull, push or listing that carries the daemon options', () => {
    const pull = parseArgs(['node', 'arsync', '-a', '--port=8730', '--no-motd', '-6', '--contimeout=3', 'host::mod/x', 'dst/']);
    expect(pull.kind).toBe('remote-pull');
    const op = pull.kind === 'remote-pull' ? pull.pull.operand : undefined;
    expect(op?.kind).toBe('daemon');
    const login = op?.kind === 'daemon' ? op.login : undefined;
    expect(login?.motd).toBe(false);
    expect(login?.route).toMatchObject({ host: 'host', port: undefined, connect: { port: 8730, family: 6, contimeout: 3 } });
    const push = parseArgs(['node', 'arsync', '-a', 'src/', 'rsync://u@h:99/mod/']);
    expect(push.kind === 'remote-push' && push.push.operand).toMatchObject({ kind: 'daemon', user: 'u', host: 'h', port: 99 });
    expect(parseArgs(['node', 'arsync', 'rsync://h/']).kind).toBe('remote-list');
    expect(() => parseArgs(['node', 'arsync', '-a', '--sockopts=SO_SNDBUF=8192', 'src/', 'h::m/'])).toThrow(/SO_SNDBUF is not an option arsync can set/);
    expect(() => parseArgs(['node', 'arsync', '-a', '--contimeout=3', 'src/', 'h:m/'])).toThrow(/--contimeout option may only be used when connecting to an rsync daemon/);
  });

  it("rsync's refusals: remote operands, --delete without -r, mixed --*-dest, a slash in --suffix", () => {
    const secluded = parseArgs(['node', 'arsync', '-a', '-s', '--early-input=ei', 'host::mod/', 'dst/']);
    expect(secluded.kind === 'remote-pull' && secluded.pull.config.secludedArgs).toBe(true);
    expect(secluded.kind === 'remote-pull' && secluded.pull.operand.kind === 'daemon' && secluded.pull.operand.login?.earlyInput).toBe('ei');
    expect(() => run('-a', 'src/', 'host:x', 'dst/')).toThrow(/^Unexpected remote arg: host:x$/);
    // Several remote sources: the same machine, through a remote shell (rsync's client_run).
    expect(() => run('-a', 'host:a', 'b', 'dst/')).toThrow(/^Unexpected local arg: b\nIf arg is a remote file\/dir, prefix it with a colon \(:\)\.$/);
    expect(() => run('-a', 'host:a', 'other:b', 'dst/')).toThrow(/^All source args must come from the same machine\.$/);
    expect(() => run('-a', 'host:a', 'host::mod/b', 'dst/')).toThrow(/^All source args must use the same hostspec format\.$/);
    expect(() => run('-a', '--files-from=list', 'host:a', ':b', 'dst/')).toThrow(/^--files-from takes exactly one source directory$/);
    // A push too, over a remote shell or to a daemon: refused before anything connects.
    expect(() => run('-a', '--files-from=list', 'a/', 'b/', 'host:dst/')).toThrow(/^--files-from takes exactly one source directory$/);
    expect(() => run('-a', '--files-from=list', 'a/', 'b/', 'rsync://h/m/')).toThrow(/^--files-from takes exactly one source directory$/);
    // One operand: rsync's usage (exit 1), not a listing, here or on another machine.
    expect(() => run('--list-only', '--files-from=list', 'src/')).toThrow(/^--files-from needs a source directory and a destination$/);
    expect(() => run('--files-from=list', 'host:src/')).toThrow(/^--files-from needs a source directory and a destination$/);
    expect(() => run('-t', '--delete', 'a', 'b')).toThrow(/--delete does not work without --recursive/);
    expect(() => run('-a', '--link-dest=x', '--compare-dest=y', 'a', 'b')).toThrow(/the --compare-dest option conflicts with the --link-dest option/);
    expect(() => run('-ab', '--suffix=a/b', 'a', 'b')).toThrow(/--suffix cannot contain slashes/);
    expect(() => run('-a', '', 'b')).toThrow(/Empty source arg specified/);
    expect(() => run('-a', 'a', '')).toThrow(/Empty destination arg specified/);
  });
});
