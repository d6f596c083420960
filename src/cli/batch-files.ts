// Opening the batch files (rsync's open_batch_files): for writing, FILE.sh (0700) and FILE (0600), each
// created or truncated, the script written at once; for reading, FILE (or standard input for "-"), which
// must be a regular file. Failures are rsync's: "Batch file NAME open error: ..." with exit 3 for the
// script, 11 for the batch. The names are operator paths (DESIGN §3 rule 8, rsync's
// open_no_attacker_symlinks): a symlink on the way owned by neither root nor us is refused, unless
// --insecure-links; the file itself is opened without following a symlink.

import * as fs from 'node:fs';
import { resolve } from 'node:path';
import { ERRNO, Exit, showPath } from '../util/errors.js';
import { errnoSuffix } from '../util/strerror.js';
import { ELOOP_TEXT, UNTRUSTED_SYMLINK, resolveOperatorPath } from '../plan/operator-path.js';
import { batchScript, type ScriptInput } from './batch-script.js';

export type Opened = { fd: number } | { message: string; code: number };

const O_NOFOLLOW = fs.constants.O_NOFOLLOW;

/** The name with the operator's own symlinks followed once, or rsync's refusal (ELOOP). */
function trusted(name: string, insecure: boolean, code: number): { path: Buffer } | { message: string; code: number } {
  const r = resolveOperatorPath(Buffer.from(name), { insecure });
  if (r.ok) return { path: r.path };
  return { message: `${UNTRUSTED_SYMLINK}\narsync: Batch file ${fullName(name)} open error: ${ELOOP_TEXT}`, code };
}

/** rsync's full_fname: the name made absolute, in quotes. */
const fullName = (name: string): string => `"${showPath(resolve(name))}"`;

function openError(name: string, err: unknown, code: number): { message: string; code: number } {
  return { message: `Batch file ${fullName(name)} open error: ${errnoSuffix((err as NodeJS.ErrnoException).errno ?? ERRNO.EIO)}`, code };
}

/** Creates FILE.sh with the replay script, then FILE, empty, for the batch. */
export function openForWriting(s: ScriptInput, insecure: boolean): Opened {
  const sh = `${s.file}.sh`;
  const shAt = trusted(sh, insecure, Exit.FileSelect);
  if ('message' in shAt) return shAt;
  let shFd: number;
  try {
    shFd = fs.openSync(shAt.path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | O_NOFOLLOW, 0o700);
  } catch (err) {
    return openError(sh, err, Exit.FileSelect);
  }
  try {
    fs.writeSync(shFd, batchScript(s));
  } finally {
    fs.closeSync(shFd);
  }
  const at = trusted(s.file, insecure, Exit.FileIO);
  if ('message' in at) return at;
  try {
    return { fd: fs.openSync(at.path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | O_NOFOLLOW, 0o600) };
  } catch (err) {
    return openError(s.file, err, Exit.FileIO);
  }
}

/** Opens a batch to read: "-" is standard input; anything but a regular file is refused. */
export function openForReading(name: string, insecure: boolean): Opened {
  if (name === '-') return { fd: 0 };
  const at = trusted(name, insecure, Exit.FileIO);
  if ('message' in at) return at;
  let fd: number;
  try {
    fd = fs.openSync(at.path, fs.constants.O_RDONLY | O_NOFOLLOW);
  } catch (err) {
    return openError(name, err, Exit.FileIO);
  }
  if (!fs.fstatSync(fd).isFile()) {
    fs.closeSync(fd);
    return { message: `Batch file ${fullName(name)} is not a regular file`, code: Exit.FileIO };
  }
  return { fd };
}
