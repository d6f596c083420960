// The remote shell's stdout pipe (remote/shell-pipes.ts, native/pipes.c): 1 MiB of room, every byte
// through in order, the end of the child's output seen (our copy of its end is closed), and no
// descriptor left behind when the pipe cannot be made.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { loadAddon } from '../../../src/engine/native.js';
import { SHELL_PIPE_SIZE, shellPipe, type PipeOpener } from '../../../src/remote/shell-pipes.js';

const addon = loadAddon();
if (!addon.ok) throw new Error(addon.reason);
const open = addon.addon.pipeOpen as PipeOpener;

const openFds = (): number => fs.readdirSync('/proc/self/fd').length;

it('makes a pipe of 1 MiB when the system allows it', () => {
  const p = shellPipe(open)!;
  try {
    const max = Number(fs.readFileSync('/proc/sys/fs/pipe-max-size', 'utf8'));
    // Root may go past pipe-max-size; anyone may ask up to it.
    if (process.getuid?.() === 0 || max >= SHELL_PIPE_SIZE) expect(p.capacity).toBe(SHELL_PIPE_SIZE);
    else expect(p.capacity).toBeLessThan(SHELL_PIPE_SIZE);
  } finally {
    p.closeChildEnd();
    p.input.destroy();
  }
});

it("carries every byte of a child's output, and its end", async () => {
  const p = shellPipe(open)!;
  const child = spawn('cat', [], { stdio: ['pipe', p.child, 'inherit'] });
  p.closeChildEnd();
  const data = randomBytes(5 * 1024 * 1024 + 17);
  const got: Buffer[] = [];
  p.input.on('data', (b: Buffer) => got.push(b));
  // The end comes only when no writer is left: our copy of the write end, kept open, would hold it off.
  const ended = new Promise<void>((resolve) => p.input.on('end', resolve));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  for (let at = 0; at < data.length; at += 300 * 1024) child.stdin!.write(data.subarray(at, at + 300 * 1024));
  child.stdin!.end();
  expect(await exited).toBe(0);
  await ended;
  expect(Buffer.concat(got).equals(data)).toBe(true);
});

it('gives up without a descriptor kept when the pipe cannot be made', () => {
  const before = openFds();
  expect(shellPipe(() => -24)).toBeUndefined();
  expect(shellPipe(undefined)).toBeUndefined();
  expect(openFds()).toBe(before);
});

it("grows a pipe it did not make (the launcher's FIFO) to 1 MiB, and says why it cannot for a non-pipe", () => {
  const resize = addon.addon.pipeResize as (fd: number, size: number) => number;
  const p = open(4096) as number[];
  try {
    expect(p[2]).toBe(4096);
    expect(resize(p[0]!, SHELL_PIPE_SIZE)).toBe(SHELL_PIPE_SIZE);
    const file = fs.openSync('/proc/self/status', 'r');
    try {
      expect(resize(file, SHELL_PIPE_SIZE)).toBeLessThan(0);
    } finally {
      fs.closeSync(file);
    }
  } finally {
    fs.closeSync(p[0]!);
    fs.closeSync(p[1]!);
  }
});
