// How the node engine makes device nodes, FIFOs and sockets: Node has no mknod and cannot bind a socket
// synchronously, so a child process makes the node (coreutils' mknod(1), or a child node for a socket)
// in a directory it reaches through our own held descriptor, so neither the directory's path (bytes,
// maybe not UTF-8, maybe long) nor anything swapped in since can redirect it.

import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import { O_PATH } from './node-beneath.js';
import { closeQuietly, codeOf, sysError } from './node-fs.js';
import { fsImpl } from './node-fs.js';
import { S_IFCHR, S_IFIFO, S_IFSOCK } from '../model/stat.js';
import { devMajor, devMinor } from '../model/devnum.js';

const C = fs.constants;
const E = osConstants.errno;

/** mknod(1) writes strerror text; map the ones mknod(2) can produce back to codes. */
const STRERROR: Record<string, string> = {
  'Operation not permitted': 'EPERM',
  'Permission denied': 'EACCES',
  'File exists': 'EEXIST',
  'No space left on device': 'ENOSPC',
  'Disk quota exceeded': 'EDQUOT',
  'Read-only file system': 'EROFS',
  'No such file or directory': 'ENOENT',
  'Not a directory': 'ENOTDIR',
  'Too many levels of symbolic links': 'ELOOP',
  'File name too long': 'ENAMETOOLONG',
  'Invalid argument': 'EINVAL',
  'Cannot allocate memory': 'ENOMEM',
  'Input/output error': 'EIO',
};

/** Binds a unix socket at argv[1] and exits; the socket inode stays. Prints the error code on failure. */
const BIND_SOCKET =
  "const s=require('net').createServer();" +
  "s.on('error',e=>{process.stderr.write(String(e.code));process.exit(1)});" +
  's.listen(process.argv[1],()=>process.exit(0))';

/**
 * Devices and FIFOs: coreutils' mknod(1) with -m 600 (it sets the mode through O_PATH, never following).
 * Sockets: a child node binds a unix socket there and exits; the socket inode stays, which is all
 * rsync -a copies of a socket too. Either way EEXIST comes back as such, so a temp name can be retried.
 * `cwd` is the directory, as /proc/<our pid>/fd/<fd> (the child's own /proc/self would be its own).
 */
export function mknod(cwd: string, name: string, type: number, rdev: number): void {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
  let code: string | undefined;
  if (type === S_IFSOCK) {
    const r = fsImpl.spawnSync(process.execPath, ['-e', BIND_SOCKET, name], { cwd, env, encoding: 'utf8' });
    if (r.error) throw sysError(codeOf(r.error) ?? 'EIO', 'mknod');
    if (r.status === 0) return;
    code = r.stderr.trim() === 'EADDRINUSE' ? 'EEXIST' : r.stderr.trim();
  } else {
    const kind = type === S_IFIFO ? ['p'] : [type === S_IFCHR ? 'c' : 'b', String(devMajor(rdev)), String(devMinor(rdev))];
    const r = fsImpl.spawnSync('mknod', ['-m', '600', '--', name, ...kind], { cwd, env, encoding: 'utf8' });
    // No mknod(1) on this host: the call is not available here.
    if (r.error) throw sysError(codeOf(r.error) === 'ENOENT' ? 'ENOSYS' : (codeOf(r.error) ?? 'EIO'), 'mknod');
    if (r.status === 0) return;
    code = STRERROR[r.stderr.trim().split(': ').pop() ?? ''];
  }
  throw sysError(code && code in E ? code : 'EIO', 'mknod');
}

/** The child's working directory for a directory we hold as `fd`: our own fd, through our pid. */
export const heldCwd = (fd: number): string => `/proc/${process.pid}/fd/${fd}`;

/** Make a device, FIFO or socket `name` (mode 0600) in the directory `dirAbs` (the backups' use). */
export function mknodIn(dirAbs: Buffer, name: Buffer, type: number, rdev: number): void {
  // A held parent (/proc/self/fd/N, what resolve() gives) is already ours: the child reaches it
  // through our pid. Opening that magic link with O_NOFOLLOW would be ELOOP.
  const held = /^\/proc\/self\/fd\/(\d+)$/.exec(dirAbs.toString('latin1'));
  if (held) {
    mknod(heldCwd(Number(held[1])), name.toString('utf8'), type, rdev);
    return;
  }
  // As makeSpecial does: the child works in the directory through our fd, names stay off argv.
  const dirFd = fsImpl.openSync(dirAbs, O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW);
  try {
    mknod(heldCwd(dirFd), name.toString('utf8'), type, rdev);
  } finally {
    closeQuietly(dirFd);
  }
}
