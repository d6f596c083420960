// bin/arsync (sh) and remote/early-shell.ts (TypeScript) share the early remote shell's contract: the
// variables the launcher hands Node, the entry's header, and the entry's lines after the key (signal
// flag, environment digest, argc, argv), which the launcher reads without eval. The launcher's text is
// read for the first two; the third is checked on an entry the TypeScript writes, read back by the same
// loop the launcher runs (its own lines, cut out of bin/arsync and run by sh).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EARLY_HEADER, EARLY_VARS, entryStarts, envDigest } from '../../src/remote/early-shell.js';
import { REPO } from '../helpers/cli.js';

const sh = fs.readFileSync(join(REPO, 'bin', 'arsync'), 'utf8');

describe("the launcher's early remote shell", () => {
  it('bin/arsync clears and sets the very variables early-shell.ts takes, and writes the same header', () => {
    const unset = new RegExp(`^unset ${Object.values(EARLY_VARS).join(' ')}$`, 'm');
    expect(sh).toMatch(unset);
    for (const name of Object.values(EARLY_VARS)) expect(sh).toMatch(new RegExp(`\\b${name}=`));
    expect(sh).toContain(`"${EARLY_HEADER}\n$early_key\n"`);
  });

  it("the launcher's reading of an entry gives back the argv the TypeScript wrote", () => {
    // The loop in the launcher's subshell, from "set --" to the heredoc's end, then the arguments printed.
    const from = sh.indexOf('                set --\n');
    const to = sh.indexOf('\nENTRY\n', sh.indexOf('<<ENTRY')) + '\nENTRY\n'.length;
    expect(from).toBeGreaterThan(0);
    const loop = sh.slice(from, to);
    const argv = ['ssh', '-p', '22', '', 'a b', "it's", '$HOME', '\\n', '  lead', 'trail  ', 'host', 'rsync --server -logDtpre.iLsfxCIvu . /x/'];
    const env = { PATH: '/bin', HOME: '/root' };
    const rest = ['1', envDigest(env), String(argv.length), ...argv].join('\n') + '\n';
    expect(entryStarts(rest, argv, env)).toBe(true);
    expect(entryStarts(rest, argv, { ...env, HOME: '/home' })).toBe(false);
    expect(entryStarts(rest, [...argv, 'x'], env)).toBe(false);
    const script = `early_spec=$1\n${loop}printf '%s\\0' "$@"; printf '%s' "$early_reset"`;
    const r = spawnSync('sh', ['-c', script, 'sh', rest], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout.split('\0');
    expect(out.slice(0, -1)).toEqual(argv);
    expect(out.at(-1)).toBe('1');
  });
});
