// Exact nanosecond times on many paths with one process: test/helpers/set-times.c (built by
// test/helpers/c-helper.ts). Node's own fs.utimes takes seconds as a double (a few hundred ns off at
// today's dates), and one `touch -h -d` per path costs a process each (a quarter of a differential
// test's CPU went to them).

import { spawnSync } from 'node:child_process';
import { helperBinary } from './c-helper.js';

/** "SEC", "SEC.FRACTION" (up to 9 digits) or either with a leading "-", as whole seconds and nanoseconds. */
export function parseStamp(t: string): [bigint, bigint] {
  const m = /^(-?)(\d+)(?:\.(\d{1,9}))?$/.exec(t);
  if (!m) throw new Error(`not a SEC.NSEC time: ${t}`);
  const abs = BigInt(m[2]!) * 1_000_000_000n + BigInt((m[3] ?? '').padEnd(9, '0'));
  const ns = m[1] ? -abs : abs;
  // Floor division: -1.5 s is 2 s before the epoch plus half a second.
  let sec = ns / 1_000_000_000n;
  if (ns < 0n && sec * 1_000_000_000n !== ns) sec -= 1n;
  return [sec, ns - sec * 1_000_000_000n];
}

/** Set each path's access and modification time to its "SEC.NSEC" (symlinks themselves; nothing created). */
export function setTimes(stamps: [string | Buffer, string][]): void {
  if (stamps.length === 0) return;
  const input = Buffer.concat(
    stamps.flatMap(([p, t]) => {
      const [sec, nsec] = parseStamp(t);
      return [Buffer.from(`${sec} ${nsec} `), typeof p === 'string' ? Buffer.from(p) : p, Buffer.from([0])];
    }),
  );
  const r = spawnSync(helperBinary('set-times'), [], { input });
  if (r.status !== 0) throw new Error(`set-times failed (${r.status ?? r.signal}): ${r.stderr.toString()}`);
}
