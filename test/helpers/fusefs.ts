// faultfs for tests: a FUSE mirror of a backing directory that misbehaves for real (short reads, a size
// bigger than the data, a file truncated while it is read, EIO at an offset, no xattrs); read-only, or
// writable enough to be a copy's destination. The C source
// is test/fixtures/faultfs.c; it is compiled once per source version against libfuse3 (Debian: fuse3,
// libfuse3-dev, pkg-config) and mounted per test.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { REPO } from './cli.js';

const SOURCE = path.join(REPO, 'test', 'fixtures', 'faultfs.c');

export interface FaultOptions {
  /** Every read returns at most this many bytes. */
  chunk?: number;
  /** Regular files report this many bytes more than they hold: reads end early at the true size. */
  extra?: number;
  /** A read whose data reaches this offset gets the bytes before it, then the file is cut there (a concurrent truncate). */
  shrink?: number;
  /** A read whose data would go past this offset fails with EIO. */
  eio?: number;
  /** A read whose data would go past this offset first waits `stallMs` (a hung source). */
  stall?: number;
  stallMs?: number;
  /** Every directory listing first waits this many milliseconds (a slow walk). */
  dirMs?: number;
  /** Writable (a copy's destination; copy_file_range within the mount goes through splice). */
  rw?: boolean;
  /** The faults apply only beneath this top-level directory of the mount. */
  under?: string;
  /**
   * Serve requests on several threads (FUSE's default) instead of one: stalled reads wait side by side.
   * On one thread, the reads a run has in flight when it gives up (io_uring keeps several) are answered
   * one stall after another, and the run cannot exit before the last.
   */
  threads?: boolean;
}

export interface FaultMount {
  /** The mount point: read the backing directory through it. */
  path: string;
  unmount(): void;
}

/** Why faultfs cannot run here, or null. Only a machine without FUSE is a reason to skip. */
export function fuseSkipReason(): string | null {
  if (!fs.existsSync('/dev/fuse')) return 'no /dev/fuse on this machine';
  if (process.geteuid?.() !== 0) return 'mounting FUSE with allow_other needs root';
  const pc = spawnSync('pkg-config', ['--exists', 'fuse3']);
  if (pc.status !== 0) return 'libfuse3-dev (pkg-config fuse3) is not installed: apt-get install fuse3 libfuse3-dev pkg-config';
  return null;
}

let built: string | null = null;

/** Path of the faultfs binary, compiled on first use (shared by concurrent test files through a rename). */
export function faultfsBinary(): string {
  if (built) return built;
  const src = fs.readFileSync(SOURCE);
  const hash = createHash('sha256').update(src).digest('hex').slice(0, 16);
  // Not under /dev/shm: a tmpfs may be mounted noexec.
  const dir = path.join(os.tmpdir(), 'arsync-faultfs');
  const bin = path.join(dir, `faultfs-${hash}`);
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(dir, { recursive: true });
    const flags = spawnSync('pkg-config', ['--cflags', '--libs', 'fuse3'], { encoding: 'utf8' });
    if (flags.status !== 0) throw new Error(`pkg-config fuse3 failed: ${flags.stderr}`);
    const tmp = `${bin}.${process.pid}`;
    const cc = spawnSync('cc', ['-std=c11', '-O1', '-Wall', '-Wextra', '-Werror', SOURCE, ...flags.stdout.trim().split(/\s+/), '-o', tmp], {
      encoding: 'utf8',
    });
    if (cc.status !== 0) throw new Error(`building faultfs failed:\n${cc.stderr}`);
    fs.renameSync(tmp, bin);
  }
  built = bin;
  return bin;
}

/**
 * Mount faultfs over `mnt` (created if missing), mirroring `backing`. Returns once the mount is live
 * (faultfs daemonizes only after the mount succeeded).
 */
export function mountFaultFs(backing: string, mnt: string, o: FaultOptions = {}): FaultMount {
  fs.mkdirSync(mnt, { recursive: true });
  const opts = ['allow_other'];
  for (const k of ['chunk', 'extra', 'shrink', 'eio', 'stall', 'under'] as const) if (o[k] !== undefined) opts.push(`${k}=${o[k]}`);
  if (o.stallMs !== undefined) opts.push(`stallms=${o.stallMs}`);
  if (o.dirMs !== undefined) opts.push(`dirms=${o.dirMs}`);
  if (o.rw) opts.push('rw');
  const r = spawnSync(faultfsBinary(), [backing, mnt, ...(o.threads ? [] : ['-s']), '-o', opts.join(',')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mounting faultfs on ${mnt} failed (exit ${r.status}): ${r.stderr}`);
  let mounted = true;
  return {
    path: mnt,
    unmount(): void {
      if (!mounted) return;
      mounted = false;
      if (spawnSync('umount', [mnt]).status !== 0) spawnSync('umount', ['-l', mnt]);
    },
  };
}
