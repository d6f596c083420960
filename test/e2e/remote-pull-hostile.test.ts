// A hostile sender cannot make a pull write outside its destination: a remote shell that plays back a
// crafted server stream (the handshake, a file list, the ends of the phases) instead of running rsync.
// Each stream carries one attack (a name with "..", an absolute name, a symlink followed by an entry
// below it, a name longer than rsync allows, an answer for a file never asked for, -X lists with counts,
// lengths or names past rsync's bounds); the run must end with rsync's exit code for it, and nothing may
// appear outside the destination.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEngines } from '../helpers/e2e.js';
import { runCli, show } from '../helpers/cli.js';
import { frame } from '../../src/remote/mux.js';
import { int32, varint, varlong } from '../../src/remote/wire.js';

let root: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-hostile-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const LONG_NAME = 0x40;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

interface Ent {
  name: string | Buffer;
  mode: number;
  size?: number;
  link?: string;
  /** A name length to claim instead of the real one. */
  claimLen?: number;
}

/** One entry, old-style flags (one byte; compat flags 0): each field sent in full. */
function entry(e: Ent): Buffer {
  const name = Buffer.isBuffer(e.name) ? e.name : Buffer.from(e.name);
  const parts = [Buffer.from([LONG_NAME]), varint(e.claimLen ?? name.length), name, varlong(e.size ?? 0, 3), varlong(1_600_000_000, 4), int32(e.mode)];
  if (e.link !== undefined) parts.push(varint(e.link.length), Buffer.from(e.link));
  return Buffer.concat(parts);
}

/** A whole server stream: protocol 31, no compat flags, seed, then the muxed list and the run's end. */
function stream(entries: Ent[], after: Buffer = Buffer.from([0, 0, 0])): Buffer {
  const data = Buffer.concat([
    ...entries.map(entry),
    Buffer.from([0]), // end of the list
    after, // the echoes of phase 0, 1 and 2's ends
    varlong(0, 3), varlong(0, 3), varlong(0, 3), varlong(0, 3), varlong(0, 3), // statistics
    Buffer.from([0]), // the goodbye's answer
  ]);
  return Buffer.concat([int32(31), varint(0), int32(1234), frame(0, data)]);
}

