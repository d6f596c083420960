// --progress prints, like rsync, each transferred file's name, then its line redrawn with \r while it is copied
// and its last line; --info=progress2 prints rsync's one whole-run line, redrawn with \r, on a terminal or not.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show, startCli } from '../helpers/cli.js';
import { spawnSync } from 'node:child_process';

afterAll(() => removeTemps());

describeEngines((e) => {
  const engine = e.name;

  it("--progress: rsync's lines in rsync's order (name, first line, last line), differential", async () => {
    const root = tempDir('arsync-progress-');
    for (let i = 1; i <= 4; i++) {
      fs.mkdirSync(path.join(root, 'src', `d${i}`), { recursive: true });
      fs.writeFileSync(path.join(root, 'src', `d${i}`, 'f'), Buffer.alloc(i * 5000, i));
    }
    fs.writeFileSync(path.join(root, 'src', 'empty'), '');
    const r = await runCli(['-a', '--progress', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    expect(r.code, show(r)).toBe(0);
    const want = spawnSync('rsync', ['-a', '--progress', `${root}/src/`, `${root}/rdst/`], { encoding: 'utf8' });
    // Rates and times are the clock's; to-chk counts rsync's file-list order (arsync: files left to send).
    const shape = (out: string) =>
      out
        .replace(/ +[\d.]+[kMG]B\/s +\d+:\d\d:\d\d/g, ' RATE TIME')
        .replace(/to-chk=\d+/g, 'to-chk=N')
        .replace(/^created directory .*$/m, 'created');
    expect(shape(r.stdout)).toBe(shape(want.stdout));
    // The run's first file with data, in one piece: its first line is its last, and rsync measures from
    // that line's own bytes (nothing moved since), so both say 0.00kB/s whatever the clock did.
    const first = /^d1\/f\n\r {10}5,000 100% +0\.00kB\/s +0:00:00 {2}\r {10}5,000 100% +0\.00kB\/s +0:00:00 \(xfr#\d, to-chk=\d\/10\)$/m;
    expect(want.stdout).toMatch(first);
    expect(r.stdout).toMatch(first);
    // progress2 keeps one start for the run, taken at that file's line: its end line says 0.00kB/s too.
    const whole = await runCli(['-a', '--info=progress2', `--engine=${engine}`, `${root}/src/`, `${root}/dst2/`]);
    const wantWhole = spawnSync('rsync', ['-a', '--info=progress2', `${root}/src/`, `${root}/rdst2/`], { encoding: 'utf8' });
    const firstWhole = /\r {10}5,000 {2}10% +0\.00kB\/s +0:00:00 \(xfr#2, to-chk=3\/10\)\r/;
    expect(wantWhole.stdout).toMatch(firstWhole);
    expect(whole.stdout).toMatch(firstWhole);
    // Nothing left to send: a second run prints no progress line.
    const again = await runCli(['-a', '--progress', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    expect(again.stdout).not.toMatch(/\r|xfr#/);
  });

  it("--progress: rsync's list counts where subdirectories are listed late (its sender's 1,000-entry look-ahead), differential", async () => {
    const root = tempDir('arsync-progress-');
    // The first list (".", 3 files, 3 directories), then d1's and d2's 500 entries: 1,000 listed after the
    // first list, so rsync's sender stops there and says "ir-chk" until it lists d3 for d1's files. Sent
    // whole (--no-inc-recursive, a smaller tree): "to-chk", and a file of d1 comes before d2 and d3.
    const tree = (src: string, n: number) => {
      fs.mkdirSync(src);
      for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(src, `f${i}`), Buffer.alloc(1000, i));
      for (const [d, k] of [['d1', n], ['d2', n], ['d3', 5]] as const) {
        fs.mkdirSync(path.join(src, d));
        for (let i = 0; i < k; i++) fs.writeFileSync(path.join(src, d, `g${i}`), 'x');
      }
    };
    tree(path.join(root, 'big'), 500);
    tree(path.join(root, 'small'), 20);
    const counts = (out: string) => out.match(/\(xfr#\d+, (?:ir|to)-chk=\d+\/\d+\)/g) ?? [];
    for (const [src, extra, files] of [['big', [], 1008], ['small', ['--no-inc-recursive'], 48]] as const) {
      const r = await runCli(['-a', '--progress', ...extra, `--engine=${engine}`, `${root}/${src}/`, `${root}/dst-${src}/`]);
      expect(r.code, show(r)).toBe(0);
      const want = spawnSync('rsync', ['-a', '--progress', ...extra, `${root}/${src}/`, `${root}/rdst-${src}/`], { encoding: 'utf8' });
      expect(counts(r.stdout), src).toEqual(counts(want.stdout));
      expect(counts(r.stdout)).toHaveLength(files);
      expect(counts(r.stdout).some((l) => l.includes('ir-chk')), src).toBe(extra.length === 0);
    }
  });

  it("--progress without incremental recursion: rsync's whole-list count (\" N files...\" to \"N files to consider\") before every transfer line, differential", async () => {
    const root = tempDir('arsync-progress-');
    // 250 files in two directories (the count passes 100 and 200), and in the destination an old file to
    // delete and a subdirectory to create: "created directory", the deletions and the names all come after
    // the list in rsync, whose list is whole before it transfers anything.
    fs.mkdirSync(path.join(root, 'src', 'sub'), { recursive: true });
    for (let i = 0; i < 150; i++) fs.writeFileSync(path.join(root, 'src', `f${i}`), `${i}`);
    for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(root, 'src', 'sub', `g${i}`), `${i}`);
    // (-v's byte totals are left out: they count rsync's protocol stream, docs/options.md "Left missing".)
    const shape = (out: string) =>
      out
        .replace(/ +[\d.]+[kMG]B\/s +\d+:\d\d:\d\d/g, ' RATE TIME')
        .replace(/created directory \S+/g, 'created directory D')
        .replace(/\nsent .*\ntotal size .*\n$/, '\n');
    for (const extra of [['--progress', '--no-i-r'], ['--progress', '--delete-before'], ['--info=flist2', '--delete-after', '-n'], ['--progress', '-m', '-v']]) {
      for (const d of ['dst', 'rdst']) {
        fs.mkdirSync(path.join(root, d, 'old'), { recursive: true });
        fs.writeFileSync(path.join(root, d, 'old', 'x'), 'x');
      }
      const r = await runCli(['-a', ...extra, `--engine=${engine}`, `${root}/src/`, `${root}/dst/new/`]);
      expect(r.code, show(r)).toBe(0);
      const want = spawnSync('rsync', ['-a', ...extra, `${root}/src/`, `${root}/rdst/new/`], { encoding: 'utf8' });
      expect(want.stdout, extra.join(' ')).toMatch(/^building file list \.\.\. \n 0 files\.\.\.\r 100 files\.\.\.\r 200 files\.\.\.\r252 files to consider\n/);
      expect(shape(r.stdout), extra.join(' ')).toBe(shape(want.stdout));
      for (const d of ['dst', 'rdst']) fs.rmSync(path.join(root, d), { recursive: true });
    }
    // A missing operand: its error on stderr ends the open "building file list ... " line first.
    const r = await runCli(['-a', '--progress', '--no-i-r', `--engine=${engine}`, `${root}/src/`, `${root}/nope`, `${root}/dst/`]);
    const want = spawnSync('rsync', ['-a', '--progress', '--no-i-r', `${root}/src/`, `${root}/nope`, `${root}/rdst/`], { encoding: 'utf8' });
    expect(r.code, show(r)).toBe(want.status);
    expect(want.stderr).toMatch(/^\nrsync: \[sender\] link_stat /);
    expect(r.stderr).toMatch(/^\narsync: \[sender\] link_stat /);
    expect(shape(r.stdout)).toBe(shape(want.stdout));
  });

  it('--info=progress1 alone draws the lines without the names (--progress adds name1), differential', async () => {
    const root = tempDir('arsync-progress-');
    fs.mkdirSync(path.join(root, 'src'));
    fs.writeFileSync(path.join(root, 'src', 'a'), Buffer.alloc(1000, 1));
    fs.writeFileSync(path.join(root, 'src', 'b'), '');
    for (const words of [['--info=progress1'], ['--progress', '--info=name0'], ['--info=progress1', '-v']]) {
      const r = await runCli(['-r', ...words, `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
      fs.rmSync(path.join(root, 'dst'), { recursive: true });
      const want = spawnSync('rsync', ['-r', ...words, `${root}/src/`, `${root}/dst/`], { encoding: 'utf8' });
      fs.rmSync(path.join(root, 'dst'), { recursive: true });
      expect(r.code, show(r)).toBe(0);
      const shape = (out: string) => out.replace(/ +[\d.]+[kMG]B\/s +\d+:\d\d:\d\d/g, ' RATE TIME').replace(/^sent [^]*$/m, 'sent (the summary counts rsync\'s protocol bytes)');
      expect(shape(r.stdout), words.join(' ')).toBe(shape(want.stdout));
    }
  });

  it('--progress with -c: the name of a file whose content differs comes before its lines, differential', async () => {
    const root = tempDir('arsync-progress-');
    for (const side of ['src', 'dst', 'rdst']) fs.mkdirSync(path.join(root, side));
    fs.writeFileSync(path.join(root, 'src', 'f'), 'aaaa\n');
    fs.writeFileSync(path.join(root, 'src', 'g'), 'same\n');
    for (const side of ['dst', 'rdst']) {
      fs.writeFileSync(path.join(root, side, 'f'), 'bbbb\n');
      fs.writeFileSync(path.join(root, side, 'g'), 'same\n');
    }
    // Same size, same whole-second mtimes everywhere: only -c tells f apart.
    for (const side of ['src', 'dst', 'rdst']) for (const n of ['f', 'g', '']) fs.utimesSync(path.join(root, side, n), 1_700_000_000, 1_700_000_000);
    const r = await runCli(['-rtc', '--progress', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    expect(r.code, show(r)).toBe(0);
    const want = spawnSync('rsync', ['-rtc', '--progress', `${root}/src/`, `${root}/rdst/`], { encoding: 'utf8' });
    const shape = (out: string) => out.replace(/ +[\d.]+[kMG]B\/s +\d+:\d\d:\d\d/g, ' RATE TIME').replace(/to-chk=\d+/g, 'to-chk=N');
    expect(shape(r.stdout)).toBe(shape(want.stdout));
    expect(r.stdout).toMatch(/^sending incremental file list\nf\n\r/);
    expect(fs.readFileSync(path.join(root, 'dst', 'f'), 'utf8')).toBe('aaaa\n');
  });

  it('--progress is live while a large file copies: the name, then \r updates at most once a second, then the last line', async () => {
    const root = tempDir('arsync-progress-');
    fs.mkdirSync(path.join(root, 'src'));
    fs.writeFileSync(path.join(root, 'src', 'big'), Buffer.alloc(3_000_000, 7));
    // About three seconds at 1000 kB/s: rsync draws at the first data, then once a second.
    const run = startCli(['-r', '--progress', '--bwlimit=1000', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    const chunks: { t: number; s: string }[] = [];
    run.child.stdout!.on('data', (d: Buffer) => chunks.push({ t: performance.now(), s: d.toString() }));
    const r = await run.done;
    const end = performance.now();
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout.startsWith('sending incremental file list\ncreated directory')).toBe(true);
    const tail = r.stdout.slice(r.stdout.indexOf('./\nbig\n') + 7);
    const parts = tail.split('\r').slice(1);
    const live = parts.slice(0, -1);
    expect(live.length, JSON.stringify(tail)).toBeGreaterThanOrEqual(3);
    for (const l of live) expect(l).toMatch(/^ +[\d,]+ +\d+% +[\d.]+[kM]B\/s +\d+:\d\d:\d\d {2}$/);
    const bytes = live.map((l) => Number(/^ *([\d,]+)/.exec(l)![1]!.replace(/,/g, '')));
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
    // A live line may show the whole size when the second ticks after the last write (rsync's
    // show_progress is called then too); only the last line has xfr#.
    expect(bytes[bytes.length - 1]).toBeLessThanOrEqual(3_000_000);
    // About three seconds at the limit; a loaded machine may take longer, never less than two.
    expect(parts[parts.length - 1]).toMatch(/^ {6}3,000,000 100% +[\d.]+[kM]B\/s +0:00:(0[2-9]|[1-5]\d) \(xfr#1, to-chk=0\/2\)\n$/);
    // Drawn while the copy went on, not after it: the first update came seconds before the end.
    const first = chunks.find((c) => /\r +[\d,]+ +\d+%/.test(c.s))!;
    expect(end - first.t).toBeGreaterThan(1500);
  });

  it('--progress interrupted: no 100% line for the file being copied, the line is ended', async () => {
    const root = tempDir('arsync-progress-');
    fs.mkdirSync(path.join(root, 'src'));
    fs.writeFileSync(path.join(root, 'src', 'big'), Buffer.alloc(3_000_000, 7));
    const run = startCli(['-r', '--progress', '--bwlimit=500', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    await new Promise<void>((res) => {
      run.child.stdout!.on('data', (d: Buffer) => d.includes('\r') && res());
      run.child.on('exit', () => res());
    });
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, show(r)).toBe(20);
    expect(r.stdout).not.toMatch(/100%|xfr#/);
    expect(r.stdout).toMatch(/\r +[\d,]+ +\d+% .* {2}\n/);
    expect(fs.existsSync(path.join(root, 'dst', 'big'))).toBe(false);
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

  it("--info=progress2 off a terminal: one counts line as each file ends, rsync's figures", async () => {
    const root = tempDir('arsync-progress-');
    fs.mkdirSync(path.join(root, 'src'));
    // Files of one size: the running sums do not depend on which file ends first.
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(root, 'src', `f${i}`), Buffer.alloc(100_000, i));
    const r = await runCli(['-a', '--info=progress2', `--engine=${engine}`, `${root}/src/`, `${root}/dst/`]);
    expect(r.code, show(r)).toBe(0);
    const want = spawnSync('rsync', ['-a', '--info=progress2', `${root}/src/`, `${root}/rdst/`], { encoding: 'utf8' });
    // rsync's end_progress lines (a live line ends in two spaces), without rate and time: data, %, counts.
    const ends = (out: string) =>
      out
        .split('\r')
        .filter((l) => /xfr#/.test(l))
        .map((l) => l.replace(/ +[\d.]+[kMG]B\/s +\d+:\d\d:\d\d/, ''));
    expect(ends(r.stdout), JSON.stringify(r.stdout)).toEqual(ends(want.stdout));
    expect(ends(r.stdout)).toHaveLength(6);
  });

  it("--info=progress2 off a terminal: every counts line as rsync's, in order (file ends and list ends), differential", async () => {
    const root = tempDir('arsync-progress-');
    const file = (rel: string, n: number): void => {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), Buffer.alloc(n, n % 251));
    };
    // A file in the top list, nested lists, an empty directory's list.
    for (const [rel, n] of [['nested/top1', 2], ['nested/a/a1', 3], ['nested/a/b/b1', 4], ['nested/a/b/b2', 5], ['nested/c/c1', 6]] as const) file(rel, n);
    fs.mkdirSync(path.join(root, 'nested', 'e'));
    // A top list without files: its end is drawn right after the first file's line.
    for (let i = 1; i <= 3; i++) {
      file(`dirsfirst/a/f${i}`, i * 1000);
      file(`dirsfirst/b/g${i}`, 300);
    }
    // Lists of directories only before the first file: rsync's generator tells its sender of each new
    // directory, which moves the list the early lines count from.
    file('deep/x/y/z', 2);
    // rsync's end_progress lines without rate and time, and the first live line (data flowing).
    const lines = (out: string) =>
      out
        .split(/[\r\n]/)
        .filter((l) => /%/.test(l))
        .map((l) => l.replace(/ +[\d.]+[kMG]B\/s +\d+:\d\d:\d\d/, ''));
    const ends = (out: string) => lines(out).filter((l) => /xfr#/.test(l));
    // rsync ends a list whose files are in flight when its receiver reports them done, which under load
    // can come sooner: the file ends, the number of list ends and the last line are what never vary.
    const shape = (out: string) => {
      const all = ends(out);
      const seen = new Set<string>();
      const files = all.filter((l) => {
        const n = /xfr#(\d+)/.exec(l)![1]!;
        if (n === '0' || seen.has(n)) return false;
        seen.add(n);
        return true;
      });
      // Lists that end before the first file is sent have nothing in flight: those lines never vary.
      const early = all.filter((l) => /xfr#0,/.test(l));
      return { files, early, listEnds: all.length - files.length, last: all[all.length - 1] };
    };
    const cases: [string, string[]][] = [
      ['nested', ['-r']],
      ['nested', ['-r', '--no-i-r']],
      ['nested', ['-r', '-v']],
      ['dirsfirst', ['-r']],
      ['deep', ['-r']],
    ];
    for (const [tree, opts] of cases) {
      const step = `${tree} ${opts.join(' ')}`;
      const dst = tempDir('arsync-progress-dst-');
      const r = await runCli([...opts, '--info=progress2', `--engine=${engine}`, `${root}/${tree}/`, `${dst}/a/`]);
      expect(r.code, show(r)).toBe(0);
      const want = spawnSync('rsync', [...opts, '--info=progress2', `${root}/${tree}/`, `${dst}/r/`], { encoding: 'utf8' });
      expect(shape(r.stdout), `${step}\n${JSON.stringify(r.stdout)}\n${JSON.stringify(want.stdout)}`).toEqual(shape(want.stdout));
      expect(lines(r.stdout)[0], step).toBe(lines(want.stdout)[0]);
      // -v: the names and the counts lines interleave as rsync's (created-directory line aside).
      const names = (out: string) => out.split('\n').filter((l) => !l.startsWith('\r') && !l.startsWith('created directory') && !/^sent |^total size/.test(l));
      if (opts.includes('-v')) expect(names(r.stdout).map((l) => l.replace(/\r.*/, '')), step).toEqual(names(want.stdout).map((l) => l.replace(/\r.*/, '')));
    }
    // A re-sync that sends one file of the fourth list, and one that sends none: the lists passed before
    // it end first, each counting from its own end (nothing in flight: every line is rsync's, in order).
    const a = tempDir('arsync-progress-resync-');
    spawnSync('rsync', ['-rt', `${root}/nested/`, `${a}/a/`]);
    spawnSync('rsync', ['-rt', `${root}/nested/`, `${a}/r/`]);
    for (const change of [true, false]) {
      if (change) fs.appendFileSync(path.join(root, 'nested/c/c1'), 'more');
      const r = await runCli(['-rt', '--info=progress2', `--engine=${engine}`, `${root}/nested/`, `${a}/a/`]);
      const want = spawnSync('rsync', ['-rt', '--info=progress2', `${root}/nested/`, `${a}/r/`], { encoding: 'utf8' });
      expect(ends(r.stdout), `change=${change}\n${JSON.stringify(r.stdout)}\n${JSON.stringify(want.stdout)}`).toEqual(ends(want.stdout));
    }
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
    // Padded with spaces over a longer counts line drawn before it, as rsync pads.
    expect(lines[lines.length - 1]).toMatch(/ 6,000,000 100% .*\(xfr#300, to-chk=0\/304\) *\n$/);
    // Between the live redraws, the counts as files end (rsync's receiver draws them after each file).
    const counts = lines.slice(0, -1).map((l) => /\(xfr#(\d+), to-chk=(\d+)\/304\) *$/.exec(l)).filter((m) => m !== null);
    expect(counts.length, JSON.stringify(r.stdout)).toBeGreaterThanOrEqual(1);
    const done = counts.map((m) => Number(m[1]));
    expect(done).toEqual([...done].sort((a, b) => a - b));
    // to-chk: what is still to send among what the walk has found so far, never more than the list.
    for (const m of counts) expect(Number(m[2])).toBeLessThanOrEqual(304);
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
    // The counts drawn as files ended may be there; never the last line's "all done".
    expect(r.stdout).not.toMatch(/xfr#300|to-chk=0\//);
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
