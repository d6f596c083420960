// src/remote/pull.ts rebuildFile: a file rebuilt from the plain token stream comes out byte for byte,
// however its literal runs and basis blocks interleave, however the wire's bytes arrive in pieces, past
// the megabyte write span and past the most pieces one writev takes (the literal runs are written from
// the connection's own bytes, gathered as views, and the blocks through the write buffer).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { strong } from '../../../src/remote/checksum.js';
import { Conn } from '../../../src/remote/conn.js';
import { rebuildFile } from '../../../src/remote/pull.js';
import { PlainTokenReader, PlainTokenWriter } from '../../../src/remote/tokens.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Bytes that differ from place to place (so a piece written at the wrong offset shows). */
const bytes = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + (i >> 8)) & 0xff));

describe('rebuildFile', () => {
  it.each([
    ['whole 64 KiB chunks', 1 << 16],
    ['small pieces', 97],
  ])('rebuilds literal runs and basis blocks in order, wire bytes arriving in %s', async (_what, chunk) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-rebuild-'));
    dirs.push(dir);
    const blength = 700;
    const basis = bytes(blength * 40 + 123, 1);
    fs.writeFileSync(path.join(dir, 'basis'), basis);
    // 300 short literal runs (more than one writev takes), blocks between them, 2.5 MiB of literal data
    // (past the write span), a run of blocks, the last (short) block, a literal tail.
    const sent: Buffer[] = [];
    const w = new PlainTokenWriter((b) => sent.push(Buffer.from(b)));
    const want: Buffer[] = [];
    const lit = (b: Buffer): void => {
      w.literal(b);
      want.push(b);
    };
    const block = (i: number): void => {
      w.match(i);
      want.push(basis.subarray(i * blength, Math.min(basis.length, (i + 1) * blength)));
    };
    for (let i = 0; i < 300; i++) {
      lit(bytes(50 + (i % 7), i));
      if (i % 50 === 0) block(i % 40);
    }
    lit(bytes(2_500_000, 3));
    w.matchRun(10, 20);
    for (let i = 10; i < 30; i++) want.push(basis.subarray(i * blength, (i + 1) * blength));
    block(40);
    lit(bytes(1000, 4));
    w.end();
    const expected = Buffer.concat(want);
    const sum = strong('md5');
    const h = sum.file();
    h.update(expected);
    const wire = Buffer.concat([...sent, h.digest()]);

    const input = new PassThrough();
    const conn = new Conn(input, new PassThrough(), () => {});
    // Fed piece by piece, so the reader's views come from several of the connection's stores.
    void (async () => {
      for (let at = 0; at < wire.length; at += chunk) {
        input.write(wire.subarray(at, at + chunk));
        if ((at / chunk) % 64 === 0) await new Promise((r) => setImmediate(r));
      }
      input.end();
    })();
    const out = path.join(dir, 'out');
    const head = { count: 41, blength, s2length: 16, remainder: basis.length % blength };
    const totals = { literal: 0, matched: 0 };
    const ok = await rebuildFile(
      conn,
      {
        ndx: 1,
        size: expected.length,
        basis: { size: basis.length, open: () => fs.openSync(path.join(dir, 'basis'), 'r') },
        openOut: () => ({ fd: fs.openSync(out, 'w+', 0o600), empty: true }),
      },
      head,
      sum,
      new PlainTokenReader(conn, head.count),
      totals,
      Buffer.allocUnsafe(1 << 20),
    );
    expect(ok).toBe(true);
    expect(fs.readFileSync(out).equals(expected)).toBe(true);
    expect(totals.literal + totals.matched).toBe(expected.length);
    // Six single blocks (every 50th run), the run of 20, the short last block.
    expect(totals.matched).toBe(6 * blength + 20 * blength + (basis.length % blength));
  });
});
