// Resolving operands the way rsync does: a trailing slash on a source means "its contents", a missing
// destination is created (one level), a single file may be copied to a new name. Also the refusals that
// must happen before any I/O on the destination: a directory copied into itself, a file onto itself.

import { realpathSync, statSync, lstatSync } from 'node:fs';
import { resolve as resolvePath, sep } from 'node:path';
import type { Config } from '../cli/config.js';
import { UsageError, showPath } from '../util/errors.js';
import { baseName, dirName, hasTrailingSlash } from '../util/names.js';
import { S_IFDIR, S_IFMT, type Stat } from '../engine/types.js';

export interface Root {
  /** Source path as given (bytes), without trailing slashes unless it is "/". */
  src: Buffer;
  /** Where it lands, relative to the destination root ("" = the root itself). */
  rel: Buffer;
  /** True for "src/": copy the contents into rel. */
  contents: boolean;
}

export interface Plan {
  roots: Root[];
  /** The directory every destination path is resolved beneath (absolute). */
  destRoot: Buffer;
  /** The destination root does not exist yet and must be created. */
  createDest: boolean;
}

const stripSlashes = (p: Buffer): Buffer => {
  let end = p.length;
  while (end > 1 && p[end - 1] === 0x2f) end--;
  return p.subarray(0, end);
};

function absolute(p: Buffer): Buffer {
  const s = p.toString('latin1');
  if (s.startsWith('/')) return p;
  return Buffer.concat([Buffer.from(process.cwd() + '/'), p]);
}

/** realpath of a path that may not exist yet: resolve the deepest existing ancestor. */
function realish(p: Buffer): string {
  const s = resolvePath(p.toString('latin1'));
  const parts: string[] = [];
  let cur = s;
  for (;;) {
    try {
      const real = realpathSync(Buffer.from(cur, 'latin1'), { encoding: 'buffer' }).toString('latin1');
      return parts.length ? [real, ...parts.reverse()].join(sep).replace(/\/\/+/g, '/') : real;
    } catch {
      const i = cur.lastIndexOf('/');
      if (i <= 0) return s;
      parts.push(cur.slice(i + 1));
      cur = cur.slice(0, i);
    }
  }
}

/**
 * Work out roots and destination. `lstat` is the engine's, so names stay bytes; `sourceStats` gets the
 * stat of each source (or the errno when it is missing: the caller reports it and goes on).
 */
export function resolveOperands(
  c: Config,
  lstat: (p: Buffer) => Stat | { errno: number; syscall: string },
): { plan: Plan; missing: { src: Buffer; errno: number; syscall: string }[] } {
  const missing: { src: Buffer; errno: number; syscall: string }[] = [];
  const present: { src: Buffer; stat: Stat; contents: boolean }[] = [];
  for (const raw of c.sources) {
    const contents = hasTrailingSlash(raw);
    const src = stripSlashes(raw);
    let st = lstat(src);
    // "link/" means the directory the link points to, as with rsync and the shell.
    if (!('errno' in st) && contents && (st.mode & S_IFMT) !== S_IFDIR) {
      try {
        const s = statSync(src, { bigint: false });
        if (s.isDirectory()) st = { ...st, mode: s.mode, ino: s.ino, dev: s.dev };
      } catch {
        // keep the lstat result
      }
    }
    if ('errno' in st) missing.push({ src, errno: st.errno, syscall: st.syscall });
    else present.push({ src, stat: st, contents: contents && (st.mode & S_IFMT) === S_IFDIR });
  }

  const dest = c.dest;
  const destSlash = hasTrailingSlash(dest);
  let destStat: ReturnType<typeof lstatSync> | undefined;
  try {
    destStat = statSync(dest);
  } catch {
    destStat = undefined;
  }
  const destIsDir = destStat?.isDirectory() ?? false;
  const single = c.sources.length === 1 && present.length === 1 && !present[0]!.contents;
  const singleNonDir = single && (present[0]!.stat.mode & S_IFMT) !== S_IFDIR;

  // One non-directory source onto a path that is not a directory: copy to that name.
  if (singleNonDir && !destIsDir && !destSlash) {
    if (destStat && destStat.ino === present[0]!.stat.ino && destStat.dev === present[0]!.stat.dev) {
      throw new UsageError(`source and destination are the same file: ${showPath(present[0]!.src)}`);
    }
    const parent = dirName(absolute(stripSlashes(dest)));
    return {
      plan: {
        roots: [{ src: present[0]!.src, rel: Buffer.from(baseName(dest)), contents: false }],
        destRoot: parent.length ? parent : Buffer.from('/'),
        createDest: false,
      },
      missing,
    };
  }
  if (destStat && !destIsDir) {
    throw new UsageError(`destination ${showPath(dest)} is not a directory`);
  }

  const destAbs = absolute(stripSlashes(dest));
  const destReal = realish(destAbs);
  const roots: Root[] = [];
  for (const p of present) {
    const isDir = (p.stat.mode & S_IFMT) === S_IFDIR;
    if (isDir && c.recursive) {
      const srcReal = realish(absolute(p.src));
      const into = p.contents ? destReal : `${destReal}/${baseName(p.src).toString('latin1')}`;
      if (destReal === srcReal || destReal.startsWith(srcReal === '/' ? '/' : `${srcReal}/`) || into === srcReal) {
        throw new UsageError(
          `refusing to copy directory ${showPath(p.src)} into itself (destination ${showPath(dest)})`,
        );
      }
    }
    if (!isDir && destStat) {
      // A file copied into a directory where it already lives.
      try {
        const there = lstatSync(Buffer.concat([destAbs, Buffer.from('/'), baseName(p.src)]));
        if (there.ino === p.stat.ino && there.dev === p.stat.dev) {
          throw new UsageError(`source and destination are the same file: ${showPath(p.src)}`);
        }
      } catch (err) {
        if (err instanceof UsageError) throw err;
      }
    }
    roots.push({ src: p.src, rel: p.contents ? Buffer.alloc(0) : Buffer.from(baseName(p.src)), contents: p.contents });
  }
  return { plan: { roots, destRoot: destAbs, createDest: !destStat }, missing };
}
