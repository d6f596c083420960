// Running a command as another user from e2e tests (which run as root): `setpriv` with that uid and gid
// and no supplementary groups. One wrapping for every caller, so that rsync, arsync (runCli's `user`) and
// any helper process (an attacker loop) are judged by the kernel as the same identity.

import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { CliResult } from './cli.js';

export interface User {
  uid: number;
  gid: number;
}

/** The unprivileged user the tests copy as. */
export const NOBODY: User = { uid: 65534, gid: 65534 };

/** `argv` run as `user`. */
export function asUser(user: User, argv: string[]): string[] {
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', ...argv];
}

/** rsync (the oracle) run as `user` in `cwd`, as a CliResult so that it pairs with arsync's (differential.ts). */
export function rsyncAs(user: User, args: string[], cwd?: string): CliResult {
  const [cmd, ...rest] = asUser(user, ['rsync', ...args]);
  const x = spawnSync(cmd!, rest, { ...(cwd ? { cwd } : {}), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 100_000 });
  return { code: x.status, signal: x.signal, stdout: x.stdout ?? '', stderr: x.stderr ?? '', argv: ['rsync', ...args] };
}

/** A background process run as `user` (the caller stops it). */
export function spawnAs(user: User, argv: string[], options: SpawnOptions): ChildProcess {
  const [cmd, ...rest] = asUser(user, argv);
  return spawn(cmd!, rest, options);
}
