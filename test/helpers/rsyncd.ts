// A stock rsync daemon on this machine for the daemon-client tests: a config with the modules asked
// for, started `rsync --daemon --no-detach` on 127.0.0.1 and a free port (or, for RSYNC_CONNECT_PROG,
// only the config and the command that runs it over a pipe). The daemon runs as the test's user (no
// "uid = nobody" switch), without chroot.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export interface Module {
  name: string;
  path: string;
  readOnly?: boolean;
  comment?: string;
  /** "user:password" lines; the module then asks for a login. */
  secrets?: string[];
  extra?: string[];
}

export interface Daemon {
  port: number;
  conf: string;
  /** RSYNC_CONNECT_PROG that runs this daemon's config over a pipe. */
  connectProg: string;
  stop(): Promise<void>;
}

/** Writes the config; `motd` becomes the daemon's message of the day. */
export function writeConf(dir: string, modules: Module[], motd?: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const lines = ['use chroot = false', `uid = ${process.getuid?.() ?? 0}`, `gid = ${process.getgid?.() ?? 0}`];
  if (motd !== undefined) {
    fs.writeFileSync(path.join(dir, 'motd'), motd);
    lines.push(`motd file = ${path.join(dir, 'motd')}`);
  }
  for (const m of modules) {
    lines.push(`[${m.name}]`, `path = ${m.path}`, `read only = ${m.readOnly === false ? 'false' : m.readOnly ? 'true' : 'false'}`);
    if (m.comment) lines.push(`comment = ${m.comment}`);
    if (m.secrets) {
      const secrets = path.join(dir, `${m.name}.secrets`);
      fs.writeFileSync(secrets, m.secrets.join('\n') + '\n', { mode: 0o600 });
      lines.push(`auth users = ${m.secrets.map((s) => s.split(':')[0]).join(' ')}`, `secrets file = ${secrets}`);
    }
    lines.push(...(m.extra ?? []));
  }
  const conf = path.join(dir, 'rsyncd.conf');
  fs.writeFileSync(conf, lines.join('\n') + '\n');
  return conf;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port }, () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Starts `rsync` (or another build) as a daemon on 127.0.0.1 with the config `conf`. */
export async function startDaemon(conf: string, rsync = 'rsync'): Promise<Daemon> {
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    const c = spawn(rsync, ['--daemon', '--no-detach', `--config=${conf}`, `--port=${port}`, '--address=127.0.0.1'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await accepting(port)) {
        child = c;
        break;
      }
      if (c.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!child) c.kill();
  }
  if (!child) throw new Error(`${rsync} --daemon did not start`);
  const running = child;
  return {
    port,
    conf,
    connectProg: `${rsync} --config=${conf} --daemon`,
    stop: () =>
      new Promise((resolve) => {
        if (running.exitCode !== null) return resolve();
        running.once('exit', () => resolve());
        running.kill();
      }),
  };
}
