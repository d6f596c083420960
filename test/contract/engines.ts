// The engines a contract test runs against, opened in this process the way a pool worker opens them
// (src/pool/worker.ts → openContext), each with the reason it is skipped when it cannot run here.
//
// While a suite runs it holds a shared flock on the e2e lock: the one e2e test that flips
// kernel.io_uring_disabled takes it exclusively, so a ring set up here never sees io_uring vanish.

import { spawn, type ChildProcess } from 'node:child_process';
import { loadAddon, type Addon } from '../../src/engine/native.js';
import type { EngineName } from '../../src/model/config.js';
import { LOCK } from '../helpers/cli.js';

export interface ContractEngine {
  name: EngineName;
  /** Why this engine cannot be tested here, or null. */
  skip: string | null;
  title: string;
}

/** The addon, or why there is none (the native engines' suites are then skipped with that reason). */
export function addonOrReason(): Addon | string {
  const a = loadAddon();
  return a.ok ? a.addon : a.reason;
}

function skipReason(name: EngineName): string | null {
  if (name === 'node') return null;
  const a = addonOrReason();
  if (typeof a === 'string') return a;
  if (name === 'sync') return null;
  const probe = a.uringProbe();
  return probe === 0 ? null : `io_uring unavailable here (uringProbe errno ${probe})`;
}

/** uring, sync and node, honouring ARSYNC_TEST_ENGINES like the e2e suites. */
export function contractEngines(): ContractEngine[] {
  const only = process.env['ARSYNC_TEST_ENGINES']?.split(',').filter(Boolean);
  return (['uring', 'sync', 'node'] as const)
    .filter((n) => !only || only.includes(n))
    .map((name) => {
      const skip = skipReason(name);
      return { name, skip, title: skip ? `engine ${name} (skipped: ${skip})` : `engine ${name}` };
    });
}

/**
 * Holds a shared flock on the e2e lock until released (see the header). One process holds it (flock -F
 * execs the command, so no child keeps the lock fd): `cat` on a pipe from this process, so it also ends,
 * and the lock with it, when this process dies without releasing.
 */
export async function holdSharedLock(): Promise<() => void> {
  const child: ChildProcess = spawn('flock', ['-s', '-F', LOCK, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', () => resolve());
  });
  return () => {
    child.stdin!.end();
    child.kill('SIGKILL');
  };
}
