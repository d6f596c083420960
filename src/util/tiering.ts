// When V8's optimizing compiler (TurboFan) may run during a local job: held off from the job's start
// until the job proves large, then let back on. A small job ends before optimized code pays for what
// optimizing it cost (TurboFan compiled 14 functions of a 1,000-file copy, none of them run long enough
// to win it back), while a 20,000-file copy needs its planner optimized (docs/benchmarks.md, "Small jobs,
// session 12"). Held from the job's start, not the process's: while a flag differs from Node's start-up
// set, V8 refuses the code cache Node ships for its own modules, so every builtin loaded meanwhile is
// compiled from source; by the job's start the modules a local copy needs are in. V8's flags are one set
// for the whole process, pool workers included (a worker's own start uses that cache too): the pool is
// started only after the release. The flag changes at most twice, off then on; V8 reads it at each
// tiering decision, so a change acts on what tiers up next and what is optimized stays so.
// What proves a job large is the JavaScript it runs: a batch the sync engine copies on a lent native
// thread (pool/dispatcher.ts, sendOff) runs none while it copies and starts no worker, so however many
// bytes it moves it releases nothing (two 1 GiB files: optimizing would only take CPU from the copies).
// A sync run lends every batch so, from its first: there only the planner's entries (notePlanned) release it.
// ARSYNC_V8_OPT=1, or a V8 option about tiering given to Node, leaves V8 as it is.

import { setFlagsFromString } from 'node:v8';

/**
 * Entries the walk may hand the planner before the job counts as large even with no batch to copy (a
 * re-sync whose entries all reach the planner, e.g. under --size-only, and are all up to date).
 */
export const LARGE_JOB_ENTRIES = 5000;

/** Node's own options that set V8's tiering: the operator's choice then stands (--jitless must never get --opt). */
const TIERING_OPTION = /--(no-)?(opt|turbofan|maglev|sparkplug|jitless|max-opt)\b/;

type State = 'default' | 'held' | 'released';
let state: State = 'default';
let entries = 0;

/** Whether this process may change V8's tiering: not when told not to, nor when Node was given a choice. */
export function mayHold(env: NodeJS.ProcessEnv, execArgv: readonly string[]): boolean {
  if (env.ARSYNC_V8_OPT === '1') return false;
  return !execArgv.some((a) => TIERING_OPTION.test(a)) && !TIERING_OPTION.test(env.NODE_OPTIONS ?? '');
}

/** A local job starts (the dispatcher is made): no more optimizing until it proves large. Once a process. */
export function holdOptimizer(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): void {
  if (state !== 'default' || !mayHold(env, execArgv)) return;
  setFlagsFromString('--no-opt');
  state = 'held';
}

/** The job proved large: hot functions are optimized again from here on, as by default. */
export function releaseOptimizer(): void {
  if (state !== 'held') return;
  setFlagsFromString('--opt');
  state = 'released';
}

/** The walk handed the planner `n` more entries; past LARGE_JOB_ENTRIES the job is large. */
export function notePlanned(n: number): void {
  if (state !== 'held') return;
  entries += n;
  if (entries > LARGE_JOB_ENTRIES) releaseOptimizer();
}
