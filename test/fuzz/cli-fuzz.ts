// A command-line fuzzer for the built CLI: seeded random and adversarial combinations of every option
// arsync lists in --help (plus rsync options it lacks), bad values, huge numbers, empty strings, odd bytes
// in names and in --files-from / --exclude-from / merge-file contents. Each case runs in its own sandbox
// directory; a case fails on an "internal error", a stack frame, a hang, death by a signal, an exit code
// rsync never uses, or a change outside its sandbox. Used by test/e2e/cli-fuzz.test.ts (a bounded run in
// `npm test`) and test/fuzz/run.ts (`npm run fuzz -- --cases=N --seed=S`).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../helpers/tree.js';
import { runCli, runCliSync, type CliResult } from '../helpers/cli.js';

/** Every exit code rsync 3.5 documents. */
// errcode.h's codes, and those a remote shell passes through (124-127, and 255 from ssh itself).
export const RSYNC_EXIT_CODES = new Set([0, 1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 19, 20, 21, 22, 23, 24, 25, 30, 35, 124, 125, 126, 127, 255]);

export interface OptionSpec {
  /** The spelling used on the command line ("-v" or "--verbose"). */
  flag: string;
  takesValue: boolean;
}

/** The options the built CLI lists in --help: both spellings of each, and whether it takes a value. */
export function optionsFromHelp(): OptionSpec[] {
  const r = runCliSync(['--help']);
  if (r.code !== 0) throw new Error(`arsync --help failed: ${r.stderr}`);
  const specs: OptionSpec[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^\s+((?:-\w|--[\w-]+)(?:, --[\w-]+)?)(?: <[^>]+>| \[[^\]]+\])?\s{2,}/.exec(line);
    if (!m) continue;
    const takesValue = /<[^>]+>/.test(line.slice(0, m[0].length));
    for (const flag of m[1]!.split(', ')) specs.push({ flag, takesValue });
  }
  return specs;
}

/** rsync options arsync does not have (each must be a clean usage error, or work). */
const FOREIGN = ['-z', '--compress', '-e', '--rsh=ssh', '--bwlimit=100', '--daemon', '-y', '--fuzzy', '-@', '-T', '--temp-dir=tmp',
  '--partial-dir=.p', '--delay-updates', '-m', '--log-file=log', '--list-only', '--timeout=1', '--append', '-U', '-N', '-E',
  '--iconv=utf8', '--password-file=x', '--port=1', '--chown=0:0', '--usermap=a:b', '--super', '--fake-super', '--fsync',
  '--write-batch=b', '--read-batch=b', '--protocol=29', '--checksum-choice=md5', '--no-implied-dirs', '--force', '-k', '-d'];

/** Values that have broken parsers elsewhere. */
const NASTY = ['', '0', '-1', '1', '2', '007', '4096', '4097', '65536', '2147483648', '9007199254740993', '99999999999999999999999',
  '1e309', '-0', '0x10', 'NaN', 'Infinity', '1.5', '1.5K', '10MB', '2G', '1T', '3P', '1KiB', '1k+1', '1k-1', '-5K', 'K', '.5', '1..2',
  '-', '--', '=', ' ', '\t', 'a\nb', '%', '%z', '%n%L', "%'l", "%''b", '%-10n|%10b', '%-99999999999n', '%999999l', '%-0i', '%%', 'progress2', 'progress0,progress1', 'stats2', 'ALL',
  'u+x', 'D755,F644', 'a=rwX', 'g-w,o-rwx', 'Dg+s', '999', 'u+', '+x', 'ugo=', 'auto', 'uring', 'sync', 'node', 'warp',
  'caf\u00e9', '\u202e', '\u0000'.replace('\u0000', '\u0001'), '\x1b[31m', 'x'.repeat(5000), '/', '.', '..', '../..', '/dev/null',
  '/nonexistent/x', '/proc/version', 'list', 'rules', 'src', 'dst', 'new/', 'bk', '.rsync-filter'];

/** Values most options accept, so that many cases get past parsing into the transfer. */
const SANE = ['1', '2', '3', '10', '1K', '100', 'progress2', '%n', '%i %n%L', 'u+rwX', 'a-w', '- *.o', '+ */', 'list', 'rules', 'auto'];

