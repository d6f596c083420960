// How a client reaches an rsync daemon (rsync's open_socket_out_wrapped and do_cmd's daemon case): a TCP
// connection to the daemon's port, or $RSYNC_CONNECT_PROG run through the shell with %H as the host
// (rsync's test hook, also used for custom tunnels), through $RSYNC_PROXY's CONNECT tunnel (proxy.ts),
// or a remote shell that starts
// `rsync --server --daemon .` on the far host (`-e ssh host::module`). Each gives a byte stream both ways;
// what is said over it is daemon.ts's business.

import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { lookup } from 'node:dns/promises';
import type { Readable, Writable } from 'node:stream';
import { errnoText, ERRNO } from '../util/errors.js';
import { execFailedLine, shellHost, splitRsh } from './rsh.js';
import type { DaemonRoute } from './daemon-route.js';
import { parseProxy, proxyTunnel } from './proxy.js';
import { ProtocolError } from './wire.js';
import { EXIT_STARTCLIENT } from './daemon.js';

/** rsync's RERR_SOCKETIO and RERR_CONTIMEOUT. */
export const EXIT_SOCKET = 10;
export const EXIT_CONTIMEOUT = 35;

export interface Transport {
  input: Readable;
  output: Writable;
  /** Resolves when the transport is gone: a child's exit code, or null for a socket. */
  ended: Promise<number | null>;
  close(): void;
}

/** A transport that could not be opened: rsync's message and exit code. */
export class ConnectError extends ProtocolError {}

/** Opens the route: $RSYNC_CONNECT_PROG, else the remote shell (-e), else TCP. */
export async function openTransport(r: DaemonRoute, env: NodeJS.ProcessEnv, weSend: boolean): Promise<Transport> {
  if (r.rsh !== undefined) return viaRsh(r, weSend);
  const prog = env['RSYNC_CONNECT_PROG'];
  if (prog) return connectProg(connectCommand(prog, r.host), env);
  return viaTcp(r, env);
}

/**
 * rsync's %H substitution: the host single-quoted, "%%" one "%", any other "%" kept. A host a nested
 * shell could turn into something else is refused, as rsync refuses it.
 */
export function connectCommand(prog: string, host: string): string {
  if (!prog.includes('%')) return prog;
  if (!host || '-+~%'.includes(host[0]!) || !/^[A-Za-z0-9._:%+~-]+$/.test(host)) {
    throw new ConnectError('unsafe host characters for RSYNC_CONNECT_PROG', EXIT_SOCKET);
  }
  return prog.replace(/%(.?)/gs, (all, next: string) => (next === '%' ? '%' : next === 'H' ? `'${host}'` : all));
}

/** rsync's do_cmd for a daemon: the remote shell's words, -l user unless -e has its own, the host, rsync --server --daemon . */
export function rshDaemonArgv(r: DaemonRoute): string[] {
  const host = shellHost(r.host);
  const words = splitRsh(r.rsh!);
  const dashL = words.some((w, i) => w === '-l' && i < words.length - 1 && !words[i + 1]!.startsWith('-'));
  const argv = [...words];
  if (r.user !== undefined && !dashL) argv.push('-l', r.user);
  const base = (words[0] ?? '').split('/').pop();
  if (base === 'ssh' && r.connect.family) argv.push(`-${r.connect.family}`);
  argv.push(host, r.rsyncPath ?? 'rsync', '--server', '--daemon', '.');
  return argv;
}

/**
 * The daemon through -e. A remote shell that cannot be started: rsync's forked child says "Failed to
 * exec" and its parent then sees no greeting (exit 5), so both lines, and that exit.
 */
async function viaRsh(r: DaemonRoute, weSend: boolean): Promise<Transport> {
  const argv = rshDaemonArgv(r);
  const t = spawned(argv, process.env);
  const failed = await new Promise<Error | undefined>((resolve) => {
    t.child.once('spawn', () => resolve(undefined));
    t.child.once('error', resolve);
  });
  if (failed) throw new ConnectError(`${execFailedLine(argv[0]!, failed, weSend)}\narsync: did not see server greeting`, EXIT_STARTCLIENT);
  return t;
}

function spawned(argv: string[], env: NodeJS.ProcessEnv): Transport & { child: ChildProcess } {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'], env });
  const ended = new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(14));
    child.on('exit', (code) => resolve(code ?? 255));
  });
  return { input: child.stdout!, output: child.stdin!, ended, close: () => child.stdin!.destroy(), child };
}

/**
 * rsync's sock_exec: the program gets one end of a socket pair as its stdin and stdout (an rsync daemon
 * run this way answers on its fd 0, as under inetd). Like rsync's socketpair_tcp the pair is a loopback
 * TCP connection, so such a daemon sees a peer on 127.0.0.1 ("hosts allow = localhost" admits it); the
 * listener lives only until our own connection is accepted, and a connection from anyone else (another
 * local user racing for the port) is dropped.
 */
