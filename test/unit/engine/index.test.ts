// Engine selection (index.ts) and what each engine is (engine.ts): `auto` on tmpfs takes sync, a failed
// io_uring probe takes sync, no addon takes node with its reason; the capabilities the rest of arsync
// asks for instead of the name. The addon is a stand-in whose probe answers what each case needs.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AddonState } from '../../../src/engine/native.js';
import { isFailure } from '../../../src/model/failure.js';
import { COUNTER_SLOTS } from '../../../src/model/ops.js';

const EPERM = 1;
const TMPFS = Buffer.from('/dev/shm');
/** A directory on a disk (not tmpfs/ramfs), where io_uring measured faster. */
const DISK = Buffer.from(process.cwd());

afterEach(() => {
  vi.doUnmock('../../../src/engine/native.js');
  vi.resetModules();
});

/** index.ts with loadAddon answering `state` (a stand-in addon whose uringProbe returns `probe`). */
async function withAddon(probe: number | 'missing', extra: object = {}): Promise<typeof import('../../../src/engine/index.js')> {
  vi.resetModules();
  const state: AddonState =
    probe === 'missing'
      ? { ok: false, reason: 'native addon not loaded (test)', fix: 'build it' }
      : { ok: true, path: '/fake/arsync.node', kind: 'addon built from source', addon: { uringProbe: () => -probe, ...extra } as never };
  vi.doMock('../../../src/engine/native.js', async (orig) => ({
    ...(await orig<typeof import('../../../src/engine/native.js')>()),
    loadAddon: () => state,
  }));
  return import('../../../src/engine/index.js');
}

/** engine.ts (what each engine is) loaded beside index.ts with the same stand-in addon. */
async function enginesWithAddon(probe: number | 'missing'): Promise<typeof import('../../../src/engine/engine.js')> {
  await withAddon(probe);
  return import('../../../src/engine/engine.js');
}

const hasShm = fs.existsSync('/dev/shm');

describe('selectEngine', () => {
  it.skipIf(!hasShm)('auto with both sides on tmpfs: sync, and says why', async () => {
    const { selectEngine } = await withAddon(0);
    const e = selectEngine('auto', [TMPFS, Buffer.from('/dev/shm/not-made-yet/dst')]);
    expect('error' in e).toBe(false);
    if ('error' in e) return;
    expect(e.name).toBe('sync');
    expect(e.reason).toMatch(/^source and destination are in memory \(tmpfs\).*; addon built from source$/);
  });

  it('auto with one side on a disk: uring', async () => {
    const { allInMemory, selectEngine } = await withAddon(0);
    expect(allInMemory([DISK])).toBe(false);
    const e = selectEngine('auto', [TMPFS, DISK]);
    expect('error' in e ? e.error : e.name).toBe('uring');
    if (!('error' in e)) expect(e.reason).toBe('io_uring is available; addon built from source');
  });

  it('auto when the io_uring probe fails: sync, and the reason names the errno', async () => {
    const { selectEngine } = await withAddon(EPERM);
    const e = selectEngine('auto', [DISK]);
    if ('error' in e) throw new Error(e.error);
    expect(e.name).toBe('sync');
    expect(e.reason).toBe("io_uring_setup failed: EPERM; using the addon's plain-syscall engine; addon built from source");
  });

  it('--engine=uring when the probe fails: an error naming io_uring', async () => {
    const { selectEngine } = await withAddon(EPERM);
    expect(selectEngine('uring', [DISK])).toEqual({ error: '--engine=uring cannot run here: io_uring_setup failed: EPERM' });
  });

  it('--engine=uring and --engine=sync are taken as asked when they can run', async () => {
    const { selectEngine } = await withAddon(0);
    for (const name of ['uring', 'sync'] as const) {
      const e = selectEngine(name, [TMPFS]);
      if ('error' in e) throw new Error(e.error);
      expect(e.name).toBe(name);
      expect(e.reason).toBe(`requested with --engine=${name}; addon built from source`);
    }
  });

  it('no addon: auto takes node with the reason, a warning and the fix; uring/sync are refused', async () => {
    const { selectEngine } = await withAddon('missing');
    const e = selectEngine('auto', [DISK]);
    if ('error' in e) throw new Error(e.error);
    expect(e.name).toBe('node');
    expect(e.reason).toBe('native addon not loaded (test); using the pure-Node engine');
    expect(e.warning).toMatch(/^warning: native addon not loaded \(test\), so this run uses the slower node engine .* To fix: build it\.$/);
    expect(e.missingAddon).toEqual({ reason: 'native addon not loaded (test)', fix: 'build it' });
    for (const name of ['uring', 'sync'] as const) {
      const r = selectEngine(name, [DISK]);
      expect('error' in r && r.error).toMatch(new RegExp(`^--engine=${name} needs the native addon, which is not available: native addon not loaded \\(test\\)\\. To fix: build it$`));
    }
  });

  it('--engine=node needs no addon and says it was asked for', async () => {
    const { selectEngine } = await withAddon('missing');
    const e = selectEngine('node');
    expect('error' in e ? e.error : [e.name, e.reason, e.warning]).toEqual(['node', 'requested with --engine=node', undefined]);
  });
});

