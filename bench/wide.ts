// Peak memory on one wide directory: N empty files (default 1,000,000) in a single directory on tmpfs,
// copied by arsync on each engine as a fresh copy, a no-op re-run, a no-op re-run with --delete, and a
// --delete that removes N/10 extraneous files; rsync -a beside it. Memory, not speed, is the point:
// each case runs once, in a fresh process, under GNU time (peak RSS from wait4), and the result is
// checked with `rsync -an --delete --itemize-changes` (0 differences expected).
//
//   npx tsx bench/wide.ts                        1,000,000 entries, engines uring,sync,node
//   npx tsx bench/wide.ts --entries 200000 --engines sync
//   npx tsx bench/wide.ts --bin /tmp/before/dist/bin.js
//   npx tsx bench/wide.ts --clean                remove the trees

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { checkTimeBinary, timed, verify, type RunResult } from './lib/measure.js';
import { ARSYNC_BIN } from './lib/tools.js';

const ROOT = '/dev/shm/arsync-bench-wide';

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    engines: { type: 'string', default: 'uring,sync,node' },
    clean: { type: 'boolean', default: false },
    // Another build's dist/bin.js (a copy made before a change, to measure before and after).
    bin: { type: 'string', default: ARSYNC_BIN },
  },
});

if (values.clean) {
  fs.rmSync(ROOT, { recursive: true, force: true });
  process.exit(0);
}
checkTimeBinary();
const n = Number(values.entries);
const src = path.join(ROOT, `src-${n}`);
const dst = path.join(ROOT, 'dst');
const name = (i: number): string => `f${String(i).padStart(7, '0')}`;

/** Makes `count` empty files named from `first` on (skipped when the directory is already complete). */
function fill(dir: string, first: number, count: number): void {
  fs.mkdirSync(dir, { recursive: true });
  if (fs.readdirSync(dir).length === count) return;
  const t = new Date('2026-01-01T00:00:00Z');
  for (let i = first; i < first + count; i++) {
    const p = path.join(dir, name(i));
    fs.closeSync(fs.openSync(p, 'w'));
    fs.utimesSync(p, t, t);
  }
}

const rm = (p: string): void => fs.rmSync(p, { recursive: true, force: true });

function show(tool: string, kase: string, r: RunResult, diffs: number): void {
  const mb = (r.rssKiB / 1024).toFixed(0);
  const status = r.rc === 0 ? '' : ` rc=${r.rc} ${r.stderr ?? ''}`;
  console.log(`| ${tool} | ${kase} | ${mb} MB | ${r.wall.toFixed(1)} s | ${diffs} |${status}`);
}

function cases(tool: string, argv: (extra: string[]) => string[]): void {
  rm(dst);
  let r = timed(argv([]));
  show(tool, 'fresh copy', r, verify(src, dst, false));
  r = timed(argv([]));
  show(tool, 'no-op re-run', r, verify(src, dst, false));
  r = timed(argv(['--delete']));
  show(tool, 'no-op re-run, --delete', r, verify(src, dst, false));
  // Extraneous files: a tenth as many again, all deleted.
  fill(dst, n, Math.floor(n / 10));
  r = timed(argv(['--delete']));
  show(tool, `--delete of ${Math.floor(n / 10)}`, r, verify(src, dst, false));
}

fill(src, 0, n);
console.log(`${n} empty files in one directory on tmpfs (${src})\n`);
console.log('| tool | case | peak RSS | wall | differences after |');
console.log('|---|---|---|---|---|');
for (const engine of values.engines.split(',')) {
  cases(`arsync ${engine}`, (extra) => ['node', values.bin, '-a', ...extra, `--engine=${engine}`, `${src}/`, `${dst}/`]);
}
cases('rsync -a', (extra) => ['rsync', '-a', ...extra, `${src}/`, `${dst}/`]);
rm(dst);
