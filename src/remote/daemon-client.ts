// A client session with an rsync daemon: opens the route (socket.ts), does the daemon greeting and
// login (daemon.ts), sends the server's command line, then runs the same protocol exchange as a
// remote-shell session, and turns what happened into rsync's exit code (5 before the daemon's OK, 10
// for a socket that would not open, 35 for --contimeout, the peer's own code after).

import * as fs from 'node:fs';
import { Exit, errnoText, ioTimeoutLine } from '../util/errors.js';
import { Conn } from './conn.js';
import { EARLY_INPUT_MAX, EXIT_STARTCLIENT, daemonArgs, daemonGreeting, moduleOf } from './daemon.js';
import { sideName, watchIdle, watchStopAt } from './io-watch.js';
import { PeerMessages, answerErrorExit } from './messages.js';
import type { Frame } from './mux.js';
import { pacedOutput } from './pacer.js';
import type { RemoteCommand } from './rsh.js';
import type { DaemonLogin } from './daemon-route.js';
import { openTransport } from './socket.js';
import { ProtocolError } from './wire.js';

/** The session's output streams and result (client.ts's ClientIo and Outcome, which import this module). */
interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}
interface Ended<T> {
  result: T | undefined;
  exitCode: number;
}

const IOERR_GENERAL = 1;
const IOERR_VANISHED = 2;

/**
 * Runs `exchange` against the daemon's module the path names; a path with no module asks for the
 * module list, which is printed (unless --no-motd) and is the whole session.
 */
export async function runDaemonClient<T>(
  cmd: RemoteCommand,
  login: DaemonLogin,
  env: NodeJS.ProcessEnv,
  io: Io,
  exchange: (conn: Conn, peer: PeerMessages) => Promise<T>,
  onMessage?: (f: Frame) => boolean,
): Promise<Ended<T>> {
  const path = cmd.paths[0] ?? '';
  if (path.startsWith('/')) {
    io.err.write('arsync: ERROR: The remote path must start with a module name not a /\n');
    return { result: undefined, exitCode: 5 };
  }
  let t;
  try {
    t = await openTransport(login.route, env, cmd.weSend);
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    if (e.message) io.err.write(`arsync: ${e.message}\n`);
    return { result: undefined, exitCode: e.code };
  }
  const peer = new PeerMessages(io.out, io.err);
  const output = cmd.bwlimit ? pacedOutput(t.output, cmd.bwlimit) : t.output;
  const conn = new Conn(t.input, output, onMessage ? (f) => void (onMessage(f) || peer.take(f)) : peer.take);
  answerErrorExit(conn, peer, cmd.weSend);
  const module = moduleOf(path);
  let result: T | undefined;
  let failure: unknown;
  let started = false;
  let unwatch: (() => void) | undefined;
  let unclock: (() => void) | undefined;
  // A daemon that says nothing (or trickles a line for ever) is cut off at --timeout, as rsync's io timeout does.
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  if (login.timeout > 0) {
    timer = setTimeout(() => {
      timedOut = true;
      t.input.destroy(new ProtocolError(ioTimeoutLine('Receiver', login.timeout), Exit.Timeout));
    }, login.timeout * 1000);
  }
  try {
    const user = login.route.user ?? env['USER'] ?? env['LOGNAME'] ?? 'nobody';
    const earlyInput = login.earlyInput === undefined ? undefined : readEarlyInput(login.earlyInput);
    const g = await daemonGreeting(conn, {
      earlyInput,
      module,
      user: user || 'nobody',
      password: login.password,
      motd: login.motd,
      out: (s) => io.out.write(s),
      err: (s) => io.err.write(s),
    });
    if (g === undefined || !module) {
      // The module list ends with the daemon's EXIT: nothing else to do.
      clearTimeout(timer);
      t.close();
      return { result: undefined, exitCode: g === undefined ? 0 : Exit.StreamIO };
    }
    clearTimeout(timer);
    started = true;
    // From here --timeout is the session's io timeout, as over a remote shell.
    if (cmd.timeout) unwatch = watchIdle(conn, cmd.timeout, sideName(cmd), () => t.close());
    if (cmd.stopAt !== undefined) unclock = watchStopAt(conn, cmd.stopAt, () => t.close());
    conn.write(daemonArgs(cmd.serverArgs, cmd.paths, module, g.protocol, (cmd.oldArgs ?? 0) > 0, cmd.secluded, cmd.charset));
    conn.agreedProtocol = g.protocol;
    result = await exchange(conn, peer);
  } catch (e) {
    failure = timedOut && !started ? new ProtocolError(ioTimeoutLine('Receiver', login.timeout), Exit.Timeout) : e;
  }
  clearTimeout(timer);
  unwatch?.();
  unclock?.();
  conn.settle();
  t.close();
  const childCode = await t.ended;
  if (failure !== undefined) {
    if (!(failure instanceof ProtocolError) && typeof (failure as NodeJS.ErrnoException | null)?.code !== 'string') throw failure;
    const e = failure instanceof ProtocolError ? failure : new ProtocolError(`read error: ${(failure as Error).message}`, Exit.StreamIO);
    if (!started) {
      if (e.message) io.err.write(says(e));
      return { result: undefined, exitCode: e.code };
    }
    // The daemon refused the options or the path: its own error lines came first, and its exit code.
    if (peer.exitCode !== undefined && e.code === Exit.StreamIO) return { result: undefined, exitCode: peer.exitCode };
    io.err.write(e.code === Exit.StreamIO ? `arsync: ${e.message} (${conn.received} bytes received so far)\n` : says(e));
    return { result: undefined, exitCode: e.code };
  }
  let code = Math.max(childCode ?? 0, peer.exitCode ?? 0);
  if (peer.ioError & IOERR_GENERAL || peer.xferError) code = Math.max(code, Exit.Partial);
  else if (peer.ioError & IOERR_VANISHED) code = Math.max(code, Exit.Vanished);
  return { result, exitCode: code };
}

/** --early-input's bytes; a file that cannot be read or is too long ends the session before the module is named (exit 5, rsync's words). */
function readEarlyInput(file: string): Buffer {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (e) {
    const errno = -((e as NodeJS.ErrnoException).errno ?? 0);
    throw new ProtocolError(`failed to open ${file}: ${errnoText(errno)} (${errno})`, EXIT_STARTCLIENT);
  }
  if (data.length > EARLY_INPUT_MAX) throw new ProtocolError(`${file} is > ${EARLY_INPUT_MAX} bytes.`, EXIT_STARTCLIENT);
  return data;
}

/** A session's last word: rsync's io timeout line stands alone, every other message is ours. */
export function says(e: ProtocolError): string {
  // A session a signal ended (cli/pull.ts): the run's own exit line says so, once, when it leaves.
  if (e.code === Exit.Signal) return '';
  return e.code === Exit.Timeout ? `${e.message}\n` : `arsync: ${e.message}\n`;
}
