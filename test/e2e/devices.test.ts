// Device nodes, FIFOs and their -H groups as rsync's devices test has them (root only: mknod): a
// hard-linked device is linked where rsync's list meets it, so -i's lines come in rsync's order.
// --copy-devices (a device's contents sent as a regular file) and --write-devices (a file's data
// written into an existing device), against rsync, on a loop device where losetup works.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isRoot, removeTemps, sh, tempDir } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { differential, lineDiff } from '../helpers/differential.js';
import { runCli, show } from '../helpers/cli.js';

/** A loop device over a 64 KiB image of known bytes (undefined where losetup cannot make one). */
let loop: { dev: string; major: number; minor: number; image: Buffer } | undefined;

beforeAll(() => {
  if (!isRoot) return;
  const dir = tempDir('arsync-loop-');
  const image = Buffer.alloc(65536);
  for (let i = 0; i < image.length; i++) image[i] = (i * 7 + 3) & 0xff;
  fs.writeFileSync(path.join(dir, 'img'), image);
  const r = spawnSync('losetup', ['-f', '--show', path.join(dir, 'img')], { encoding: 'utf8' });
  if (r.status !== 0) return;
  const dev = r.stdout.trim();
  const st = fs.statSync(dev);
  loop = { dev, major: Number((BigInt(st.rdev) >> 8n) & 0xfffn), minor: Number(BigInt(st.rdev) & 0xffn), image };
});

afterAll(() => {
  if (loop) spawnSync('losetup', ['-d', loop.dev]);
  removeTemps();
});

/** The loop device's bytes now. */
const loopBytes = (n: number): Buffer => {
  const fd = fs.openSync(loop!.dev, 'r');
  try {
    const b = Buffer.alloc(n);
    fs.readSync(fd, b, 0, n, 0);
    return b;
  } finally {
    fs.closeSync(fd);
  }
};

/** The loop device's known bytes written back (a --write-devices case changed them). */
const reset = (): void => {
  const fd = fs.openSync(loop!.dev, 'r+');
  fs.writeSync(fd, loop!.image, 0, loop!.image.length, 0);
  fs.closeSync(fd);
};

/** Run rsync in A and arsync in B (copies of one setup) with the same arguments. */
async function both(engine: string, setup: (root: string) => void, args: string[], between?: () => void) {
  const A = tempDir('arsync-dev-A-');
  const B = tempDir('arsync-dev-B-');
  setup(A);
  setup(B);
  const rsync = spawnSync('rsync', args, { cwd: A, encoding: 'utf8' });
  between?.();
  const arsync = await runCli([...args, `--engine=${engine}`], { cwd: B });
  return { A, B, rsync, arsync };
}

/** rsync's devices test's tree: char and block devices, a hard-linked block device, a FIFO. */
function deviceTree(root: string): void {
  const src = path.join(root, 'src');
  fs.mkdirSync(src);
  sh(`cd '${src}' && mknod char c 41 67 && mknod char2 c 42 68 && mknod block b 42 69 && mknod block3 b 105 73 && ln block3 block3.5 && mkfifo fifo`);
  sh(`touch -h -d @1700000000 '${src}'/* '${src}'`);
}

describeEngines((e) => {
  const engine = e.name;
  const rootOnly = it.skipIf(!isRoot);

  rootOnly('-aiH: a hard-linked device is made and linked in list order, as rsync prints it', async () => {
    const r = await differential({ engine, setup: deviceTree, args: ['-aH', 'src/', 'dst/'] });
    // differential compares sorted lines: the order is the point here.
    expect(r.arsync.stdout).toBe(r.rsync.stdout);
    expect(r.arsync.stdout).toMatch(/cD\+{9} block3\nhD\+{9} block3\.5 => block3\ncD\+{9} char\n/);
    const a = fs.lstatSync(path.join(r.B, 'dst/block3'));
    const b = fs.lstatSync(path.join(r.B, 'dst/block3.5'));
    expect([a.isBlockDevice(), a.ino, a.rdev]).toEqual([true, b.ino, b.rdev]);
  });
});

