// Opening the batch files (rsync's open_batch_files): for writing, FILE.sh (0700) and FILE (0600), each
// created or truncated, the script written at once; for reading, FILE (or standard input for "-"), which
// must be a regular file. Failures are rsync's: "Batch file NAME open error: ..." with exit 3 for the
// script, 11 for the batch.

import * as fs from 'node:fs';
import { resolve } from 'node:path';
import { Exit, showPath } from '../util/errors.js';
import { batchScript, type ScriptInput } from './batch-script.js';

export type Opened = { fd: number } | { message: string; code: number };

/** rsync's full_fname: the name made absolute, in quotes. */
const fullName = (name: string): string => `"${showPath(resolve(name))}"`;

function openError(name: string, err: unknown, code: number): { message: string; code: number } {
  const e = err as NodeJS.ErrnoException;
  const text = (e.message ?? String(e)).replace(/^[A-Z]+: /, '').replace(/, \w+ .*$/, '');
  return { message: `Batch file ${fullName(name)} open error: ${text.charAt(0).toUpperCase()}${text.slice(1)} (${-(e.errno ?? 0)})`, code };
}

/** Creates FILE.sh with the replay script, then FILE, empty, for the batch. */
export function openForWriting(s: ScriptInput): Opened {
  const sh = `${s.file}.sh`;
  let shFd: number;
  try {
    shFd = fs.openSync(sh, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o700);
  } catch (err) {
    return openError(sh, err, Exit.FileSelect);
  }
  try {
    fs.writeSync(shFd, batchScript(s));
  } finally {
    fs.closeSync(shFd);
  }
  try {
    return { fd: fs.openSync(s.file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o600) };
  } catch (err) {
    return openError(s.file, err, Exit.FileIO);
  }
}

/** Opens a batch to read: "-" is standard input; anything but a regular file is refused. */
export function openForReading(name: string): Opened {
  if (name === '-') return { fd: 0 };
  let fd: number;
  try {
    fd = fs.openSync(name, fs.constants.O_RDONLY);
  } catch (err) {
    return openError(name, err, Exit.FileIO);
  }
  if (!fs.fstatSync(fd).isFile()) {
    fs.closeSync(fd);
    return { message: `Batch file ${fullName(name)} is not a regular file`, code: Exit.FileIO };
  }
  return { fd };
}
