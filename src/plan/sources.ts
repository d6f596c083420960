// Resolving operands the way rsync does: a trailing slash on a source means "its contents", a missing
// destination is created (one level, or all with --mkpath), a single file may be copied to a new name,
// -R keeps the source path (from a "/./" marker on), --files-from reads the sources from a file, and a
// source with glob characters that the shell left unexpanded is expanded with fast-glob. Also the
// refusals that must happen before any I/O on the destination: a directory copied into itself, a file
// onto itself.

import { accessSync, constants as fsConstants, readFileSync, readdirSync, realpathSync, statSync, lstatSync } from 'node:fs';
import { resolve as resolvePath, sep } from 'node:path';
import type { Config } from '../model/config.js';
import { ERRNO, FileSelectError, UsageError, errnoCode, errnoText, fsError, showPath } from '../util/errors.js';
import { errnoSuffix } from '../util/strerror.js';
import { absolutePath, baseName, dirName, hasTrailingSlash } from '../util/names.js';
import type { SysFailure } from '../model/failure.js';
import { S_IFDIR, S_IFLNK, S_IFMT, type Stat } from '../model/stat.js';
import { namedLinkFollowed } from './decide.js';
import { ELOOP_TEXT, UNTRUSTED_SYMLINK, resolveOperatorPath } from './operator-path.js';
import { loadPackage } from '../util/packages.js';
import { PATH_MAX } from '../model/path-max.js';
import { judgeMakePath } from '../util/mkpath.js';

export interface Root {
  /** Source path as given (bytes), without trailing slashes unless it is "/". */
  src: Buffer;
  /** Where it lands, relative to the destination root ("" = the root itself). */
  rel: Buffer;
  /** True for "src/": copy the contents into rel. */
  contents: boolean;
  /** --files-from without -r: a listed directory is made, not entered. */
  dirOnly: boolean;
  /** With dirOnly: it was listed with a trailing slash, so its own entries are copied too. */
  oneLevel?: boolean;
  /** The name printed for it when that is not rel (a file copied to a new name prints its own). */
  display?: Buffer;
  /** --delete-missing-args: the operand does not exist; what the destination has at rel is deleted. */
  missing?: boolean;
  /** With `missing` under -R: a directory above it is missing too (ImpliedParents). */
  lostParent?: LostParent;
  /**
   * -R of an absolute path with no "/./" marker: rsync's sender names its entries from the root, so the
   * names it prints (-v, -i, --out-format) start with "/"; the destination path has no leading slash.
   */
  absolute?: boolean;
  /** The "." a "./name" operand implies under -R (rsync's implied_dot_dir): with --no-implied-dirs
   *  rsync's generator skips it, listed but neither made nor itemized. */
  impliedDot?: boolean;
}

export interface Plan {
  roots: Root[];
  /** The directory every destination path is resolved beneath (absolute). */
  destRoot: Buffer;
  /** The destination root does not exist yet and must be created. */
  createDest: boolean;
  /** One file copied to a new name: DEST names the file, its directory is the root. */
  renamed?: boolean;
  /**
   * --mkpath: the directories rsync's make_path makes for DEST (util/mkpath.ts), shallowest first, named
   * from the operand; absent when it makes none (the root is then made, if at all, as without --mkpath).
   */
  pathMade?: Buffer[];
  /** --backup-dir as the operator-path rule resolved it (cli/main.ts): absolute, through no symlink. */
  backupDir?: Buffer;
}

export interface MissingSource {
  display: string;
  message: string;
  code: string;
  /** rsync's "file has vanished" warning (also `bare`): exit 24 rather than 23, and deletions go on. */
  vanished?: boolean;
  /** One of rsync's lines printed without its program name (an rprintf line, such as "symlink has no referent"). */
  bare?: boolean;
}

/**
 * A --delete-missing-args name under -R whose directory is missing too. `found`: the directories above
 * it that are there (made as any implied directories); `leftOut`: with incremental recursion rsync's
 * sender sends no entry for the name, so nothing is deleted; otherwise it is sent, and rsync's generator
 * warns that its directory is absent from the list (`warn`: unless that directory is itself a missing
 * name in the list) and deletes the twin all the same.
 */
export interface LostParent {
  found: Buffer;
  leftOut: boolean;
  warn: boolean;
}

type Lstat = (p: Buffer) => Stat | SysFailure;

/**
 * Whether the sender's filter rules let an entry into the list: `rel` is relative to `absRoot` (the
 * operand's directory for `dir/`, its parent for `dir`). Absent: no rules.
 */
export type Listed = (absRoot: Buffer, rel: Buffer, isDir: boolean) => boolean;


/** The engine's lstat, with rsync's answer for a path too long to pass to the kernel. */
const lstatBounded = (lstat: Lstat): Lstat => (p) =>
  p.length >= PATH_MAX ? { errno: ERRNO.ENAMETOOLONG, syscall: 'lstat' } : lstat(p);

const stripSlashes = (p: Buffer): Buffer => {
  let end = p.length;
  while (end > 1 && p[end - 1] === 0x2f) end--;
  return p.subarray(0, end);
};

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