describeEngines((e) => {
  const engine = e.name;
  const rootOnly = it.skipIf(!isRoot);

  rootOnly('--copy-devices: a block device arrives as a file of its bytes, a char device as an empty file, as rsync', async () => {
    if (!loop) return;
    reset();
    const setup = (root: string): void => {
      fs.mkdirSync(path.join(root, 'src'));
      fs.writeFileSync(path.join(root, 'src/plain'), 'plain\n');
      sh(`cd '${root}/src' && mknod blk b ${loop!.major} ${loop!.minor} && mknod zero c 1 5 && chmod 640 blk`);
    };
    const r = await both(engine, setup, ['-ri', '--copy-devices', 'src/', 'dst/']);
    expect([r.arsync.code, r.arsync.stdout], show(r.arsync)).toEqual([r.rsync.status, r.rsync.stdout]);
    expect(r.arsync.stdout).toContain('>f+++++++++ blk\n');
    for (const root of [r.A, r.B]) {
      const blk = fs.lstatSync(path.join(root, 'dst/blk'));
      expect([blk.isFile(), blk.mode & 0o777, blk.size]).toEqual([true, 0o640, 65536]);
      expect(fs.readFileSync(path.join(root, 'dst/blk')).equals(loop.image)).toBe(true);
      expect(fs.lstatSync(path.join(root, 'dst/zero')).size).toBe(0);
    }
  });

  rootOnly('--copy-devices with -t: the copy has the time of the run with the device\'s nanoseconds, as rsync', async () => {
    const setup = (root: string): void => {
      fs.mkdirSync(path.join(root, 'src'));
      sh(`cd '${root}/src' && mknod zero c 1 5 && touch -h -d @1700000000.25 zero`);
    };
    const from = Math.floor(Date.now() / 1000);
    const r = await both(engine, setup, ['-a', '--copy-devices', 'src/', 'dst/']);
    const to = Math.ceil(Date.now() / 1000);
    expect(r.arsync.code, show(r.arsync)).toBe(r.rsync.status);
    for (const root of [r.A, r.B]) {
      const st = fs.lstatSync(path.join(root, 'dst/zero'), { bigint: true });
      const sec = Number(st.mtimeNs / 1_000_000_000n);
      expect([st.isFile(), st.mtimeNs % 1_000_000_000n, sec >= from && sec <= to], root).toEqual([true, 250_000_000n, true]);
    }
  });

  rootOnly('--write-devices: the data goes into the existing device, which stays a device; rsync\'s lines', async () => {
    if (!loop) return;
    const data = Buffer.alloc(4096, 0x5a);
    const setup = (root: string): void => {
      fs.mkdirSync(path.join(root, 'src'));
      fs.mkdirSync(path.join(root, 'dst'));
      fs.writeFileSync(path.join(root, 'src/blk'), data);
      fs.writeFileSync(path.join(root, 'src/plain'), 'plain\n');
      sh(`touch -d @1700000000 '${root}/src/blk' '${root}/src/plain' '${root}/src' && mknod '${root}/dst/blk' b ${loop!.major} ${loop!.minor}`);
    };
    reset();
    const r = await both(engine, setup, ['-ai', '--write-devices', 'src/', 'dst/'], reset);
    expect(r.arsync.code, show(r.arsync)).toBe(r.rsync.status);
    const d = lineDiff(r.rsync.stdout, r.arsync.stdout);
    expect([...d.onlyRsync, ...d.onlyArsync], show(r.arsync)).toEqual([]);
    expect(r.arsync.stdout).toContain('>f.st...... blk\n');
    const st = fs.lstatSync(path.join(r.B, 'dst/blk'));
    expect([st.isBlockDevice(), st.mtimeMs]).toEqual([true, 1700000000000]);
    // The device took the file's bytes over its first 4 KiB and kept the rest (no truncation).
    expect(loopBytes(65536).equals(Buffer.concat([data, loop.image.subarray(4096)]))).toBe(true);
    // A device keeps its own size: every run writes it again (">f.s"), as rsync.
    const again = await runCli(['-ai', '--write-devices', `--engine=${engine}`, 'src/', 'dst/'], { cwd: r.B });
    expect([again.code, again.stdout]).toEqual([0, '>f.s....... blk\n']);
  });

  rootOnly('--write-devices into /dev/null\'s node and --no-write-devices replacing it, as rsync', async () => {
    const setup = (root: string): void => {
      fs.mkdirSync(path.join(root, 'src'));
      fs.mkdirSync(path.join(root, 'dst'));
      fs.writeFileSync(path.join(root, 'src/f'), 'data\n');
      sh(`touch -d @1700000000 '${root}/src/f' '${root}/src' && mknod '${root}/dst/f' c 1 3`);
    };
    for (const extra of [['--write-devices'], ['--write-devices', '--no-write-devices']]) {
      const r = await differential({ engine, setup, args: ['-a', ...extra, 'src/', 'dst/'] });
      const st = fs.lstatSync(path.join(r.B, 'dst/f'));
      expect(extra.length === 1 ? st.isCharacterDevice() : st.isFile(), extra.join(' ')).toBe(true);
    }
  });
});