/** Valid values by option, for the half of the cases that should mostly reach the transfer. */
const VALID: [RegExp, readonly string[]][] = [
  [/workers|queue-depth/, ['1', '2', '4', '64']],
  [/max-delete|modify-window/, ['0', '1', '2', '100']],
  [/size/, ['0', '1', '100', '1K', '64K', '1M', '1.5k', '10KB']],
  [/out-format/, ['%n', '%i %n%L', "%'l %b %f", '%o %B %U:%G %M', '%-20n|', '%t %p']],
  [/chmod/, ['u+rwX', 'D755,F644', 'go-w', 'a=r', 'Dg+s,Fo-x']],
  [/exclude$|include$|filter|^-f$/, ['- *.o', '+ */', '- sub/', 'P extra', '- /a', ': .rsync-filter', 'merge rules', '- c', '+ a', '- *']],
  [/-from$/, ['list', 'rules', '-', '/dev/null']],
  [/engine/, ['auto', 'uring', 'sync', 'node']],
  [/info/, ['progress2', 'progress1', 'progress0', 'name2', 'all', 'none,del', 'stats3', 'help', 'bogus', 'backup,skip2']],
  [/debug/, ['all', 'none', 'flist2', 'proto', 'HLINK5', 'deltasum', 'help', 'bogus']],
  [/stderr/, ['errors', 'all', 'client', 'e', 'x', '']],
];

/** Filter rules, good and bad, for --filter values and rule files. */
const RULES = ['- *.o', '+ */', '- *', 'P keep', 'R x', 'S y', 'H z', ': .rsync-filter', 'dir-merge .rsync-filter', '. rules',
  'merge rules', 'merge /dev/null', '!', 'clear', 'exclude,! x', '-! /a', '+/ b', 'xbogus', '- ', '+', 'merge', ':',
  '-,e x', '-C', ':C', 'show x', 'hide y', 'protect z', 'risk w', '- [', '- ***', '- a\\', '- /**/', 'dir-merge,n- .f',
  'merge,w /dev/null', '. /nonexistent', '- \xff'];

/** Operands: everything stays inside the case's sandbox (relative to it), except read-only oddities. */
const SOURCES = ['src/', 'src', 'src/a', 'src/sub/', 'src/link', 'src/link/', 'src/a/', 'missing', 'src/*', 'src/**', '*.none',
  'src//sub//', './src/', 'src/./sub', 'src/nl\nname', 'host:src', 'rsync://h/m', '[::1]:x', 'h::m', ':x', 'x'.repeat(300),
  'a/'.repeat(2100), '', 'dst', 'src/sub/c'];
const DESTS = ['dst/', 'dst', 'new/', 'new', 'new/deeper/', 'dst/a', 'src/sub', 'src/', 'src/a', 'file-dest', 'host:dst',
  'rsync://h/m/', '', '.', 'x'.repeat(300), 'a/'.repeat(2100), 'dst/sub/', 'ex\u00e9/'];

/**
 * Options that write where their value points, or make links to it: their values stay inside the
 * sandbox (the fuzzer runs as root on a shared machine). Everything else may get any value.
 */
const CONFINED: Record<string, readonly string[]> = {
  '--backup-dir': ['bk', 'bk/deep', '', '.', 'dst', 'dst/bk', 'src', 'src/bk', 'x'.repeat(300), 'a/'.repeat(2100), 'file-dest'],
  '--link-dest': ['src', 'dst', '', 'missing', '/nonexistent', 'file-dest', 'x'.repeat(300)],
  '--compare-dest': ['src', 'dst', '', 'missing', '/nonexistent', 'file-dest'],
  '--copy-dest': ['src', 'dst', '', 'missing', '/nonexistent', 'file-dest'],
  '--suffix': ['', '~', '.bak', 'x/y', '/', '\n', '.', 'x'.repeat(300), '\x01'],
  // --log-file appends to the file it names.
  '--log-file': ['log', 'dst/log', '', '.', 'dst', 'missing/log', 'x'.repeat(300), 'a/'.repeat(2100)],
};

