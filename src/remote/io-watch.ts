// --timeout on a connection to a remote rsync (rsync's io timeout, io.c check_timeout): when this side
// has waited on the peer for the whole limit and no byte moved either way, the session ends with
// rsync's "[who] io timeout after N seconds -- exiting" and exit 30. Only time spent waiting counts
// (from the moment the current wait began): a long walk or other local work on this thread is not the
// peer's silence. The far side gets --timeout too and, like rsync, sends keep-alives while it works,
// so a live peer is not cut off.

import { Exit, STOP_LINE, ioTimeoutLine } from '../util/errors.js';
import { monotonicMs } from '../util/monotonic.js';
import type { Conn } from './conn.js';
import { ProtocolError } from './wire.js';
import { Msg } from './mux.js';

/** How often the watch looks (rsync's check runs each time its select waits a second). */
const TICK_MS = 250;

/** The name rsync's client gives itself in that line: the sender of a push, the receiver of a pull. */
export function sideName(cmd: { weSend: boolean }): string {
  return cmd.weSend ? 'sender' : 'Receiver';
}

/** Watches `conn`; `onTimeout` runs once the session has been failed (e.g. to stop the remote shell). Returns the stop. */
export function watchIdle(conn: Conn, seconds: number, who: string, onTimeout: () => void): () => void {
  let moved = conn.moved;
  let movedAt = monotonicMs();
  const timer = setInterval(() => {
    const now = monotonicMs();
    if (conn.moved !== moved) {
      moved = conn.moved;
      movedAt = now;
    }
    if (conn.waiting === 0) return;
    const idle = Math.floor((now - Math.max(movedAt, conn.waitingSince)) / 1000);
    if (idle < seconds) return;
    clearInterval(timer);
    conn.fail(new ProtocolError(ioTimeoutLine(who, idle), Exit.Timeout));
    onTimeout();
  }, TICK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * --stop-after/--stop-at on a connection (rsync's check in io.c perform_io, made by the client only: the
 * server is not told of the limit): once the clock reaches `stopAt` (ms since the epoch) the session
 * ends with rsync's "stopping at requested limit" and exit 30. `onStop` runs once the session has been
 * failed (to stop the remote shell). Returns the stop of the watch.
 */
export function watchStopAt(conn: Conn, stopAt: number, onStop: () => void): () => void {
  const timer = setInterval(() => {
    if (Date.now() < stopAt) return;
    clearInterval(timer);
    conn.fail(new ProtocolError(STOP_LINE, Exit.Timeout));
    onStop();
  }, TICK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The keep-alive of a side that works without writing (rsync's maybe_send_keepalive): an empty
 * MSG_NOOP whenever half the limit (rsync's allowed_lull, rounded up) has passed since this side last
 * wrote, so the peer's own --timeout does not end the session. Returns the check, for a loop that holds
 * the thread (a push's walk) to call as it goes: the frame is written at once, the pipe takes it then.
 */
export function keepAlive(conn: Conn, seconds: number): () => void {
  const lull = Math.floor((seconds + 1) / 2) * 1000;
  let written = conn.written;
  let at = monotonicMs();
  return () => {
    const now = monotonicMs();
    if (conn.written !== written) {
      written = conn.written;
      at = now;
    } else if (now - at >= lull) {
      conn.send(Msg.Noop, Buffer.alloc(0));
      written = conn.written;
      at = now;
    }
  };
}
