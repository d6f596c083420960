// Exact nanosecond times on many paths with one process: test/helpers/set-times.c, compiled on first use
// (like faultfs, test/helpers/fusefs.ts) and kept under the system temp dir by its source's hash. Node's
// own fs.utimes takes seconds as a double (a few hundred ns off at today's dates), and one `touch -h -d`
// per path costs a process each (a quarter of a differential test's CPU went to them).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { REPO } from './cli.js';

const SOURCE = path.join(REPO, 'test', 'helpers', 'set-times.c');

let built: string | null = null;

/** The set-times binary, compiled on first use (shared by concurrent test files through a rename). */
function binary(): string {
  if (built) return built;
  const src = fs.readFileSync(SOURCE);
  const hash = createHash('sha256').update(src).digest('hex').slice(0, 16);
  // Not under /dev/shm: a tmpfs may be mounted noexec.
  const dir = path.join(os.tmpdir(), 'arsync-test-bin');
  const bin = path.join(dir, `set-times-${hash}`);
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}`;
    const cc = spawnSync('cc', ['-std=c11', '-O1', '-Wall', '-Wextra', '-Werror', SOURCE, '-o', tmp], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`building ${SOURCE} failed:\n${cc.error?.message ?? cc.stderr}`);
    fs.renameSync(tmp, bin);
  }
  built = bin;
  return bin;
}

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
  const r = spawnSync(binary(), [], { input });
  if (r.status !== 0) throw new Error(`set-times failed (${r.status ?? r.signal}): ${r.stderr.toString()}`);
}
