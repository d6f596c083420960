// Where the native addon may be: the prebuilt shipped in the package for this platform, then a build from
// source (build/Release, made by `npm install` when no prebuilt fits, or by `npm run build` in a checkout).

import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One place the addon may be loaded from; `kind` is shown by -v. */
export interface AddonCandidate {
  path: string;
  kind: 'prebuilt addon' | 'addon built from source' | 'addon named by ARSYNC_ADDON';
}

/**
 * The C library Node runs on. Prebuilts are linked against glibc; loading one into a musl process may
 * "work" until a symbol is missing, so musl needs its own directory (`linux-x64-musl`). Node's ELF
 * interpreter names it (`/lib/ld-musl-x86_64.so.1`); reading it costs one small read, unlike
 * process.report (tens of milliseconds).
 */
export function libc(execPath = process.execPath): 'glibc' | 'musl' {
  let fd = -1;
  try {
    fd = openSync(execPath, 'r');
    const head = Buffer.alloc(4096);
    const n = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n).includes('/ld-musl-') ? 'musl' : 'glibc';
  } catch {
    return 'glibc';
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** The prebuild directory name for this process, in prebuildify's spelling. */
export function platformTag(): string {
  const tag = `${process.platform}-${process.arch}`;
  return process.platform === 'linux' && libc() === 'musl' ? `${tag}-musl` : tag;
}

/**
 * The package root, seen from the bundle (dist/bin.js, dist/worker.js) or from the sources
 * (src/engine/, when tests import them): the first of the two that has a package.json.
 */
function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..'), join(here, '..', '..')];
  return candidates.find((p) => existsSync(join(p, 'package.json'))) ?? candidates[0]!;
}

/** The addons to try, in order. ARSYNC_ADDON=<path> names one file and nothing else is tried. */
export function addonCandidates(override = process.env['ARSYNC_ADDON']): AddonCandidate[] {
  if (override && override.length > 0) return [{ path: override, kind: 'addon named by ARSYNC_ADDON' }];
  const root = packageRoot();
  const out: AddonCandidate[] = [];
  const prebuilt = join(root, 'prebuilds', platformTag(), 'arsync.node');
  if (existsSync(prebuilt)) out.push({ path: prebuilt, kind: 'prebuilt addon' });
  out.push({ path: join(root, 'build', 'Release', 'arsync.node'), kind: 'addon built from source' });
  return out;
}
