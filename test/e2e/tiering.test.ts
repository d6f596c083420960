// V8's optimizing compiler is held off while a local job is small and let back on once it proves large
// (src/util/tiering.ts). Flags changed after Node's start are "undefined behaviour" in Node's docs: every
// run here checks the copy itself (exact tree, exit code) as well as what V8 did, read from --trace-opt
// (one "[completed optimizing" line per function TurboFan compiled).
//
// What proves a job large is the JavaScript it runs, not the bytes it moves: a batch over the inline bound
// that the addon's engines copy on a lent native thread (pool/dispatcher.ts, sendOff; a sync context, in a
// uring run too) starts no worker and runs no JavaScript while it copies, so it leaves the optimizer held
// (optimizing would only cost CPU the copy needs); the same batch on the node engine, which cannot lend a
// context, starts the pool, which releases it. A sync run lends every batch so, from the first.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bjoin, makeTree, removeTemps, tempDir, type TreeInfo } from '../helpers/tree.js';
import { runCli, show, type RunOptions } from '../helpers/cli.js';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';

let base: string;
/**
 * 300 small files: a job that stays small (no batch over the inline budget, no pool). The budget is CPU
 * time (100 ms), so the tree is kept well inside it even on a slow host: 1,500 files on the node engine
 * went over it on one VM, the pool started and the optimizer was let back on, as it should for a job
 * that long. V8 still tiers up on this tree by default (the ARSYNC_V8_OPT=1 test).
 */
let small: string;
/**
 * Every kind of entry (hard links too), with files of several MiB: one of them (sparse/many-holes, 8 MiB + 1)
 * is over the inline bound, which starts the pool on the node engine and goes to a lent native thread on
 * the uring and sync engines.
 */
let large: string;
/**
 * `large` and 12 files of 3 MiB (under the inline bound each, over the 32 MiB inline total together): the
 * job proves large by its inline data and starts the pool on the uring and node engines (a sync run lends
 * every batch from the first and starts none). Named to be walked first.
 */
let pooled: string;
/** 6,000 tiny files: more planned entries than LARGE_JOB_ENTRIES. */
let many: string;
const made: Record<'small' | 'large', TreeInfo | undefined> = { small: undefined, large: undefined };

beforeAll(() => {
  base = tempDir('arsync-tiering-');
  small = path.join(base, 'small');
  large = path.join(base, 'large');
  pooled = path.join(base, 'pooled');
  many = path.join(base, 'many');
  made.small = makeTree(small, { seed: 3, catalogue: false, files: 300, maxFileSize: 4096, xattrs: false, acls: false, hardlinks: false });
  made.large = makeTree(large, { seed: 4, files: 40, xattrs: false, acls: false });
  execFileSync('cp', ['-a', large, pooled]);
  fs.mkdirSync(path.join(pooled, '0mid'));
  const data = randomBytes(MID);
  for (let i = 0; i < 12; i++) {
    data[0] = i;
    fs.writeFileSync(path.join(pooled, '0mid', `m${i}`), data);
  }
  makeTree(many, { seed: 5, catalogue: false, files: 6000, maxFileSize: 16, xattrs: false, acls: false, hardlinks: false });
}, 120_000);
afterAll(() => removeTemps());

