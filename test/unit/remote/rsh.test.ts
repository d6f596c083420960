// src/remote/rsh.ts: the remote shell's command line as rsync builds it (do_cmd's word splitting,
// "-l user", the escaping of remote paths), checked against what rsync 3.5 itself runs: a recording
// remote shell logs rsync's argv for the same operands.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { protectedArgs, remoteArgv, safeFileArg, splitRsh } from '../../../src/remote/rsh.js';
import { ClientCharset } from '../../../src/engine/charset.js';
import { UsageError } from '../../../src/util/errors.js';

describe('splitting -e', () => {
  it.each([
    ['ssh', ['ssh']],
    ['ssh -p 2222  -o "Foo Bar"', ['ssh', '-p', '2222', '-o', 'Foo Bar']],
    ["sh -c 'a b'", ['sh', '-c', 'a b']],
    ["x 'it''s'", ['x', "it's"]],
    ['x a"b c"d', ['x', 'ab cd']],
  ])('%j → %j', (cmd, words) => {
    expect(splitRsh(cmd)).toEqual(words);
  });

  it("refuses an unclosed quote with rsync's message", () => {
    expect(() => splitRsh('ssh "oops')).toThrow(new UsageError('Missing trailing-" in remote-shell command.'));
  });
});

describe('remote paths', () => {
  it.each([
    ['plain/path', 'plain/path'],
    ['with space', 'with\\ space'],
    ['$(rm -rf x);', '\\$\\(rm\\ -rf\\ x\\)\\;'],
    ['-rf', './-rf'],
    ['*.txt', '*.txt'],
    ['a\\*b', 'a\\*b'],
    ['back\\slash', 'back\\\\slash'],
  ])('%j is sent as %j', (arg, sent) => {
    expect(safeFileArg(arg, false)).toBe(sent);
  });

  it('a receiving client escapes a bare leading ~ but not a path', () => {
    expect(safeFileArg('~', false)).toBe('\\~');
    expect(safeFileArg('~/x', false)).toBe('~/x');
    expect(safeFileArg('~', true)).toBe('~');
  });
});

describe("the remote shell's argv", () => {
  it("is the one rsync 3.5 runs for the same operands", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rsh-'));
    try {
      const log = path.join(dir, 'argv');
      const rsh = path.join(dir, 'rsh');
      // Records its argv NUL-separated and fails, so rsync stops right after starting it.
      fs.writeFileSync(rsh, `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done > ${log}\nexit 1\n`, { mode: 0o755 });
      const operand = 'a dir/$x;-y';
      try {
        execFileSync('rsync', ['-a', '-e', `${rsh} -o "Opt X"`, '--rsync-path=/opt/rsync', `joe@host:${operand}`, path.join(dir, 'dst')], { stdio: 'ignore' });
      } catch {
        // rsync exits non-zero when its remote shell does.
      }
      const theirs = fs.readFileSync(log, 'latin1').split('\0').slice(0, -1);
      const ours = remoteArgv(
        { rsh: `${rsh} -o "Opt X"`, user: 'joe', host: 'host', rsyncPath: '/opt/rsync', serverArgs: theirs.slice(6, -2), paths: [operand], weSend: false },
        {},
      );
      expect([rsh, ...ours.slice(1)]).toEqual([rsh, ...theirs]);
      expect(theirs.slice(0, 5)).toEqual(['-o', 'Opt X', '-l', 'joe', 'host']);
      expect(theirs.at(-1)).toBe('a\\ dir/\\$x\\;-y');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('falls back to $RSYNC_RSH, then ssh', () => {
    const base = { rsh: undefined, user: undefined, host: 'h', rsyncPath: undefined, serverArgs: ['--server'], paths: ['p'], weSend: false };
    expect(remoteArgv(base, {})).toEqual(['ssh', 'h', 'rsync', '--server', '.', 'p']);
    expect(remoteArgv(base, { RSYNC_RSH: 'rsh -x' })).toEqual(['rsh', '-x', 'h', 'rsync', '--server', '.', 'p']);
  });
});

describe('-s under --iconv', () => {
  /** The last argument rsync's client sends through the connection for `name` (a Latin-1 string), from its stdin bytes. */
  function rsyncSends(name: string, iconv: string): Buffer {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-sicv-'));
    try {
      const sh = path.join(dir, 'rsh');
      fs.writeFileSync(sh, `#!/bin/sh\ntimeout 1 cat > ${dir}/stdin\nexit 1\n`, { mode: 0o755 });
      // The name's bytes through sh's printf: an argv Node would encode as UTF-8.
      const octal = [...Buffer.from(name, 'latin1')].map((c) => `\\${c.toString(8).padStart(3, '0')}`).join('');
      try {
        execFileSync('sh', ['-c', `rsync -e ${sh} -s -r --iconv=${iconv} "host:$(printf '${octal}')" ${dir}/dst/`], { stdio: 'ignore' });
      } catch {
        // (the remote shell fails: only what it was sent matters)
      }
      const bytes = fs.readFileSync(path.join(dir, 'stdin'));
      const parts = bytes.subarray(0, bytes.indexOf(Buffer.of(0, 0))).toString('latin1').split('\0');
      return Buffer.from(parts[parts.length - 1]!, 'latin1');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const ours = (name: string, local: string): Buffer => {
    const cs = ClientCharset.open(local);
    if (!(cs instanceof ClientCharset)) throw new Error(cs.message);
    const b = protectedArgs([name], cs);
    return b.subarray(0, b.length - 2);
  };
  it.each([
    ['a Latin-1 name, converted', 'caf\xe9 \xff', 'ISO-8859-1,UTF-8', 'ISO-8859-1'],
    ['bytes that do not convert, kept', 'caf\xe9 \xc3', 'UTF-8,ISO-8859-1', 'UTF-8'],
  ])('%s', (_what, name, spec, local) => {
    expect(ours(name, local).toString('latin1')).toBe(rsyncSends(name, spec).toString('latin1'));
  });
});