const GLOB = /[*?[{]/;

/** Expand sources with glob characters that do not exist literally (the shell left them quoted). */
async function expandGlobs(c: Config, lstat: Lstat, missing: MissingSource[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const raw of c.sources) {
    const text = raw.toString('latin1');
    if (!GLOB.test(text) || !('errno' in lstat(stripSlashes(raw)))) {
      out.push(raw);
      continue;
    }
    const fg = loadPackage('fast-glob');
    const matches = fg.sync(raw.toString('utf8'), { dot: false, onlyFiles: false, followSymbolicLinks: false, unique: true });
    if (matches.length === 0) {
      missing.push({ display: showPath(raw), message: `glob "${showPath(raw)}" matched no files`, code: 'ENOENT' });
      continue;
    }
    matches.sort();
    for (const m of matches) out.push(Buffer.from(m));
  }
  return out;
}

/** -R: whether the kept part of a source path starts at the root (an absolute path with no "/./" marker). */
export function keptFromRoot(src: Buffer): boolean {
  const s = src.toString('latin1');
  return s.startsWith('/') && !s.includes('/./') && !s.endsWith('/.');
}

/** -R: the part of a source path that is kept at the destination ("a/./b/c" keeps "b/c", "a/." nothing). */
function relativePart(src: Buffer): Buffer {
  const s = src.toString('latin1');
  const marker = s.indexOf('/./');
  if (marker < 0 && s.endsWith('/.')) return Buffer.alloc(0);
  const rel = (marker >= 0 ? s.slice(marker + 3) : s).replace(/^\/+/, '');
  return Buffer.from(rel, 'latin1');
}

/**
 * The name rsync's sender gives a directory operand it skips (its cleaned name in the list): with -R the
 * kept part (the whole path when no "/./" marks one, "." when nothing is kept), else the last component,
 * or "." for "dir/".
 */
function skippedName(c: Config, src: Buffer, contents: boolean): Buffer {
  if (c.relative) {
    const kept = src.includes('/./') || src.toString('latin1').endsWith('/.') ? relativePart(src) : src;
    return kept.length ? kept : Buffer.from('.');
  }
  return contents ? Buffer.from('.') : Buffer.from(baseName(src));
}

/**
 * Whether rsync's sender says it skips this directory operand: its filter rules are checked first, and one
 * they exclude is left out without a word (not a "dir/" or a -R name that keeps nothing: rsync's dot-dir).
 */
function skipSaid(c: Config, src: Buffer, contents: boolean, listed: Listed | undefined): boolean {
  if (contents || !listed) return true;
  const rel = c.relative ? relativePart(src) : Buffer.from(baseName(src));
  if (!rel.length) return true;
  const base = src.subarray(0, src.length - rel.length).toString('latin1');
  return listed(Buffer.from(resolvePath(base || '.'), 'latin1'), rel, true);
}

function isDirStat(st: ReturnType<Lstat>): boolean {
  return !('errno' in st) && (st.mode & S_IFMT) === S_IFDIR;
}

/** rsync's clean_fname: no "." components or doubled slashes; a trailing slash is kept. */
function cleanName(p: string): string {
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  const lead = p.startsWith('/') ? '/' : '';
  const trail = parts.length && /\/\.?$/.test(p) && p !== '/' ? '/' : '';
  return lead + parts.join('/') + trail;
}

/**
 * -R: an operand as rsync's sender reads it: the first "/./" (searched from `from`) splits the part that
 * is dropped from the part that is kept; the kept part is cleaned, and a ".." in it is a usage error
 * (exit 1), since it could name something outside the transfer. Returns "dir/./kept", "kept", or
 * "dir/./" for a marker with nothing after it (the directory's contents, rsync's dot-dir).
 */
function normalizeRelative(raw: Buffer, from = 0, dotDirs?: Buffer[]): Buffer {
  const s = raw.toString('latin1');
  const m = s.indexOf('/./', from);
  // The dropped part names the root when empty ("/./x"), the working directory when it is only dots
  // ("./x" from --files-from's ".", "././x").
  const dir = m >= 0 ? cleanName(s.slice(0, m)) || (m === 0 ? '/' : '.') : undefined;
  const fn = m >= 0 ? s.slice(m + 3).replace(/^\/+/, '') : s;
  // A kept part written "./name" makes rsync send that directory itself too (its implied_dot_dir):
  // the destination root gets its attributes.
  if (fn.length > 2 && fn.startsWith('./')) dotDirs?.push(Buffer.from(dir ?? '.', 'latin1'));
  const kept = cleanName(m >= 0 ? fn : fn.replace(/^\/+/, '/'));
  if (kept.split('/').includes('..')) throw new UsageError(`found ".." dir in relative path: ${showPath(Buffer.from(kept, 'latin1'))}`, true);
  if (dir === undefined) return Buffer.from(kept || '.', 'latin1');
  const base = dir.endsWith('/') ? dir.slice(0, -1) : dir;
  return Buffer.from(kept === '' || kept === '/' ? `${base}/./` : `${base}/./${kept}`, 'latin1');
}

/**
 * rsync's sanitize_path for a --files-from line: relative to the source directory whatever it says
 * (leading slashes dropped), ".." removes the component before it and can never climb above, "."
 * components stay (a "/./" marker still counts), a trailing slash stays.
 */
function sanitizeLine(line: string): string {
  const out: string[] = [];
  const parts = line.split('/');
  let trail = line.endsWith('/');
  parts.forEach((part, i) => {
    if (part === '') return;
    if (part === '..') {
      out.pop();
      if (i === parts.length - 1) trail = out.length > 0;
      return;
    }
    out.push(part);
  });
  if (!out.length) return '.';
  return out.join('/') + (trail ? '/' : '');
}

const listsRead = new WeakMap<Config, Buffer>();

/**
 * The --files-from list's bytes, read from the operator's file (through no untrusted symlink: DESIGN §3
 * rule 8) or stdin; a list that cannot be read is a usage error (exit 1) before any I/O.
 */
export function readFilesFromList(c: Config): Buffer {
  // Read once per run: stdin cannot be read again, and the byte figures list the names a second time
  // (run/stream-list.ts).
  const had = listsRead.get(c);
  if (had) return had;
  try {
    let text: Buffer;
    if (c.filesFrom === '-') text = readFileSync(0);
    else {
      const at = resolveOperatorPath(Buffer.from(c.filesFrom!), { insecure: c.insecureLinks });
      if (!at.ok) throw new UsageError(`${UNTRUSTED_SYMLINK}\narsync: failed to open files-from file ${c.filesFrom}: ${ELOOP_TEXT}`);
      text = readFileSync(at.path);
    }
    listsRead.set(c, text);
    return text;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // rsync's words: the system's text for the errno alone.
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`failed to open files-from file ${c.filesFrom}: ${e.errno !== undefined ? errnoText(Math.abs(e.errno)) : e.message}`);
  }
}

/** How a --files-from list is read: NUL-separated (-0, or names another rsync forwarded), comments skipped (a local file). */
export interface ListReading {
  nul: boolean;
  comments: boolean;
}

/**
 * The sender's operands from a --files-from list (rsync's read_line and sanitize_path), each as
 * "SRC/./NAME" so -R keeps NAME: lines end at CR or LF (at NUL when `nul`); a NUL inside a line ends
 * the name there; empty lines are skipped, and with `comments` lines starting with '#' or ';'.
 */
export function filesFromOperands(base: Buffer, text: Buffer, how: ListReading, dotDirs: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  const isEnd = how.nul ? (b: number): boolean => b === 0 : (b: number): boolean => b === 0x0a || b === 0x0d;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || isEnd(text[i]!)) {
      let line = text.subarray(start, i);
      start = i + 1;
      const nul = line.indexOf(0);
      if (nul >= 0) line = line.subarray(0, nul);
      if (!line.length || (how.comments && (line[0] === 0x23 || line[0] === 0x3b))) continue;
      // Listed names are relative to the source directory: "/./" is implied after it unless the line
      // has its own marker.
      const name = sanitizeLine(line.toString('latin1'));
      const own = name.includes('/./');
      out.push(normalizeRelative(Buffer.concat([base, Buffer.from((own ? '/' : '/./') + name, 'latin1')]), own ? base.length + 1 : base.length, dotDirs));
    }
  }
  return out;
}

