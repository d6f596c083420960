// src/remote/zlib-sync.ts: Node's zlib handle driven synchronously keeps its stream across calls, flushes
// on demand, resets per file and reports a bad stream as a ProtocolError. If a Node release changes the
// internal handle this module uses, these tests fail first.

import { constants, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SyncZlib, Z_NO_FLUSH, Z_SYNC_FLUSH } from '../../../src/remote/zlib-sync.js';
import { ProtocolError } from '../../../src/remote/wire.js';

describe('SyncZlib', () => {
  it("its flush values are zlib's (written out so that node:zlib loads only with -z)", () => {
    expect(Z_NO_FLUSH).toBe(constants.Z_NO_FLUSH);
    expect(Z_SYNC_FLUSH).toBe(constants.Z_SYNC_FLUSH);
  });

  it('deflates across calls with one dictionary, each sync flush ending in 00 00 ff ff', () => {
    const d = new SyncZlib('deflate', 6);
    const text = Buffer.from('the same words again and again; '.repeat(20));
    const a = d.all(text, Z_NO_FLUSH);
    const b = d.all(Buffer.alloc(0), Z_SYNC_FLUSH);
    expect(b.subarray(-4)).toEqual(Buffer.from([0, 0, 0xff, 0xff]));
    // The second copy refers back into the first: far smaller than it.
    const c = d.all(text, Z_SYNC_FLUSH);
    expect(c.length).toBeLessThan(20);
    expect(inflateRawSync(Buffer.concat([a, b, c]), { finishFlush: Z_SYNC_FLUSH })).toEqual(Buffer.concat([text, text]));
    d.reset();
    const e = d.all(text, Z_SYNC_FLUSH);
    expect(inflateRawSync(e, { finishFlush: Z_SYNC_FLUSH })).toEqual(text);
    d.close();
  });

  it('inflates a step at a time into a bounded output, keeping the rest of its input', () => {
    const d = new SyncZlib('deflate', 9);
    const big = Buffer.alloc(100_000, 'a');
    const z = d.all(big, Z_SYNC_FLUSH);
    d.close();
    const i = new SyncZlib('inflate');
    i.feed(z);
    const parts: Buffer[] = [];
    for (let n = 0; n < 100; n++) {
      const { out, full } = i.step(Z_NO_FLUSH, 4096);
      expect(out.length).toBeLessThanOrEqual(4096);
      parts.push(out);
      if (!full && i.pending === 0) break;
    }
    expect(Buffer.concat(parts)).toEqual(big);
    i.close();
  });

  it('a corrupt stream is a ProtocolError', () => {
    const i = new SyncZlib('inflate');
    expect(() => i.all(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]), Z_SYNC_FLUSH)).toThrow(ProtocolError);
    i.close();
  });
});
