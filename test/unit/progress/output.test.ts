// src/progress/output.ts: which line rsync prints for an entry under -i, -ii, -v, --out-format and
// --json, how deletions read, and the --progress line.

import { describe, expect, it } from 'vitest';
import { Output, type EntryEvent } from '../../../src/progress/output.js';
import type { Reporter } from '../../../src/progress/reporter.js';
import { levelsForVerbosity } from '../../../src/model/output-levels.js';

const atV = (n: number) => ({ info: levelsForVerbosity(n).info });

type Flags = ConstructorParameters<typeof Output>[0];
const base: Flags = { itemize: 0, outFormat: undefined, ...atV(0), json: false, quiet: false, humanReadable: 1 };

function output(flags: Partial<Flags>): { out: Output; lines: string[] } {
  const lines: string[] = [];
  const reporter = { print: (l: string) => lines.push(l), item: (l: string) => lines.push(l) } as unknown as Reporter;
  return { out: new Output({ ...base, ...flags }, reporter), lines };
}

const file: EntryEvent = {
  name: 'f',
  fullName: 'src/f',
  suffix: '',
  size: 3,
  bytes: 3,
  mode: 0o100644,
  uid: 0,
  gid: 0,
  mtimeSec: 0,
  op: 'recv',
  changed: true,
  isDir: false,
};
const dir: EntryEvent = { ...file, name: 'd/', changed: false, isDir: true };
const NEW = '>f+++++++++';
const SAME_DIR = '.d         ';
const DIR_TIME = '.d..t......';

describe('Output', () => {
  it('prints nothing per entry without -v, -i, a format or --progress', () => {
    const { out, lines } = output({});
    expect(out.active).toBe(false);
    out.entry(file, NEW);
    out.deleted({ ...file, itemize: '' });
    expect(lines).toEqual([]);
  });

  it('-i: every change with its itemize string, nothing for an unchanged entry', () => {
    const { out, lines } = output({ itemize: 1 });
    out.entry(file, NEW);
    out.entry(dir, DIR_TIME);
    out.entry(dir, undefined);
    expect(lines).toEqual([`${NEW} f`, `${DIR_TIME} d/`]);
    expect(out.itemizeAll).toBe(false);
  });

  it('-ii: unchanged entries too', () => {
    expect(output({ itemize: 2 }).out.itemizeAll).toBe(true);
  });

  it('-v: created or sent entries, and directories whose attributes changed', () => {
    const { out, lines } = output(atV(1));
    out.entry(file, NEW);
    out.entry({ ...file, changed: false }, '.f..t......');
    out.entry(dir, DIR_TIME);
    out.entry(dir, SAME_DIR);
    out.entry(dir, undefined);
    out.entry({ ...file, name: 'l', suffix: ' -> t' }, '');
    expect(lines).toEqual(['f', 'd/', 'l -> t']);
  });

  it('a format without %i selects entries like -v', () => {
    const { out, lines } = output({ outFormat: '%o %n' });
    out.entry(file, NEW);
    out.entry({ ...file, changed: false }, '.f..t......');
    expect(lines).toEqual(['recv f']);
  });

  it('--json prints nothing per entry, whatever else is asked', () => {
    const { out, lines } = output({ json: true, itemize: 1, ...atV(2), outFormat: '%n' });
    expect(out.active).toBe(false);
    out.entry(file, NEW);
    expect(lines).toEqual([]);
  });

  it('deletions: "*deleting" under -i, "deleting" under -v', () => {
    const i = output({ itemize: 1 });
    i.out.deleted({ ...file, itemize: '' });
    expect(i.lines).toEqual(['*deleting   f']);
    const v = output(atV(1));
    v.out.deleted({ ...file, itemize: '' });
    expect(v.lines).toEqual(['deleting f']);
  });
});
