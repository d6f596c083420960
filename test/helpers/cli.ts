// Running the built CLI (`bin/arsync`, the installed command) from e2e tests, and deciding which engines this machine can test.
//
// Every run holds a shared flock on LOCK; the one test that flips kernel.io_uring_disabled holds it
// exclusively for the duration of its run, so tests in other vitest workers never see io_uring vanish
// under them.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tempBase } from './tree.js';
import { countsChild, noteCountedExit } from './child-coverage.js';
import { engineSuiteTitle } from './engine-suite.js';
import { asUser } from './as-user.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(REPO, 'dist', 'bin.js');
/** The arsync command as installed (package.json "bin"): Node on the start-up snapshot, else dist/bin.js. */
export const LAUNCHER = path.join(REPO, 'bin', 'arsync');
export const ADDON = path.join(REPO, 'build', 'Release', 'arsync.node');
export const LOCK = path.join(tempBase(), 'arsync-e2e-uring.lock');
export const IO_URING_SYSCTL = '/proc/sys/kernel/io_uring_disabled';

export type EngineName = 'uring' | 'sync' | 'node';

export interface RunOptions {
  /** Extra environment (merged over process.env, with ARSYNC_ADDON removed unless given here). */
  env?: Record<string, string>;
  cwd?: string;
  /** Run as this uid/gid via `setpriv --reuid --regid --clear-groups`. */
  user?: { uid: number; gid: number };
  /** `ulimit -n` for the run. */
  ulimitN?: number;
  /**
   * Kill with SIGKILL after this long (a hang is a failure, not a timing assertion). Default 100 s; 600 s
   * for an ioUringDisabled run, whose exclusive lock may first wait for every other test's shared one.
   */
  timeoutMs?: number;
  /** Set kernel.io_uring_disabled to this value for the duration of the run (exclusive lock). */
  ioUringDisabled?: 0 | 1 | 2;
  /** Options for Node itself, before the CLI's path (V8's tracing flags). */
  nodeArgs?: string[];
  /** Run under GNU time, which writes the CLI's peak RSS in KiB (wait4's ru_maxrss) to this file. */
  peakRssFile?: string;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  argv: string[];
}

const hangGuardMs = (o: RunOptions): number => o.timeoutMs ?? (o.ioUringDisabled !== undefined ? 600_000 : 100_000);

function wrap(args: string[], o: RunOptions): { cmd: string; argv: string[] } {
  // The command a user runs, unless the test gives Node options of its own (the launcher takes none).
  let inner = o.nodeArgs?.length ? [process.execPath, ...o.nodeArgs, BIN, ...args] : [LAUNCHER, ...args];
  if (o.peakRssFile !== undefined) inner = ['/usr/bin/time', '-f', '%M', '-o', o.peakRssFile, ...inner];
  if (o.ulimitN !== undefined) inner = ['sh', '-c', `ulimit -n ${o.ulimitN} && exec "$@"`, 'sh', ...inner];
  if (o.user) inner = asUser(o.user, inner);
  if (o.ioUringDisabled !== undefined) {
    // Flip, run, restore, all under the exclusive lock; the restore happens even if the CLI crashes.
    const script =
      `orig=$(cat ${IO_URING_SYSCTL}); echo ${o.ioUringDisabled} > ${IO_URING_SYSCTL} || exit 97; ` +
      `"$@"; rc=$?; echo "$orig" > ${IO_URING_SYSCTL}; exit $rc`;
    return { cmd: 'flock', argv: ['-x', LOCK, 'sh', '-c', script, 'sh', ...inner] };
  }
  // -F: flock execs the command, so the child's pid is the CLI's (signals reach it directly).
  return { cmd: 'flock', argv: ['-s', '-F', LOCK, ...inner] };
}

function envFor(o: RunOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env };
  if (!o.env || !('ARSYNC_ADDON' in o.env)) delete env.ARSYNC_ADDON;
  // scripts/coverage-native.sh runs the suite on the instrumented addon it names here.
  const testAddon = process.env['ARSYNC_TEST_ADDON'];
  if (testAddon && !(o.env && 'ARSYNC_ADDON' in o.env)) env.ARSYNC_ADDON = testAddon;
  // Never let a developer's terminal settings (colour, width) leak into output assertions.
  delete env.FORCE_COLOR;
  // Coverage of the CLI and its workers (coverage-setup.ts) for one engine's run of each test case
  // (child-coverage.ts), never in runs that measure memory, which the coverage counters would perturb.
  const coverage = process.env.ARSYNC_CHILD_V8_COVERAGE;
  if (coverage && o.peakRssFile === undefined && countsChild()) env.NODE_V8_COVERAGE = coverage;
  return env;
}

