// rsync's meaning for the options that scripts pass most: -h is --human-readable (help only when it is
// the whole command line), -8 leaves high-bit bytes of names unescaped, an unknown option is exit 1 whatever
// else is on the line; and the option combinations rsync refuses before doing anything.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { runCli, show } from '../helpers/cli.js';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';

let base: string;
let src: string;
let names: string;

beforeAll(() => {
  base = tempDir('arsync-cliopts-');
  src = path.join(base, 'src');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  // 2,500,000 bytes in all: 2.50M with -h (powers of 1000), 2.38M with -hh (powers of 1024).
  fs.writeFileSync(path.join(src, 'big'), Buffer.alloc(2_499_000, 7));
  fs.writeFileSync(path.join(src, 'sub', 'small'), Buffer.alloc(1000, 1));
  names = path.join(base, 'names');
  fs.mkdirSync(names);
  fs.writeFileSync(Buffer.from(`${names}/bad\xff`, 'latin1'), 'x');
  fs.writeFileSync(path.join(names, 'back\\#123'), 'x');
  fs.writeFileSync(path.join(names, 'caf\u00e9'), 'x');
});
afterAll(() => removeTemps());

const summary = (out: string): string[] => out.split('\n').filter((l) => /^(sent|total size|Total|Literal|Number of files)/.test(l));