function readFilesFrom(c: Config, dotDirs: Buffer[]): Buffer[] {
  return filesFromOperands(stripSlashes(c.sources[0]!), readFilesFromList(c), { nul: c.from0, comments: true }, relativeDots(c, dotDirs));
}

/**
 * Where a --files-from line's "./" puts the source directory itself: only in -R's reading (rsync's
 * implied_dot_dir); --no-relative takes each name's last component and sends no ".".
 */
function relativeDots(c: Config, dotDirs: Buffer[]): Buffer[] {
  return c.relative ? dotDirs : [];
}

/**
 * A sending client's operands (a push): with --files-from, the list's names (`listed`: the bytes the
 * far side forwarded, NUL-separated, for a list on that machine); with -R, each source in its
 * "dir/./kept" form; otherwise the sources as given. `dotDirs` collects the directories a "./name"
 * makes rsync send as "." too.
 */
export function senderOperands(c: Config, listed: Buffer | undefined, dotDirs: Buffer[]): Buffer[] {
  if (c.filesFrom !== undefined) {
    if (c.sources.length !== 1) throw new UsageError('--files-from takes exactly one source directory');
    const base = stripSlashes(c.sources[0]!);
    return listed ? filesFromOperands(base, listed, { nul: true, comments: false }, relativeDots(c, dotDirs)) : readFilesFrom(c, dotDirs);
  }
  return c.relative ? c.sources.map((o) => normalizeRelative(o, 0, dotDirs)) : c.sources;
}

// An operand's directory, for a local copy's operands here and a push's walk (run/push-source.ts): one
// rsync's sender cannot enter is its "change_dir" error, whatever --ignore/--delete-missing-args say.

/**
 * The directory rsync's sender changes into before it looks at an operand (flist.c send_file_list and
 * change_pathname): without -R the part before the last slash, the operand itself for "dir/" or "dir/."
 * ("./" and "." stay here); with -R the part before "/./". undefined: the current directory.
 */
export function operandDir(op: Buffer, relative: boolean): Buffer | undefined {
  let s = op.toString('latin1');
  if (relative) {
    const m = s.indexOf('/./');
    return m < 0 ? undefined : Buffer.from(m === 0 ? '/' : s.slice(0, m), 'latin1');
  }
  if (s === '' || s.endsWith('/')) s = s === './' ? '.' : `${s}.`;
  else if (s === '..' || s.endsWith('/..')) s = `${s}/.`;
  const at = s.lastIndexOf('/');
  return at < 0 ? undefined : Buffer.from(at === 0 ? '/' : s.slice(0, at), 'latin1');
}

