import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outsideConfinement, resolveOperatorPath } from '../../../src/plan/operator-path.js';

// As root the "other user" is nobody (lchown); otherwise our own links stand in for another
// user's by resolving as if we were someone else.
const uid = process.getuid?.() ?? 0;
const asOther = uid === 0 ? {} : { euid: uid + 1 };
const mine = uid === 0 ? {} : { euid: uid };

let d: string;
beforeAll(() => {
  d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-oppath-unit-')));
  fs.mkdirSync(path.join(d, 'real/sub'), { recursive: true });
  fs.writeFileSync(path.join(d, 'real/sub/file'), 'x');
  fs.symlinkSync(path.join(d, 'real'), path.join(d, 'abs'));
  fs.symlinkSync('real/sub', path.join(d, 'rel'));
  fs.symlinkSync('loop', path.join(d, 'loop'));
  fs.symlinkSync(path.join(d, 'real'), path.join(d, 'planted'));
  if (uid === 0) fs.lchownSync(path.join(d, 'planted'), 65534, 65534);
});
afterAll(() => fs.rmSync(d, { recursive: true, force: true }));

const B = (s: string): Buffer => Buffer.from(s);
const resolved = (p: string, o = {}): string => {
  const r = resolveOperatorPath(B(p), { insecure: false, ...mine, ...o });
  if (!r.ok) throw new Error(`refused: ${r.link.toString()}`);
  return r.path.toString();
};

describe('resolveOperatorPath', () => {
  it('follows trusted symlinks (absolute and relative targets) and returns a path without any', () => {
    expect(resolved(`${d}/abs/sub/file`)).toBe(`${d}/real/sub/file`);
    expect(resolved(`${d}/rel/file`)).toBe(`${d}/real/sub/file`);
    // ".." after a symlink is the target's parent, as the kernel sees it.
    expect(resolved(`${d}/rel/../sub/./file`)).toBe(`${d}/real/sub/file`);
  });

  it('resolves relative paths from cwd', () => {
    expect(resolved('abs/sub', { cwd: B(d) })).toBe(`${d}/real/sub`);
  });

  it('keeps a missing tail as given and says it does not exist', () => {
    const r = resolveOperatorPath(B(`${d}/abs/new/deeper`), { insecure: false, ...mine });
    expect(r).toEqual({ ok: true, path: B(`${d}/real/new/deeper`), exists: false });
  });

  it("refuses another user's symlink anywhere on the path, leaf included", () => {
    for (const p of [`${d}/planted`, `${d}/planted/sub/file`, `${d}/planted/missing`]) {
      const r = resolveOperatorPath(B(p), { insecure: false, ...(uid === 0 ? {} : asOther) });
      expect(r.ok, p).toBe(false);
      if (!r.ok) expect(r.link.toString()).toBe(`${d}/planted`);
    }
  });

  it('--insecure-links follows it (and still returns the resolved path)', () => {
    expect(resolved(`${d}/planted/sub`, { insecure: true, ...asOther })).toBe(`${d}/real/sub`);
  });

  it('stops a symlink loop', () => {
    expect(resolveOperatorPath(B(`${d}/loop/x`), { insecure: false, ...mine }).ok).toBe(false);
  });
});

describe('--confine-root (rsync 3.5 abspath_outside_confinement)', () => {
  it('judges a resolved path: inside, an ancestor of the root, or outside', () => {
    const root = B('/a/b');
    expect(outsideConfinement(B('/a/b'), root)).toBe(false);
    expect(outsideConfinement(B('/a/b/c/d'), root)).toBe(false);
    expect(outsideConfinement(B('/'), root)).toBe(false);
    expect(outsideConfinement(B('/a'), root)).toBe(false);
    expect(outsideConfinement(B('/a/bc'), root)).toBe(true);
    expect(outsideConfinement(B('/a/c'), root)).toBe(true);
    expect(outsideConfinement(B('/x'), root)).toBe(true);
    expect(outsideConfinement(B('/x'), undefined)).toBe(false);
    expect(outsideConfinement(B('/x'), B('/'))).toBe(false);
  });

  it('refuses a path that leaves the root by "..", through a symlink, or spelled absolute; allows one inside', () => {
    const confine = B(path.join(d, 'real'));
    const walk = (p: string) => resolveOperatorPath(B(p), { insecure: false, ...mine, confine });
    expect(walk(path.join(d, 'real/sub/file'))).toMatchObject({ ok: true, exists: true });
    expect(walk(path.join(d, 'abs/sub/file'))).toMatchObject({ ok: true, path: B(path.join(d, 'real/sub/file')) });
    fs.mkdirSync(path.join(d, 'other'), { recursive: true });
    expect(walk(path.join(d, 'real/sub/../../other'))).toMatchObject({ ok: false, confined: true });
    // The root's ancestors are passed through on the way (rsync: "still descending").
    expect(walk(path.join(d, 'real/sub/../..'))).toMatchObject({ ok: true, path: B(d) });
    expect(walk(path.join(d, 'real/../nothing'))).toMatchObject({ ok: false, confined: true });
    expect(walk(path.join(d, 'rel'))).toMatchObject({ ok: true });
    expect(resolveOperatorPath(B(path.join(d, 'real/missing')), { insecure: false, ...mine, confine: B(path.join(d, 'real/sub')) })).toMatchObject({ ok: false, confined: true });
    expect(walk('/etc')).toMatchObject({ ok: false, confined: true });
    // Relative paths start at the current directory, as rsync's walk starts at getcwd().
    expect(resolveOperatorPath(B('../x'), { insecure: false, ...mine, confine, cwd: B(path.join(d, 'real')) })).toMatchObject({ ok: false, confined: true });
  });
});
