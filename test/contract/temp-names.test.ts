// rsync's temp-file names, written twice: native/temp.c (temp_stem) for the sync and uring engines and
// src/model/temp-name.ts for the node engine and -vvv's trace. Each engine runs File ops whose names
// stress the rule (a dot file, a trailing dot, names cut at 246 bytes, one inside a multibyte character),
// beside the target and in a --temp-dir, with room in run()'s outcome bytes for the temp letters
// (docs/native-contract.md, "run() outcomes"): the name built from the reported letters by the
// TypeScript rule must be the one the engine really created (seen through inotify) and renamed away.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BatchWriter } from '../../src/engine/batch.js';
import { openContext } from '../../src/engine/index.js';
import { nodeLstat } from '../../src/engine/node-walk.js';
import { COUNTER_SLOTS, OpKind, Outcome, Preserve } from '../../src/model/ops.js';
import { TEMP_LETTERS, tempName } from '../../src/model/temp-name.js';
import type { EngineName } from '../../src/model/config.js';
import { contractEngines, holdSharedLock } from './engines.js';

let release: (() => void) | undefined;
beforeAll(async () => {
  release = await holdSharedLock();
});
afterAll(() => release?.());

/** Names whose temp names differ from a plain `.NAME.XXXXXX` (bytes, latin1-spelt for the long UTF-8 one). */
const NAMES: Array<[label: string, name: Buffer]> = [
  ['plain', Buffer.from('f')],
  ['a dot file', Buffer.from('.dot')],
  ['a trailing dot', Buffer.from('trail.')],
  ['both', Buffer.from('.both.')],
  ['255 bytes', Buffer.from('n'.repeat(255))],
  ['247 bytes ending in a dot', Buffer.from(`${'m'.repeat(245)}.x`)],
  ['cut inside a two-byte character', Buffer.concat([Buffer.from('a'), Buffer.from('é'.repeat(127))])],
];

for (const engine of contractEngines()) {
  describe.skipIf(engine.skip !== null)(`temp names: ${engine.title}`, () => {
    tempNames(engine.name);
  });
}

function tempNames(name: EngineName): void {
  let base: string;
  let src: string;
  let dst: string;
  let tmp: string;

  beforeEach(() => {
    const root = fs.existsSync('/dev/shm') ? '/dev/shm' : (process.env['TMPDIR'] ?? '/tmp');
    base = fs.mkdtempSync(join(root, `arsync-tempname-${name}-`));
    src = join(base, 'src');
    dst = join(base, 'dst');
    tmp = join(base, 'tmp');
    for (const d of [src, dst, tmp]) fs.mkdirSync(d);
  });

  afterEach(() => {
    fs.rmSync(base, { recursive: true, force: true });
  });

  /** Runs one File op per name; returns the reported letters and every name created in `watched`. */
  async function copyAll(names: Buffer[], inTempDir: boolean): Promise<{ letters: string[]; created: Set<string>; outcomes: number[] }> {
    const w = new BatchWriter();
    for (const n of names) {
      const s = Buffer.concat([Buffer.from(`${src}/`), n]);
      fs.writeFileSync(s, 'data\n');
      const st = nodeLstat(s);
      if ('errno' in st) throw new Error(`lstat: ${st.errno}`);
      w.add(OpKind.File, s, n, st, 0, 0);
    }
    const created = new Set<string>();
    const watcher = fs.watch(inTempDir ? tmp : dst, { encoding: 'latin1' }, (_ev, f) => {
      if (f) created.add(f);
    });
    const ctx = openContext({
      engine: name,
      destRoot: Buffer.from(dst),
      flags: Preserve.Perms | Preserve.Times,
      umask: 0o022,
      queueDepth: 16,
      bufferSize: 64 * 1024,
      bufferCount: 4,
      direct: false,
      counters: new BigInt64Array(new SharedArrayBuffer(8 * COUNTER_SLOTS)),
      ...(inTempDir ? { tempDir: Buffer.from(tmp) } : {}),
    });
    const out = new Uint8Array(names.length * (1 + TEMP_LETTERS));
    try {
      expect(ctx.run(w.finish(), out)).toEqual([]);
    } finally {
      ctx.close();
    }
    // inotify's events come through the event loop.
    await new Promise((r) => setTimeout(r, 200));
    watcher.close();
    const letters = names.map((_n, i) => Buffer.from(out.subarray(names.length + i * TEMP_LETTERS, names.length + (i + 1) * TEMP_LETTERS)).toString('latin1'));
    return { letters, created, outcomes: [...out.subarray(0, names.length)] };
  }

  for (const inTempDir of [false, true]) {
    it(`each File op's temp name is rsync's, and the one it reports${inTempDir ? ' (--temp-dir)' : ''}`, async () => {
      const names = NAMES.map(([, n]) => n);
      const r = await copyAll(names, inTempDir);
      expect(r.outcomes).toEqual(names.map(() => Outcome.Done));
      NAMES.forEach(([label, n], i) => {
        expect(r.letters[i], label).toMatch(/^[A-Za-z0-9]{6}$/);
        const temp = tempName(n, inTempDir, r.letters[i]!).toString('latin1');
        expect(temp.length, label).toBeLessThanOrEqual(255);
        expect(r.created.has(temp), `${label}: ${temp} created`).toBe(true);
        expect(fs.readFileSync(Buffer.concat([Buffer.from(`${dst}/`), n]), 'utf8'), label).toBe('data\n');
      });
      // rsync's shapes, spelt out.
      const at = (label: string): string => tempName(NAMES.find(([l]) => l === label)![1], inTempDir, 'LETTER').toString('latin1');
      expect(at('a dot file')).toBe(inTempDir ? '.dot.LETTER' : '.dot.LETTER');
      expect(at('a trailing dot')).toBe(inTempDir ? 'trail.LETTER' : '.trail.LETTER');
      expect(at('both')).toBe(inTempDir ? '.both.LETTER' : '.both.LETTER');
      expect(at('plain')).toBe(inTempDir ? 'f.LETTER' : '.f.LETTER');
      expect(at('255 bytes')).toBe(`${inTempDir ? '' : '.'}${'n'.repeat(246)}.LETTER`);
      expect(at('247 bytes ending in a dot')).toBe(`${inTempDir ? '' : '.'}${'m'.repeat(245)}.LETTER`);
      expect(at('cut inside a two-byte character')).toBe(`${inTempDir ? '' : '.'}a.LETTER`);
      expect(fs.readdirSync(dst).filter((f) => /\.[A-Za-z0-9]{6}$/.test(f) && !names.some((n) => n.toString() === f))).toEqual([]);
    });
  }

  it('no room for the letters: the outcomes alone, as before', async () => {
    const w = new BatchWriter();
    fs.writeFileSync(join(src, 'f'), 'data\n');
    const st = nodeLstat(Buffer.from(join(src, 'f')));
    if ('errno' in st) throw new Error('lstat');
    w.add(OpKind.File, Buffer.from(join(src, 'f')), Buffer.from('f'), st, 0, 0);
    const ctx = openContext({
      engine: name,
      destRoot: Buffer.from(dst),
      flags: 0,
      umask: 0o022,
      queueDepth: 16,
      bufferSize: 64 * 1024,
      bufferCount: 4,
      direct: false,
      counters: new BigInt64Array(new SharedArrayBuffer(8 * COUNTER_SLOTS)),
    });
    const out = new Uint8Array(6);
    try {
      ctx.run(w.finish(), out);
    } finally {
      ctx.close();
    }
    expect([...out]).toEqual([Outcome.Done, 0, 0, 0, 0, 0]);
  });
}
