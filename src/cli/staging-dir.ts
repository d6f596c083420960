// Where a pull's private staging tree is made, and how it is removed: on the destination's own filesystem when one of the
// usual temporary directories is there ($TMPDIR, else /dev/shm), so staging costs the medium the
// destination already uses; else in $TMPDIR. Measured: a pull into /dev/shm staged on a busy ext4 /tmp
// spent most of its time creating and unlinking the staging files (10,000 files: 31 s of 35 s). On the
// destination's filesystem the local run links the staged files into place instead of copying them
// (model/ops.ts Preserve.AdoptSource).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { onSignalExit } from './signals.js';
import { loadAddon } from '../engine/native.js';
import type { EngineChoice } from '../model/config.js';
import type { RemoteEntry } from '../remote/flist.js';
import { errnoText } from '../util/errors.js';

/** No staging directory could be made: rsync's exit 11 (file I/O), nothing transferred. */
export class StagingError extends Error {
  override name = 'StagingError';
}

/** The staging holders made and not yet removed, each with the call that takes its signal undo back. */
const live = new Map<string, () => void>();
/** The holders the addon removes (native/rmtree.c): not on the node engine, which stays without the addon. */
const nativeRemoval = new Set<string>();

/**
 * A new private (0700) holder for a staging tree beside `dest` (stagingParent), named PREFIX-XXXXXX; a
 * signal that ends the process before removeStaging() removes it then.
 */
export function makeStaging(dest: Buffer, prefix: string, engine: EngineChoice): string {
  const parent = stagingParent(dest);
  let holder: string;
  try {
    holder = fs.mkdtempSync(nodePath.join(parent, prefix));
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).errno;
    const why = errno === undefined ? String(e) : `${errnoText(Math.abs(errno))} (${Math.abs(errno)})`;
    throw new StagingError(`cannot make a staging directory in "${parent}": ${why}; set TMPDIR to a directory you may write`);
  }
  if (engine !== 'node') nativeRemoval.add(holder);
  live.set(holder, onSignalExit(() => removeStaging(holder)));
  fs.chmodSync(holder, 0o700);
  return holder;
}

/** The device of `dest`, or of its nearest existing ancestor (a destination the run will make). */
function deviceOf(dest: string): number | undefined {
  for (let p = nodePath.resolve(dest); ; p = nodePath.dirname(p)) {
    try {
      return fs.statSync(p).dev;
    } catch {
      if (p === '/') return undefined;
    }
  }
}

/**
 * Whether `dir` may hold a staging tree (on device `dev` when given): a directory everybody may use
 * (sticky, like /tmp) or our own, never one another user controls, and writable by us.
 */
function usable(dir: string, dev?: number): boolean {
  try {
    const st = fs.statSync(dir);
    if (dev !== undefined && st.dev !== dev) return false;
    if (!st.isDirectory() || !(st.uid === 0 || st.uid === process.getuid?.()) || !(st.mode & 0o1000 || !(st.mode & 0o022))) return false;
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false; // not there, or not ours to write
  }
}

/**
 * The directory to make the staging tree in, for a pull into `dest`: $TMPDIR or /dev/shm when on the
 * destination's filesystem, else $TMPDIR, else (one we may not write, e.g. a TMPDIR inherited from
 * another user) /tmp or /var/tmp; $TMPDIR again when none will do, for makeStaging to report.
 */
export function stagingParent(dest: Buffer): string {
  const tmp = os.tmpdir();
  const dev = deviceOf(dest.toString('latin1'));
  if (dev !== undefined) {
    for (const dir of [tmp, '/dev/shm']) if (usable(dir, dev)) return dir;
  }
  for (const dir of [tmp, '/tmp', '/var/tmp']) if (usable(dir)) return dir;
  return tmp;
}

/**
 * Whether the staging tree at `holder` is on the filesystem the local run makes its temp files on
 * (`tempDir` under -T, else the destination's): then its files can be linked into place.
 */
