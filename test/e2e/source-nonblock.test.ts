// A source file is opened O_NONBLOCK (a FIFO swapped in for it after the walk cannot block the open), which
// the native engines cleared again with a fcntl per file. The sync engine reads a regular file only through
// read(2), copy_file_range(2), splice and FICLONE, for which O_NONBLOCK changes nothing on tmpfs, ext4, XFS
// and btrfs: there it keeps the flag and saves the call (native/source.c reads_alike_nonblocking); the uring
// engine (io_uring makes such a read "would block") and other filesystems still clear it. Counted under
// strace, with the copy exact on every engine.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../helpers/tree.js';
import { describeEngines, expectExactCopy } from '../helpers/e2e.js';
import { BIN } from '../helpers/cli.js';

afterAll(() => removeTemps());

const hasStrace = spawnSync('strace', ['-V']).status === 0;
const FILES = 30;

/** The filesystems whose regular files read alike with O_NONBLOCK (`stat -f` names ext4 "ext2/ext3"). */
const PLAIN = new Set(['tmpfs', 'ext2/ext3', 'xfs', 'btrfs']);

describeEngines((e) => {
  it.skipIf(!hasStrace)('source files: O_NONBLOCK kept by the sync engine on a local filesystem, cleared by the uring engine; the copy exact', () => {
    const root = tempDir('arsync-nonblock-');
    const src = path.join(root, 'src');
    const dst = path.join(root, 'dst');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(src, i % 2 ? 'sub' : '', `f${i}`), Buffer.alloc(100 * i + 1, i));
    const log = path.join(root, 'strace.log');
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=fcntl', '-o', log, process.execPath, BIN, `--engine=${e.name}`, '-a', `${src}/`, `${dst}/`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expectExactCopy(src, dst, e.name);
    if (e.name === 'node') return; // Node's fs opens sources its own way
    // The clear: F_SETFL to the open flags without O_NONBLOCK (O_RDONLY, with O_NOATIME as root).
    const clears = fs.readFileSync(log, 'utf8').split('\n').filter((l) => /fcntl\(\d+, F_SETFL, O_RDONLY/.test(l));
    const fsType = spawnSync('stat', ['-f', '-c', '%T', src], { encoding: 'utf8' }).stdout.trim();
    if (e.name === 'sync' && PLAIN.has(fsType)) expect(clears, clears.join('\n')).toEqual([]);
    else expect(clears.length, `${fsType}: ${clears.join('\n')}`).toBeGreaterThanOrEqual(FILES);
  });
});