const MID = 3 << 20;
/** -i's lines through an explicit format, which keeps every new file on the planner's way (run/direct.ts takes -i's own lines, not a format). */
const PLANNER = '--out-format=%i %n%L';
const optimized = (stdout: string): number => stdout.match(/^\[completed optimizing/gm)?.length ?? 0;
const traced = (env: Record<string, string> = {}, nodeArgs: string[] = []): RunOptions => ({ nodeArgs: ['--trace-opt', ...nodeArgs], env });

describeEngines((e) => {
  const engine = `--engine=${e.name}`;

  // An --out-format in both small copies: every entry goes through the planner's JavaScript (a plain copy,
  // -v or a single -i takes the direct path, run/direct.ts, where too little runs in JavaScript for V8 to
  // tier anything up).
  it('a small copy runs with nothing optimized, and copies exactly', async () => {
    const dst = path.join(base, `small-${e.name}`);
    const r = await runCli(['-a', PLANNER, engine, `${small}/`, `${dst}/`], traced());
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr).toBe('');
    expect(optimized(r.stdout), r.stdout.slice(0, 2000)).toBe(0);
    expectExactCopy(small, dst, e.name);
  });

  it('ARSYNC_V8_OPT=1: V8 tiers up as by default', async () => {
    const dst = path.join(base, `small-opt-${e.name}`);
    const r = await runCli(['-a', PLANNER, engine, `${small}/`, `${dst}/`], traced({ ARSYNC_V8_OPT: '1' }));
    expect(r.code, show(r)).toBe(0);
    expect(optimized(r.stdout)).toBeGreaterThan(0);
    expectExactCopy(small, dst, e.name);
  });

  // An --out-format: the planner's path, whose batches stay under the inline bound while the job runs inline (sink.ts
  // cuts them at 4 MiB), so the 3 MiB files prove the job large by the inline total on the uring and node
  // engines, which start the pool. (A plain -a takes the direct path, whose 16 MiB batches go to lent
  // threads.) A sync run lends every batch to native threads from the first (pool/dispatcher.ts, lendAll):
  // nothing runs inline, no pool starts, and its few planned entries prove nothing, so nothing is optimized.
  const pools = e.name !== 'sync';
  it(`a job over the inline total ${pools ? 'starts the pool and is optimized again, on every thread' : 'in batches all lent to native threads: nothing optimized'}, and copies exactly`, async () => {
    const dst = path.join(base, `pooled-${e.name}`);
    const r = await runCli(['-aH', PLANNER, '--workers=2', engine, `${pooled}/`, `${dst}/`], traced());
    expect(r.code, show(r)).toBe(0);
    if (pools) expect(optimized(r.stdout)).toBeGreaterThan(0);
    else expect(optimized(r.stdout), r.stdout.slice(0, 2000)).toBe(0);
    expectExactCopy(pooled, dst, e.name);
  });

  // The addon's engines lend a sync context to a native thread for the one batch over the inline bound
  // (a uring run too: its rings stay on their threads): no worker, no JavaScript during the copy, so nothing
  // proves the job large and nothing is optimized. The node engine sends that batch to the pool, which
  // releases the optimizer (the workers share V8's flags).
  const lends = e.name !== 'node';
  it(`a batch over the inline bound: ${lends ? 'copied on a lent native thread, nothing optimized' : 'starts the pool, optimized again'}`, async () => {
    const dst = path.join(base, `large-${e.name}`);
    const r = await runCli(['-aH', '--workers=2', engine, `${large}/`, `${dst}/`], traced());
    expect(r.code, show(r)).toBe(0);
    if (lends) expect(optimized(r.stdout), r.stdout.slice(0, 2000)).toBe(0);
    else expect(optimized(r.stdout)).toBeGreaterThan(0);
    expectExactCopy(large, dst, e.name);
  });

  it('a re-sync that plans 6,000 entries and copies none is a large job', async () => {
    const dst = path.join(base, `many-${e.name}`);
    const first = await runCli(['-a', engine, `${many}/`, `${dst}/`], { env: { ARSYNC_V8_OPT: '1' } });
    expect(first.code, show(first)).toBe(0);
    // --size-only: every entry reaches the planner (no native quick check leaves the equal ones out).
    const r = await runCli(['-a', '--size-only', '-i', engine, `${many}/`, `${dst}/`], traced());
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout.split('\n').filter((l) => !l.startsWith('[') && l !== '')).toEqual([]);
    expect(optimized(r.stdout)).toBeGreaterThan(0);
    expectExactCopy(many, dst, e.name);
  });

  it("node --no-opt: the operator's choice stands even for a large job", async () => {
    const dst = path.join(base, `large-noopt-${e.name}`);
    const r = await runCli(['-aH', PLANNER, '--workers=2', engine, `${pooled}/`, `${dst}/`], traced({}, ['--no-opt']));
    expect(r.code, show(r)).toBe(0);
    expect(optimized(r.stdout)).toBe(0);
    expectExactCopy(pooled, dst, e.name);
  });
});

it('the trees are what the tests say: plain small files, and large ones', () => {
  const sizes = (t: TreeInfo | undefined): number[] => t!.files.map((f) => fs.lstatSync(bjoin(t!.root, f)).size);
  expect(Math.max(...sizes(made.small))).toBeLessThan(8192);
  expect(Math.max(...sizes(made.large))).toBeGreaterThan(8 << 20);
  const mids = fs.readdirSync(path.join(pooled, '0mid')).map((n) => fs.statSync(path.join(pooled, '0mid', n)).size);
  expect(mids.every((n) => n < 8 << 20) && mids.reduce((a, b) => a + b, 0) > 32 << 20).toBe(true);
});
