// A process's wall clock moved with libfaketime (Debian's faketime package) for the tests of --stop-at
// and --stop-after: the library to preload, the environment that starts the clock at a given local
// time, and the removal of the shared-memory records the library leaves behind. libfaketime shares a
// "start at" clock with the processes it starts through /dev/shm/faketime_shm_PID and its semaphore, and
// removes them only when the creating process exits through exit(): rsync's children and a run stopped
// by a signal leave them, some thirty per run of clock.test.ts, for good on a machine that runs the suite.

import * as fs from 'node:fs';

export const FAKETIME_LIB = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'].find((p) => fs.existsSync(p));

/** The environment that starts a process's wall clock at `at` (local time), running at `speed`×. */
export function fakeClock(at: string, speed = 1): Record<string, string> {
  // The monotonic clock stays real: --bwlimit's meter and the timers measure real time.
  return { LD_PRELOAD: FAKETIME_LIB!, FAKETIME: `@${at}${speed === 1 ? '' : ` x${speed}`}`, FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_NO_CACHE: '1' };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Removes libfaketime's records whose creating process is gone (those of running processes stay). */
export function removeFaketimeLeftovers(dir = '/dev/shm'): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^(?:faketime_shm_|sem\.faketime_sem_)(\d+)$/.exec(name);
    if (m && !alive(Number(m[1]))) fs.rmSync(`${dir}/${name}`, { force: true });
  }
}
