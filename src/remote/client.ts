// A client session over a remote shell: starts the remote shell with the server's command line, runs
// a protocol exchange over its stdin and stdout (its stderr is ours, as with rsync: the remote rsync's
// own error lines reach the user unchanged), and turns what happened into rsync's exit code: the
// peer's own code, 255 when the remote shell failed, 12 for a broken stream, 23/24 for the sender's
// I/O errors.

import { spawn, type ChildProcess } from 'node:child_process';
import { Exit } from '../util/errors.js';
import { Conn } from './conn.js';
import { runDaemonClient, says } from './daemon-client.js';
import { sideName, watchIdle, watchStopAt } from './io-watch.js';
import { PeerMessages, answerErrorExit } from './messages.js';
import type { Frame } from './mux.js';
import { pacedOutput } from './pacer.js';
import { commandLine, execFailedLine, remoteLaunch, type RemoteCommand } from './rsh.js';
import { adoptEarlyShell, rememberShell, type ShellProcess } from './early-shell.js';
import { SHELL_PIPE_SIZE, shellPipe, type ShellPipe } from './shell-pipes.js';
import { ProtocolError } from './wire.js';

/** rsync's IOERR_GENERAL and IOERR_VANISHED. */
const IOERR_GENERAL = 1;
const IOERR_VANISHED = 2;

export interface ClientIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export interface Outcome<T> {
  /** What the exchange produced, when it completed. */
  result: T | undefined;
  exitCode: number;
  /**
   * The far side ended the run with MSG_ERROR_EXIT (a non-zero code) after printing its own exit line:
   * rsync's client exits at that message and prints none of its own (cleanup.c: "we don't want to
   * output a duplicate error").
   */
  peerEnded?: boolean;
}

/** The remote shell, on the pipes when there are any (our copies of the child's ends closed once it has them). */
function spawnShell(argv: string[], env: NodeJS.ProcessEnv, pipe: ShellPipe | undefined, errPipe: boolean): ChildProcess | ShellProcess {
  try {
    return spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', pipe ? pipe.child : 'pipe', errPipe ? 'pipe' : 'inherit'], env });
  } catch (e) {
    pipe?.input.destroy();
    throw e;
  } finally {
    pipe?.closeChildEnd();
  }
}

/**
 * The remote shell's stderr written to `to` as it comes (RemoteCommand.stderrThrough). The returned call
 * waits, once the shell has exited, for the rest of it: briefly, since a process the shell left behind
 * (an ssh control master) may hold the pipe open for good.
 */
function relay(from: NodeJS.ReadableStream & { destroy(): void }, to: NodeJS.WritableStream): () => Promise<void> {
  let ended = false;
  const done = new Promise<void>((resolve) => {
    from.on('data', (b: Buffer) => to.write(b));
    from.on('end', resolve);
    from.on('close', resolve);
    from.on('error', resolve);
  }).then(() => void (ended = true));
  return async () => {
    if (!ended) await Promise.race([done, new Promise((r) => setTimeout(r, 200).unref())]);
    from.destroy();
  };
}

/**
 * Runs `exchange` against the server started through the remote shell. `exchange` gets the
 * connection and the message sink (whose io_error it may add to from the file list's end).
 */
/**
 * Thrown from an exchange when the client ends the session on its own account (a pull's destination it
 * cannot make), after telling the far side so (its MSG_ERROR_EXIT, which rsync's server takes as a quiet
 * exit): its input is closed rather than cut, so that goodbye arrives; runClient throws it on.
 */
export class ClientLeaves extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

