// The remote shell's stdout: a pipe of 1 MiB when the addon can make one (its pipeOpen), instead of the
// socketpair Node gives a child (about 200 KiB in flight). This process has one thread and takes what the
// remote shell wrote only between its own steps (a pull writes the files it received between two
// reads); with more room the remote shell writes in fewer, larger pieces and waits less: its CPU in a
// fresh pull fell by a third (docs/benchmarks.md, "The remote shell's stdout on a large pipe", session 18).
// Its stdin stays Node's socketpair: a larger pipe there did not lower a push's CPU (measured the same
// way). Without the addon, or when it cannot make the pipe, the spawn takes Node's own.

import * as fs from 'node:fs';
import net from 'node:net';

/** A pipe of about `size` bytes: [read end, write end, capacity], or a negative errno (the addon's pipeOpen). */
export type PipeOpener = (size: number) => number[] | number;

/** The addon's pipe calls: a new pipe, and the room of a pipe made elsewhere grown (the capacity, or -errno). */
export interface ShellPipes {
  open: PipeOpener;
  resize?: (fd: number, size: number) => number;
}

/** The room asked for: /proc/sys/fs/pipe-max-size's default, the most an unprivileged process may set. */
export const SHELL_PIPE_SIZE = 1024 * 1024;

export interface ShellPipe {
  /** The child's stdout, for spawn's stdio (our copy closed once it has it: closeChildEnd). */
  child: number;
  /** Our end: what the remote shell writes. */
  input: net.Socket;
  /** The room the pipe has (what the kernel granted). */
  capacity: number;
  closeChildEnd(): void;
}

/** The pipe, or undefined when there is no opener or it failed (the spawn then makes its own). */
export function shellPipe(open: PipeOpener | undefined): ShellPipe | undefined {
  if (!open) return undefined;
  const p = open(SHELL_PIPE_SIZE);
  if (typeof p === 'number') return undefined;
  const child = p[1]!;
  return {
    child,
    // Node opens a pipe descriptor as a stream handle of its own (non-blocking, read by the event loop).
    input: new net.Socket({ fd: p[0]!, readable: true, writable: false }),
    capacity: p[2]!,
    // The child has its own copy (spawn dup2'd it): ours would keep the pipe open after the child ends.
    closeChildEnd: () => fs.closeSync(child),
  };
}
