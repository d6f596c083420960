// --append and --append-verify (rsync 3.x): a changed file whose destination is a shorter regular file
// gets only the rest of the source written after the bytes it keeps; one that is not shorter is left as
// it is (no line); a new one is written in place. --append-verify checks the kept bytes and writes the
// whole file when they differ. Against rsync on the same tree, on every engine.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli } from '../helpers/cli.js';
import { differential, put, stampTree, updateSetup } from '../helpers/differential.js';

afterAll(() => removeTemps());

/**
 * src and dst: grow (dst holds the source's first bytes), short (dst longer: left alone), same-size (dst
 * the same length, other bytes: left alone), new (only in src), big (dst holds the first 1 MiB of 3).
 * `badPrefix`: also bad (dst shorter with bytes that are not the source's).
 */
function appendSetup(badPrefix: boolean) {
  return (root: string): void => {
    const src = path.join(root, 'src');
    const dst = path.join(root, 'dst');
    const big = Buffer.alloc(3 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 12)) & 0xff;
    put(src, 'grow', 'hello world\n');
    put(dst, 'grow', 'hello');
    put(src, 'short', 'abc');
    put(dst, 'short', 'abcdef');
    put(src, 'same-size', 'aaaa');
    put(dst, 'same-size', 'bbbb');
    put(src, 'new', 'new file\n');
    put(src, 'sub/big', big);
    put(dst, 'sub/big', big.subarray(0, 1 << 20));
    if (badPrefix) {
      put(src, 'bad', 'XXXXX world\n');
      put(dst, 'bad', 'hello');
    }
    stampTree(src);
    stampTree(dst, 1_600_000_000);
  };
}

describeEngines((e) => {
  const engine = e.name;

  it('--append: shorter files get the rest, longer and same-size ones are left alone, as with rsync', async () => {
    await differential({
      engine,
      setup: appendSetup(true),
      args: ['-a', '--append', 'src/', 'dst/'],
      after: ({ B }) => {
        // The kept bytes are not checked: "hello" stays in front of the appended rest.
        expect(fs.readFileSync(path.join(B, 'dst/bad'), 'utf8')).toBe('hello world\n');
        expect(fs.readFileSync(path.join(B, 'dst/short'), 'utf8')).toBe('abcdef');
      },
    });
  });

  it('--append on the base tree update (new, grown, rewritten files), the same as rsync', async () => {
    await differential({ engine, setup: updateSetup, args: ['-a', '--append', 'src/', 'dst/'] });
  });

  it('--append-verify where the kept bytes are the source\'s: the same as rsync', async () => {
    await differential({ engine, setup: appendSetup(false), args: ['-a', '--append-verify', 'src/', 'dst/'] });
  });

  it('--append-verify rewrites a file whose kept bytes differ, as rsync\'s redo does; the others as --append', async () => {
    // Not differential: rsync prints its redo ("WARNING: bad failed verification -- update retained (will
    // try again)." and a second ">f..t...... bad"); arsync verifies before writing and prints one line.
    const root = tempDir('arsync-append-');
    appendSetup(true)(root);
    const r = await runCli([`--engine=${engine}`, '-ai', '--append-verify', 'src/', 'dst/'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('>f')).sort()).toEqual(['>f+++++++++ new', '>f.st...... bad', '>f.st...... grow', '>f.st...... sub/big']);
    const read = (rel: string) => fs.readFileSync(path.join(root, rel));
    for (const f of ['bad', 'grow', 'new', 'sub/big']) expect(read(`dst/${f}`).equals(read(`src/${f}`)), f).toBe(true);
    expect(read('dst/short').toString()).toBe('abcdef');
    expect(read('dst/same-size').toString()).toBe('bbbb');
  });

  it('--append --no-append is a plain copy; --append-verify --append is --append; -W --append is exit 1', async () => {
    await differential({ engine, setup: appendSetup(true), args: ['-a', '--append', '--no-append', 'src/', 'dst/'] });
    await differential({ engine, setup: appendSetup(true), args: ['-a', '--append-verify', '--append', 'src/', 'dst/'] });
    await differential({ engine, setup: appendSetup(true), args: ['-a', '-W', '--append', 'src/', 'dst/'] });
    const ok = await runCli(['-a', '-W', '--no-W', '--append', '-n', '/nonexistent-src/', '/nonexistent-dst/']);
    expect(ok.stderr).not.toMatch(/--append cannot be used/);
  });
});