/** rsync's full_fname: a relative path after the current directory, as it is (nothing resolved). */
export function fullName(p: Buffer): string {
  const s = p.toString('latin1');
  return s.startsWith('/') ? s : `${process.cwd()}/${s}`;
}

/** Why the sender could not change into `dir` (an errno), or 0: it can (rsync's chdir, following symlinks). */
export function chdirErrno(dir: Buffer): number {
  try {
    if (!statSync(dir).isDirectory()) return ERRNO.ENOTDIR;
    accessSync(dir, fsConstants.X_OK);
    return 0;
  } catch (err) {
    return -((err as NodeJS.ErrnoException).errno ?? -ERRNO.ENOTDIR);
  }
}


/**
 * Work out roots and destination. `lstat` is the engine's, so names stay bytes; sources that are missing
 * are returned in `missing` (the caller reports them, goes on, and exits 23).
 */
/**
 * `keepOrder`: the roots stay in the operands' order, for the -vvv trace (run/trace.ts), which follows
 * rsync's sender building its list operand by operand.
 */
/**
 * `farSender`: a pull's local half, whose operands are the staged tree: the far side's sender already
 * reported what it could not find above a missing name, and left out what it left out (cli/pull.ts).
 */
export async function resolveOperands(c: Config, engineLstat: Lstat, inFilter?: Listed, keepOrder = false, farSender = false): Promise<{ plan: Plan; missing: MissingSource[]; skippedDirs: Buffer[] }> {
  const missing: MissingSource[] = [];
  const lstat = lstatBounded(engineLstat);
  if (c.filesFrom !== undefined && c.sources.length !== 1) {
    throw new UsageError('--files-from takes exactly one source directory');
  }
  const dotDirs: Buffer[] = [];
  // The operand whose "./" first implied the "." (rsync's sender sends it just before that operand).
  let dotAt = 0;
  let operands = c.filesFrom !== undefined ? readFilesFrom(c, dotDirs) : await expandGlobs(c, lstat, missing);
  if (c.relative && c.filesFrom === undefined) {
    operands = operands.map((o, i) => {
      const before = dotDirs.length;
      const n = normalizeRelative(o, 0, dotDirs);
      if (before === 0 && dotDirs.length) dotAt = i;
      return n;
    });
  }
  // Without -r, -d or --files-from (rsync's xfer_dirs off; --list-only lists them as -d does), a named
  // directory is left out of the list as rsync's sender meets it, operand by operand, before the
  // receiver makes the destination: "skipping directory NAME", and none of -R's implied directories
  // above it. The "." a "./name" implies is sent the same way, so it is skipped too, just before it.
  const skipsDirs = !c.dirs && !c.listOnly;
  const skippedDirs: Buffer[] = [];
  const present: { src: Buffer; stat: Stat; contents: boolean; slash: boolean }[] = [];
  const gone: { src: Buffer; lostParent?: LostParent }[] = [];
  const parents = c.relative && c.missingArgs === 'delete' && !farSender ? new ImpliedParents(c.incRecursive) : undefined;
  for (const [at, raw] of operands.entries()) {
    if (skipsDirs && at === dotAt && dotDirs.length && isDirStat(lstat(dotDirs[0]!))) skippedDirs.push(Buffer.from('.'));
    // "dir/." is "dir/", and "." is "./" (rsync's dot-dir); -R keeps its own reading of "/./".
    const contents = hasTrailingSlash(raw) || (!c.relative && dotDir(raw));
    const src = contents && dotDir(raw) && raw.length > 1 ? stripSlashes(raw.subarray(0, raw.length - 1)) : stripSlashes(raw);
    // --confine-root: a name a --files-from list selects must resolve inside DIR (explicit sources need not).
    if (c.confineRoot && c.filesFrom !== undefined) {
      const at = resolveOperatorPath(absolutePath(src), { insecure: c.insecureLinks, confine: c.confineRoot });
      if (!at.ok && at.confined) {
        // rsync's sender words it, naming the entry without the "/./" that marks its relative part.
        const named = showPath(src).replace('/./', '/');
        missing.push({ display: showPath(src), message: `[sender] link_stat "${named}" failed: ${ELOOP_TEXT}`, code: 'ELOOP' });
        continue;
      }
    }
    let st = lstat(src);
    // "link/" means the directory the link points to, as with rsync and the shell; "file/" (or a link
    // to a file, or a dangling one) is rsync's failed change_dir: reported, the run goes on, exit 23.
    if (!('errno' in st) && contents && (st.mode & S_IFMT) !== S_IFDIR) {
      let why: NodeJS.ErrnoException | undefined;
      try {
        const s = statSync(src);
        if (s.isDirectory()) st = { ...st, mode: s.mode, ino: s.ino, dev: s.dev };
        else why = Object.assign(new Error(), { errno: -ERRNO.ENOTDIR });
      } catch (err) {
        why = err as NodeJS.ErrnoException;
      }
      if (why) {
        const errno = Math.abs(why.errno ?? ERRNO.ENOTDIR);
        const shown = showPath(absolutePath(src));
        missing.push({ display: showPath(src), message: `[sender] change_dir "${shown}" failed: ${errnoSuffix(errno)}`, code: errnoCode(errno) });
        continue;
      }
    }
    // -L and -k: a link to a directory is that directory from here on (made under -d, which --files-from
    // brings; skipped without it), as run/walk.ts operandTaken follows it. A link to anything else, or to
    // nothing, is the entry's own step.
    if (!('errno' in st) && (st.mode & S_IFMT) === S_IFLNK && namedLinkFollowed(c, false)) {
      try {
        const s = statSync(src);
        if (s.isDirectory()) st = { ...st, mode: s.mode, ino: s.ino, dev: s.dev };
      } catch {
        // Dangling: the entry reports it.
      }
    }
    // rsync's sender changes into the operand's directory before it looks at the name: one it cannot
    // enter is its change_dir error, whatever --ignore/--delete-missing-args say (plan/operand-dir.ts).
    const cd = 'errno' in st && c.filesFrom === undefined ? operandDir(raw, c.relative) : undefined;
    const cdErrno = cd ? chdirErrno(cd) : 0;
    if (cdErrno) {
      missing.push({ display: showPath(src), message: `[sender] change_dir "${showPath(Buffer.from(fullName(cd!), 'latin1'))}" failed: ${errnoSuffix(cdErrno)}`, code: errnoCode(cdErrno) });
      continue;
    }
    if ('errno' in st && st.errno === ERRNO.ENOENT && c.missingArgs !== 'error') {
      // --ignore-missing-args drops the operand; --delete-missing-args deletes its destination twin.
      if (c.missingArgs === 'delete') {
        const lostParent = parents?.missing(src, missing);
        gone.push(lostParent ? { src, lostParent } : { src });
      }
      continue;
    }
    if ('errno' in st) {
      missing.push({ display: showPath(src), message: `[sender] link_stat "${showPath(cleanDots(absolutePath(src)))}" failed: ${errnoSuffix(st.errno)}`, code: errnoCode(st.errno) });
    } else {
      present.push({ src, stat: st, contents: contents && (st.mode & S_IFMT) === S_IFDIR, slash: contents });
      if (skipsDirs && (st.mode & S_IFMT) === S_IFDIR && skipSaid(c, src, contents, inFilter)) skippedDirs.push(skippedName(c, src, contents));
      // A directory skipped without -r or -d never gets as far as its implied directories.
      if (c.dirs || c.recursive || (st.mode & S_IFMT) !== S_IFDIR) parents?.present(src);
    }
  }
  // A directory that is itself a missing name in the list is no absent parent.
  const goneRels = new Set(gone.map((g) => relativePart(g.src).toString('latin1')));
  for (const g of gone) if (g.lostParent?.warn && goneRels.has(dirName(relativePart(g.src)).toString('latin1'))) g.lostParent.warn = false;

  // --list-only never looks at a destination (rsync's get_local_name() returns at once): the roots are
  // the sources as the sender names them.
  if (c.listOnly) {
    const roots: Root[] = present.map((p) => ({
      src: p.src,
      rel: c.relative ? relativePart(p.src) : p.contents ? Buffer.alloc(0) : Buffer.from(baseName(p.src)),
      contents: p.contents && !c.relative,
      dirOnly: !c.recursive && (p.stat.mode & S_IFMT) === S_IFDIR,
      oneLevel: p.slash || dotDir(p.src),
    }));
    // --delete-missing-args: a missing operand is in the list too (rsync's "*missing" line).
    for (const g of gone) roots.push(missingRoot(c, g));
    return { plan: { roots, destRoot: Buffer.from('/'), createDest: false }, missing, skippedDirs };
  }
  const dest = c.dest;
  const destSlash = hasTrailingSlash(dest);
  let destStat: ReturnType<typeof statSync> | undefined;
  // Why the destination could not be stat'ed, as a positive errno.
  let destErrno: number | undefined;
  try {
    if (dest.length >= PATH_MAX) throw Object.assign(new Error(), { errno: -ERRNO.ENAMETOOLONG, code: 'ENAMETOOLONG' });
    destStat = statSync(dest);
  } catch (err) {
    destErrno = Math.abs((err as NodeJS.ErrnoException).errno ?? ERRNO.EIO);
    destStat = undefined;
  }
  const destIsDir = destStat?.isDirectory() ?? false;
  // rsync's get_local_name(): a file list of one entry onto a missing name gets that name. A directory
  // skipped without -r or -d is not in the list; without -r, a named directory (-d) is one entry.
  const isDirAt = (p: { stat: Stat }): boolean => (p.stat.mode & S_IFMT) === S_IFDIR;
  const inList = present.filter((p) => c.dirs || !isDirAt(p));
  const skipped = present.filter((p) => !inList.includes(p));
  const single = operands.length - skipped.length === 1 && inList.length === 1 && !inList[0]!.contents && !c.relative;
  const singleIsDir = single && isDirAt(inList[0]!);
  const singleEntry = single && (!singleIsDir || (c.dirs && !c.recursive));
  const one = inList[0]!;

  // --mkpath: rsync's get_local_name() runs make_path wherever its stat of the destination failed (for
  // any reason) and the name has a directory part or the list more than one entry; a failing mkdir
  // there is exit 11, naming DEST as given ("mkdir "…/file/sub/" failed: Not a directory (20)"). Its
  // levels, all but the last for one entry or "dest/", are judged now and made by the run.
  let pathMade: Buffer[] | undefined;
  if (destErrno !== undefined && c.mkpath) {
    const total = firstListTotal(inList, c, inFilter);
    if (dest.includes(0x2f) || total > 1) {
      const judged = judgeMakePath(dest, !(total > 1 && !destSlash), { dryRun: c.dryRun, insecure: c.insecureLinks });
      if ('errno' in judged) throw fsError(judged.errno, 'mkdir', showPath(absolutePath(dest)));
      // Made, the path leaves DEST a directory or missing (its stat is ENOENT then); made nothing, the
      // first stat's answer stands.
      if (judged.made.length) {
        pathMade = judged.made;
        destErrno = ERRNO.ENOENT;
      }
    }
  }
  // Only a missing destination is made; anything else unknown there is rsync's exit 3.
  if (destErrno !== undefined && destErrno !== ERRNO.ENOENT) throw new FileSelectError(destStatFailure(dest, destErrno));

  // An empty first list (every entry excluded, or only directories skipped without -r or -d): unless
  // it names a directory to make ("dest/") or to enter, rsync's get_local_name() has nothing to refuse and
  // nothing to make, and the run transfers nothing (the skipped directories said so: skippedDirs).
  if (!destIsDir && !destSlash && !c.mkpath && !inList.some((p) => listedAtTop(p, inFilter))) {
    const parent = dirName(absolutePath(stripSlashes(dest)));
    return { plan: { roots: [], destRoot: parent.length ? parent : Buffer.from('/'), createDest: false, renamed: true }, missing, skippedDirs };
  }

  // One entry onto a path that is not a directory: copy to that name.
  if (singleEntry && !destIsDir && !destSlash && !(singleIsDir && destStat)) {
    if (destStat && destStat.ino === one.stat.ino && destStat.dev === one.stat.dev) {
      throw new UsageError(`source and destination are the same file: ${showPath(one.src)}`);
    }
    const parent = dirName(absolutePath(stripSlashes(dest)));
    const destRoot = parent.length ? parent : Buffer.from('/');
    let parentErrno: number | undefined;
    try {
      statSync(destRoot);
    } catch (err) {
      parentErrno = Math.abs((err as NodeJS.ErrnoException).errno ?? ERRNO.ENOENT);
    }
    const parentExists = parentErrno === undefined;
    // rsync's receiver changes into the directory the new name goes in (main.c get_local_name): one
    // --mkpath makes is there, and a dry run does not enter one it would make; any other missing one
    // (under a link that leads nowhere, which make_path leaves alone) fails.
    if (parentErrno !== undefined && !(c.mkpath && (c.dryRun || pathMade))) {
      throw new FileSelectError(`[Receiver] change_dir#3 "${showPath(destRoot)}" failed: ${errnoSuffix(parentErrno)}`);
    }
    return {
      plan: {
        roots: [{ src: one.src, rel: Buffer.from(baseName(dest)), contents: false, dirOnly: singleIsDir, display: Buffer.from(baseName(one.src)) }],
        destRoot,
        createDest: !parentExists,
        renamed: true,
        ...(pathMade ? { pathMade } : {}),
      },
      missing,
      skippedDirs,
    };
  }
  if (destStat && !destIsDir) {
    throw new FileSelectError(
      firstListTotal(inList, c, inFilter) > 1 ? 'ERROR: destination must be a directory when copying more than 1 file' : 'ERROR: cannot overwrite non-directory with a directory',
      missing,
    );
  }

  const destAbs = absolutePath(stripSlashes(dest));
  const destReal = realish(destAbs);
  const roots: Root[] = [];
  const dirRoots = new Set<Root>();
  for (const p of present) {
    const isDir = (p.stat.mode & S_IFMT) === S_IFDIR;
    if (isDir && skipsDirs) continue;
    if (isDir && c.recursive) {
      const srcReal = realish(absolutePath(p.src));
      const into = p.contents ? destReal : `${destReal}/${baseName(p.src).toString('latin1')}`;
      if (destReal === srcReal || destReal.startsWith(srcReal === '/' ? '/' : `${srcReal}/`) || into === srcReal) {
        throw new UsageError(`refusing to copy directory ${showPath(p.src)} into itself (destination ${showPath(dest)})`);
      }
    }
    if (!isDir && destStat) {
      // A file copied into a directory where it already lives.
      try {
        const there = lstatSync(Buffer.concat([destAbs, Buffer.from('/'), c.relative ? relativePart(p.src) : baseName(p.src)]));
        if (there.ino === p.stat.ino && there.dev === p.stat.dev) {
          throw new UsageError(`source and destination are the same file: ${showPath(p.src)}`);
        }
      } catch (err) {
        if (err instanceof UsageError) throw err;
      }
    }
    const rel = c.relative ? relativePart(p.src) : p.contents ? Buffer.alloc(0) : Buffer.from(baseName(p.src));
    const root: Root = {
      src: p.src,
      rel,
      contents: p.contents && !c.relative,
      // -d (and --files-from, which implies it) without -r: a directory is made, not entered; named
      // "dir/" or ".", its own entries are copied too (rsync's content dir).
      dirOnly: c.dirs && !c.recursive && isDir,
      oneLevel: p.slash || dotDir(p.src),
      ...(c.relative && keptFromRoot(p.src) ? { absolute: true } : {}),
    };
    roots.push(root);
    if (isDir) dirRoots.add(root);
  }
  for (const g of gone) roots.push(missingRoot(c, g));
  const dot = dotDirs[0];
  if (dot && !skipsDirs) {
    // -R "./name": the directory "." itself comes first, made and given its attributes, not walked.
    const st = lstat(dot);
    if (!('errno' in st) && (st.mode & S_IFMT) === S_IFDIR) roots.unshift({ src: dot, rel: Buffer.alloc(0), contents: false, dirOnly: true, impliedDot: true });
  }
  // The order of rsync's sorted file list, whatever the order of the operands or of --files-from's lines
  // (the -v and -i lines follow it). Array.prototype.sort is stable: "." and a content dir keep theirs.
  if (!keepOrder) {
    const keyed = roots.map((r) => ({ r, key: listKey(r.rel, dirRoots.has(r)) }));
    keyed.sort((a, b) => compareKeys(a.key, b.key));
    keyed.forEach((k, i) => (roots[i] = k.r));
  }
  if (!destStat && !c.mkpath) {
    // rsync makes only the last component of a missing destination.
    try {
      statSync(dirName(destAbs).length ? dirName(destAbs) : '/');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw fsError(-(e.errno ?? -2), 'mkdir', showPath(destAbs));
    }
  }
  // rsync makes a missing destination only for a file list that is not empty (or for "dest/"): a
  // directory skipped without -r or -d, or a missing operand, is not in it.
  const listed = present.some((p) => c.dirs || (p.stat.mode & S_IFMT) !== S_IFDIR);
  return { plan: { roots, destRoot: destAbs, createDest: !destStat && (listed || destSlash), ...(pathMade ? { pathMade } : {}) }, missing, skippedDirs };
}