export async function runClient<T>(
  cmd: RemoteCommand,
  env: NodeJS.ProcessEnv,
  io: ClientIo,
  exchange: (conn: Conn, peer: PeerMessages) => Promise<T>,
  /** Messages only this kind of session has (a receiving server's deletions and successes); true: handled. */
  onMessage?: (f: Frame) => boolean,
): Promise<Outcome<T>> {
  if (cmd.daemon) return runDaemonClient(cmd, cmd.daemon, env, io, exchange, onMessage);
  const { argv, secluded } = remoteLaunch(cmd, env);
  if (cmd.showCommand) io.out.write(commandLine(argv));
  // The shell bin/arsync started before Node, when it runs this very command (remote/early-shell.ts; its
  // stderr, a FIFO, relayed below; never under stderrThrough, whose runs write no entry). Otherwise a large
  // pipe for its stdout when the caller can make one (remote/shell-pipes.ts).
  const resize = cmd.pipe?.resize;
  const early = cmd.stderrThrough ? undefined : adoptEarlyShell(argv, env, resize && ((fd) => void resize(fd, SHELL_PIPE_SIZE)));
  const pipe = early ? undefined : shellPipe(cmd.pipe?.open);
  const child = early ?? spawnShell(argv, env, pipe, cmd.stderrThrough === true);
  const errRelayed = child.stderr ? relay(child.stderr, io.err) : undefined;
  const shellIn = child.stdin!;
  const shellOut = pipe ? pipe.input : child.stdout!;
  // -s: the server reads the rest of its arguments from the connection before anything else.
  if (secluded) shellIn.write(secluded);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const peer = new PeerMessages(io.out, io.err);
  const output = cmd.bwlimit ? pacedOutput(shellIn, cmd.bwlimit) : shellIn;
  const conn = new Conn(shellOut, output, onMessage ? (f) => void (onMessage(f) || peer.take(f)) : peer.take);
  answerErrorExit(conn, peer, cmd.weSend);
  // Ending the session on this side's account (--timeout, --stop-at, a stream this side refuses): the
  // remote shell is stopped with SIGUSR1, as rsync's client stops its children on a non-zero exit
  // (cleanup.c kill_all): ssh dies quietly, so the far side's complaint of the closed connection is not
  // relayed, and an rsync run directly as the shell (a local one) leaves without a word. Its pipes are
  // let go (a hung peer, or a process it left holding them, would keep this one alive).
  const stop = (): void => {
    child.kill('SIGUSR1');
    shellOut.destroy();
  };
  const unwatch = cmd.timeout ? watchIdle(conn, cmd.timeout, sideName(cmd), stop) : undefined;
  const unclock = cmd.stopAt !== undefined ? watchStopAt(conn, cmd.stopAt, stop) : undefined;
  let result: T | undefined;
  let failure: unknown;
  try {
    result = await exchange(conn, peer);
  } catch (e) {
    failure = e;
    // Leaving on our own account, what the exchange said last (its goodbye) still goes out.
    if (e instanceof ClientLeaves) output.end();
    else output.destroy();
    // A stream this side found wrong, or a signal (not one the far side broke): stopped as rsync's client stops it.
    if (e instanceof ProtocolError && e.code !== Exit.StreamIO) child.kill('SIGUSR1');
  }
  unwatch?.();
  unclock?.();
  conn.settle();
  const end = await exited;
  // Once the shell is gone, what it wrote is let go: after a failure a process it left behind (a pipeline
  // in -e, a proxy) may hold its output open for good, which would keep this process alive. (Not before:
  // a server run directly as the shell flushes its last words as it leaves.)
  if (failure !== undefined) shellOut.destroy();
  await errRelayed?.();
  if (end.error) {
    // The remote shell itself could not be started (rsync: "Failed to exec ssh: ..." and exit 14).
    io.err.write(`arsync: ${execFailedLine(argv[0]!, end.error, cmd.weSend)}\n`);
    return { result: undefined, exitCode: 14 };
  }
  const remoteCode = end.code ?? 255;
  if (failure !== undefined) {
    // A broken stream: our own "connection unexpectedly closed", or a system error on the pipes.
    const streamBroke =
      failure instanceof ProtocolError ? failure.code === Exit.StreamIO : typeof (failure as NodeJS.ErrnoException | null)?.code === 'string';
    if (!(failure instanceof ProtocolError) && !streamBroke) throw failure;
    // The far side said why it ends (MSG_ERROR_EXIT) and went: rsync's client exits with that code.
    if (streamBroke && remoteCode !== 0 && peer.exitCode !== undefined) return { result: undefined, exitCode: peer.exitCode, peerEnded: peer.exitCode !== 0 };
    if (streamBroke && remoteCode !== 0) {
      // The far side ended first (ssh could not connect, rsync not installed, a refused option):
      // its own message is already on stderr. rsync's exit is the broken stream's 12, or the remote
      // shell's own code when that is higher (255 from ssh, 127 without rsync there).
      io.err.write(`arsync: connection unexpectedly closed (${conn.received} bytes received so far) [${cmd.weSend ? 'sender' : 'Receiver'}]\n`);
      return { result: undefined, exitCode: Math.max(Exit.StreamIO, remoteCode) };
    }
    const e = failure as ProtocolError;
    io.err.write(says(e));
    return { result: undefined, exitCode: e instanceof ProtocolError ? e.code : Exit.StreamIO };
  }
  let code = Math.max(remoteCode, peer.exitCode ?? 0);
  if (peer.ioError & IOERR_GENERAL || peer.xferError) code = Math.max(code, Exit.Partial);
  else if (peer.ioError & IOERR_VANISHED) code = Math.max(code, Exit.Vanished);
  // A command that worked: the next run of this command line may start its shell before Node.
  if (code === 0 && !cmd.stderrThrough) rememberShell(argv, env);
  return { result, exitCode: code, peerEnded: (peer.exitCode ?? 0) !== 0 };
}
