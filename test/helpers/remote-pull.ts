// The set-up the differential remote e2e tests share: rsync 3.5 as the client (the oracle of each
// comparison), the -i lines of a run as a set, and a fresh pair of destinations (arsync's and rsync's)
// for each test. One copy here, so that every remote test compares the same way.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeEach } from 'vitest';

export interface RsyncResult {
  code: number;
  out: string;
  err: string;
}

export interface RsyncOptions {
  /** The client's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Its standard input. */
  input?: Buffer;
  cwd?: string;
}

/**
 * rsync as the client, with incremental recursion off (arsync's remote client does not do it: it leaves
 * the `i` out of its compatibility flags, docs/protocol.md; with it rsync's -v prints another first line),
 * so that both clients run with one whole file list. Output is read as latin1, byte for byte.
 */
export function rsyncClient(args: string[], o: RsyncOptions = {}): RsyncResult {
  const r = spawnSync('rsync', ['--no-i-r', ...args], { encoding: 'latin1', env: o.env ?? process.env, input: o.input, cwd: o.cwd });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/**
 * The -i lines (and *deleting lines) as a set: rsync's client prints them from two processes (in a pull
 * its generator the entries it does not fetch and the deletions, its receiver the files as they arrive),
 * so even its own order varies between runs.
 */
export const itemLines = (out: string): string[] =>
  out.split('\n').filter((l) => /^[<>ch.*][fdLDS]/.test(l) || l.startsWith('*deleting')).sort();

/** The destinations of the current test; the fields change before each test. */
export interface DestPair {
  /** arsync's destination: `<root>/mine-<engine>-<n>`. */
  mine: string;
  /** rsync's: `<root>/theirs-<engine>-<n>`. */
  theirs: string;
  /** The test's number within this engine's block (1, 2, ...). */
  n: number;
}

/**
 * A new pair of destination paths (not made) before each test of the enclosing block: `root` is read
 * then, as test files make their root in beforeAll.
 */
export function destPairs(root: () => string, engine: string): DestPair {
  const pair: DestPair = { mine: '', theirs: '', n: 0 };
  beforeEach(() => {
    pair.n++;
    pair.mine = path.join(root(), `mine-${engine}-${pair.n}`);
    pair.theirs = path.join(root(), `theirs-${engine}-${pair.n}`);
  });
  return pair;
}

/**
 * A new $TMPDIR before each test of the enclosing block (`<root>/tmp-<engine>-<n>`, made), for the
 * pull's staging tree: on the destinations' filesystem, and left empty after the run. Declared after
 * destPairs, whose number it takes.
 */
export function stagingDirs(root: () => string, engine: string, pair: DestPair): { dir: string } {
  const staging = { dir: '' };
  beforeEach(() => {
    staging.dir = path.join(root(), `tmp-${engine}-${pair.n}`);
    fs.mkdirSync(staging.dir);
  });
  return staging;
}