/** Whether an operand's own entry is in the sender's list: "dir/" always (its "."), a name through the filter rules. */
function listedAtTop(p: { src: Buffer; stat: Stat; contents: boolean }, listed: Listed | undefined): boolean {
  if (p.contents || !listed) return true;
  return listed(dirName(absolutePath(p.src)), baseName(p.src), (p.stat.mode & S_IFMT) === S_IFDIR);
}

/**
 * How many entries the sender's first list holds, counted up to 2: what rsync's get_local_name() calls
 * file_total when it chooses between "more than 1 file" and "cannot overwrite non-directory". A lone
 * directory brings its own entries along (its contents with -r or a trailing slash; with -d only the
 * latter), each through the sender's filter rules.
 */
function firstListTotal(inList: readonly { src: Buffer; stat: Stat; contents: boolean }[], c: Config, listed: Listed | undefined): number {
  const ok = listed ?? (() => true);
  let total = 0;
  let lone: { src: Buffer; rel: Buffer; root: Buffer } | undefined;
  for (const p of inList) {
    if (!listedAtTop(p, listed)) continue;
    total++;
    const isDir = (p.stat.mode & S_IFMT) === S_IFDIR;
    const abs = absolutePath(p.src);
    lone = isDir && (c.recursive || p.contents) ? { src: p.src, rel: p.contents ? Buffer.alloc(0) : baseName(p.src), root: p.contents ? abs : dirName(abs) } : undefined;
  }
  if (total !== 1 || !lone) return total;
  let names: Buffer[];
  try {
    names = readdirSync(lone.src, { encoding: 'buffer' });
  } catch {
    return total;
  }
  for (const name of names) {
    const rel = lone.rel.length ? Buffer.concat([lone.rel, Buffer.from('/'), name]) : name;
    let isDir: boolean;
    try {
      isDir = lstatSync(Buffer.concat([lone.src, Buffer.from('/'), name])).isDirectory();
    } catch {
      continue;
    }
    if (ok(lone.root, rel, isDir)) return total + 1;
  }
  return total;
}

