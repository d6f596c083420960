import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDirBeneath, openSourceDir, openSourceParent, procPath, splitSource } from '../../../src/engine/node-beneath.js';
import { loadAddon, nativeScanDir } from '../../../src/engine/native.js';
import { nodeScanDir } from '../../../src/engine/node-walk.js';

const B = (s: string): Buffer => Buffer.from(s, 'latin1');
let base: string;

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-beneath-'));
  fs.mkdirSync(path.join(base, 'src', 'd', 'e'), { recursive: true });
  fs.writeFileSync(path.join(base, 'src', 'd', 'e', 'f'), 'inside');
  fs.mkdirSync(path.join(base, 'secret'));
  fs.writeFileSync(path.join(base, 'secret', 'f'), 'secret');
  fs.symlinkSync(path.join(base, 'secret'), path.join(base, 'src', 'swapped'));
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

describe('splitSource (native/source.c split_path)', () => {
  const parts = (src: string, anchor: number): string[] => {
    const s = splitSource(B(src), anchor);
    return [s.anchor.toString('latin1'), s.parent.toString('latin1'), s.name.toString('latin1'), String(s.whole)];
  };
  it('takes the given anchor, or the path\'s own directory', () => {
    expect(parts('/a/src/d/e/f', 6)).toEqual(['/a/src', 'd/e', 'f', 'false']);
    expect(parts('/a/src/f', 7)).toEqual(['/a/src/', '', 'f', 'false']);
    expect(parts('/a/src/d/e/f', 0)).toEqual(['/a/src/d/e', '', 'f', 'false']);
    expect(parts('f', 0)).toEqual(['.', '', 'f', 'false']);
    expect(parts('/f', 0)).toEqual(['/', '', 'f', 'false']);
  });
  it('a path that is its own anchor is whole; an anchor inside a name counts as none', () => {
    expect(parts('/a/src/', 7)[3]).toBe('true');
    expect(parts('/a/src', 6)[3]).toBe('true');
    expect(parts('/a/src/d/f', 4)).toEqual(['/a/src/d', '', 'f', 'false']);
  });
});

describe('resolution beneath a held directory', () => {
  it('opens the walk\'s part without following a symlink anywhere in it', () => {
    const root = fs.openSync(path.join(base, 'src'), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      const fd = openDirBeneath(root, B('d/e'));
      expect(fs.readFileSync(procPath(fd, B('f')), 'utf8')).toBe('inside');
      fs.closeSync(fd);
      expect(() => openDirBeneath(root, B('swapped'))).toThrow(expect.objectContaining({ code: 'ELOOP' }) as Error);
      expect(() => openDirBeneath(root, B('d/../..'))).toThrow(expect.objectContaining({ code: 'EXDEV' }) as Error);
    } finally {
      fs.closeSync(root);
    }
  });

  it('a source below a swapped directory is "changed" (ESTALE); listing it fails with ELOOP', () => {
    const src = B(path.join(base, 'src'));
    const s = splitSource(Buffer.concat([src, B('/swapped/f')]), src.length);
    expect(() => openSourceParent(s)).toThrow(expect.objectContaining({ code: 'ESTALE' }) as Error);
    expect(() => openSourceDir(Buffer.concat([src, B('/swapped')]), src.length)).toThrow(expect.objectContaining({ code: 'ELOOP' }) as Error);
    const fd = openSourceParent(splitSource(Buffer.concat([src, B('/d/e/f')]), src.length))!;
    expect(fs.readFileSync(procPath(fd, B('f')), 'utf8')).toBe('inside');
    fs.closeSync(fd);
  });
});

describe('the addon and the node walker resolve anchors alike (native/source.c, node-beneath.ts)', () => {
  const addon = loadAddon();
  it.skipIf(!addon.ok)('lists or refuses the same directories for the same anchors', () => {
    if (!addon.ok) return;
    const src = path.join(base, 'src');
    const n = B(src).length;
    const cases: [string, number][] = [
      [src, 0],
      [src, n],
      [`${src}/`, n + 1],
      [`${src}/d`, n],
      [`${src}/d/e`, n],
      [`${src}/d/e`, 0],
      [`${src}/swapped`, n],
      [`${src}/swapped`, 0],
      [`${src}/swapped/`, n],
      [`${src}/d/e`, n - 1], // inside a name: no anchor
      [`${src}/missing`, n],
    ];
    for (const [p, anchor] of cases) {
      const a = nativeScanDir(addon.addon, B(p), anchor);
      const b = nodeScanDir(B(p), false, anchor);
      const show = (r: typeof a): string => ('errno' in r ? `errno ${r.errno}` : r.names.map(String).sort().join(','));
      expect(show(b), `${p} anchor ${anchor}`).toBe(show(a));
    }
  });
});
