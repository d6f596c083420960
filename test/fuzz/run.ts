// `npm run fuzz -- --cases=N --seed=S [--concurrency=K] [--engines=uring,sync,node]`: a longer run of the
// command-line fuzzer (test/fuzz/cli-fuzz.ts) than the one in `npm test`. Prints each failure with what
// reproduces it, keeps the failing sandboxes, and exits 1 if any case failed.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeFailure, fuzz } from './cli-fuzz.js';
import { tempBase } from '../helpers/tree.js';

const arg = (name: string, dflt: string): string =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;

const seed = Number(arg('seed', String(Date.now() % 1_000_000)));
const cases = Number(arg('cases', '1000'));
const concurrency = Number(arg('concurrency', String(Math.max(2, os.availableParallelism()))));
const engines = arg('engines', 'uring,sync,node').split(',').filter(Boolean);
/** --show=11,24: print the argv and stderr of every case that exits with one of these codes. */
const show = new Set(arg('show', '').split(',').filter(Boolean));
const base = fs.mkdtempSync(path.join(tempBase(), 'arsync-fuzz-'));

let done = 0;
const codes = new Map<string, number>();
process.stdout.write(`arsync CLI fuzz: ${cases} cases, seed ${seed}, sandboxes in ${base}\n`);
const failures = await fuzz({
  seed,
  cases,
  base,
  concurrency,
  engines,
  onCase: (c, why, r) => {
    done++;
    const k = String(r.code ?? r.signal);
    codes.set(k, (codes.get(k) ?? 0) + 1);
    if (why) process.stdout.write(`\ncase ${c.index}: ${why}\n`);
    else if (show.has(k)) process.stdout.write(`\ncase ${c.index} exit ${k}: ${JSON.stringify(c.args)}\n  ${r.stderr.trim().slice(0, 400)}\n`);
    else if (done % 50 === 0) process.stdout.write(`${done}/${cases}\n`);
  },
});
for (const f of failures) process.stdout.write(`\n${describeFailure(f, seed)}\n`);
const dist = [...codes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`).join(', ');
process.stdout.write(`\nexit codes: ${dist}\n${failures.length} of ${cases} cases failed (seed ${seed})\n`);
if (failures.length === 0) fs.rmSync(base, { recursive: true, force: true });
process.exitCode = failures.length ? 1 : 0;