/**
 * rsync's file-list order of two relative paths (flist.c's f_name_cmp for protocol 29 and later): name
 * by name, bytes compared unsigned; within one directory its files come before its subdirectories, and a
 * directory before what is below it. `aDir`/`bDir`: whether the last name is a directory.
 */
export function listOrder(a: Buffer, aDir: boolean, b: Buffer, bDir: boolean): number {
  return compareKeys(listKey(a, aDir), listKey(b, bDir));
}

const compareKeys = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/**
 * A key whose order is listOrder's, so that a sort makes it once per path and compares strings (splitting
 * both paths on each comparison cost 3–4× as much CPU for 100,000 --files-from lines). The key's bytes
 * are read as latin1, one character each, so JavaScript's string order is their unsigned byte order.
 * Each name becomes its kind (0 file, 1 directory: files first), its bytes, and a 0 byte (a name holds no
 * 0 byte, so a name that is a prefix of another sorts first, as in a plain comparison); a directory's key
 * is a prefix of the keys below it.
 */
export function listKey(rel: Buffer, isDir: boolean): string {
  const key = Buffer.allocUnsafe(rel.length * 2 + 2);
  let n = 0;
  let from = 0;
  // The last name's end: a trailing "/" adds no name.
  let last = rel.length;
  while (last > 0 && rel[last - 1] === 0x2f) last--;
  for (let i = 0; i <= last; i++) {
    if (i < last && rel[i] !== 0x2f) continue;
    if (i > from) {
      key[n++] = i < last || isDir ? 1 : 0;
      n += rel.copy(key, n, from, i);
      key[n++] = 0;
    }
    from = i + 1;
  }
  return key.toString('latin1', 0, n);
}

