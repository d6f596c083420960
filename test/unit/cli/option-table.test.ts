// docs/options.md holds arsync's status for every rsync option; this test keeps it honest both ways: every
// option the installed `rsync --help` prints has a row, and each row's status is what arsync's parser
// does with that option under every name the row gives (yes / no effect locally: parses; refused /
// missing: fails with a usage error).

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../../src/cli/options.js';
import { UsageError } from '../../../src/util/errors.js';

const STATUSES = ['yes', 'no effect locally', 'refused', 'missing'] as const;
type Status = (typeof STATUSES)[number];

interface Row {
  /** The option as the table's first column spells it (for --help rows: as rsync prints it). */
  option: string;
  status: Status;
  /** Argument words that use the option (with a value when it takes one). */
  example: string[];
  table: string;
}

const DOC = path.join(__dirname, '../../../docs/options.md');

function readTable(): Row[] {
  const rows: Row[] = [];
  let table = '';
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    if (line.startsWith('## ')) table = line.slice(3);
    const m = /^\| `([^`]+)` \| ([^|]+?) \| `([^`]+)` \|/.exec(line);
    if (!m) continue;
    const status = m[2]! as Status;
    if (!STATUSES.includes(status)) throw new Error(`docs/options.md: unknown status "${status}" for ${m[1]}`);
    rows.push({ option: m[1]!, status, example: m[3]!.split(' '), table });
  }
  return rows;
}

/** The left column of `rsync --help`'s option lines ("--block-size=SIZE, -B"), or null without rsync. */
function rsyncHelpOptions(): string[] | null {
  const r = spawnSync('rsync', ['--help'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  return r.stdout
    .split('\n')
    .filter((l) => /^\s*-/.test(l))
    .map((l) => /^\s*(\S.*?\S|\S)\s{2,}/.exec(l)?.[1] ?? l.trim());
}

/** The row's other names used like its example: `--block-size=1024` with `-B` gives `-B 1024`. */
function variants(row: Row): string[][] {
  const out = [row.example];
  if (row.option === '--no-OPTION') return out;
  // The example's word for this option: the last one (earlier words set up what it needs, e.g. -r).
  const at = row.example.length - 1;
  const word = row.example[at]!;
  const eq = word.indexOf('=');
  const value = word.startsWith('--') && eq > 0 ? word.slice(eq + 1) : undefined;
  for (const part of row.option.replace(/ \(\*\)$/, '').split(', ')) {
    const name = /^(--?[^=\s]+)/.exec(part)![1]!;
    if (name === word || word.startsWith(`${name}=`) || (name.length === 2 && word === name)) continue;
    const use = value === undefined ? [name] : name.startsWith('--') ? [`${name}=${value}`] : [name, value];
    out.push([...row.example.slice(0, at), ...use]);
  }
  return out;
}

/** What arsync's parser does with the words before two operands: 'ok' or the usage error's message. */
function parse(words: string[]): string {
  try {
    parseArgs(['node', 'arsync', ...words, 'src', 'dst']);
    return 'ok';
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
}

const rows = readTable();

describe('docs/options.md', () => {
  const help = rsyncHelpOptions();

  it.skipIf(help === null)('has a row for every option the installed rsync --help prints', () => {
    const have = new Set(rows.filter((r) => r.table === 'rsync --help').map((r) => r.option));
    expect(help!.filter((o) => !have.has(o)), 'rsync --help options missing from docs/options.md').toEqual([]);
    expect(help!.length).toBeGreaterThan(100);
  });
  if (help === null) it.skip('rsync is not installed: cannot compare the table with rsync --help', () => {});

  it('lists each option once', () => {
    const seen = rows.map((r) => r.option);
    expect(seen.filter((o, i) => seen.indexOf(o) !== i)).toEqual([]);
  });

  for (const row of rows) {
    const accepted = row.status === 'yes' || row.status === 'no effect locally';
    it(`${row.option}: ${row.status} (${accepted ? 'parses' : 'is refused'} under every name)`, () => {
      for (const words of variants(row)) {
        const got = parse(words);
        if (accepted) expect(got, `arsync ${words.join(' ')} src dst`).toBe('ok');
        else expect(got, `arsync ${words.join(' ')} src dst should fail`).not.toBe('ok');
        // A refusal says why; a missing option is simply unknown to the parser.
        if (row.status === 'missing') expect(got, words.join(' ')).toMatch(/unknown option/);
        if (row.status === 'refused') expect(got, words.join(' ')).not.toMatch(/unknown option/);
      }
    });
  }
});
