// The node engine's one seam to the filesystem (`fsImpl`: tests replace a function of it to inject an
// error with a `code`), and the shapes its failures take: Node-like errors thrown inside an op, and
// { errno, syscall } values at the engine's boundary, as the addon returns them.

import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';

type SpawnSync = typeof import('node:child_process').spawnSync;
/**
 * node:child_process is loaded on first use: it pulls in streams and sockets, which cost every run
 * start-up time (docs/benchmarks.md, "Fixed costs of small jobs") and only special files need.
 */
const spawnSync = ((...args: Parameters<SpawnSync>) =>
  (createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process')).spawnSync(...args)) as SpawnSync;

const E = osConstants.errno;

/**
 * Every filesystem call of the node engine and walker goes through this object, so a test can replace
 * one function to inject an error with a `code`, then restore it.
 */
export const fsImpl = {
  openSync: fs.openSync,
  closeSync: fs.closeSync,
  readSync: fs.readSync,
  writeSync: fs.writeSync,
  fstatSync: fs.fstatSync,
  lstatSync: fs.lstatSync,
  statSync: fs.statSync,
  accessSync: fs.accessSync,
  ftruncateSync: fs.ftruncateSync,
  fsyncSync: fs.fsyncSync,
  fchownSync: fs.fchownSync,
  fchmodSync: fs.fchmodSync,
  futimesSync: fs.futimesSync,
  chownSync: fs.chownSync,
  chmodSync: fs.chmodSync,
  utimesSync: fs.utimesSync,
  lchownSync: fs.lchownSync,
  lutimesSync: fs.lutimesSync,
  renameSync: fs.renameSync,
  unlinkSync: fs.unlinkSync,
  rmdirSync: fs.rmdirSync,
  mkdirSync: fs.mkdirSync,
  linkSync: fs.linkSync,
  symlinkSync: fs.symlinkSync,
  readlinkSync: fs.readlinkSync,
  readdirSync: fs.readdirSync,
  realpathSync: fs.realpathSync.native,
  /** mknod(1), and a child node for sockets: Node can create neither synchronously. */
  spawnSync,
};

/** A failure as a value: positive errno and the syscall, as the addon returns it. */
export interface WalkFailure {
  errno: number;
  syscall: string;
}

export const codeOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | null)?.code;

/** An Error shaped like Node's, for refusals the node engine detects itself. */
export function sysError(code: string, syscall: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${syscall}`);
  err.code = code;
  err.errno = -(E[code as keyof typeof E] ?? E.EIO);
  err.syscall = syscall;
  return err;
}

/**
 * errno and syscall of a thrown fs error (`syscall` when the error names none); anything else is a bug
 * and propagates.
 */
export function toFailure(e: unknown, syscall?: string): WalkFailure {
  const err = e as NodeJS.ErrnoException;
  const errno = typeof err?.errno === 'number' ? Math.abs(err.errno) : E[err?.code as keyof typeof E];
  const call = err?.syscall ?? syscall;
  if (typeof errno !== 'number' || typeof call !== 'string') throw e;
  return { errno, syscall: call };
}

/** `f`'s answer, or what it threw as a failure value (`syscall` when the error names none). */
export function asValue<T>(syscall: string, f: () => T): T | WalkFailure {
  try {
    return f();
  } catch (e) {
    return toFailure(e, syscall);
  }
}

/** Close on a cleanup path: the failure that brought us here is the one worth reporting. */
export function closeQuietly(fd: number): void {
  try {
    if (fd >= 0) fsImpl.closeSync(fd);
  } catch {
    // see above
  }
}

/**
 * Run `fn` on an open fd, then close it. A failed close is reported; after a failure of `fn` the close
 * is quiet, since that failure is the one worth reporting.
 */
export function closeAfter<T>(fd: number, fn: () => T): T {
  let r: T;
  try {
    r = fn();
  } catch (e) {
    closeQuietly(fd);
    throw e;
  }
  fsImpl.closeSync(fd);
  return r;
}

/** Remove a temp entry on a cleanup path (closing its fd first); already gone is fine. */
export function discard(abs: Buffer, fd = -1): void {
  closeQuietly(fd);
  try {
    fsImpl.unlinkSync(abs);
  } catch {
    // already gone
  }
}
