// How remote file names and option values reach the remote shell with and without --old-args (rsync's
// safe_arg under old_style_args 0, 1 and 2): the whole argv arsync builds for a push and a pull,
// checked against the one rsync 3.5 builds for the same command line (rsync runs a remote shell that
// prints its argv and fails).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../../src/cli/options.js';
import { ClientCharset } from '../../../src/engine/charset.js';
import type { Config } from '../../../src/model/config.js';
import { pullServerArgs } from '../../../src/cli/pull.js';
import { receiverArgs } from '../../../src/remote/server-args.js';
import { filesFromServerArgs } from '../../../src/remote/files-from.js';
import { filesFromPlace } from '../../../src/cli/remote-files-from.js';
import { remoteArgv, remoteLaunch, safeFileArg, safeOptionArg } from '../../../src/remote/rsh.js';

let root: string;
let rsh: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-oldargs-'));
  fs.mkdirSync(path.join(root, 'src'));
  rsh = path.join(root, 'rsh');
  fs.writeFileSync(rsh, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done >&2\nexit 1\n', { mode: 0o755 });
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** What rsync 3.5 runs through the remote shell for `rsync OPTS SRC DST`. */
function rsyncArgv(args: string[]): string[] {
  const r = spawnSync('rsync', ['-e', rsh, ...args], { encoding: 'latin1', env: { ...process.env, RSYNC_OLD_ARGS: '', RSYNC_PROTECT_ARGS: '' } });
  return r.stderr.split('\n').filter((l) => l && !/^rsync(:| error)/.test(l)).map((a) => a.replace(/e\.iLsfxCIvu$/, 'e.LsfxCIvu'));
}

function oursArgv(args: string[]): string[] {
  const parsed = parseArgs(['node', 'arsync', '-e', rsh, ...args]);
  if (parsed.kind === 'remote-push') {
    const p = parsed.push;
    const server = receiverArgs(p.config, { wholeFile: p.wholeFile, plainDelete: p.plainDelete, dirs: p.dirs, maxDelete: p.maxDelete, openNoatime: p.openNoatime, omitDirTimes: p.omitDirTimes, blockSize: p.blockSize });
    return remoteArgv({ rsh, user: p.operand.user, host: p.operand.host, rsyncPath: undefined, serverArgs: server, paths: [p.operand.path.toString('latin1')], weSend: true, oldArgs: p.config.oldArgs }, {}).slice(1);
  }
  if (parsed.kind === 'remote-pull') {
    const p = parsed.pull;
    const server = pullServerArgs(p.config, p.wholeFile, p.blockSize);
    const place = filesFromPlace(p.config, p.operand.host);
    const args = place ? pullServerArgs(p.config, p.wholeFile, p.blockSize, undefined, filesFromServerArgs(place, p.config, true)) : server;
    return remoteArgv({ rsh, user: p.operand.user, host: p.operand.host, rsyncPath: undefined, serverArgs: args, paths: [p.operand.path.toString('latin1')], weSend: false, oldArgs: p.config.oldArgs, relative: p.config.relative, trustSender: place?.remote === true }, {}).slice(1);
  }
  throw new Error(`not a transfer: ${parsed.kind}`);
}

describe('the remote argv with and without --old-args', () => {
  const src = (): string => `${root}/src/`;
  const cases: [string, () => string[]][] = [
    ['a pull of "one two" splits on the far side under --old-args', () => ['-a', '--old-args', 'host:one two', 'dst/']],
    ['a pull of "one two" is one name without it', () => ['-a', 'host:one two', 'dst/']],
    ['a pull keeps $, ; and a leading ~ for the remote shell under --old-args', () => ['-r', '--old-args', 'host:~/a $b;c', 'dst/']],
    ['a pull escapes a bare ~ without it', () => ['-r', 'host:~', 'dst/']],
    ['a pull escapes ~/x under -R (no "/./" in it)', () => ['-rR', 'host:~/x', 'dst/']],
    ['a pull keeps ~/./x under -R', () => ['-rR', 'host:~/./x', 'dst/']],
    ['a pull with the list on the far side trusts the sender with ~', () => ['-r', '--files-from=host:/l', 'host:~', 'dst/']],
    ['a pull with the list here still escapes ~', () => ['-r', `--files-from=${root}/src/../rsh`, 'host:~', 'dst/']],
    ['a leading - is guarded either way', () => ['-r', '--old-args', 'host:-x y', 'dst/']],
    ['a push names its destination unescaped under --old-args', () => ['-a', '--old-args', src(), 'host:dst dir/*']],
    ['option values stay escaped under one --old-args', () => ['-a', '--old-args', '-b', '--backup-dir=/b d*', '--suffix=~x;', src(), 'host:d e']],
    ['nothing is escaped under two', () => ['-a', '--old-args', '--old-args', '-b', '--backup-dir=/b d*', '--suffix=~x;', '--temp-dir=t t', src(), 'host:d e']],
    ['option values are escaped with wildcards without it', () => ['-a', '-b', '--backup-dir=/b [d]*', '--link-dest=l\\x', src(), 'host:d']],
  ];
  it.each(cases)('%s', (_what, args) => {
    expect(oursArgv(args())).toEqual(rsyncArgv(args()));
  });
});

/** Under -s: rsync's argv, and the arguments it wrote to the remote shell's stdin (up to their empty end). */
function rsyncSecluded(args: string[]): { argv: string[]; sent: Buffer } {
  const got = path.join(root, 'stdin');
  const sh = path.join(root, 'rsh-s');
  fs.writeFileSync(sh, `#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done >&2\ntimeout 1 cat > ${got}\nexit 1\n`, { mode: 0o755 });
  const r = spawnSync('rsync', ['-e', sh, ...args], { encoding: 'latin1', env: { ...process.env, RSYNC_OLD_ARGS: '', RSYNC_PROTECT_ARGS: '' } });
  const argv = r.stderr.split('\n').filter((l) => l && !/^rsync(:| error)/.test(l)).map((a) => a.replace(/e\.iLsfxCIvu$/, 'e.LsfxCIvu'));
  const bytes = fs.readFileSync(got);
  return { argv: [rsh, ...argv], sent: bytes.subarray(0, bytes.indexOf(Buffer.of(0, 0)) + 2) };
}

/** --iconv's charset as cli/main.ts opens it for a remote run. */
function charsetOf(c: Config): ClientCharset | undefined {
  if (!c.iconv) return undefined;
  const opened = ClientCharset.open(c.iconv.local);
  if (!(opened instanceof ClientCharset)) throw new Error(opened.message);
  return opened;
}

function oursSecluded(args: string[]): { argv: string[]; sent: Buffer | undefined } {
  const parsed = parseArgs(['node', 'arsync', '-e', rsh, ...args]);
  if (parsed.kind === 'remote-push') {
    const p = parsed.push;
    // (as cli/remote-push.ts adds a --files-from list on the far side)
    const place = filesFromPlace(p.config, p.operand.host);
    const filesFrom = place ? filesFromServerArgs(place, p.config, false) : [];
    const server = receiverArgs(p.config, { wholeFile: p.wholeFile, plainDelete: p.plainDelete, dirs: p.dirs, maxDelete: p.maxDelete, openNoatime: p.openNoatime, omitDirTimes: p.omitDirTimes, blockSize: p.blockSize, filesFrom });
    const l = remoteLaunch({ rsh, user: p.operand.user, host: p.operand.host, rsyncPath: undefined, serverArgs: server, paths: [p.operand.path.toString('latin1')], weSend: true, secluded: p.config.secludedArgs, charset: charsetOf(p.config) }, {});
    return { argv: l.argv, sent: l.secluded };
  }
  if (parsed.kind !== 'remote-pull') throw new Error(`not a transfer: ${parsed.kind}`);
  const p = parsed.pull;
  const l = remoteLaunch({ rsh, user: p.operand.user, host: p.operand.host, rsyncPath: undefined, serverArgs: pullServerArgs(p.config, p.wholeFile, p.blockSize), paths: [p.operand.path.toString('latin1')], weSend: false, secluded: p.config.secludedArgs, charset: charsetOf(p.config) }, {});
  return { argv: l.argv, sent: l.secluded };
}

describe('-s/--secluded-args: the arguments go through the connection', () => {
  const src = (): string => `${root}/src/`;
  const cases: [string, () => string[]][] = [
    ['a pull of a name with a space and shell characters', () => ['-a', '-s', 'host:one two;$x', 'dst/']],
    ['a pull of a name starting with "-"', () => ['-r', '--protect-args', 'host:-x', 'dst/']],
    ['a push with option values that would need escaping', () => ['-av', '-s', '-b', '--backup-dir=/b d*', '--suffix=~x;', src(), 'host:d e']],
    ['a push with --delete and --files-from there', () => ['-a', '-s', '--delete', '--files-from=host:/l i*st', src(), 'host:d']],
    // --iconv stays on the command line, after the letters (the protected arguments' conversion: rsh.test.ts).
    ['a pull under --iconv', () => ['-a', '-s', '--iconv=ISO-8859-1,UTF-8', 'host:one two', 'dst/']],
    ['a push under --iconv', () => ['-a', '-s', '--iconv=UTF-8', '--backup-dir=b d', src(), 'host:d e']],
  ];
  it.each(cases)('%s', (_what, args) => {
    const theirs = rsyncSecluded(args());
    const ours = oursSecluded(args());
    expect(ours.argv).toEqual(theirs.argv);
    expect(ours.sent?.toString('latin1')).toBe(theirs.sent.toString('latin1'));
  });
});

describe('safe_arg', () => {
  it('leaves a file name alone under --old-args but for a leading dash', () => {
    expect(safeFileArg('one two', false, 1)).toBe('one two');
    expect(safeFileArg('-a b', true, 2)).toBe('./-a b');
    expect(safeFileArg('one two', false)).toBe('one\\ two');
  });
  it('escapes an option value with its wildcards unless there were two --old-args', () => {
    expect(safeOptionArg('a b*\\', 1)).toBe('a\\ b\\*\\\\');
    expect(safeOptionArg('a b*', 2)).toBe('a b*');
  });
});
