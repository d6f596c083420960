import { describe, expect, it } from 'vitest';
import { BatchWriter } from '../../../src/engine/batch.js';
import { OpFlag, OpKind, Outcome } from '../../../src/model/ops.js';
import { S_IFREG, type Stat } from '../../../src/model/stat.js';
import type { EngineContext, EngineOptions, OpFailure } from '../../../src/engine/types.js';
import { SourceAnchors } from '../../../src/plan/anchors.js';
import { BATCH_BYTES, BATCH_OPS, LocalSink, type Pending } from '../../../src/run/sink.js';
import { ERRNO } from '../../../src/util/errors.js';
import { readBatch } from '../../../src/engine/batch.js';
import { INLINE_BUDGET } from '../../../src/pool/dispatcher.js';
import { FileMark } from '../../../src/progress/file-progress.js';

const st = (size = 1): Stat => ({ mode: S_IFREG | 0o644, uid: 0, gid: 0, size, mtimeSec: 1, mtimeNsec: 0, ino: 1, dev: 1, nlink: 1, rdev: 0, blocks: 0 });
const b = (s: string): Buffer => Buffer.from(s);

/** An engine context that records each batch it runs and answers with the failures `answer` gives. */
function fakeContext(answer: (batch: Uint8Array, call: number) => OpFailure[] = () => [], outcome: number = Outcome.Done) {
  const runs: { kind: number; dst: string; anchor: number; target: string | undefined }[][] = [];
  const ctx = {
    name: 'sync',
    run(batch: Uint8Array, outcomes?: Uint8Array): OpFailure[] {
      runs.push([...readBatch(batch)].map((o) => ({ kind: o.kind, dst: Buffer.from(o.dst).toString(), anchor: o.anchor, target: o.target && Buffer.from(o.target).toString() })));
      outcomes?.fill(outcome);
      return answer(batch, runs.length - 1);
    },
    close() {},
  } as unknown as EngineContext;
  return { ctx, runs };
}

function sink(ctx: EngineContext | undefined, o: { dryRun?: boolean; fileMark?: (size: number) => FileMark; anchors?: SourceAnchors; workers?: number } = {}) {
  const failed: OpFailure[] = [];
  const settled: { p: Pending; o: number }[] = [];
  const s = new LocalSink({
    ctx,
    engineOptions: { engine: 'sync' } as EngineOptions,
    serialEngine: 'sync',
    workers: o.workers ?? 0, // 0: every batch runs inline on the fake context
    inlineFirst: true,
    dryRun: o.dryRun ?? false,
    fileMark: o.fileMark,
    eventNames: false,
    anchors: o.anchors ?? new SourceAnchors(),
    fail: (f) => failed.push(f),
    settled: (p, out) => settled.push({ p, o: out }),
  });
  return { s, failed, settled };
}

