// RSYNC_PROXY (rsync's open_socket_out and establish_proxy_connection): a daemon's TCP connection made
// through a web proxy's CONNECT tunnel. "[USER:PASS@]HOST:PORT" names the proxy; the client asks it for
// "CONNECT host:port HTTP/1.0" (with Basic proxy authorization when a user is given), wants a 2xx
// status, skips the response's header lines, and the socket is then the daemon's. Lines are bounded as
// rsync bounds them.

import type { Socket } from 'node:net';
import { ProtocolError } from './wire.js';

/** rsync's PROXY_BUF_SIZE less its terminator: the longest request or response line. */
const MAX_LINE = 1023;
const EXIT_SOCKET = 10;

export interface Proxy {
  host: string;
  port: number;
  user: string | undefined;
  pass: string | undefined;
}

/** Parses $RSYNC_PROXY; undefined when unset or empty. */
export function parseProxy(spec: string | undefined): Proxy | undefined {
  if (!spec) return undefined;
  let hostPort = spec;
  let user: string | undefined;
  let pass: string | undefined;
  const at = spec.lastIndexOf('@');
  if (at >= 0) {
    const cred = spec.slice(0, at);
    hostPort = spec.slice(at + 1);
    const colon = cred.indexOf(':');
    if (colon < 0) throw new ProtocolError('invalid proxy specification: should be USER:PASS@HOST:PORT', EXIT_SOCKET);
    user = cred.slice(0, colon);
    pass = cred.slice(colon + 1);
  }
  const colon = hostPort.indexOf(':');
  if (colon < 0) throw new ProtocolError('invalid proxy specification: should be HOST:PORT', EXIT_SOCKET);
  return { host: hostPort.slice(0, colon), port: Number.parseInt(hostPort.slice(colon + 1), 10) || 0, user, pass };
}

/** The CONNECT request rsync sends. */
export function connectRequest(p: Proxy, host: string, port: number): string {
  if (/[\x00-\x1f\x7f]/.test(host)) throw new ProtocolError('invalid control character in proxy CONNECT host', EXIT_SOCKET);
  const auth = p.user !== undefined && p.pass !== undefined ? `\r\nProxy-Authorization: Basic ${Buffer.from(`${p.user}:${p.pass}`, 'latin1').toString('base64')}` : '';
  return `CONNECT ${host}:${port} HTTP/1.0${auth}\r\n\r\n`;
}

/** Asks the proxy for the tunnel over `sock` (connected to the proxy); resolves once the daemon's bytes follow. */
export function proxyTunnel(sock: Socket, p: Proxy, host: string, port: number): Promise<void> {
  const request = connectRequest(p, host, port);
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let status = true;
    const fail = (message: string): void => {
      sock.off('data', take);
      sock.off('close', closed);
      reject(new ProtocolError(message, EXIT_SOCKET));
    };
    const closed = (): void => fail('failed to read from proxy: Connection reset by peer (104)');
    const take = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const nl = buf.indexOf(0x0a);
        if (nl < 0) {
          if (buf.length >= MAX_LINE) fail(status ? 'proxy response line too long' : 'proxy response header line too long');
          return;
        }
        if (nl >= MAX_LINE) return fail(status ? 'proxy response line too long' : 'proxy response header line too long');
        let line = buf.subarray(0, nl).toString('latin1');
        buf = buf.subarray(nl + 1);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (status) {
          if (!/^HTTP\/[\d.]* *2/.test(line)) return fail(`bad response from proxy -- ${line}`);
          status = false;
          continue;
        }
        if (line === '') {
          sock.off('data', take);
          sock.off('close', closed);
          sock.pause();
          // What came after the header is the daemon's: it goes back to the stream's front.
          if (buf.length) sock.unshift(buf);
          return resolve();
        }
      }
    };
    sock.on('data', take);
    sock.once('close', closed);
    sock.write(request);
  });
}
