// Which prebuilt the loader looks for: the C library is read from Node's ELF interpreter.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addonCandidates, libc, platformTag } from '../../../src/engine/addon-path.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-libc-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A file that starts like an ELF executable whose interpreter is `interp`. */
function fakeExe(name: string, interp: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(600), Buffer.from(`${interp}\0`), Buffer.alloc(100)]));
  return p;
}

describe('libc', () => {
  it('musl when the interpreter is ld-musl', () => {
    expect(libc(fakeExe('musl-node', '/lib/ld-musl-x86_64.so.1'))).toBe('musl');
    expect(libc(fakeExe('musl-arm-node', '/lib/ld-musl-aarch64.so.1'))).toBe('musl');
  });

  it('glibc for a glibc interpreter, for this Node, and when the file cannot be read', () => {
    expect(libc(fakeExe('glibc-node', '/lib64/ld-linux-x86-64.so.2'))).toBe('glibc');
    expect(libc(process.execPath)).toBe('glibc');
    expect(libc(path.join(dir, 'missing'))).toBe('glibc');
  });
});

describe('addonCandidates', () => {
  it('ARSYNC_ADDON=<path> is the only candidate', () => {
    expect(addonCandidates('/x/y.node')).toEqual([{ path: '/x/y.node', kind: 'addon named by ARSYNC_ADDON' }]);
  });

  it('otherwise ends with the build from source in the package root', () => {
    const c = addonCandidates('');
    expect(c.at(-1)?.kind).toBe('addon built from source');
    expect(c.at(-1)?.path).toMatch(/\/build\/Release\/arsync\.node$/);
    expect(fs.existsSync(path.join(path.dirname(path.dirname(path.dirname(c.at(-1)!.path))), 'package.json'))).toBe(true);
  });

  it('the tag is platform-arch', () => {
    expect(platformTag()).toBe(`${process.platform}-${process.arch}`);
  });
});
