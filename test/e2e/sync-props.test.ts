// Properties of sync runs that are not differential (issue 3): a second identical run prints nothing under
// -i and touches nothing on disk; -n changes nothing on disk; --json prints exactly one JSON document and
// nothing else on stdout; glob sources copy exactly the matching files, and a glob matching nothing is an
// error (exit 23).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { deleteSetup, freshSetup, put, snapshotDiff, softEmpty, statSnapshot, stampTree } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** Every path under dir (relative, '/'-joined, dirs with a trailing '/'), sorted. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const visit = (rel: string): void => {
    for (const ent of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${ent.name}` : ent.name;
      if (ent.isDirectory()) {
        out.push(`${r}/`);
        visit(r);
      } else out.push(r);
    }
  };
  visit('');
  return out.sort();
}

describeEngines((e) => {
  const eng = `--engine=${e.name}`;

  it('a second identical run prints nothing under -i and changes no inode, ctime or mtime on disk', async () => {
    const root = tempDir('arsync-noop-');
    freshSetup(root);
    const src = path.join(root, 'src');
    put(src, 'hl/one', 'linked\n');
    fs.linkSync(path.join(src, 'hl/one'), path.join(src, 'hl/two'));
    for (const flags of [['-a'], ['-aH', '--delete'], ['-ac'], ['-aH', '--delete-after'], ['-aHc'], ['-aS', '--inplace']]) {
      const dst = path.join(root, `dst${flags.join('')}`);
      const first = await runCli([...flags, eng, `${src}/`, `${dst}/`]);
      expect(first.code, show(first)).toBe(0);
      const before = statSnapshot(dst);
      const again = await runCli([...flags, '-i', eng, `${src}/`, `${dst}/`]);
      expect.soft(again.code, show(again)).toBe(0);
      expect.soft(again.stdout, `${show(again)}\nsecond run itemized something`).toBe('');
      expect.soft(again.stderr).toBe('');
      softEmpty(snapshotDiff(before, statSnapshot(dst)), `${flags.join(' ')}: second run changed the destination`);
    }
  });

  it('-n changes nothing on disk (full lstat snapshot of src, dst, backup dir) while itemizing a lot', async () => {
    const root = tempDir('arsync-dry-');
    deleteSetup(root);
    fs.mkdirSync(path.join(root, 'prev'));
    const variants = [
      ['-an', '--delete', '-i'],
      ['-anc', '--delete-after', '--backup', '--backup-dir=../bak', '-i'],
      ['-anI', '--delete-before', '--chmod=D700,F600', '-v'],
      ['-an', '--inplace', '-S', '-i'], // rsync 3.x accepts -S with --inplace
      ['-an', '--remove-source-files', '--link-dest=../prev', '-i'],
      ['-anR', '--mkpath', '--delete', 'src/./sub', 'dst/new/path/'],
    ];
    for (const v of variants) {
      const ops = v.some((x) => x.startsWith('src/')) ? [] : ['src/', 'dst/'];
      const before = statSnapshot(root);
      const r = await runCli([...v, ...ops, eng], { cwd: root });
      expect.soft(r.code, show(r)).toBe(0);
      if (v.includes('-i') || v.includes('-v')) expect.soft(r.stdout.trim(), show(r)).not.toBe('');
      softEmpty(snapshotDiff(before, statSnapshot(root)), `${v.join(' ')} changed the disk`);
    }
  });

  it('--json prints exactly one JSON document on stdout (counts, bytes, elapsed, engine, errors with paths) and nothing else', async () => {
    const root = tempDir('arsync-json-');
    deleteSetup(root);
    // Even with every other output option, stdout holds only the JSON document. --ignore-errors: a
    // missing source operand otherwise skips deletion (rsync's rule), and the document must show both.
    const r = await runCli(['-a', '--json', '-i', '-v', '--stats', '--progress', '--delete', '--ignore-errors', eng, 'src/', 'missing-source', 'dst/'], { cwd: root });
    expect(r.code, show(r)).toBe(23);
    let doc: Record<string, unknown> = {};
    expect(() => (doc = JSON.parse(r.stdout) as Record<string, unknown>), `stdout is not one JSON document:\n${r.stdout}`).not.toThrow();
    expect(r.stdout.trim().startsWith('{') && r.stdout.trim().endsWith('}')).toBe(true);
    const text = JSON.stringify(doc);
    // counts
    expect(doc.files, text).toBeTypeOf('object');
    const files = doc.files as Record<string, unknown>;
    for (const k of ['total', 'transferred', 'created', 'deleted']) expect(files[k], `files.${k} in ${text}`).toBeTypeOf('number');
    expect(files.deleted as number, text).toBeGreaterThan(0);
    expect(files.transferred as number, text).toBeGreaterThan(0);
    // bytes
    const bytes = doc.bytes as Record<string, unknown>;
    expect(bytes?.total, text).toBeTypeOf('number');
    expect(bytes?.transferred, text).toBeTypeOf('number');
    // elapsed and engine
    expect(doc.elapsedMs ?? doc.elapsed, text).toBeTypeOf('number');
    const engine = doc.engine as { name?: string } | string;
    expect(typeof engine === 'string' ? engine : engine?.name, text).toBe(e.name);
    // errors with paths
    const errors = doc.errors as { path?: string; message?: string }[];
    expect(Array.isArray(errors), text).toBe(true);
    expect(errors.some((x) => x.path?.includes('missing-source')), text).toBe(true);
    // a successful run: same shape, no errors, exit 0
    const ok = await runCli(['-a', '--json', eng, 'src/', 'dst2/'], { cwd: root });
    expect(ok.code, show(ok)).toBe(0);
    const okDoc = JSON.parse(ok.stdout) as { errors: unknown[]; exitCode?: number };
    expect(okDoc.errors).toEqual([]);
  });

  it("glob sources: -a -R 'dist/**/*.{js,map}' staging/ copies exactly the matching files with their directories", async () => {
    const root = tempDir('arsync-glob-');
    const dist = path.join(root, 'dist');
    for (const f of ['index.js', 'index.js.map', 'index.d.ts', 'lib/a.js', 'lib/a.map', 'lib/a.css', 'lib/deep/er/b.js', 'lib/deep/er/b.txt', 'assets/logo.svg', 'other/x.txt']) {
      put(dist, f, `${f}\n`);
    }
    stampTree(dist);
    const r = await runCli(['-a', '-R', 'dist/**/*.{js,map}', eng, 'staging/'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    expect(listing(path.join(root, 'staging'))).toEqual(
      ['dist/', 'dist/index.js', 'dist/index.js.map', 'dist/lib/', 'dist/lib/a.js', 'dist/lib/a.map', 'dist/lib/deep/', 'dist/lib/deep/er/', 'dist/lib/deep/er/b.js'].sort(),
    );
    // (the node engine sets mtimes to the microsecond only: a documented limit)
    const tol = e.name === 'node' ? 1000n : 0n;
    for (const f of ['index.js', 'lib/deep/er/b.js', 'lib/deep']) {
      const d = fs.statSync(path.join(root, 'staging/dist', f), { bigint: true }).mtimeNs - fs.statSync(path.join(dist, f), { bigint: true }).mtimeNs;
      expect(d < 0n ? -d : d, `mtime of ${f}`).toBeLessThanOrEqual(tol);
    }
  });

  it('a glob source that matches nothing exits 23 (and still copies the other sources)', async () => {
    const root = tempDir('arsync-glob-none-');
    freshSetup(root);
    const r = await runCli(['-a', 'src/*.nomatch', eng, 'dst/'], { cwd: root });
    expect(r.code, show(r)).toBe(23);
    expect(r.stderr, show(r)).toMatch(/nomatch/);
    const r2 = await runCli(['-a', 'src/*.nomatch', 'src/a.txt', eng, 'dst2/'], { cwd: root });
    expect(r2.code, show(r2)).toBe(23);
    expect(fs.existsSync(path.join(root, 'dst2/a.txt')), show(r2)).toBe(true);
  });
});