export interface FuzzCase {
  /** Position in the seeded run; negative for the fixed corpus run first. */
  index: number;
  args: string[];
  /** Bytes of the sandbox's `list` and `rules` files. */
  list: Buffer;
  rules: Buffer;
  perDirRules: Buffer | undefined;
  destExists: boolean;
}

function randomLines(rng: Rng, items: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  const n = rng.int(0, 6);
  for (let i = 0; i < n; i++) {
    const roll = rng.next();
    if (roll < 0.6) parts.push(Buffer.from(rng.pick(items), 'latin1'));
    else if (roll < 0.8) parts.push(rng.bytes(rng.int(0, 12)));
    else parts.push(Buffer.from(rng.pick(['#c', ';c', '', '\r', '/abs', '../up', 'sub/', 'nl\nname', 'a\0b'])));
    parts.push(Buffer.from(rng.pick(['\n', '\n', '\r\n', '\0', '\r'])));
  }
  return Buffer.concat(parts);
}

/** One seeded case. */
export function makeCase(rng: Rng, index: number, options: readonly OptionSpec[]): FuzzCase {
  const args: string[] = [];
  const value = (): string => {
    const roll = rng.next();
    if (roll < 0.3) return rng.pick(SANE);
    if (roll < 0.55) return rng.pick(NASTY);
    if (roll < 0.75) return rng.pick(RULES);
    if (roll < 0.85) return String(rng.int(-3, 300));
    return rng.bytes(rng.int(1, 8)).toString('latin1').replace(/\0/g, '');
  };
  const sane = rng.next() < 0.5;
  const validFor = (flag: string): string | undefined => {
    const v = VALID.find(([re]) => re.test(flag));
    return v ? rng.pick(v[1]) : undefined;
  };
  const nOptions = rng.int(0, 5);
  for (let i = 0; i < nOptions; i++) {
    const roll = rng.next();
    if (roll < (sane ? 0.02 : 0.08)) {
      args.push(rng.pick(FOREIGN));
      continue;
    }
    if (roll < 0.16) {
      // Bundled short flags, sometimes with a bad one in the middle.
      const shorts = options.filter((o) => /^-\w$/.test(o.flag) && !o.takesValue).map((o) => o.flag[1]!);
      const k = rng.int(2, 5);
      args.push('-' + Array.from({ length: k }, () => (rng.next() < 0.1 ? rng.pick(['Z', '9', 'j', '@']) : rng.pick(shorts))).join(''));
      continue;
    }
    const o = rng.pick(options);
    const confined = CONFINED[o.flag];
    if (confined) {
      args.push(`${o.flag}=${rng.pick(confined)}`);
    } else if (!o.takesValue) {
      args.push(rng.next() < 0.05 ? `${o.flag}=x` : o.flag);
    } else if (sane && validFor(o.flag) !== undefined) {
      const v = validFor(o.flag)!;
      args.push(...(o.flag.startsWith('--') ? [`${o.flag}=${v}`] : [o.flag, v]));
    } else if (o.flag.startsWith('--') && rng.next() < 0.7) {
      args.push(`${o.flag}=${value()}`);
    } else if (rng.next() < 0.05) {
      args.push(o.flag); // value missing at the end, or the next word taken as its value
    } else {
      args.push(o.flag, value());
    }
  }
  // Usually an archive copy, so that the run reaches the transfer.
  if (rng.next() < 0.6) args.splice(rng.int(0, args.length), 0, rng.pick(['-a', '-av', '-ai', '-r', '-aH', '-n']));
  const nSources = rng.pick([0, 1, 1, 1, 1, 2, 3]);
  const operands: string[] = [];
  for (let i = 0; i < nSources; i++) operands.push(rng.pick(SOURCES));
  if (nSources > 0 || rng.next() < 0.5) operands.push(rng.pick(DESTS));
  // Options may follow operands (rsync allows it), and "--" ends options.
  if (rng.next() < 0.1) args.push('--');
  const all = rng.next() < 0.15 ? [...operands, ...args] : [...args, ...operands];
  return {
    index,
    args: all,
    list: randomLines(rng, ['a', 'sub', 'sub/c', 'link', 'missing', 'nl\nname', '\xff', '/a', './a', 'sub/../a']),
    rules: randomLines(rng, RULES),
    perDirRules: rng.next() < 0.2 ? randomLines(rng, RULES) : undefined,
    destExists: rng.next() < 0.5,
  };
}

