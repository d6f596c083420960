// --no-whole-file on a local copy, against rsync (rsync suite: hashsearch-chain): the delta search's
// figures (--stats' Literal/Matched data, --debug=deltasum's matches, hash_hits and false_alarms) are
// rsync's, the files come out byte for byte as the source, and a basis of thousands of blocks with one
// weak checksum costs at most MAX_CHAIN_LEN (1024) strong-sum comparisons per offset.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines } from '../helpers/e2e.js';
import { bytes } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** A basis and its edited source: bytes changed, a run inserted, the tail cut; a big file with two bytes inserted; a new file. */
function editedTree(root: string): void {
  const base = bytes(300_000, 5);
  const big = bytes(2_000_000, 6);
  const edited = Buffer.concat([base.subarray(0, 1000), Buffer.alloc(10, 0x58), base.subarray(1010, 50_000), Buffer.from('inserted'.repeat(100)), base.subarray(50_000, base.length - 777)]);
  fs.mkdirSync(path.join(root, 'src'), { recursive: true });
  fs.mkdirSync(path.join(root, 'dst'), { recursive: true });
  fs.writeFileSync(path.join(root, 'dst/f'), base);
  fs.writeFileSync(path.join(root, 'dst/g'), big);
  fs.writeFileSync(path.join(root, 'src/f'), edited);
  fs.writeFileSync(path.join(root, 'src/g'), Buffer.concat([big.subarray(0, 1_000_000), Buffer.from('zz'), big.subarray(1_000_000)]));
  fs.writeFileSync(path.join(root, 'src/new'), Buffer.alloc(5000, 0x6e));
  for (const f of ['dst/f', 'dst/g']) fs.utimesSync(path.join(root, f), 1_600_000_000, 1_600_000_000);
}

/** The figures of a run's output that the delta search decides. */
const figures = (out: string): string[] => out.split('\n').filter((l) => /^(total: matches=|Literal data:|Matched data:|Number of regular files transferred:)/.test(l));

function twoCopies(name: string, setup: (root: string) => void): { A: string; B: string } {
  const base = tempDir(`arsync-delta-${name}-`);
  const A = path.join(base, 'A');
  const B = path.join(base, 'B');
  setup(A);
  setup(B);
  return { A, B };
}

const sameBytes = (a: string, b: string): void => expect(fs.readFileSync(a).equals(fs.readFileSync(b)), `${a} and ${b} differ`).toBe(true);

