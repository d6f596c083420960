// Where a daemon login's password comes from, as rsync's client takes it (authenticate.c's auth_client
// and getpassf): --password-file (its first line; "-" reads standard input), else $RSYNC_PASSWORD,
// else a prompt on the terminal. Read only when the daemon asks, so a module without auth never opens
// the file. A password file others may read, or (for root) one root does not own, is refused, and
// so is a symlink nobody trusted planted (DESIGN §3 rule 8).

import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { ProtocolError } from '../remote/wire.js';
import { resolveOperatorPath, UNTRUSTED_SYMLINK } from '../plan/operator-path.js';
import { Exit, errnoText, ERRNO } from '../util/errors.js';

/** The password for the daemon's challenge; problems end the run with exit 1, as rsync's do. */
export function daemonPassword(file: string | undefined, env: NodeJS.ProcessEnv, insecureLinks = false): string {
  if (file !== undefined) return fromFile(file, insecureLinks);
  const fromEnv = env['RSYNC_PASSWORD'];
  if (fromEnv !== undefined) return fromEnv;
  return prompt();
}

function fromFile(file: string, insecure: boolean): string {
  let text: string;
  if (file === '-') {
    text = readAll(0);
  } else {
    let fd: number;
    try {
      const at = resolveOperatorPath(Buffer.from(file), { insecure });
      if (!at.ok) throw new ProtocolError(`could not open password file ${file}: ${UNTRUSTED_SYMLINK}`, Exit.Usage);
      fd = fs.openSync(at.path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch (e) {
      if (e instanceof ProtocolError) throw e;
      const err = e as NodeJS.ErrnoException;
      const errno = ERRNO[err.code as keyof typeof ERRNO];
      throw new ProtocolError(errno ? `could not open password file ${file}: ${errnoText(errno)} (${errno})` : err.message, Exit.Usage);
    }
    try {
      const st = fs.fstatSync(fd);
      if (st.mode & 0o6) throw new ProtocolError('ERROR: password file must not be other-accessible', Exit.Usage);
      if (process.geteuid?.() === 0 && st.uid !== 0) throw new ProtocolError('ERROR: password file must be owned by root when running as root', Exit.Usage);
      const buf = Buffer.alloc(511);
      text = buf.subarray(0, fs.readSync(fd, buf)).toString('latin1');
    } finally {
      fs.closeSync(fd);
    }
  }
  const line = text.split(/[\n\r]/).find((l) => l.length > 0);
  if (line === undefined) throw new ProtocolError(`ERROR: failed to read a password from ${file}`, Exit.Usage);
  return line;
}

function readAll(fd: number): string {
  const buf = Buffer.alloc(511);
  let n = 0;
  // fgets: up to the first newline.
  while (n < buf.length) {
    const got = fs.readSync(fd, buf, n, 1, null);
    if (got <= 0) break;
    n += got;
    if (buf[n - 1] === 0x0a) break;
  }
  return buf.subarray(0, n).toString('latin1');
}

/** getpass("Password: ") on the controlling terminal, echo off; no terminal: an empty password. */
function prompt(): string {
  let fd: number;
  try {
    fd = fs.openSync('/dev/tty', 'r+');
  } catch {
    return '';
  }
  try {
    const stty = (arg: string): void => void spawnSync('stty', [arg], { stdio: [fd, 'ignore', 'ignore'] });
    fs.writeSync(fd, 'Password: ');
    stty('-echo');
    try {
      return readAll(fd).replace(/\r?\n$/, '');
    } finally {
      stty('echo');
      fs.writeSync(fd, '\n');
    }
  } finally {
    fs.closeSync(fd);
  }
}