/**
 * Command lines that once produced an internal error (issue 7 and what the fuzzer found since): every run
 * starts with them, whatever the seed.
 */
const CORPUS: Omit<FuzzCase, 'index'>[] = [
  { args: ['-a', '--out-format=%-99999999999n', 'src/', 'dst/'], list: Buffer.alloc(0), rules: Buffer.alloc(0), perDirRules: undefined, destExists: false },
  { args: ['-aF', 'src/', 'dst/'], list: Buffer.alloc(0), rules: Buffer.alloc(0), perDirRules: Buffer.from('- *.o\nxbogus rule\n'), destExists: true },
  { args: ['-a', '--filter=merge rules', 'src/', 'dst/'], list: Buffer.alloc(0), rules: Buffer.from('merge rules\n'), perDirRules: undefined, destExists: false },
  { args: ['-aF', 'src/', 'dst/'], list: Buffer.alloc(0), rules: Buffer.alloc(0), perDirRules: Buffer.from(': .rsync-filter\nmerge sub/.rsync-filter\n'), destExists: false },
  { args: ['-a', '--files-from=list', 'src/', 'dst/'], list: Buffer.from('a\0sub\0'), rules: Buffer.alloc(0), perDirRules: undefined, destExists: false },
  { args: ['-a', '-0', '--files-from=list', '--exclude-from=rules', 'src/', 'dst/'], list: Buffer.from('a\0nl\nname\0'), rules: Buffer.from('- a\0'), perDirRules: undefined, destExists: false },
  { args: ['-a', 'a/'.repeat(2100), 'dst/'], list: Buffer.alloc(0), rules: Buffer.alloc(0), perDirRules: undefined, destExists: false },
  { args: ['-a', 'src/', 'a/'.repeat(2100)], list: Buffer.alloc(0), rules: Buffer.alloc(0), perDirRules: undefined, destExists: false },
  { args: ['-a', 'src/link/', 'dst/'], list: Buffer.alloc(0), rules: Buffer.alloc(0), perDirRules: undefined, destExists: false },
  { args: ['--version', '--bogus'], list: Buffer.alloc(0), rules: Buffer.alloc(0), perDirRules: undefined, destExists: false },
];

/** The sandbox: a small source tree, an existing destination (sometimes), and the case's list files. */
function prepare(dir: string, c: FuzzCase): void {
  const src = path.join(dir, 'src');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(src, 'a'), 'alpha\n');
  fs.writeFileSync(path.join(src, 'sub', 'c'), Buffer.alloc(70_000, 3));
  fs.writeFileSync(path.join(src, 'nl\nname'), 'n');
  fs.writeFileSync(Buffer.from(`${src}/odd\xff\x01`, 'latin1'), 'odd');
  // No symlink leads out of the sandbox: -L with --remove-source-files would delete what it points to.
  fs.symlinkSync('a', path.join(src, 'link'));
  fs.symlinkSync('sub', path.join(src, 'dir-link'));
  if (c.perDirRules) fs.writeFileSync(path.join(src, 'sub', '.rsync-filter'), c.perDirRules);
  if (c.destExists) {
    fs.mkdirSync(path.join(dir, 'dst', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'dst', 'extra'), 'extra');
    fs.writeFileSync(path.join(dir, 'dst', 'a'), 'old');
  }
  fs.writeFileSync(path.join(dir, 'file-dest'), 'a file');
  fs.writeFileSync(path.join(dir, 'list'), c.list);
  fs.writeFileSync(path.join(dir, 'rules'), c.rules);
}

export interface FuzzFailure {
  case: FuzzCase;
  why: string;
  result: CliResult;
}

const STACK_FRAME = /^\s+at .+(\(.*:\d+:\d+\)|:\d+:\d+)$/m;

