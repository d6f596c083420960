// --progress prints, like rsync, the names and one completion line per transferred file; --info=progress2
// prints rsync's one whole-run line, redrawn with \r, on a terminal or not.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show, startCli } from '../helpers/cli.js';
import { spawnSync } from 'node:child_process';

afterAll(() => removeTemps());

const LINE = /^\s+[\d,]+ 100%\s+[\d.]+[kMG]B\/s\s+0:00:00 \(xfr#(\d+), to-chk=(\d+)\/(\d+)\)$/;

describeEngines((e) => {
  const engine = e.name;

  it('--progress: one line per transferred file, counted like rsync', async () => {
    const root = tempDir('arsync-progress-');
    for (let i = 1; i <= 4; i++) {
      fs.mkdirSync(path.join(root, 'src', `d${i}`), { recursive: true });
      fs.writeFileSync(path.join(root, 'src', `d${i}`, 'f'), Buffer.alloc(i * 5000, i));
    }
    const r = await runCli(['-a', '--progress', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    expect(r.code, show(r)).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => LINE.test(l));
    expect(lines.length, r.stdout).toBe(4);
    const xfr = lines.map((l) => Number(LINE.exec(l)![1])).sort();
    expect(xfr).toEqual([1, 2, 3, 4]);
    expect(r.stdout).toMatch(/^sending incremental file list$/m);
    expect(r.stdout).toMatch(/^d1\/f$/m);
    // Nothing left to send: a second run prints no progress line.
    const again = await runCli(['-a', '--progress', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    expect(again.stdout.split('\n').filter((l) => LINE.test(l))).toEqual([]);
  });

  it("--info=progress2 off a terminal: rsync's one line, redrawn with \\r, ending as rsync's", async () => {
    const root = tempDir('arsync-progress-');
    fs.mkdirSync(path.join(root, 'src', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'src', 'f'), Buffer.alloc(300_000, 1));
    fs.writeFileSync(path.join(root, 'src', 'sub', 'g'), Buffer.alloc(5000, 2));
    const r = await runCli(['-a', '--info=progress2', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    expect(r.code, show(r)).toBe(0);
    const want = spawnSync('rsync', ['-a', '--info=progress2', `${root}/src/`, `${root}/rdst/`], { encoding: 'utf8' });
    // Every update starts with \r; only the last line ends with a newline; the last lines agree.
    const last = (out: string) => out.slice(out.lastIndexOf('\r'));
    expect(r.stdout.endsWith('\n') && !r.stdout.slice(0, -1).includes('\n'), JSON.stringify(r.stdout)).toBe(true);
    const shape = (l: string) => l.replace(/ +[\d.]+[kMG]B\/s/, ' RATE').replace(/ +\d+:\d\d:\d\d/, ' TIME');
    expect(shape(last(r.stdout))).toBe(shape(last(want.stdout)));
    expect(last(r.stdout)).toMatch(/^\r {8}305,000 100% +[\d.]+[kMG]B\/s +0:00:0\d \(xfr#2, to-chk=0\/4\)\n$/);
  });

  it('--info=progress2 is live during a long copy (on workers), totals never run backwards', async () => {
    const root = tempDir('arsync-progress-');
    // 300 files: more than one batch, so the copy runs on the pool and the main thread keeps drawing.
    for (let i = 0; i < 300; i++) {
      fs.mkdirSync(path.join(root, 'src', `d${i % 3}`), { recursive: true });
      fs.writeFileSync(path.join(root, 'src', `d${i % 3}`, `f${i}`), Buffer.alloc(20_000, i));
    }
    const r = await runCli(['-a', '--info=progress2', '--bwlimit=2048', '--workers=2', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    expect(r.code, show(r)).toBe(0);
    const lines = r.stdout.split('\r').filter(Boolean);
    const live = lines.filter((l) => l.endsWith('  '));
    expect(live.length, JSON.stringify(r.stdout)).toBeGreaterThanOrEqual(2);
    const bytes = lines.map((l) => Number(/^\s*([\d,]+)/.exec(l)![1]!.replace(/,/g, '')));
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
    expect(lines[lines.length - 1]).toMatch(/ 6,000,000 100% .*\(xfr#300, to-chk=0\/304\)\n$/);
  });

  it('--info=progress2 interrupted: no 100% line, the line is ended', async () => {
    const root = tempDir('arsync-progress-');
    fs.mkdirSync(path.join(root, 'src'));
    for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(root, 'src', `f${i}`), Buffer.alloc(20_000, i));
    const run = startCli(['-a', '--info=progress2', '--bwlimit=1024', '--workers=2', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    // Interrupted once the line is on screen.
    await new Promise<void>((res) => run.child.stdout!.on('data', (d: Buffer) => d.includes('\r') && res()));
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, show(r)).toBe(20);
    expect(r.stdout).not.toMatch(/100%/);
    expect(r.stdout).not.toMatch(/xfr#/);
    expect(r.stdout.endsWith('\n')).toBe(true);
  });

  it('--no-progress: the last of --progress, -P and --no-progress wins, as in rsync (-P keeps --partial)', async () => {
    const root = tempDir('arsync-progress-');
    fs.mkdirSync(path.join(root, 'src'));
    fs.writeFileSync(path.join(root, 'src', 'f'), Buffer.alloc(1000, 1));
    for (const words of [['--progress', '--no-progress'], ['-P', '--no-progress'], ['--no-progress', '-P'], ['--no-progress', '--progress']]) {
      const r = await runCli(['-a', ...words, `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
      fs.rmSync(path.join(root, 'dst'), { recursive: true });
      const want = spawnSync('rsync', ['-a', ...words, `${root}/src/`, `${root}/rdst/`], { encoding: 'utf8' });
      fs.rmSync(path.join(root, 'rdst'), { recursive: true });
      expect(r.code, show(r)).toBe(0);
      const lines = (out: string) => out.split('\n').filter((l) => /xfr#|^f$/.test(l)).length;
      expect(lines(r.stdout), words.join(' ')).toBe(lines(want.stdout));
    }
  });

  it('--progress-bar draws nothing when stdout is not a terminal', async () => {
    const root = tempDir('arsync-progress-');
    fs.mkdirSync(path.join(root, 'src'));
    fs.writeFileSync(path.join(root, 'src', 'f'), Buffer.alloc(100_000, 1));
    const r = await runCli(['-a', '-v', '--progress-bar', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).not.toMatch(/[\u2591\u2588\r]|\x1b\[/);
    expect(r.stdout).toMatch(/^f$/m);
  });
});
