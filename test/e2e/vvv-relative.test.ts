// Differential tests against rsync for -vvv with -R and --files-from (issue 9): the implied directories
// above each operand, each in the list of the one above it under an incremental list, or sent before the
// operand in a whole one; --files-from's names as -R operands. Compared as vvv.test.ts compares: the same
// lines, and each process's lines in rsync's order.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { differential, put, touchNs } from '../helpers/differential.js';
import { normaliseTrace } from '../helpers/trace-order.js';
import { sameProcessOrder, synced, tree } from '../helpers/vvv-trees.js';

afterAll(() => removeTemps());

describeEngines((e) => {
  const engine = e.name;

  it('-R: the implied directories, each in the list of the one above it, then the operand\'s own lists', async () => {
    for (const ops of [['src/a/x'], ['src/./a/x'], ['src/a/x', 'src/b'], ['src/a-b', 'src/a/x/y'], ['src']]) {
      const r = await differential({ engine, setup: tree, args: ['-avvvR', ...ops, 'dst/'], noItemize: true, volatile: ['dst'] });
      sameProcessOrder(r);
      expect(r.arsync.stdout, ops.join(' ')).toContain('send_files starting');
    }
    const r = await differential({ engine, setup: tree, args: ['-avvvR', 'src/a/x', 'dst/'], noItemize: true, volatile: ['dst'] });
    const out = normaliseTrace(r.arsync.stdout);
    expect(out).toContain('[sender] make_file(src,*,2)');
    expect(out).toContain('[sender] make_file(src/a/x,*,2)');
    expect(fs.readFileSync(path.join(r.B, 'dst/src/a/x/y'), 'utf8')).toBe('one\n');
  });

  it('-R: a no-op re-sync (the implied directories up to date)', async () => {
    const setup = (root: string): void => {
      synced(root);
      fs.mkdirSync(path.join(root, 'dst2'));
      fs.cpSync(path.join(root, 'src'), path.join(root, 'dst2/src'), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      fs.lutimesSync(path.join(root, 'dst2/src/l'), 1_700_000_000, 1_700_000_000);
      touchNs(['dst2/src/a/x', 'dst2/src/a', 'dst2/src/a-b', 'dst2/src/b', 'dst2/src/e', 'dst2/src', 'dst2'].map((d) => [path.join(root, d), '1700000000.5'] as [string, string]));
    };
    const r = await differential({ engine, setup, args: ['-avvvR', 'src/a/x', 'src/b', 'dst2/'], noItemize: true });
    sameProcessOrder(r);
    expect(normaliseTrace(r.arsync.stdout)).toContain('src/a/x/y is uptodate');
  });
});

describeEngines((e) => {
  const engine = e.name;

  it('-R --no-inc-recursive: the implied directories sent before each operand that lacks them', async () => {
    for (const ops of [['src/a/x'], ['src/a/x', 'src/b', 'src/a-b/q'], ['src/./a/x', 'src/t']]) {
      const r = await differential({ engine, setup: tree, args: ['-avvvR', '--no-i-r', ...ops, 'dst/'], noItemize: true, volatile: ['dst'] });
      sameProcessOrder(r);
      expect(r.arsync.stdout, ops.join(' ')).toContain('recv_file_list done');
    }
  });

  it('--files-from: its names as -R operands, a whole list without -r, an incremental one with it', async () => {
    const setup = (root: string): void => {
      tree(root);
      put(root, 'list', 'a/x/y\nb\nt\na-b/\n', 0o644);
    };
    for (const more of [[], ['-r'], ['-r', '--no-i-r']]) {
      const r = await differential({ engine, setup, args: ['-avvv', ...more, '--files-from=list', 'src/', 'dst/'], noItemize: true, volatile: ['dst'], unchanged: ['src'] });
      sameProcessOrder(r);
      expect(r.arsync.stdout, more.join(' ')).toContain('recv_file_list done');
      expect(fs.readFileSync(path.join(r.B, 'dst/a/x/y'), 'utf8')).toBe('one\n');
    }
  });
});

describeEngines((e) => {
  const engine = e.name;

  it('-R --delete: the generator enters each implied directory (its filters pushed, no deletions there), with and without an incremental list', async () => {
    const setup = (root: string): void => {
      tree(root);
      put(root, 'dst/src/a/x/old', 'extra\n', 0o644);
      put(root, 'dst/src/keep', 'not in the transfer\n', 0o644);
    };
    for (const more of [[], ['--no-i-r']]) {
      const r = await differential({ engine, setup, args: ['-avvvR', '--delete', ...more, 'src/a/x', 'src/b', 'dst/'], noItemize: true, volatile: ['dst', 'dst/src', 'dst/src/a', 'dst/src/a/x'] });
      sameProcessOrder(r);
      expect(normaliseTrace(r.arsync.stdout).some((l) => /^\[generator\] pushing local filters for .*\/dst\/src\/a\/$/.test(l)), more.join(' ')).toBe(true);
      expect(fs.existsSync(path.join(r.B, 'dst/src/a/x/old'))).toBe(false);
      expect(fs.readFileSync(path.join(r.B, 'dst/src/keep'), 'utf8')).toBe('not in the transfer\n');
    }
  });
});
