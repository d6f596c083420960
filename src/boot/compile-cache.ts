// Loads a CommonJS bundle through V8's code cache: the bytecode of the bundle's functions, as compiled by
// an earlier run, is read back instead of compiled again (about 20 ms of CPU on every run, most of what
// arsync costs above a bare `node` start on a small job; docs/benchmarks.md, "Fixed costs of small jobs").
// Node 20 has no module.enableCompileCache, so this does what it would: compile the bundle as a vm.Script
// with the cached data and run it as Node runs a CommonJS module.
//
// The cache is code this process will run, so only a directory nobody else can write is trusted: the
// user's own cache directory, 0700 and owned by the running user, each file 0600 and owned by the user.
// Anything else (no home, a shared or foreign directory, a read-only one) means no cache, never an error.
// V8 refuses data made for another source, V8 version or set of flags; such a file is replaced.

import * as fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';

/** Where the cache lives for this user, or undefined when there is no private place for it. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['ARSYNC_NO_COMPILE_CACHE'] || env['NODE_V8_COVERAGE']) return undefined;
  const base = env['XDG_CACHE_HOME'] || (env['HOME'] ? path.join(env['HOME'], '.cache') : undefined);
  if (!base || !path.isAbsolute(base)) return undefined;
  const dir = path.join(base, 'arsync', 'v8');
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    if (!st.isDirectory() || st.uid !== process.geteuid?.() || (st.mode & 0o077) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/** The cached data for `file`, if a trusted one exists. */
function readTrusted(cacheFile: string): Buffer | undefined {
  let fd = -1;
  try {
    fd = fs.openSync(cacheFile, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== process.geteuid?.() || (st.mode & 0o077) !== 0) return undefined;
    return fs.readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** Write the cache for `base` (replacing older ones of the same bundle): a private temp file, renamed. */
function writeCache(dir: string, cacheFile: string, base: string, data: Buffer): void {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, data, { flag: 'wx', mode: 0o600 });
    fs.renameSync(tmp, cacheFile);
    for (const old of fs.readdirSync(dir)) {
      if (old.startsWith(`${base}.`) && old.endsWith('.v8') && path.join(dir, old) !== cacheFile) fs.rmSync(path.join(dir, old), { force: true });
    }
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

export interface Loaded {
  exports: unknown;
  /** Whether V8 took the cached data. */
  cacheUsed: boolean;
  /** Writes a fresh cache when none was used (once; also done when the process exits). */
  save(): void;
}

/**
 * Runs the CommonJS file `file` as a module of `parent`, through the code cache in `dir` (or a plain
 * require without one). A fresh cache is written when the process exits, by then holding every function
 * the run compiled.
 */
export function runCached(file: string, parent: NodeJS.Module | undefined, dir: string | undefined = cacheDir()): Loaded {
  if (!dir) return { exports: createRequire(file)(file), cacheUsed: false, save: () => undefined };
  const source = fs.readFileSync(file, 'utf8');
  const st = fs.statSync(file);
  const base = path.basename(file);
  // Size, mtime and Node's version name the bundle and the V8 that compiled it; V8 checks the rest.
  const cacheFile = path.join(dir, `${base}.${st.size}-${Math.trunc(st.mtimeMs)}-${process.version}-${process.arch}.v8`);
  const cached = readTrusted(cacheFile);
  const script = new vm.Script(Module.wrap(source.replace(/^#!.*/, '')), {
    filename: file,
    ...(cached ? { cachedData: cached } : {}),
    // import() inside the bundle (piscina, fast-glob, cli-progress) resolves as in a normal module.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const cacheUsed = cached !== undefined && !script.cachedDataRejected;
  let saved = cacheUsed;
  const save = (): void => {
    if (saved) return;
    saved = true;
    writeCache(dir, cacheFile, base, script.createCachedData());
  };
  if (!cacheUsed) process.once('exit', save);
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: NodeJS.Module, filename: string, dirname: string) => void;
  const ModuleCtor = Module as unknown as new (id: string, parent?: NodeJS.Module) => NodeJS.Module;
  const mod = new ModuleCtor(file, parent);
  mod.filename = file;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  mod.loaded = true;
  return { exports: mod.exports, cacheUsed, save };
}
