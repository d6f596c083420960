// The addon loader (native.ts with addon-path.ts): which addon is picked, what an ABI mismatch or a
// failed load says, and ARSYNC_ADDON=none. Candidates are small CommonJS files standing in for addons
// (process.dlopen, which the loader calls, is made to require them), so no build is needed to see every
// branch; test/e2e/fallback.test.ts loads real files that are not addons.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AddonCandidate } from '../../../src/engine/addon-path.js';
import { ADDON_ABI } from '../../../src/engine/native.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-loader-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stand-in addon answering abi() with `abi` (no abi() at all when undefined). */
function fakeAddon(name: string, abi: number | undefined): string {
  const p = path.join(dir, `${name}.cjs`);
  const body = abi === undefined ? 'module.exports = {};' : `module.exports = { abi: () => ({ abi: ${abi}, napi: 8 }), which: '${name}' };`;
  fs.writeFileSync(p, body);
  return p;
}

// The stand-ins are JavaScript: "loaded" as require loads them, their error (a syntax error, no file) thrown.
beforeEach(() => {
  vi.spyOn(process, 'dlopen').mockImplementation((m: object, file: string) => {
    (m as { exports: unknown }).exports = createRequire(import.meta.url)(file) as unknown;
  });
});
const savedEnv = process.env['ARSYNC_ADDON'];
afterEach(() => {
  vi.restoreAllMocks();
  if (savedEnv === undefined) delete process.env['ARSYNC_ADDON'];
  else process.env['ARSYNC_ADDON'] = savedEnv;
  vi.doUnmock('../../../src/engine/addon-path.js');
  vi.resetModules();
});

/** A fresh loader (its answer is cached per process), with `candidates` in place of the real places. */
async function loader(candidates?: AddonCandidate[]): Promise<typeof import('../../../src/engine/native.js')> {
  vi.resetModules();
  if (candidates) {
    vi.doMock('../../../src/engine/addon-path.js', async (orig) => ({
      ...(await orig<typeof import('../../../src/engine/addon-path.js')>()),
      addonCandidates: () => candidates,
    }));
  }
  return import('../../../src/engine/native.js');
}

describe('loadAddon', () => {
  it('ARSYNC_ADDON=none: no addon, and the reason and fix say so', async () => {
    process.env['ARSYNC_ADDON'] = 'none';
    const s = (await loader()).loadAddon();
    expect(s).toEqual({ ok: false, reason: 'native addon switched off with ARSYNC_ADDON=none', fix: 'unset ARSYNC_ADDON' });
  });

  it('takes the first candidate that loads with the expected ABI, and says which kind it is', async () => {
    const good = fakeAddon('good', ADDON_ABI);
    const s = (await loader([{ path: good, kind: 'prebuilt addon' }])).loadAddon();
    expect(s.ok && s.path).toBe(good);
    expect(s.ok && s.kind).toBe('prebuilt addon');
  });

  it('a prebuilt of another ABI is passed over for the build from source', async () => {
    const old = fakeAddon('old-prebuilt', ADDON_ABI + 1);
    const built = fakeAddon('built', ADDON_ABI);
    const s = (await loader([
      { path: old, kind: 'prebuilt addon' },
      { path: built, kind: 'addon built from source' },
    ])).loadAddon();
    expect(s.ok && s.path).toBe(built);
    expect(s.ok && s.kind).toBe('addon built from source');
  });

  it('none usable: the reason names what each candidate said (ABI mismatch, no abi(), no build)', async () => {
    const wrong = fakeAddon('wrong-abi', ADDON_ABI + 1);
    const none = fakeAddon('no-abi', undefined);
    const s = (await loader([
      { path: wrong, kind: 'prebuilt addon' },
      { path: none, kind: 'addon named by ARSYNC_ADDON' },
      { path: path.join(dir, 'missing', 'arsync.node'), kind: 'addon built from source' },
    ])).loadAddon();
    expect(s.ok).toBe(false);
    if (s.ok) return;
    expect(s.reason).toContain(`prebuilt addon ${wrong} has ABI ${ADDON_ABI + 1}, this arsync needs ${ADDON_ABI} (rebuild it)`);
    expect(s.reason).toContain(`${none} has ABI 0`);
    expect(s.reason).toContain(`no build from source in ${path.join(dir, 'missing', 'arsync.node')}`);
    expect(s.fix).toMatch(/liburing-dev/);
  });

  it('only a missing build from source: says there is neither a prebuilt nor a build', async () => {
    const missing = path.join(dir, 'nowhere', 'arsync.node');
    const s = (await loader([{ path: missing, kind: 'addon built from source' }])).loadAddon();
    expect(s.ok).toBe(false);
    if (!s.ok) expect(s.reason).toMatch(/^native addon not loaded \(no prebuilt for linux-\S+ and no build in .*nowhere\/arsync\.node\)$/);
  });

  it('a file that does not load: its error is in the reason', async () => {
    const broken = path.join(dir, 'broken.cjs');
    fs.writeFileSync(broken, 'this is not javascript (');
    const s = (await loader([{ path: broken, kind: 'addon named by ARSYNC_ADDON' }])).loadAddon();
    expect(s.ok).toBe(false);
    if (!s.ok) expect(s.reason).toContain(`addon named by ARSYNC_ADDON ${broken} did not load (`);
  });

  it('ARSYNC_ADDON=<path>: that file alone is tried', async () => {
    const named = fakeAddon('named', ADDON_ABI);
    process.env['ARSYNC_ADDON'] = named;
    const s = (await loader()).loadAddon();
    expect(s.ok && s.path).toBe(named);
    expect(s.ok && s.kind).toBe('addon named by ARSYNC_ADDON');
  });

  it('the answer is kept for the process: the addon is loaded once', async () => {
    const native = await loader([{ path: fakeAddon('once', ADDON_ABI), kind: 'prebuilt addon' }]);
    expect(native.loadAddon()).toBe(native.loadAddon());
  });
});

describe('isFailure', () => {
  it('an { errno, syscall } value is a failure; typed arrays, buffers and null are not', async () => {
    const { isFailure } = await loader();
    expect(isFailure({ errno: 2, syscall: 'open' })).toBe(true);
    expect(isFailure(new Float64Array(12))).toBe(false);
    expect(isFailure(Buffer.from('x'))).toBe(false);
    expect(isFailure(null)).toBe(false);
  });
});
