// Each directory's view of the x-rules in per-directory merge files (src/run/xattr-views.ts): an entry
// takes its parent's, a directory's own metadata op the view rsync's generator compared it in (the rules
// the directory it handled last left pushed, under --delete-during), and nothing without -X or a
// dir-merge rule.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FilterList } from '../../../src/plan/filter.js';
import type { FilterScope } from '../../../src/plan/filter-scope.js';
import { XV_GEN } from '../../../src/plan/xattr-rules.js';
import { OpKind } from '../../../src/model/ops.js';
import type { DeleteMode, FilterItem } from '../../../src/model/config.js';
import { XattrViews, type ViewedDir } from '../../../src/run/xattr-views.js';

const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-xviews-'));
  made.push(root);
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
  return root;
}

const b = (s: string): Buffer => Buffer.from(s);
/** The patterns of a view's sections, "|" between them (plan/xattr-rules.ts xattrView's layout). */
function shown(v: Buffer | undefined): string | undefined {
  if (!v) return undefined;
  const out: string[] = [];
  for (let i = 0; i < v.length; ) {
    if (v[i] === XV_GEN) {
      out.push('|');
      i++;
      continue;
    }
    const end = v.indexOf(0, i + 1);
    out.push(v.toString('latin1', i + 1, end));
    i = end + 1;
  }
  return out.join(' ');
}

/** The walk's frames over one tree, both sides reading it (the source and the destination alike). */
function walk(files: Record<string, string>, items: string[], deleteMode: DeleteMode) {
  const root = tree(files);
  const filters = FilterList.fromOptions(items.map((value): FilterItem => ({ kind: 'filter', value })));
  const views = XattrViews.of({ xattrs: true, deleteMode }, filters)!;
  const frames = new Map<string, ViewedDir>();
  const frame = (rel: string): ViewedDir => {
    const parent = rel ? frames.get(rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '')! : undefined;
    const enter = (side: 'sender' | 'receiver'): FilterScope =>
      (parent ? (side === 'sender' ? parent.sender : parent.receiver)! : filters.root(side, root)).enterDir(rel, b(path.join(root, rel)));
    const f = { rel: b(rel), sender: enter('sender'), receiver: enter('receiver') };
    frames.set(rel, f);
    return f;
  };
  return { views, frame };
}

describe('XattrViews', () => {
  it('is only made for -X with a dir-merge rule', () => {
    const f = FilterList.fromOptions([{ kind: 'filter', value: ': .m' }]);
    expect(XattrViews.of({ xattrs: false, deleteMode: 'none' }, f)).toBeUndefined();
    expect(XattrViews.of({ xattrs: true, deleteMode: 'none' }, FilterList.fromOptions([{ kind: 'filter', value: '-x user.a' }]))).toBeUndefined();
    expect(XattrViews.of({ xattrs: true, deleteMode: 'none' }, undefined)).toBeUndefined();
    expect(XattrViews.of({ xattrs: true, deleteMode: 'none' }, f)).toBeDefined();
  });

  it("gives an entry its parent's view, a directory as an entry its parent's, and only the kinds that carry xattrs", () => {
    const { views, frame } = walk({ '.m': '-x user.top\n', 'a/.m': '-x user.a\n' }, [': .m'], 'none');
    expect(views.enter(frame('')).differs).toBe(false);
    expect(shown(views.ofEntry(b('f')))).toBe('user.top');
    expect(views.ofEntry(b(''))).toBeUndefined();
    expect(views.enter(frame('a')).differs).toBe(false);
    expect(shown(views.ofEntry(b('a/f')))).toBe('user.a user.top');
    expect(shown(views.ofOp(OpKind.DirMeta, b('a')))).toBe('user.top');
    expect(views.ofOp(OpKind.Delete, b('a/f'))).toBeUndefined();
    expect(views.ofOp(OpKind.Mkdir, b('a/f'))).toBeUndefined();
    expect(views.has(frame('a'))).toBe(true);
  });

  it("--delete-during: the generator's view after XV_GEN; a directory is compared in what the directory handled before it left", () => {
    const { views, frame } = walk({ '.m': '-x user.top\n', 'a/.m': '+x user.top\n', 'b/.m': '- nothing\n' }, [': .m'], 'during');
    views.enter(frame(''));
    expect(shown(views.ofEntry(b('f')))).toBe('user.top | user.top');
    views.enter(frame('a'));
    // "b" after "a": rsync's generator still has a/'s rules pushed when it compares b itself.
    const self = views.enter(frame('b'));
    expect(self.differs).toBe(true);
    expect(shown(self.view)).toBe('user.top | user.top user.top');
    expect(shown(views.ofOp(OpKind.DirMeta, b('b')))).toBe('user.top | user.top user.top');
    // b's entries: its own (inherited) rules.
    expect(shown(views.ofEntry(b('b/f')))).toBe('user.top | user.top');
  });
});