describe('engine capabilities', () => {
  it('node: microsecond times, no xattrs, no tree scan, runs serially as itself', async () => {
    const { selectEngine } = await withAddon('missing');
    const e = selectEngine('node');
    if ('error' in e) throw new Error(e.error);
    expect(e.caps).toEqual({ timeResolutionNs: 1000, xattrs: false, treeScan: false, serial: 'node', offThread: undefined });
  });

  it('uring and sync: nanosecond times, xattrs, tree scan, and sync as the serial engine', async () => {
    const { selectEngine } = await withAddon(0);
    for (const name of ['uring', 'sync'] as const) {
      const e = selectEngine(name, [DISK]);
      if ('error' in e) throw new Error(e.error);
      expect(e.caps).toEqual({ timeResolutionNs: 1, xattrs: true, treeScan: true, serial: 'sync', offThread: undefined });
    }
  });

  it('an addon with runAsync: both engines lend sync contexts to native threads (a ring stays on its thread)', async () => {
    const { selectEngine } = await withAddon(0, { runAsync: () => Promise.resolve([]) });
    for (const name of ['uring', 'sync'] as const) {
      const e = selectEngine(name, [DISK]);
      if ('error' in e) throw new Error(e.error);
      expect(e.caps.offThread, name).toBe('sync');
    }
  });

  it('engines by name are made once; an addon engine where the addon does not load cannot open a context', async () => {
    const { engineNamed } = await enginesWithAddon('missing');
    expect(engineNamed('node')).toBe(engineNamed('node'));
    expect(() => engineNamed('sync').openContext({} as never)).toThrow('the sync engine needs the native addon: native addon not loaded (test)');
  });

  it('a context opened through an engine is of that engine, whatever name the options carry', async () => {
    const { engineNamed } = await enginesWithAddon('missing');
    const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-engine-')));
    try {
      const counters = new BigInt64Array(new SharedArrayBuffer(COUNTER_SLOTS * 8));
      const opts = { engine: 'uring', destRoot: Buffer.from(root), flags: 0, umask: 0o022, queueDepth: 8, bufferSize: 65536, bufferCount: 2, direct: false, counters } as const;
      const ctx = engineNamed('node').openContext(opts);
      expect(ctx.name).toBe('node');
      ctx.close();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('the walker helpers of the node engine answer like lstat', async () => {
    const { engineNamed } = await enginesWithAddon('missing');
    const node = engineNamed('node');
    const st = node.lstat(DISK);
    expect(isFailure(st)).toBe(false);
    if (!isFailure(st)) expect(st.ino).toBe(Number(fs.lstatSync(DISK.toString(), { bigint: true }).ino));
    expect(node.lstat(Buffer.from('/nonexistent-arsync'))).toEqual({ errno: 2, syscall: 'lstat' });
  });
});