export function linkable(holder: string, dest: Buffer, tempDir: string | undefined): boolean {
  const staged = deviceOf(holder);
  const into = tempDir !== undefined ? deviceOf(nodePath.resolve(dest.toString('latin1'), tempDir)) : deviceOf(dest.toString('latin1'));
  return staged !== undefined && staged === into;
}

/**
 * Removes a pull's staging holder. With -A a staged directory took the sender's mode with its ACL, perhaps
 * without the owner's write bit: a user who is not root gives it back first (only to directories, never
 * through a symlink).
 */
export function removeStaging(holder: string): void {
  live.get(holder)?.();
  live.delete(holder);
  const native = nativeRemoval.delete(holder) ? loadAddon() : undefined;
  // In one call when the addon has it; a failure (a directory -A left without its write bit) goes on below.
  try {
    if (native?.ok && native.addon.removeTree?.(Buffer.from(holder)) === 0) return;
  } catch {
    // A path the addon refuses (longer than PATH_MAX): below.
  }
  try {
    removeTree(Buffer.from(holder));
    return;
  } catch {
    // below
  }
  const open = (dir: Buffer): void => {
    try {
      fs.chmodSync(dir, 0o700);
      for (const d of fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' })) {
        if (d.isDirectory()) open(Buffer.concat([dir, Buffer.from('/'), d.name]));
      }
    } catch {
      // What cannot be opened is left; rmSync says so below.
    }
  };
  open(Buffer.from(holder));
  fs.rmSync(holder, { recursive: true, force: true });
}

/**
 * Removes a tree this process made, taking each entry's type from its directory listing: unlike
 * fs.rmSync's walk, no lstat per entry (84,000 of them after a fresh pull of the Linux tree).
 * Nothing in the tree is followed: a symlink is unlinked as the name it is.
 */
function removeTree(dir: Buffer): void {
  const slash = Buffer.from('/');
  for (const d of fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' })) {
    const at = Buffer.concat([dir, slash, d.name]);
    if (d.isDirectory()) removeTree(at);
    else fs.unlinkSync(at);
  }
  fs.rmdirSync(dir);
}

/**
 * The local run's source operands over the staging tree: the tree's root when the list sent "." (rsync's
 * "dir/" form), else each top-level name the list sent; with -R through a "/./" marker so the names keep
 * their paths. An entry `skipped` says to pass over (an implied directory under --no-implied-dirs, which
 * rsync's generator leaves alone) is no operand: the entries below it that are not skipped are, so the
 * local run makes such a directory only as the way to them, as a local -R run does. A
 * --delete-missing-args entry (mode 0, at any depth under -R) is an operand of its own, never staged:
 * the local run finds it missing and deletes the destination's twin, as rsync's generator does with it.
 */
export function stagingOperands(
  entries: Iterable<RemoteLike | undefined>,
  staging: string,
  relative: boolean,
  skipped: (e: RemoteLike) => boolean = () => false,
): Buffer[] {
  const operands: Buffer[] = [];
  const at = (name: string): Buffer => Buffer.from(relative ? `${staging}/./${name}` : `${staging}/${name}`, 'latin1');
  const passed = new Set<string>();
  let root = false;
  for (const e of entries) {
    if (!e) continue;
    const name = e.name.toString('latin1');
    if (e.mode === 0) {
      operands.push(at(name));
      continue;
    }
    // The root stands for every name the list sent ("." sorts first).
    if (root) continue;
    if (name === '.') {
      root = true;
      operands.push(Buffer.from(relative ? `${staging}/./` : `${staging}/`, 'latin1'));
      continue;
    }
    const slash = name.lastIndexOf('/');
    if (slash >= 0 && !passed.has(name.slice(0, slash))) continue;
    if (skipped(e)) passed.add(name);
    else operands.push(at(name));
  }
  return operands;
}

type RemoteLike = Pick<RemoteEntry, 'name' | 'mode' | 'topDir' | 'noContent'>;