/** What is wrong with a result, or undefined. */
export function judge(r: CliResult, timedOut: boolean): string | undefined {
  if (timedOut) return 'hang: killed after the time limit';
  if (r.signal) return `died by signal ${r.signal}`;
  if (r.code === null || !RSYNC_EXIT_CODES.has(r.code)) return `exit code ${r.code}, which rsync never uses`;
  if (/internal error/i.test(r.stderr + r.stdout)) return 'internal error';
  if (STACK_FRAME.test(r.stderr) || STACK_FRAME.test(r.stdout)) return 'a stack frame in the output';
  return undefined;
}

/** Snapshot of the sentinel directory beside the sandboxes: nothing a case does may touch it. */
function sentinelState(dir: string): string {
  return fs.readdirSync(dir).sort().map((n) => `${n}:${fs.lstatSync(path.join(dir, n)).mtimeMs}`).join(',');
}

export interface FuzzOptions {
  seed: number;
  cases: number;
  /** Where sandboxes are made (removed as each case passes). */
  base: string;
  concurrency?: number;
  /** Per case; a case still running then is a hang. */
  timeoutMs?: number;
  /** Engines to pick from for cases without an --engine option of their own. */
  engines?: string[];
  onCase?: (c: FuzzCase, failure: string | undefined, result: CliResult) => void;
}

export async function fuzz(o: FuzzOptions): Promise<FuzzFailure[]> {
  const options = optionsFromHelp();
  const rng = new Rng(o.seed);
  const cases = [
    ...CORPUS.map((c, i) => ({ ...c, index: -1 - i })),
    ...Array.from({ length: o.cases }, (_, i) => makeCase(rng, i, options)),
  ];
  const engineRng = new Rng(o.seed ^ 0x5eed);
  const engineFor = cases.map(() => (o.engines?.length ? engineRng.pick(o.engines) : undefined));
  const sentinel = path.join(o.base, 'sentinel');
  fs.mkdirSync(sentinel, { recursive: true });
  fs.writeFileSync(path.join(sentinel, 'keep'), 'keep');
  const before = sentinelState(sentinel);
  const failures: FuzzFailure[] = [];
  const timeoutMs = o.timeoutMs ?? 60_000;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= cases.length) return;
      const c = cases[i]!;
      // Two levels below base: a "../" in a list file or rule stays among the sandboxes, away from the sentinel.
      const dir = path.join(o.base, 'boxes', `case-${o.seed}-${c.index}`);
      fs.mkdirSync(dir, { recursive: true });
      prepare(dir, c);
      const engine = engineFor[i];
      const args = engine && !c.args.some((a) => a.startsWith('--engine')) ? [`--engine=${engine}`, ...c.args] : c.args;
      const started = Date.now();
      // A lone host:path operand lists a remote directory: the remote shell is `false`, so a fuzzed line
      // never reaches the network (it fails as a remote shell that cannot connect does).
      const r = await runCli(args, { cwd: dir, timeoutMs, env: { RSYNC_RSH: 'false' } });
      const timedOut = r.signal === 'SIGKILL' && Date.now() - started >= timeoutMs;
      let why = judge(r, timedOut);
      if (!why && sentinelState(sentinel) !== before) why = 'a change outside the sandbox';
      o.onCase?.(c, why, r);
      if (why) failures.push({ case: { ...c, args }, why, result: r });
      else fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 4 }, worker));
  return failures;
}

/** A failure as text that reproduces it: the seed, the case, the argv (JSON-quoted) and the output. */
export function describeFailure(f: FuzzFailure, seed: number): string {
  return [
    `case ${f.case.index} (seed ${seed}): ${f.why}`,
    `  argv: ${JSON.stringify(f.case.args)}`,
    `  list: ${JSON.stringify(f.case.list.toString('latin1'))}  rules: ${JSON.stringify(f.case.rules.toString('latin1'))}`,
    `  exit ${f.result.code ?? f.result.signal}`,
    `  stderr: ${f.result.stderr.trim().slice(0, 1500)}`,
  ].join('\n');
}
