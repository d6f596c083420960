// src/plan/filter-send.ts: the filter rules a client sends its peer, checked byte for byte against what
// rsync 3.5 itself sends for the same options: a recording remote shell copies the client's stream to
// a file while the real server runs, and the rule list is read back out of it (after the version, the
// checksum names and the frame headers).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../../src/cli/options.js';
import { rulesToSend } from '../../../src/plan/filter-send.js';

let root: string;
let rsh: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-fsend-'));
  fs.mkdirSync(path.join(root, 'src'));
  fs.writeFileSync(path.join(root, 'src', 'a'), 'a');
  fs.writeFileSync(path.join(root, 'rules'), '- from-file\n+ keep/\n# comment\n');
  fs.writeFileSync(path.join(root, 'merge'), '- merged\n: .inner\n');
  rsh = path.join(root, 'rsh');
  // The far side: the real server, with the client's bytes copied to $CAP on the way in.
  fs.writeFileSync(
    rsh,
    '#!/bin/sh\nshift\nrm -f "$CAP.fifo"; mkfifo "$CAP.fifo"\nexec 3<&0\ntee "$CAP" <&3 > "$CAP.fifo" & T=$!\n' +
      'eval "$*" < "$CAP.fifo"\nr=$?\nkill $T 2>/dev/null\nexit $r\n',
    { mode: 0o755 },
  );
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The rule strings in a recorded client stream (protocol 31+ with negotiated checksums). */
function rulesIn(stream: Buffer): string[] {
  let at = 4;
  const nameLen = stream[at]! & 0x80 ? ((stream[at]! & 0x7f) << 8) | stream[at + 1]! : stream[at]!;
  at += (stream[at]! & 0x80 ? 2 : 1) + nameLen;
  const data: Buffer[] = [];
  while (at + 4 <= stream.length) {
    const h = stream.readUInt32LE(at);
    const len = h & 0xffffff;
    if (h >>> 24 === 7) data.push(stream.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  const d = Buffer.concat(data);
  const rules: string[] = [];
  for (let p = 0; ; ) {
    const n = d.readInt32LE(p);
    p += 4;
    if (n === 0) return rules;
    rules.push(d.subarray(p, p + n).toString('latin1'));
    p += n;
  }
}

function rsyncSends(opts: string[], push: boolean): string[] {
  const cap = path.join(root, 'cap');
  const dst = path.join(root, 'dst');
  fs.rmSync(dst, { recursive: true, force: true });
  const operands = push ? [`${root}/src/`, `h:${dst}/`] : [`h:${root}/src/`, `${dst}/`];
  execFileSync('rsync', ['-r', ...opts, '-e', rsh, ...operands], { env: { ...process.env, CAP: cap }, cwd: root, stdio: 'pipe' });
  return rulesIn(fs.readFileSync(cap));
}

function oursSends(opts: string[], push: boolean): string[] | undefined {
  const parsed = parseArgs(['node', 'arsync', '-r', ...opts, 'a', 'b']);
  if (parsed.kind !== 'run') throw new Error('not a run');
  const c = parsed.config;
  return rulesToSend(c.filters, {
    weSend: push,
    cvsExclude: c.cvsExclude,
    deleteExcluded: c.deleteExcluded,
    deleting: c.deleteMode !== 'none',
    pruneEmptyDirs: c.pruneEmptyDirs,
    cwd: root,
    env: { HOME: root },
  })?.map((b) => b.toString('latin1'));
}

const CASES: string[][] = [
  [],
  ['--exclude=*.o'],
  ['--include=x/', '--exclude=*'],
  ['-f', '- /abs/path'],
  ['-f', 'P keep', '-f', 'H hide', '-f', 'S show', '-f', 'R risk'],
  ['-f', ': .rules'],
  ['-f', 'dir-merge,-n /.ex'],
  ['-f', '-! neg/'],
  ['-f', '-x user.*'],
  ['-f', '-p perish'],
  ['-f', '- a', '-f', '!', '-f', '- b'],
  ['--exclude-from=rules'],
  ['-f', '. merge'],
  ['--delete-excluded', '--exclude=ex'],
  ['--delete', '--exclude=ex', '-f', 'P p'],
  ['-C'],
  ['-C', '--delete'],
  ['-f', ':C'],
  ['-m', '--exclude=e'],
];

describe('the filter rules a client sends, as rsync 3.5 sends them', () => {
  it.each(CASES)('pulling with %j', (...opts) => {
    expect(oursSends(opts, false)).toEqual(rsyncSends(opts, false));
  });

  // A pushing client sends rules only when its receiving peer deletes (or prunes): then all of them.
  it.each(CASES)('pushing with --delete and %j', (...opts) => {
    expect(oursSends(['--delete', ...opts], true)).toEqual(rsyncSends(['--delete', ...opts], true));
  });

  it('pushing without deleting sends no list at all', () => {
    expect(oursSends(['--exclude=x'], true)).toBeUndefined();
    expect(oursSends(['-m', '--exclude=x'], true)).toEqual(['- x']);
  });
});