describeEngines((e) => {
  let n = 0;
  let dst: string;
  let outside: string;
  beforeEach(() => {
    n++;
    dst = path.join(root, `dst-${e.name}-${n}`);
    outside = path.join(root, `outside-${e.name}-${n}`);
    fs.mkdirSync(outside);
  });

  /** Runs a pull against a "server" that plays back `bytes` and reads whatever the client says. */
  async function pullFrom(bytes: Buffer, opts: string[] = ['-rlt']) {
    const file = path.join(root, `stream-${e.name}-${n}`);
    fs.writeFileSync(file, bytes);
    const rsh = path.join(root, `rsh-${e.name}-${n}`);
    fs.writeFileSync(rsh, `#!/bin/sh\ncat '${file}'\nexec cat >/dev/null\n`, { mode: 0o755 });
    return runCli([`--engine=${e.name}`, ...opts, '-e', rsh, 'host:src/', `${dst}/`], { timeoutMs: 30_000 });
  }

  const nothingOutside = (): void => {
    expect(fs.readdirSync(outside)).toEqual([]);
  };

  it('a name with ".." ends the run with rsync\'s "unsafe pathname" (exit 4)', async () => {
    const r = await pullFrom(stream([{ name: '.', mode: S_IFDIR | 0o755 }, { name: `../${path.basename(outside)}/evil`, mode: S_IFREG | 0o644, size: 4 }]));
    expect(r.code, show(r)).toBe(4);
    expect(r.stderr).toMatch(/unsafe pathname from sender/);
    nothingOutside();
  });

  it('under --iconv a name that only its conversion makes ".." or absolute is refused the same way (exit 4)', async () => {
    // glibc's ASCII//TRANSLIT turns "\u2025" (two-dot leader) into ".." and "\u2215" (division slash) into "/".
    const up = `\u2025/${path.basename(outside)}/evil`;
    const abs = outside.split('/').join('\u2215') + '\u2215evil';
    for (const name of [up, abs]) {
      const r = await pullFrom(stream([{ name: '.', mode: S_IFDIR | 0o755 }, { name: Buffer.from(name), mode: S_IFREG | 0o644, size: 4 }]), ['-rlt', '--iconv=ASCII//TRANSLIT,UTF-8']);
      expect(r.code, show(r)).toBe(4);
      expect(r.stderr).toMatch(/unsafe pathname from sender/);
      nothingOutside();
    }
  });

  it('an absolute name is refused the same way', async () => {
    const r = await pullFrom(stream([{ name: '.', mode: S_IFDIR | 0o755 }, { name: `${outside}/evil`, mode: S_IFREG | 0o644, size: 4 }]));
    expect(r.code, show(r)).toBe(4);
    nothingOutside();
  });

  it('a symlink and then an entry below it: the entry is refused (exit 23), nothing is written through the link', async () => {
    const r = await pullFrom(
      stream([
        { name: '.', mode: S_IFDIR | 0o755 },
        { name: 'ln', mode: S_IFLNK | 0o777, link: outside },
        { name: 'ln/evil', mode: S_IFDIR | 0o755 },
        { name: 'ln/evil/x', mode: S_IFLNK | 0o777, link: '/etc/passwd' },
      ]),
    );
    expect(r.code, show(r)).toBe(23);
    expect(r.stderr).toMatch(/refusing ln\/evil from the sender/);
    expect(fs.readlinkSync(path.join(dst, 'ln'))).toBe(outside);
    nothingOutside();
  });

  it('symlinks out of the tree sent under -L, -k or --copy-unsafe-links are never followed on this side', async () => {
    // A sender honouring those options lists what the links lead to; this one sends the links. rsync's
    // receiving side clears the three options (main.c do_recv): nothing of what they lead to is read.
    fs.writeFileSync(path.join(outside, 'secret'), 'secret\n');
    fs.mkdirSync(path.join(outside, 'dir'));
    fs.writeFileSync(path.join(outside, 'dir', 'inner'), 'inner\n');
    // (A link's target is in the list only under -l.)
    const list = (links: boolean): Buffer =>
      stream([
        { name: '.', mode: S_IFDIR | 0o755 },
        { name: 'dl', mode: S_IFLNK | 0o777, ...(links ? { link: path.join(outside, 'dir') } : {}) },
        { name: 'ln', mode: S_IFLNK | 0o777, ...(links ? { link: path.join(outside, 'secret') } : {}) },
        { name: 'rel', mode: S_IFLNK | 0o777, ...(links ? { link: '../../' } : {}) },
      ]);
    for (const opts of [['-rt', '-L'], ['-rt', '-k'], ['-rt', '--copy-unsafe-links'], ['-rlt', '-L'], ['-rlt', '-k']]) {
      fs.rmSync(dst, { recursive: true, force: true });
      const r = await pullFrom(list(opts.includes('-rlt')), opts);
      expect(r.code, `${opts.join(' ')}: ${show(r)}`).toBe(0);
      for (const name of ['dl', 'ln', 'rel']) {
        const at = path.join(dst, name);
        // Skipped as a non-regular file without -l, made as the link it is with -l: never what it leads to.
        if (opts.includes('-rlt')) expect(fs.lstatSync(at).isSymbolicLink(), `${opts.join(' ')}: ${name}`).toBe(true);
        else expect(fs.existsSync(at) || fs.lstatSync(at, { throwIfNoEntry: false }) !== undefined, `${opts.join(' ')}: ${name}`).toBe(false);
      }
      if (!opts.includes('-rlt')) expect(r.stdout + r.stderr).toContain('skipping non-regular file "ln"');
      expect(fs.readdirSync(outside).sort()).toEqual(['dir', 'secret']);
    }
  });

  it('a name sent as a file and, further on, as a directory is the directory (rsync clears the other), in a list not in order', async () => {
    const r = await pullFrom(
      stream([
        { name: '.', mode: S_IFDIR | 0o755 },
        { name: 'z', mode: S_IFLNK | 0o777, link: 'x' },
        { name: 'a', mode: S_IFREG | 0o644, size: 3 },
        { name: 'a-b', mode: S_IFDIR | 0o755 },
        { name: 'a', mode: S_IFDIR | 0o755 },
        { name: 'a/l', mode: S_IFLNK | 0o777, link: 'y' },
      ]),
      ['-rl'],
    );
    // Had the file been kept, its request would find no answer in the stream.
    expect(r.code, show(r)).toBe(0);
    expect(fs.statSync(path.join(dst, 'a')).isDirectory()).toBe(true);
    expect(fs.readlinkSync(path.join(dst, 'a', 'l'))).toBe('y');
    expect(fs.readlinkSync(path.join(dst, 'z'))).toBe('x');
    expect(fs.readdirSync(dst).sort()).toEqual(['a', 'a-b', 'z']);
    nothingOutside();
  });

  it('a name longer than rsync allows ends the run as a broken stream (exit 12)', async () => {
    const r = await pullFrom(stream([{ name: '.', mode: S_IFDIR | 0o755 }, { name: 'x'.repeat(10), claimLen: 0x7fffffff, mode: S_IFREG | 0o644 }]));
    expect(r.code, show(r)).toBe(12);
    expect(fs.existsSync(dst)).toBe(false);
    nothingOutside();
  });

  /** One answer for "f" (index 1): the echo, an empty sum header, "abc" as literal data, then `sum`. */
  const answer = (first: boolean, sum: Buffer): Buffer =>
    Buffer.concat([first ? Buffer.from([2]) : Buffer.from([0xfe, 0, 0]), Buffer.from([0x00, 0x80]), int32(0), int32(0), int32(0), int32(0), int32(3), Buffer.from('abc'), int32(0), sum]);
  const good = createHash('md5').update('abc').digest();
  const bad = Buffer.alloc(16, 0xee);
  const fileList: Ent[] = [{ name: '.', mode: S_IFDIR | 0o755 }, { name: 'f', mode: S_IFREG | 0o644, size: 3 }];

  it('a file whose checksum fails is fetched again in the redo phase, and kept when it verifies', async () => {
    const r = await pullFrom(stream(fileList, Buffer.concat([answer(true, bad), Buffer.from([0]), answer(false, good), Buffer.from([0, 0])])));
    expect(r.code, show(r)).toBe(0);
    expect(fs.readFileSync(path.join(dst, 'f'), 'latin1')).toBe('abc');
  });

  it('a file that fails its checksum twice is discarded with rsync\'s message (exit 23)', async () => {
    const r = await pullFrom(stream(fileList, Buffer.concat([answer(true, bad), Buffer.from([0]), answer(false, bad), Buffer.from([0, 0])])));
    expect(r.code, show(r)).toBe(23);
    expect(r.stderr).toMatch(/ERROR: f failed verification -- update discarded\./);
    expect(fs.existsSync(path.join(dst, 'f'))).toBe(false);
  });

  it('an answer for a file never requested ends the run with exit 2, writing nothing', async () => {
    // The client asks for "f" (index 1); the stream answers for index 0, the root directory.
    const r = await pullFrom(stream([{ name: '.', mode: S_IFDIR | 0o755 }, { name: 'f', mode: S_IFREG | 0o644, size: 3 }], Buffer.from([1, 0x00, 0x80])));
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toMatch(/Invalid file index: 0/);
    expect(fs.existsSync(path.join(dst, 'f'))).toBe(false);
    nothingOutside();
  });

  /** -X: each entry followed by the xattr bytes given for it (the whole list's end and the rest as `stream`). */
  const xattrStream = (ents: [Ent, Buffer][]): Buffer => {
    const data = Buffer.concat([...ents.flatMap(([en, x]) => [entry(en), x]), Buffer.from([0]), Buffer.from([0, 0, 0]), ...Array.from({ length: 5 }, () => varlong(0, 3)), Buffer.from([0])]);
    return Buffer.concat([int32(31), varint(0), int32(1234), frame(0, data)]);
  };
  const rootDir: Ent = { name: '.', mode: S_IFDIR | 0o755 };
  const newList = (...items: Buffer[]): Buffer => Buffer.concat([varint(0), varint(items.length), ...items]);

  it.skipIf(e.name === 'node').each([
    ['an xattr count past 65536', Buffer.concat([varint(0), varint(70_000)]), 2, /xattr count out of range/],
    ['an xattr value longer than rsync allows', newList(Buffer.concat([varint(7), varint(0x7fffffff)])), 2, /per-value limit/],
    ['an xattr name without its NUL', newList(Buffer.concat([varint(6), varint(1), Buffer.from('user.ax')])), 11, /missing trailing/],
    ['an xattr list index never sent', varint(5), 12, /xa index 5 out of range/],
  ] as const)('-X: %s ends the run with rsync\'s exit code (%i), writing nothing', async (_what, xattrs, code, message) => {
    const r = await pullFrom(xattrStream([[rootDir, newList()], [{ name: 'f', mode: S_IFREG | 0o644, size: 3 }, xattrs]]), ['-rltX']);
    expect(r.code, show(r)).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(fs.existsSync(path.join(dst, 'f'))).toBe(false);
    nothingOutside();
  });
});
