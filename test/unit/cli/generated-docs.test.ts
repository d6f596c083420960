// The man page and the shell completions are generated from the option parser: the committed files must
// be what scripts/gen-docs.ts renders now, every option `--help` prints must be in each of them, and each
// must be valid for the program that reads it (groff, bash, zsh, fish).

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderAll } from '../../../scripts/gen-docs.js';
import { parseArgs } from '../../../src/cli/options.js';

const REPO = join(import.meta.dirname, '..', '..', '..');
const read = (rel: string): string => readFileSync(join(REPO, rel), 'utf8');
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Every option name the help prints: `-v`, `--verbose`, `--no-times`, ... */
function helpOptions(): string[] {
  const p = parseArgs(['node', 'arsync', '--help']);
  if (p.kind !== 'print') throw new Error('--help did not print');
  const names = new Set<string>();
  for (const line of p.text.split('\n')) {
    const m = /^\s+(-[^\s,]+(?:, -[^\s,]+)?)(?:\s+<[^>]+>)?\s{2,}/.exec(line);
    if (m) for (const n of m[1]!.split(', ')) names.add(n);
  }
  return [...names];
}

describe('generated man page and completions', () => {
  it('the committed files are what the generator renders (run npm run gen:docs after changing an option)', () => {
    for (const [rel, text] of Object.entries(renderAll())) expect(read(rel), rel).toBe(text);
  });

  it('every option --help lists is in the man page and each completion', () => {
    const opts = helpOptions();
    // Sanity: the help parser above really found the option list.
    expect(opts).toContain('--verbose');
    expect(opts).toContain('-D');
    expect(opts.length).toBeGreaterThan(80);
    const man = read('man/arsync.1');
    const bash = read('completions/arsync.bash');
    const zsh = read('completions/_arsync');
    const fish = read('completions/arsync.fish');
    for (const o of opts) {
      expect(man, `man page: ${o}`).toContain(`\\fB${o.replace(/-/g, '\\-')}\\fR`);
      expect(bash, `bash: ${o}`).toMatch(new RegExp(`[' ]${o}=?[' ]`));
      expect(zsh, `zsh: ${o}`).toMatch(new RegExp(`'${o}=?\\[`));
      const fishFlag = o.startsWith('--') ? `-l ${o.slice(2)} ` : `-s ${o.slice(1)} `;
      expect(fish, `fish: ${o}`).toContain(fishFlag);
    }
  });

  it.skipIf(!has('groff'))('the man page renders without groff warnings', () => {
    const r = spawnSync('groff', ['-man', '-ww', '-z', join(REPO, 'man/arsync.1')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('bash completes option names and --engine values', () => {
    const complete = (word: string): string =>
      execFileSync(
        'bash',
        ['-c', 'source "$1"; COMP_WORDS=(arsync "$2"); COMP_CWORD=1; _arsync; echo "${COMPREPLY[*]}"', 'bash', join(REPO, 'completions/arsync.bash'), word],
        { encoding: 'utf8' },
      ).trim();
    expect(complete('--eng')).toBe('--engine=');
    expect(complete('--engine=u').split(' ')).toEqual(['uring']);
    expect(complete('--delete-a')).toBe('--delete-after');
  });

  it.skipIf(!has('zsh'))('zsh accepts the completion script', () => {
    const r = spawnSync('zsh', ['-n', join(REPO, 'completions/_arsync')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!has('fish'))('fish completes option names and --engine values', () => {
    const complete = (line: string): string[] =>
      execFileSync('fish', ['-c', `source ${join(REPO, 'completions/arsync.fish')}; complete -C '${line}'`], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]!);
    expect(complete('arsync --delete-a')).toEqual(['--delete-after']);
    expect(complete('arsync --engine=').sort()).toEqual(['--engine=auto', '--engine=node', '--engine=sync', '--engine=uring']);
  });
});