/** A path as rsync's clean_fname() shows it: no "/./" (-R's marker, or the operator's own). */
function cleanDots(p: Buffer): Buffer {
  const s = p.toString('latin1');
  const clean = s.replace(/\/(?:\.\/)+/g, '/');
  return clean === s ? p : Buffer.from(clean, 'latin1');
}

/** "." or "dir/.": rsync's dot-dir name, which means the directory's contents as "dir/" does. */
function dotDir(src: Buffer): boolean {
  return (src.length === 1 && src[0] === 0x2e) || (src.length >= 2 && src[src.length - 1] === 0x2e && src[src.length - 2] === 0x2f);
}

/** rsync's line for a destination it cannot stat (other than missing): named as its full_fname names it. */
export function destStatFailure(dest: Buffer, errno: number): string {
  return `[Receiver] ERROR: cannot stat destination "${showPath(absolutePath(dest))}": ${errnoSuffix(errno)}`;
}

/** A --delete-missing-args operand that does not exist: listed under its name, with nothing to read. */
function missingRoot(c: Config, g: { src: Buffer; lostParent?: LostParent }): Root {
  const root: Root = { src: g.src, rel: c.relative ? relativePart(g.src) : Buffer.from(baseName(g.src)), contents: false, dirOnly: false, missing: true };
  if (c.relative && keptFromRoot(g.src)) root.absolute = true;
  if (g.lostParent) root.lostParent = g.lostParent;
  return root;
}