describe('OpSink (local)', () => {
  it(`streams: a batch goes at ${BATCH_OPS} ops, not before`, async () => {
    const { ctx, runs } = fakeContext();
    const { s } = sink(ctx);
    for (let i = 0; i < BATCH_OPS - 1; i++) {
      s.add(OpKind.File, b(`/s/${i}`), b(`${i}`), st());
      await s.maybeFlush();
    }
    expect(runs.length).toBe(0);
    expect(s.queued).toBe(BATCH_OPS - 1);
    s.add(OpKind.File, b('/s/last'), b('last'), st());
    await s.maybeFlush();
    expect(runs.length).toBe(1);
    expect(runs[0]!.length).toBe(BATCH_OPS);
    expect(s.queued).toBe(0);
  });

  it(`streams: a batch goes at ${BATCH_BYTES} bytes of file data (other ops carry none)`, async () => {
    const { ctx, runs } = fakeContext();
    const { s } = sink(ctx);
    s.add(OpKind.Symlink, b('/s/l'), b('l'), st(BATCH_BYTES));
    await s.maybeFlush();
    expect(runs.length).toBe(0);
    s.add(OpKind.File, b('/s/a'), b('a'), st(BATCH_BYTES - 1));
    await s.maybeFlush();
    expect(runs.length).toBe(0);
    s.add(OpKind.File, b('/s/b'), b('b'), st(1));
    await s.maybeFlush();
    expect(runs.map((r) => r.map((o) => o.dst))).toEqual([['l', 'a', 'b']]);
  });

  it(`streams: while the job runs inline, a batch goes at half the inline bound (${INLINE_BUDGET.batchBytes / 2} bytes), not at ${BATCH_BYTES}`, async () => {
    // Two workers allowed, but the job has not proved large: batches run here, and are cut small so that
    // their data alone does not start the pool (a re-sync of 1% of a tree's files stays on this thread).
    const { ctx, runs } = fakeContext();
    const { s } = sink(ctx, { workers: 2 });
    const cut = INLINE_BUDGET.batchBytes / 2;
    s.add(OpKind.File, b('/s/a'), b('a'), st(cut - 1));
    await s.maybeFlush();
    expect(runs.length).toBe(0);
    s.add(OpKind.File, b('/s/b'), b('b'), st(cut - 1));
    await s.maybeFlush();
    s.add(OpKind.File, b('/s/c'), b('c'), st(1));
    await s.maybeFlush();
    s.add(OpKind.File, b('/s/d'), b('d'), st(cut));
    await s.maybeFlush();
    // Both batches ran on the fake (inline) context: no worker was started for them.
    expect(runs.map((r) => r.map((o) => o.dst))).toEqual([['a', 'b'], ['c', 'd']]);
    await s.close();
  });

  it('streams each op with its source anchor; outcomes come back to settled() for the ops that asked', async () => {
    const { ctx, runs } = fakeContext(() => [], Outcome.Equal);
    const anchors = new SourceAnchors();
    anchors.add(b('/top/src'));
    const { s, settled } = sink(ctx, { anchors });
    const pending: Pending = { kind: 'reg', verdict: { action: 'create' }, line: { name: '', fullName: '', suffix: '', size: 0, bytes: 0, mode: 0, uid: 0, gid: 0, mtimeSec: 0, op: 'recv' }, size: 1 };
    s.add(OpKind.File, b('/top/src/a'), b('a'), st());
    s.add(OpKind.File, b('/top/src/b'), b('b'), st(), OpFlag.Compare, pending);
    await s.flush();
    expect(runs[0]!.map((o) => o.anchor)).toEqual([8, 8]);
    expect(settled).toEqual([{ p: pending, o: Outcome.Equal }]);
  });

  it('--progress: every file op gets a mark and is settled, without a pending of its own', async () => {
    const { ctx } = fakeContext();
    const marks: FileMark[] = [];
    const { s, settled } = sink(ctx, { fileMark: (size) => (marks.push(new FileMark(size)), marks.at(-1)!) });
    s.add(OpKind.Mkdir, b('/s/d'), b('d'), st());
    s.add(OpKind.File, b('/s/a'), b('a'), st(5));
    await s.flush();
    expect(marks.map((m) => m.size)).toEqual([5]);
    expect(settled.length).toBe(1);
    expect(settled[0]!.p.mark).toBe(marks[0]);
    expect(settled[0]!.p.size).toBe(5);
    // The batch's outcome bytes are shared with the mark, at the op's index.
    expect(marks[0]!.index).toBe(1);
    expect(marks[0]!.batch).toBe(1);
    expect(marks[0]!.shared?.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('now(): runs here at once; an op out of descriptors waits for retryFdShortage, with its anchor and target', async () => {
    const { ctx, runs } = fakeContext((_b, call) =>
      call === 0
        ? [
            { index: 0, errno: ERRNO.EACCES, syscall: 'mkdir', path: b('d1'), onDest: true },
            { index: 1, errno: ERRNO.EMFILE, syscall: 'open', path: b('l'), onDest: false },
          ]
        : [],
    );
    const { s, failed } = sink(ctx);
    const w = new BatchWriter();
    w.add(OpKind.Mkdir, b('/s/d1'), b('d1'), st());
    w.add(OpKind.Symlink, b('/s/l'), b('l'), st(), 0, 3, b('target'));
    s.now(w);
    expect(runs.length).toBe(1);
    expect(failed.map((f) => f.errno)).toEqual([ERRNO.EACCES]);
    expect(w.count).toBe(0);
    await s.retryFdShortage();
    expect(runs.length).toBe(2);
    expect(runs[1]).toEqual([{ kind: OpKind.Symlink, dst: 'l', anchor: 3, target: 'target' }]);
    await s.retryFdShortage(); // nothing left
    expect(runs.length).toBe(2);
  });

  it('later(): held until runLater, in order', () => {
    const { ctx, runs } = fakeContext();
    const { s } = sink(ctx);
    s.later(OpKind.Backup, b('/d/x~'), b('x'), st());
    s.later(OpKind.Hardlink, b('y'), b('x'), st());
    expect(runs.length).toBe(0);
    s.runLater();
    expect(runs[0]!.map((o) => o.kind)).toEqual([OpKind.Backup, OpKind.Hardlink]);
  });

  it('-n: nothing runs, whichever way it is sent', async () => {
    const { ctx, runs } = fakeContext();
    const { s } = sink(ctx, { dryRun: true });
    s.add(OpKind.File, b('/s/a'), b('a'), st());
    await s.flush();
    const w = new BatchWriter();
    w.add(OpKind.Mkdir, b('/s/d'), b('d'), st());
    s.now(w);
    s.later(OpKind.Hardlink, b('a'), b('c'), st());
    s.runLater();
    await s.drain();
    expect(runs.length).toBe(0);
    expect(sink(undefined).s.unlinkSource(b('/s/a'), st(), 0, false)).toBeNull();
  });

  it('addEncoded(): ops encoded elsewhere are cut into batches where add() would cut them (ops and bytes)', async () => {
    const { ctx, runs } = fakeContext();
    const { s } = sink(ctx);
    expect(s.takesEncoded).toBe(true);
    // Three ops queued the ordinary way, then BATCH_OPS + 10 encoded ones: the first batch takes
    // BATCH_OPS - 3 of them, the rest wait in the next.
    for (let i = 0; i < 3; i++) s.add(OpKind.File, b(`/s/a${i}`), b(`a${i}`), st());
    const w = new BatchWriter();
    for (let i = 0; i < BATCH_OPS + 10; i++) w.add(OpKind.File, b(`/s/e${i}`), b(`e${i}`), st(), 0, 3);
    await s.addEncoded(w.finish(), BATCH_OPS + 10);
    expect(runs.length).toBe(1);
    expect(runs[0]!.length).toBe(BATCH_OPS);
    expect(runs[0]!.slice(0, 4).map((o) => o.dst)).toEqual(['a0', 'a1', 'a2', 'e0']);
    expect(runs[0]![BATCH_OPS - 1]!.dst).toBe(`e${BATCH_OPS - 4}`);
    expect(s.queued).toBe(13);
    await s.flush();
    expect(runs[1]!.map((o) => o.dst)).toEqual(Array.from({ length: 13 }, (_, i) => `e${BATCH_OPS - 3 + i}`));
    expect(runs[1]![0]!.anchor).toBe(3);

    // File data: a batch goes once it carries BATCH_BYTES, as with add().
    const big = new BatchWriter();
    const each = BATCH_BYTES / 4;
    for (let i = 0; i < 6; i++) big.add(OpKind.File, b(`/s/b${i}`), b(`b${i}`), st(each));
    await s.addEncoded(big.finish(), 6);
    expect(runs.length).toBe(3);
    expect(runs[2]!.map((o) => o.dst)).toEqual(['b0', 'b1', 'b2', 'b3']);
    expect(s.queued).toBe(2);
  });

  it('takesEncoded is false when each File op\'s outcome is wanted (--progress), or nothing runs (-n)', () => {
    const { ctx } = fakeContext();
    expect(sink(ctx, { fileMark: (size) => new FileMark(size) }).s.takesEncoded).toBe(false);
    expect(sink(ctx, { dryRun: true }).s.takesEncoded).toBe(false);
  });
});