describeEngines((e) => {
  const engine = e.name;

  it('--no-whole-file: rsync\'s delta figures, and the files as the source', async () => {
    const { A, B } = twoCopies(engine, editedTree);
    const args = ['-a', '--no-whole-file', '--stats', '--debug=deltasum1', 'src/', 'dst/'];
    const rsync = spawnSync('rsync', args, { cwd: A, encoding: 'utf8' });
    const r = await runCli([...args, `--engine=${engine}`], { cwd: B });
    expect(r.code, show(r)).toBe(0);
    expect(figures(r.stdout)).toEqual(figures(rsync.stdout));
    expect(figures(r.stdout)).toContain('Matched data: 2,296,092 bytes');
    for (const f of ['f', 'g', 'new']) sameBytes(path.join(B, 'src', f), path.join(B, 'dst', f));
  });

  it('--no-whole-file -B: the block size given, as rsync', async () => {
    const { A, B } = twoCopies(`${engine}-b`, editedTree);
    const args = ['-a', '--no-W', '-B', '2048', '--stats', '--debug=deltasum1', 'src/', 'dst/'];
    const rsync = spawnSync('rsync', args, { cwd: A, encoding: 'utf8' });
    const r = await runCli([...args, `--engine=${engine}`], { cwd: B });
    expect(r.code, show(r)).toBe(0);
    expect(figures(r.stdout)).toEqual(figures(rsync.stdout));
  });

  it('a later -W copies whole again: every byte literal, as rsync', async () => {
    const { A, B } = twoCopies(`${engine}-w`, editedTree);
    const args = ['-a', '--no-whole-file', '-W', '--stats', '--debug=deltasum1', 'src/', 'dst/'];
    const rsync = spawnSync('rsync', args, { cwd: A, encoding: 'utf8' });
    const r = await runCli([...args, `--engine=${engine}`], { cwd: B });
    expect(figures(r.stdout)).toEqual(figures(rsync.stdout));
    expect(figures(r.stdout)).toContain('Matched data: 0 bytes');
  });

  it('-c --no-whole-file: a file -c finds different (same size, same time) is searched against its basis, as rsync', async () => {
    // Same size and mtime: only -c's checksum tells the files apart, and rsync's generator then sends
    // the basis' sums as for any changed file (before session 34 arsync sent such a file whole).
    const setup = (root: string): void => {
      const base = bytes(300_000, 11);
      const edited = Buffer.from(base);
      edited.write('changed!', 150_000);
      fs.mkdirSync(path.join(root, 'src'), { recursive: true });
      fs.mkdirSync(path.join(root, 'dst'), { recursive: true });
      fs.writeFileSync(path.join(root, 'src/f'), edited);
      fs.writeFileSync(path.join(root, 'dst/f'), base);
      fs.writeFileSync(path.join(root, 'src/same'), base);
      fs.writeFileSync(path.join(root, 'dst/same'), base);
      for (const f of ['src/f', 'dst/f', 'src/same', 'dst/same', 'src', 'dst']) fs.utimesSync(path.join(root, f), 1_600_000_000, 1_600_000_000);
    };
    const { A, B } = twoCopies(`${engine}-c`, setup);
    const args = ['-a', '-c', '--no-whole-file', '--stats', '--debug=deltasum1', '--out-format=%i %n %b %c', 'src/', 'dst/'];
    const rsync = spawnSync('rsync', args, { cwd: A, encoding: 'utf8' });
    const r = await runCli([...args, `--engine=${engine}`], { cwd: B });
    expect(r.code, show(r)).toBe(0);
    expect(figures(r.stdout)).toEqual(figures(rsync.stdout));
    expect(figures(r.stdout)).toContain('Literal data: 700 bytes');
    // The file's line: its %b (the tokens sent) and %c (the basis' sums) are the search's, as rsync's.
    const fileLine = (out: string): string[] => out.split('\n').filter((l) => l.startsWith('>f'));
    expect(fileLine(r.stdout)).toEqual(fileLine(rsync.stdout));
    expect(fileLine(r.stdout)).toHaveLength(1);
    // And the run's byte figures: the file's block sums and tokens in rsync's stream (stream-totals.ts).
    const bytesLines = (out: string): string[] => out.split('\n').filter((l) => /^Total bytes |^sent /.test(l)).map((l) => l.replace(/ +[\d,.]+ bytes\/sec$/, ''));
    expect(bytesLines(r.stdout)).toEqual(bytesLines(rsync.stdout));
    for (const f of ['f', 'same']) sameBytes(path.join(B, 'src', f), path.join(B, 'dst', f));
  });

  it('--append --no-whole-file: no search (rsync sends what follows the kept data), nothing matched', async () => {
    const setup = (root: string): void => {
      const kept = bytes(100_000, 9);
      fs.mkdirSync(path.join(root, 'src'), { recursive: true });
      fs.mkdirSync(path.join(root, 'dst'), { recursive: true });
      fs.writeFileSync(path.join(root, 'src/f'), Buffer.concat([kept, Buffer.from('tail'.repeat(1000))]));
      fs.writeFileSync(path.join(root, 'dst/f'), kept);
    };
    const { A, B } = twoCopies(`${engine}-append`, setup);
    const args = ['-a', '--append', '--no-whole-file', '--stats', '--debug=deltasum1', 'src/', 'dst/'];
    const rsync = spawnSync('rsync', args, { cwd: A, encoding: 'utf8' });
    const r = await runCli([...args, `--engine=${engine}`], { cwd: B });
    expect(r.code, show(r)).toBe(0);
    const counts = (out: string): string[] => figures(out).filter((l) => /^(total:|Matched)/.test(l)).map((l) => l.replace(/ data=\d+$/, ''));
    expect(counts(r.stdout)).toEqual(counts(rsync.stdout));
    expect(counts(r.stdout)).toEqual(['total: matches=0  hash_hits=0  false_alarms=0', 'Matched data: 0 bytes']);
    sameBytes(path.join(B, 'src/f'), path.join(B, 'dst/f'));
  });

  it('a basis of 8000 blocks with one weak sum: the chain walk is capped per offset, the file still exact', async () => {
    // rsync suite's hashsearch-chain: each decoy block keeps an all-C block's weak sum but not its strong one.
    const root = tempDir(`arsync-chain-${engine}-`);
    const decoy = Buffer.alloc(256, 100);
    decoy[0] = 101;
    decoy[1] = 98;
    decoy[2] = 101;
    fs.writeFileSync(path.join(root, 'dst.bin'), Buffer.concat(Array.from({ length: 8000 }, () => decoy)));
    fs.writeFileSync(path.join(root, 'src.bin'), Buffer.alloc(3000, 100));
    const r = await runCli(['-a', '--no-whole-file', '--block-size=256', '--debug=deltasum1', `--engine=${engine}`, 'src.bin', 'dst.bin'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    const m = /hash_hits=(\d+)\s+false_alarms=(\d+)/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const hits = Number(m![1]);
    const alarms = Number(m![2]);
    // Every offset of the source hits the chain; each stops after 1024 candidates (rsync's MAX_CHAIN_LEN).
    expect(hits).toBe(3000 - 256 + 1);
    expect(alarms).toBe(hits * 1024);
    sameBytes(path.join(root, 'src.bin'), path.join(root, 'dst.bin'));
  });
});