/**
 * -R with --delete-missing-args: the directories above each name, as rsync's sender sends them ahead of
 * it (flist.c send_implied_dirs, which follows symlinks), so that one missing above a missing name is
 * reported as rsync reports it: "file has vanished" (exit 24), or "symlink has no referent" for a
 * dangling link (exit 23). Without incremental recursion the sender skips the directories the previous
 * name shared with this one (up to its last slash, not its last directory: flist.c's lastpath), and
 * reports each missing one past them; with it, it walks down from the top for every name and stops at
 * the first one missing, leaving the name out.
 */
class ImpliedParents {
  /** The directory part of the last name whose directories were sent (non-incremental only). */
  private last = '';
  private readonly states = new Map<string, 'dir' | 'missing' | 'dangling' | 'other'>();

  constructor(private readonly inc: boolean) {}

  /** A name that is there: what the sender sent ahead of it is remembered, nothing is said. */
  present(src: Buffer): void {
    const dir = this.dirPart(src);
    if (dir !== undefined && !this.inc) this.sentAhead(dir);
  }

  /** A missing name: its lost directory, if any, with the sender's lines added to `said`. */
  missing(src: Buffer, said: MissingSource[]): LostParent | undefined {
    const dir = this.dirPart(src);
    if (dir === undefined) return undefined;
    const prefix = src.subarray(0, src.length - relativePart(src).length).toString('latin1');
    const all = prefixes(dir);
    const sent = this.inc ? all : this.sentAhead(dir);
    let found = '';
    for (const d of all) {
      if (this.state(prefix + d) !== 'dir') break;
      found = d;
    }
    if (found === dir) return undefined;
    for (const d of sent) {
      const state = this.state(prefix + d);
      if (state === 'dir' || state === 'other') continue;
      const path = Buffer.from(prefix + d, 'latin1');
      const shown = showPath(cleanDots(absolutePath(path)));
      if (state === 'missing') said.push({ display: showPath(path), message: `file has vanished: "${shown}"`, code: 'ENOENT', vanished: true, bare: true });
      else said.push({ display: showPath(path), message: `symlink has no referent: "${shown}"`, code: 'ENOENT', bare: true });
      if (this.inc) break;
    }
    return { found: Buffer.from(found, 'latin1'), leftOut: this.inc, warn: !this.inc };
  }

  /** The directory part of a name as the sender names it (its kept part), undefined when it has none. */
  private dirPart(src: Buffer): string | undefined {
    const rel = relativePart(src).toString('latin1');
    const at = rel.lastIndexOf('/');
    return at > 0 ? rel.slice(0, at) : undefined;
  }

  /** The directories the non-incremental sender sends ahead of a name in `dir` (flist.c's lastpath). */
  private sentAhead(dir: string): string[] {
    const last = this.last;
    if (last.startsWith(dir) && (last.length === dir.length || last[dir.length] === '/')) return [];
    let start = 0;
    for (let i = 0; i < dir.length && dir[i] === last[i]; i++) if (dir[i] === '/') start = i;
    this.last = dir;
    return prefixes(dir).filter((d) => d.length > start);
  }

  private state(path: string): 'dir' | 'missing' | 'dangling' | 'other' {
    let s = this.states.get(path);
    if (s) return s;
    try {
      s = statSync(Buffer.from(path, 'latin1')).isDirectory() ? 'dir' : 'other';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') s = 'other';
      else {
        try {
          s = lstatSync(Buffer.from(path, 'latin1')).isSymbolicLink() ? 'dangling' : 'missing';
        } catch {
          s = 'missing';
        }
      }
    }
    this.states.set(path, s);
    return s;
  }
}

/** Each directory of a path from the top, itself last ("a", "a/b" for "a/b"). */
function prefixes(dir: string): string[] {
  const out: string[] = [];
  for (let at = dir.indexOf('/'); at > 0; at = dir.indexOf('/', at + 1)) out.push(dir.slice(0, at));
  out.push(dir);
  return out;
}
