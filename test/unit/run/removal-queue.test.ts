import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBatch } from '../../../src/engine/batch.js';
import type { EngineContext, EngineOptions, OpFailure } from '../../../src/engine/types.js';
import type { Config } from '../../../src/model/config.js';
import { OpFlag, OpKind, Outcome } from '../../../src/model/ops.js';
import { S_IFREG, type Stat } from '../../../src/model/stat.js';
import { SourceAnchors } from '../../../src/plan/anchors.js';
import { RemovalQueue, removalsWait, type SourceRemoval } from '../../../src/run/removal-queue.js';
import { LocalSink } from '../../../src/run/sink.js';

const st = (ino = 1): Stat => ({ mode: S_IFREG | 0o644, uid: 0, gid: 0, size: 1, mtimeSec: 1, mtimeNsec: 0, ino, dev: 1, nlink: 1, rdev: 0, blocks: 0 });
const b = (s: string): Buffer => Buffer.from(s);
const removal = (name: string, sent: boolean): SourceRemoval => ({ src: b(`/s/${name}`), st: st(), anchor: 2, follow: false, name: b(name), sent });
const names = (rs: SourceRemoval[]): string[] => rs.map((r) => r.name.toString());

describe('RemovalQueue', () => {
  it('gives the sent removals in the order they were queued, and is empty after', () => {
    const q = new RemovalQueue();
    const a = q.add(removal('a', false));
    q.add(removal('b', true));
    q.add(removal('c', false));
    q.add(removal('d', true));
    a.sent = true;
    q.confirm(b('c'));
    expect(names(q.take())).toEqual(['a', 'b', 'c', 'd']);
    expect(q.take()).toEqual([]);
  });

  it('a removal whose op never said it was done stays out; waits() names it (run/redo.ts)', () => {
    const q = new RemovalQueue();
    q.add(removal('a', false));
    q.add(removal('b', true));
    expect(q.waits(b('a'))).toBe(true);
    expect(q.waits(b('b'))).toBe(false);
    expect(names(q.take())).toEqual(['b']);
  });

  it('waits only where one file may be listed under two names', () => {
    // (Only what removalsWait reads.)
    const none = { removeSourceFiles: false, dryRun: false, copyLinks: false, copyDirlinks: false, copyUnsafeLinks: false } as Config;
    const c = { ...none, removeSourceFiles: true };
    // Real directories: two apart, one below another, and a link beside them to the first.
    const top = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rq-'));
    for (const d of ['a/sub', 'a-b', 'c']) fs.mkdirSync(path.join(top, d), { recursive: true });
    fs.symlinkSync('a', path.join(top, 'la'));
    const roots = (...rels: string[]) => rels.map((r) => ({ src: Buffer.from(path.join(top, r)) }));
    try {
      expect(removalsWait(c, roots('a'))).toBe(false);
      expect(removalsWait(c, roots('a', 'c'))).toBe(false);
      // ("a-b" sorts between "a" and "a/sub": still found below "a".)
      expect(removalsWait(c, roots('a-b', 'a/sub', 'a'))).toBe(true);
      expect(removalsWait(c, roots('a-b', 'a'))).toBe(false);
      expect(removalsWait(c, roots('la', 'c', 'a'))).toBe(true);
      expect(removalsWait(c, roots('a', 'a'))).toBe(true);
      expect(removalsWait(c, roots('a', 'gone'))).toBe(false);
      // A --files-from list's names may go through links of their own.
      expect(removalsWait({ ...c, filesFrom: 'list' } as Config, roots('a', 'c'))).toBe(true);
      for (const k of ['copyLinks', 'copyDirlinks', 'copyUnsafeLinks'] as const) expect(removalsWait({ ...c, [k]: true }, roots('a')), k).toBe(true);
      expect(removalsWait({ ...c, copyLinks: true, dryRun: true }, roots('a'))).toBe(false);
      expect(removalsWait({ ...none, copyLinks: true }, roots('a', 'a/sub'))).toBe(false);
    } finally {
      fs.rmSync(top, { recursive: true, force: true });
    }
  });
});

describe('LocalSink with removals that wait', () => {
  /** A context that records each op's flags and answers `outcome` for the op named `failing`, Done for the rest. */
  function context(failing?: string, outcome: number = Outcome.Failed) {
    const flags: number[] = [];
    const ctx = {
      name: 'sync',
      run(batch: Uint8Array, outcomes?: Uint8Array): OpFailure[] {
        let i = 0;
        for (const op of readBatch(batch)) {
          flags.push(op.flags);
          if (outcomes) outcomes[i] = Buffer.from(op.dst).toString() === failing ? outcome : Outcome.Done;
          i++;
        }
        return [];
      },
      close() {},
    } as unknown as EngineContext;
    return { ctx, flags };
  }

  function sink(ctx: EngineContext, removals: RemovalQueue) {
    return new LocalSink({
      ctx,
      engineOptions: { engine: 'sync' } as EngineOptions,
      serialEngine: 'sync',
      workers: 0,
      inlineFirst: true,
      dryRun: false,
      eventNames: false,
      removals,
      anchors: new SourceAnchors(),
      fail: () => {},
      settled: () => {},
    });
  }

  it('sends the op without RemoveSource, queues its removal, and marks it sent by its outcome (Done or Equal)', async () => {
    const q = new RemovalQueue();
    const { ctx, flags } = context('b');
    const s = sink(ctx, q);
    expect(s.takesEncoded).toBe(false);
    s.add(OpKind.File, b('/s/a'), b('a'), st(1), OpFlag.RemoveSource | OpFlag.FollowSource);
    s.add(OpKind.File, b('/s/b'), b('b'), st(2), OpFlag.RemoveSource);
    s.add(OpKind.File, b('/s/c'), b('c'), st(3));
    await s.flush();
    await s.drain();
    expect(flags.map((f) => f & OpFlag.RemoveSource)).toEqual([0, 0, 0]);
    expect(flags[0]! & OpFlag.FollowSource).toBe(OpFlag.FollowSource);
    const sent = q.take();
    expect(names(sent)).toEqual(['a']);
    expect(sent[0]).toMatchObject({ src: b('/s/a'), follow: true, st: { ino: 1 } });
    await s.close();
  });

  it('a -c compare that found the file equal counts as sent', async () => {
    const q = new RemovalQueue();
    const s = sink(context('a', Outcome.Equal).ctx, q);
    s.add(OpKind.File, b('/s/a'), b('a'), st(), OpFlag.RemoveSource | OpFlag.Compare);
    await s.flush();
    await s.drain();
    expect(names(q.take())).toEqual(['a']);
    await s.close();
  });
});