async function connectProg(command: string, env: NodeJS.ProcessEnv): Promise<Transport> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    // Accepted connections are held until ours is known to be connected, then matched by port.
    const pending: net.Socket[] = [];
    let waiter: (() => void) | undefined;
    server.on('connection', (sock: net.Socket) => {
      pending.push(sock);
      waiter?.();
    });
    const ours = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
    await new Promise<void>((resolve, reject) => {
      ours.once('connect', resolve);
      ours.once('error', reject);
    });
    let theirs: net.Socket | undefined;
    while (!theirs) {
      const i = pending.findIndex((sock) => sock.remotePort === ours.localPort);
      if (i >= 0) theirs = pending.splice(i, 1)[0];
      else await new Promise<void>((resolve) => (waiter = resolve));
    }
    for (const other of pending) other.destroy();
    const child = spawn('sh', ['-c', command], { stdio: [theirs, theirs, 'inherit'], env });
    theirs.destroy();
    ours.on('error', () => {});
    const ended = new Promise<number | null>((resolve) => {
      child.on('error', () => resolve(14));
      child.on('exit', (code) => resolve(code ?? 255));
    });
    return { input: ours, output: ours, ended, close: () => ours.destroy() };
  } finally {
    server.close();
  }
}

async function viaTcp(r: DaemonRoute, env: NodeJS.ProcessEnv): Promise<Transport> {
  const port = r.port ?? r.connect.port ?? 873;
  const proxy = parseProxy(env['RSYNC_PROXY']);
  const sock = await connectTcp(r, proxy ? proxy.host : r.host, proxy ? proxy.port : port);
  if (proxy) {
    try {
      await proxyTunnel(sock, proxy, r.host, port);
    } catch (e) {
      sock.destroy();
      throw e instanceof ProtocolError ? new ConnectError(e.message, EXIT_SOCKET) : e;
    }
  }
  sock.on('error', () => {});
  const ended = new Promise<number | null>((res) => sock.once('close', () => res(null)));
  return { input: sock, output: sock, ended, close: () => sock.destroy() };
}

/** glibc's gai_strerror text for a name that does not resolve (Node reports it as ENOTFOUND or EAI_AGAIN), else undefined. */
function unresolved(e: NodeJS.ErrnoException): string | undefined {
  return e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' ? 'Name or service not known' : undefined;
}

/**
 * --address as the socket binds it: rsync resolves a name (getaddrinfo, with -4/-6's family) and binds
 * the first address; Node's connect takes only a numeric one. A name that does not resolve is rsync's
 * getaddrinfo line and exit 10.
 */
async function bindAddress(address: string | undefined, family: number | undefined): Promise<string | undefined> {
  if (address === undefined) return undefined;
  const literal = net.isIP(address);
  if (literal && family && literal !== family) throw new ConnectError(`getaddrinfo ${address}: Address family for hostname not supported`, EXIT_SOCKET);
  if (literal) return address;
  try {
    return (await lookup(address, { family: family ?? 0 })).address;
  } catch (e) {
    throw new ConnectError(`getaddrinfo ${address}: ${unresolved(e as NodeJS.ErrnoException) ?? (e as Error).message}`, EXIT_SOCKET);
  }
}

/** A TCP connection to host:port with --address, -4/-6, --sockopts and --contimeout; rsync's messages on failure. */
async function connectTcp(r: DaemonRoute, host: string, port: number): Promise<net.Socket> {
  const c = r.connect;
  // A port no socket has: Node's connect throws on it, where rsync's getaddrinfo takes the number
  // modulo 2^16 and connects to another port. arsync's words, rsync's exit code.
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConnectError(`failed to connect to ${host}: port ${port} is out of range (0 to 65535)`, EXIT_SOCKET);
  // A literal address of the other family than -4/-6 asks for: rsync's getaddrinfo refuses it (Node's
  // connect would ignore the family for a literal).
  const literal = net.isIP(host);
  if (literal && c.family && literal !== c.family) throw new ConnectError(`getaddrinfo: ${host} ${port}: Address family for hostname not supported`, EXIT_SOCKET);
  const localAddress = await bindAddress(c.address, c.family);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port, family: c.family, localAddress, noDelay: sockoptOn(c.sockopts, 'TCP_NODELAY') });
    if (sockoptOn(c.sockopts, 'SO_KEEPALIVE')) sock.setKeepAlive(true);
    let timer: NodeJS.Timeout | undefined;
    if (c.contimeout > 0) {
      timer = setTimeout(() => {
        sock.destroy();
        // rsync says only its closing line here: "timeout waiting for daemon connection (code 35)".
        reject(new ConnectError('', EXIT_CONTIMEOUT));
      }, c.contimeout * 1000);
    }
    sock.once('error', (e: NodeJS.ErrnoException & { address?: string }) => {
      clearTimeout(timer);
      const errno = typeof e.errno === 'number' ? Math.abs(e.errno) : ERRNO[e.code as keyof typeof ERRNO];
      // rsync: "failed to connect to HOST (ADDR): Connection refused (111)"; a name that does not resolve is its
      // getaddrinfo line; an --address it cannot bind, only its closing line (it words connect's errors alone).
      const why = unresolved(e);
      const msg =
        why !== undefined
          ? `getaddrinfo: ${host} ${port}: ${why}`
          : e.syscall === 'bind'
            ? ''
            : `failed to connect to ${host} (${e.address ?? host}): ${errno ? `${errnoText(errno)} (${errno})` : e.message}`;
      reject(new ConnectError(msg, EXIT_SOCKET));
    });
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(sock);
    });
  });
}

/** Whether --sockopts turns NAME on (rsync's set_socket_options: a comma-separated list, NAME or NAME=VALUE). */
function sockoptOn(opts: string | undefined, name: string): boolean {
  if (!opts) return false;
  return opts.split(/[ ,\t]+/).some((o) => {
    const [k, v] = o.split('=');
    return k === name && (v === undefined || Number(v) !== 0);
  });
}
