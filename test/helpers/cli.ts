// Running the built CLI (`bin/arsync`, the installed command) from e2e tests, with coverage, and the engines
// each e2e test runs against (probed by cli-command.ts).
//
// Every run holds a shared flock on LOCK; the one test that flips kernel.io_uring_disabled holds it
// exclusively for the duration of its run, so tests in other vitest workers never see io_uring vanish
// under them.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { inject } from 'vitest';
import { countsChild, noteCountedExit } from './child-coverage.js';
import { engineSuiteTitle } from './engine-suite.js';
import {
  baseEnv,
  ENGINE_NAMES,
  hangGuardMs,
  probeEngines,
  REPO,
  requireBuilt,
  wrap,
  type CliResult,
  type EngineName,
  type RunOptions,
} from './cli-command.js';

export {
  ADDON,
  BIN,
  IO_URING_SYSCTL,
  isBuilt,
  LAUNCHER,
  LOCK,
  REPO,
  requireBuilt,
  type CliResult,
  type EngineName,
  type RunOptions,
} from './cli-command.js';

function envFor(o: RunOptions): NodeJS.ProcessEnv {
  const env = baseEnv(o);
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
  const child = spawn(cmd, argv, { cwd: o.cwd ?? REPO, env, stdio: [o.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (o.input) child.stdin?.end(o.input);
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
  const r = spawnSync(cmd, argv, { cwd: o.cwd ?? REPO, env, encoding: 'utf8', timeout: hangGuardMs(o), ...(o.input ? { input: o.input } : {}) });
  if (env.NODE_V8_COVERAGE) noteCountedExit(r.pid);
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', argv: ['arsync', ...args] };
}

/** A readable dump of a result for assertion messages. */
export function show(r: CliResult): string {
  return `${r.argv.join(' ')}\n  exit ${r.code ?? r.signal}\n  stdout: ${r.stdout.trim().slice(0, 2000)}\n  stderr: ${r.stderr.trim().slice(0, 2000)}`;
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

/**
 * The probes' results as the run's global setup provides them (engine-probe-setup.ts: one probe per run,
 * not one per test file), else probed here (a run without that setup).
 */
function probed(): Record<EngineName, string | null> {
  let provided: Record<EngineName, string | null> | undefined;
  try {
    provided = inject('arsyncEngineSkips');
  } catch {
    /* outside a vitest worker */
  }
  return provided ?? probeEngines();
}

let cached: EngineCase[] | null = null;

/** The engines to run every e2e test against, each with a skip reason when it cannot run here. */
export function engines(): EngineCase[] {
  if (!cached) {
    const only = process.env.ARSYNC_TEST_ENGINES?.split(',').filter(Boolean);
    const skips = probed();
    cached = ENGINE_NAMES.filter((n) => !only || only.includes(n)).map((name) => {
      const skip = skips[name];
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