describeEngines((e) => {
  const eng = `--engine=${e.name}`;

  it('-avh src/ dst/ copies (it is --human-readable, not --help), exit 0', async () => {
    const dst = path.join(base, `avh-${e.name}`);
    const r = await runCli(['-avh', eng, `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).not.toMatch(/usage/i);
    expectExactCopy(src, dst, e.name);
    expect(r.stdout, show(r)).toMatch(/^total size is 2\.50M {2}speedup is /m);
  });

  it('the number format follows the -h level: --no-h, default, -h, -hh', async () => {
    const cases: [string[], RegExp, RegExp][] = [
      [['--no-h'], /^total size is 2500000 /m, /^Total file size: 2500000 bytes$/m],
      [[], /^total size is 2,500,000 /m, /^Total file size: 2,500,000 bytes$/m],
      [['-h'], /^total size is 2\.50M /m, /^Total file size: 2\.50M bytes$/m],
      [['-hh'], /^total size is 2\.38M /m, /^Total file size: 2\.38M bytes$/m],
      [['--human-readable', '--human-readable'], /^total size is 2\.38M /m, /^Literal data: 2\.38M bytes$/m],
    ];
    for (const [flags, total, stats] of cases) {
      const dst = path.join(base, `num-${e.name}-${flags.join('')}`);
      const r = await runCli(['-a', '--stats', eng, ...flags, `${src}/`, `${dst}/`]);
      expect(r.code, show(r)).toBe(0);
      expect(r.stdout, `${flags.join(' ')}: ${summary(r.stdout).join(' | ')}`).toMatch(total);
      expect(r.stdout, `${flags.join(' ')}: ${summary(r.stdout).join(' | ')}`).toMatch(stats);
      // Counts of files are never given units.
      expect(r.stdout).toMatch(/^Number of files: 4 \(reg: 2, dir: 2\)$/m);
    }
  });

  it('--progress prints the file size with the -h level', async () => {
    const dst = path.join(base, `prog-${e.name}`);
    const r = await runCli(['-a', '--progress', '-h', eng, `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout, show(r)).toMatch(/\r +2\.50M 100% /);
  });

  it('-h alone, or --help, prints the help and exits 0; -h with anything else is not help', async () => {
    for (const args of [['-h'], ['-hh'], ['--help'], ['--help', '-a']]) {
      const r = await runCli(args);
      expect(r.code, show(r)).toBe(0);
      expect(r.stdout, show(r)).toMatch(/usage/i);
      expect(r.stdout).toMatch(/--human-readable/);
    }
    const r = await runCli(['-h', eng]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout).not.toMatch(/usage:/i);
  });

  it('-8 is --8-bit-output: high-bit bytes of names are printed as they are, not taken as a file name', async () => {
    const plain = await runCli(['-rv', eng, `${names}/`, `${base}/n8a-${e.name}/`]);
    expect(plain.code, show(plain)).toBe(0);
    expect(plain.stdout).toMatch(/^bad\\#377$/m);
    // rsync escapes the backslash of a literal "\#ddd" in a name so that output stays unambiguous.
    expect(plain.stdout).toMatch(/^back\\#134#123$/m);
    expect(plain.stdout).toMatch(/^caf\u00e9$/m);
    const dst = path.join(base, `n8b-${e.name}`);
    const r = await runCli(['-rv8', eng, `${names}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(0);
    expect(Buffer.from(r.stdout, 'latin1').includes(Buffer.from('\nbad\xff\n', 'latin1')) || r.stdout.includes('\nbad\ufffd\n'), show(r)).toBe(true);
    expect(r.stdout).toMatch(/^back\\#134#123$/m);
    expect(r.stdout).toMatch(/^caf\u00e9$/m);
    expect(fs.existsSync(Buffer.from(`${dst}/bad\xff`, 'latin1'))).toBe(true);
    const long = await runCli(['-r', '--8-bit-output', '--no-8-bit-output', eng, `${names}/`, `${base}/n8c-${e.name}/`]);
    expect(long.code, show(long)).toBe(0);
  });

  it.each([['--version'], ['--help'], ['-V'], ['-h']])('an unknown option next to %s is exit 1', async (flag) => {
    for (const args of [[flag, '--bogus'], ['--bogus', flag], [flag, '-Z', `${src}/`, `${base}/never/`]]) {
      const r = await runCli([...args, eng]);
      expect(r.code, show(r)).toBe(1);
      expect(r.stderr, show(r)).toMatch(/--bogus|-Z/);
      expect(r.stdout, show(r)).toBe('');
    }
    expect(fs.existsSync(`${base}/never`)).toBe(false);
  });

  it('--version with operands prints the version and copies nothing', async () => {
    const r = await runCli(['--version', eng, `${src}/`, `${base}/never-v/`]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/version/);
    expect(fs.existsSync(`${base}/never-v`)).toBe(false);
  });

  it('refusals rsync makes before any I/O: --delete without -r/-d, --link-dest with --compare-dest', async () => {
    const dst = path.join(base, `refuse-${e.name}`);
    const cases: [string[], RegExp][] = [
      [['-t', '--delete', `${src}/big`, `${dst}/`], /--delete does not work without --recursive \(-r\) or --dirs \(-d\)/],
      [['-lptgoD', '--delete-after', `${src}/`, `${dst}/`], /--delete does not work without --recursive/],
      [['-a', `--link-dest=${base}`, `--compare-dest=${base}`, `${src}/`, `${dst}/`], /the --compare-dest option conflicts with the --link-dest option/],
      [['-a', `--copy-dest=${base}`, `--link-dest=${base}`, `${src}/`, `${dst}/`], /the --link-dest option conflicts with the --copy-dest option/],
      [['-a', `--compare-dest=${base}`, `--copy-dest=${base}`, `${src}/`, `${dst}/`], /the --copy-dest option conflicts with the --compare-dest option/],
      [['-ab', '--suffix=/../../x', `${src}/`, `${dst}/`], /--suffix cannot contain slashes: \/\.\.\/\.\.\/x/],
      [['-a', ...Array.from({ length: 21 }, (_, i) => `--link-dest=${base}/l${i}`), `${src}/`, `${dst}/`], /at most 20 --link-dest args may be specified/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli([eng, ...args]);
      expect(r.code, show(r)).toBe(1);
      expect(r.stderr, show(r)).toMatch(message);
      expect(r.stderr).toMatch(/syntax or usage error \(code 1\)/);
      expect(fs.existsSync(dst), show(r)).toBe(false);
    }
  });

  it('link/ where the link points to a file: a per-file error, exit 23, as rsync', async () => {
    const dir = path.join(base, `flink-${e.name}`);
    fs.mkdirSync(dir);
    fs.symlinkSync(path.join(src, 'big'), path.join(dir, 'link'));
    const dst = path.join(base, `flink-dst-${e.name}`);
    const r = await runCli(['-a', eng, `${dir}/link/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(23);
    expect(r.stderr, show(r)).toMatch(/link.*Not a directory|ENOTDIR/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(fs.readdirSync(dst)).toEqual([]);
  });

  it('an operand longer than PATH_MAX: a per-file error (exit 23) for a source, exit 3 for the destination', async () => {
    const long = 'a/'.repeat(2100);
    const r = await runCli(['-a', eng, long, `${base}/long-dst-${e.name}/`], { cwd: base });
    expect(r.code, show(r)).toBe(23);
    expect(r.stderr, show(r)).toMatch(/File name too long|ENAMETOOLONG|name too long/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    const d = await runCli(['-a', eng, `${src}/`, long], { cwd: base });
    expect(d.code, show(d)).toBe(3);
    expect(d.stderr, show(d)).toMatch(/cannot stat destination/);
    expect(d.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});

describeEngines((e) => {
  it('--out-format with a huge width: lines cut at rsync\'s buffer size, never an internal error', async () => {
    const dst = path.join(base, `fmt-${e.name}`);
    const r = await runCli(['-a', `--engine=${e.name}`, '--out-format=%-99999999999n|', `${src}/`, `${dst}/`]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l.length).toBe(4096); // 4095 of padded name, then the '|'
    const small = await runCli(['-a', `--engine=${e.name}`, '--out-format=[%-6n][%4l]', `${src}/`, `${dst}-2/`]);
    expect(small.stdout).toMatch(/^\[big {3}\]\[2499000\]$/m);
    expect(small.stdout).toMatch(/^\[sub\/small\]\[1000\]$/m);
  });
});
