import { describe, expect, it } from 'vitest';
import { SourceAnchors } from '../../../src/plan/anchors.js';
import { joinPath } from '../../../src/util/names.js';

const B = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('source anchors', () => {
  it('is 0 (the path\'s own directory) when nothing is registered or nothing matches', () => {
    const a = new SourceAnchors();
    expect(a.of(B('/src/x'))).toBe(0);
    a.add(B('/src/'));
    expect(a.of(B('/srcx/y'))).toBe(0);
    expect(a.of(B('/other/src/y'))).toBe(0);
  });

  it('ends at the registered directory, with or without its trailing slash; the longest one wins', () => {
    const a = new SourceAnchors();
    a.add(B('/src/'));
    expect(a.of(B('/src/d/f'))).toBe(4);
    expect(a.of(B('/src'))).toBe(4);
    expect(a.of(B('/src/'))).toBe(5);
    a.add(B('/src/d/link/'));
    expect(a.of(B('/src/d/link/x/y'))).toBe(11);
    expect(a.of(B('/src/d/other'))).toBe(4);
  });

  it('works on raw name bytes', () => {
    const a = new SourceAnchors();
    a.add(Buffer.from([0x72, 0xff, 0x2f]));
    expect(a.of(Buffer.from([0x72, 0xff, 0x2f, 0x61]))).toBe(2);
  });

  it('ofEntryIn(dir) is what of() gives each entry joined into dir (the direct path asks once per directory)', () => {
    const a = new SourceAnchors();
    const dirs = ['/', '.', 'src', 'src/', 'src//', '/src', '/src/d', '/src/d/', '/src/d/link', '/src/d/link/', '/srcx', 'rel/src/d', ''];
    const check = (): void => {
      for (const d of dirs) {
        const dir = B(d);
        expect(a.ofEntryIn(dir), `${JSON.stringify(d)}`).toBe(a.of(joinPath(dir, B('name'))));
      }
    };
    check();
    for (const r of ['/src/', '.', '/', 'src', '/src/d/link/', 'rel/src']) {
      a.add(B(r));
      check();
    }
  });
});
