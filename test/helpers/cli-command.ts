// The arsync command as the e2e tests start it (the launcher under the shared io_uring lock, the
// environment they give it) and the probe of which engines this machine can test. Free of vitest, so that
// the run's global setup (engine-probe-setup.ts) can probe before any test file; cli.ts runs the CLI from
// tests, with coverage.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { tempBase } from './tree.js';
import { asUser } from './as-user.js';

export type EngineName = 'uring' | 'sync' | 'node';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(REPO, 'dist', 'bin.js');
/** The arsync command as installed (package.json "bin"): Node on the start-up snapshot, else dist/bin.js. */
export const LAUNCHER = path.join(REPO, 'bin', 'arsync');
export const ADDON = path.join(REPO, 'build', 'Release', 'arsync.node');
export const LOCK = path.join(tempBase(), 'arsync-e2e-uring.lock');
export const IO_URING_SYSCTL = '/proc/sys/kernel/io_uring_disabled';

export interface RunOptions {
  /** Extra environment (merged over process.env, with ARSYNC_ADDON removed unless given here). */
  env?: Record<string, string>;
  cwd?: string;
  /** Run as this uid/gid via `setpriv --reuid --regid --clear-groups`. */
  user?: { uid: number; gid: number };
  /**
   * A shell script run as root in a private mount namespace before the CLI (and before `user`'s switch):
   * mounts that only this run sees, e.g. a read-only tmpfs over /tmp.
   */
  mountNs?: string;
  /** `ulimit -n` for the run. */
  ulimitN?: number;
  /** `ulimit -l` (KiB of memory the run may lock) for the run; with `user`, set before the switch. */
  ulimitL?: number;
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
  /** The CLI's standard input (`--files-from=-`); without it stdin is closed. */
  input?: Buffer;
  /**
   * Standard input from a shell's pipe holding this text (`printf | arsync`): Node's own `input` is a
   * socket, which /dev/stdin cannot be opened on, as a user's `<(command)` or pipe can.
   */
  pipedInput?: string;
  /** Run under strace, writing the calls named (strace's `-e trace=` list) of every thread to `log`. */
  strace?: { calls: string; log: string };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  argv: string[];
}

export const hangGuardMs = (o: RunOptions): number => o.timeoutMs ?? (o.ioUringDisabled !== undefined ? 600_000 : 100_000);

export function wrap(args: string[], o: RunOptions): { cmd: string; argv: string[] } {
  // The command a user runs, unless the test gives Node options of its own (the launcher takes none).
  let inner = o.nodeArgs?.length ? [process.execPath, ...o.nodeArgs, BIN, ...args] : [LAUNCHER, ...args];
  if (o.peakRssFile !== undefined) inner = ['/usr/bin/time', '-f', '%M', '-o', o.peakRssFile, ...inner];
  if (o.strace) inner = ['strace', '-f', '-qq', '-e', `trace=${o.strace.calls}`, '-o', o.strace.log, ...inner];
  if (o.pipedInput !== undefined) inner = ['sh', '-c', 'printf "%s" "$1" | (shift; exec "$@")', 'sh', o.pipedInput, ...inner];
  if (o.ulimitN !== undefined) inner = ['sh', '-c', `ulimit -n ${o.ulimitN} && exec "$@"`, 'sh', ...inner];
  if (o.ulimitL !== undefined) inner = ['sh', '-c', `ulimit -l ${o.ulimitL} && exec "$@"`, 'sh', ...inner];
  if (o.user) inner = asUser(o.user, inner);
  if (o.mountNs !== undefined) inner = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `${o.mountNs} && exec "$@"`, 'sh', ...inner];
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

/** The CLI's environment, without coverage (cli.ts adds it for the runs that count). */
export function baseEnv(o: RunOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env };
  if (!o.env || !('ARSYNC_ADDON' in o.env)) delete env.ARSYNC_ADDON;
  // scripts/coverage-native.sh runs the suite on the instrumented addon it names here.
  const testAddon = process.env['ARSYNC_TEST_ADDON'];
  if (testAddon && !(o.env && 'ARSYNC_ADDON' in o.env)) env.ARSYNC_ADDON = testAddon;
  // Never let a developer's terminal settings (colour, width) leak into output assertions.
  delete env.FORCE_COLOR;
  return env;
}

export function isBuilt(): boolean {
  return fs.existsSync(BIN);
}

export function requireBuilt(): void {
  if (!isBuilt()) throw new Error(`${BIN} does not exist: run \`npm run build:ts\` (and \`node scripts/build-native.mjs\`) first`);
}

/** Why `name` cannot be tested here, or null: the addon's presence, and for uring one CLI run. */
export function probeEngine(name: EngineName): string | null {
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
    const { cmd, argv } = wrap(['-a', '--engine=uring', `${dir}/src/`, `${dir}/dst/`], {});
    const r = spawnSync(cmd, argv, { cwd: REPO, env: baseEnv({}), encoding: 'utf8', timeout: 30_000 });
    if (r.status === 0) return null;
    const stderr = r.stderr ?? '';
    // Only a message about io_uring itself is a reason to skip; any other failure must show up as a test failure.
    if (/io_uring|EPERM|ENOSYS|not permitted|not implemented/i.test(stderr)) {
      return `io_uring unavailable here (kernel.io_uring_disabled=${sysctl}): ${stderr.trim().split('\n')[0]}`;
    }
    return null;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const ENGINE_NAMES: readonly EngineName[] = ['uring', 'sync', 'node'];

/** Every engine's probe. */
export function probeEngines(): Record<EngineName, string | null> {
  return { uring: probeEngine('uring'), sync: probeEngine('sync'), node: probeEngine('node') };
}
