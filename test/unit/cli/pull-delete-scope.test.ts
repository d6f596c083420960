// --delete with --files-from in a pull (cli/pull-delete-scope.ts): protect rules for every directory the
// list sent without its contents, the root unless "." came with its contents, names matched literally.

import { expect, it } from 'vitest';
import { deleteScopeRules } from '../../../src/cli/pull-delete-scope.js';
import type { RemoteEntry } from '../../../src/remote/flist.js';

const dir = (name: string, noContent = false): RemoteEntry => ({ name: Buffer.from(name, 'latin1'), mode: 0o040755, size: 0, mtime: 0, mtimeNsec: 0, topDir: false, ...(noContent ? { noContent } : {}) });
const file = (name: string): RemoteEntry => ({ name: Buffer.from(name), mode: 0o100644, size: 1, mtime: 0, mtimeNsec: 0, topDir: false });
const text = (entries: (RemoteEntry | undefined)[]): string[] => deleteScopeRules(entries).map((r) => r.value.toString());

it('protects inside the directories sent without contents and in the root', () => {
  expect(text([dir('d'), dir('d/sub'), file('d/x'), dir('e', true), dir('e/deep', true), file('e/deep/z'), file('top'), undefined])).toEqual(['P /e/*', 'P /e/deep/*', 'P /*']);
});

it('leaves the root open when "." came with its contents, and protects in it when it did not', () => {
  expect(text([dir('.'), dir('d'), file('d/x')])).toEqual([]);
  expect(text([dir('.', true), file('a')])).toEqual(['P /*']);
});

it('escapes wildcards and backslashes, and keeps bytes that are not UTF-8', () => {
  const rules = deleteScopeRules([dir('w[1]*?\\', true), dir('caf\xe9', true)]);
  expect(rules.map((r) => r.value.toString('latin1'))).toEqual(['P /w\\[1]\\*\\?\\\\/*', 'P /caf\xe9/*', 'P /*']);
  expect(Buffer.isBuffer(rules[1]!.value) && rules[1]!.value.includes(0xe9)).toBe(true);
});