export interface Running {
  child: ChildProcess;
  done: Promise<CliResult>;
}

/** Start the CLI; `done` settles when it exits. */
export function startCli(args: string[], o: RunOptions = {}): Running {
  requireBuilt();
  const { cmd, argv } = wrap(args, o);
  const env = envFor(o);
  const child = spawn(cmd, argv, { cwd: o.cwd ?? REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), hangGuardMs(o));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (env.NODE_V8_COVERAGE) noteCountedExit(child.pid);
      resolve({ code, signal, stdout, stderr, argv: ['arsync', ...args] });
    });
  });
  return { child, done };
}

/** Run the CLI to completion. */
export function runCli(args: string[], o: RunOptions = {}): Promise<CliResult> {
  return startCli(args, o).done;
}

/** Synchronous run (for probes at collection time). */
export function runCliSync(args: string[], o: RunOptions = {}): CliResult {
  requireBuilt();
  const { cmd, argv } = wrap(args, o);
  const env = envFor(o);
  const r = spawnSync(cmd, argv, { cwd: o.cwd ?? REPO, env, encoding: 'utf8', timeout: hangGuardMs(o) });
  if (env.NODE_V8_COVERAGE) noteCountedExit(r.pid);
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', argv: ['arsync', ...args] };
}

/** A readable dump of a result for assertion messages. */
export function show(r: CliResult): string {
  return `${r.argv.join(' ')}\n  exit ${r.code ?? r.signal}\n  stdout: ${r.stdout.trim().slice(0, 2000)}\n  stderr: ${r.stderr.trim().slice(0, 2000)}`;
}

export function isBuilt(): boolean {
  return fs.existsSync(BIN);
}

export function requireBuilt(): void {
  if (!isBuilt()) throw new Error(`${BIN} does not exist: run \`npm run build:ts\` (and \`node scripts/build-native.mjs\`) first`);
}

// ---------------------------------------------------------------------------------------------------------
// Engines

export interface EngineCase {
  name: EngineName;
  /** Why this engine cannot be tested here, or null. */
  skip: string | null;
  /** Suite title, including the skip reason. */
  title: string;
}

function probeEngine(name: EngineName): string | null {
  if (name === 'node') return null;
  if (!fs.existsSync(ADDON)) return `native addon not built (${path.relative(REPO, ADDON)} missing)`;
  if (name === 'sync') return null;
  let sysctl = '0';
  try {
    sysctl = fs.readFileSync(IO_URING_SYSCTL, 'utf8').trim();
  } catch {
    /* older kernels have no such sysctl */
  }
  // The io_uring test flips the sysctl under an exclusive lock; a shared lock here waits for it.
  if (!isBuilt()) return null; // the suite will fail loudly in requireBuilt()
  const dir = fs.mkdtempSync(path.join(tempBase(), 'arsync-probe-'));
  try {
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'f'), 'probe');
    const r = runCliSync(['-a', '--engine=uring', `${dir}/src/`, `${dir}/dst/`], { timeoutMs: 30_000 });
    if (r.code === 0) return null;
    // Only a message about io_uring itself is a reason to skip; any other failure must show up as a test failure.
    if (/io_uring|EPERM|ENOSYS|not permitted|not implemented/i.test(r.stderr)) {
      return `io_uring unavailable here (kernel.io_uring_disabled=${sysctl}): ${r.stderr.trim().split('\n')[0]}`;
    }
    return null;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let cached: EngineCase[] | null = null;

/** The engines to run every e2e test against, each with a skip reason when it cannot run here. */
export function engines(): EngineCase[] {
  if (!cached) {
    const only = process.env.ARSYNC_TEST_ENGINES?.split(',').filter(Boolean);
    cached = (['uring', 'sync', 'node'] as const)
      .filter((n) => !only || only.includes(n))
      .map((name) => {
        const skip = probeEngine(name);
        return { name, skip, title: engineSuiteTitle(name, skip) };
      });
  }
  return cached;
}

/** What the oracle and compareTrees may check for an engine's -a copy (the node engine has limits). */
export function fidelity(engine: EngineName): { xattrs: boolean; acls: boolean; nsTimes: boolean; mtimeToleranceNs: number } {
  return engine === 'node'
    ? { xattrs: false, acls: false, nsTimes: false, mtimeToleranceNs: 1000 }
    : { xattrs: true, acls: true, nsTimes: true, mtimeToleranceNs: 0 };
}

/** The archive flags an engine can honour in full: -aHAX, or -aH for the node engine. */
export function archiveFlags(engine: EngineName): string[] {
  return engine === 'node' ? ['-aH'] : ['-aHAX'];
}
