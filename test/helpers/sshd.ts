// A throw-away OpenSSH server on 127.0.0.1 for the remote tests: its own host key, one client key
// allowed to log in as the user running the tests, a random port, started and stopped by the test.
// Needs Debian's openssh-server (.ci/run installs it) and root (sshd's privilege separation).

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const SSHD = '/usr/sbin/sshd';

/** Why the real-ssh tests cannot run here, or null. */
export function sshdUnavailable(): string | null {
  if (!fs.existsSync(SSHD)) return `${SSHD} is not installed (Debian's openssh-server)`;
  if (process.getuid?.() !== 0) return 'sshd needs root here';
  return null;
}

export interface Sshd {
  port: number;
  /** The -e value that logs in to it with the test key. */
  rsh: string;
  stop(): void;
}

const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

export interface SshdOptions {
  /**
   * Every session of the returned -e value goes through one connection (an ssh control master), made by
   * the first: for tests, where a new connection per session costs more than the short transfer each
   * makes. The benchmarks leave it off, so that each measured run pays its own connection, as rsync does.
   */
  shareConnection?: boolean;
  /** Variables added to sshd's own environment (not its sessions', which sshd builds afresh). */
  env?: Record<string, string>;
}

export async function startSshd(o: SshdOptions = {}): Promise<Sshd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-sshd-'));
  const key = (name: string): void => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, name)]);
  };
  key('host');
  key('client');
  fs.copyFileSync(path.join(dir, 'client.pub'), path.join(dir, 'authorized_keys'));
  // Privilege separation wants this directory to exist (systemd makes it on a booted machine).
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const config = path.join(dir, 'sshd_config');
    fs.writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${path.join(dir, 'host')}`,
        `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
        `PidFile ${path.join(dir, 'pid')}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        // The temp directory is not a home directory: do not insist on its modes.
        'StrictModes no',
        'LogLevel ERROR',
        // The session's bash then counts as nested and skips the login user's ~/.bashrc, which bash
        // otherwise reads for a command run by sshd: on this project's hosts root's (pyenv's init) took
        // 1.5 s of CPU, 3-7 s of wall, per connection, and a .bashrc that prints would break rsync's stream.
        'SetEnv SHLVL=1',
        '',
      ].join('\n'),
    );
    const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: o.env ? { ...process.env, ...o.env } : process.env,
    });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    let exited = false;
    child.on('exit', () => (exited = true));
    for (let i = 0; i < 100 && !exited; i++) {
      if (await canConnect(port)) {
        // %C (a hash of host, port and user) keeps a connection elsewhere (another port: the closed-port
        // case) out of the shared one; ControlPersist bounds a master that stop() cannot reach.
        const control = o.shareConnection ? ` -o ControlMaster=auto -o ControlPath=${path.join(dir, 'cm-%C')} -o ControlPersist=60` : '';
        const rsh = `ssh -p ${port} -i ${path.join(dir, 'client')} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes${control}`;
        return {
          port,
          rsh,
          stop: () => {
            if (o.shareConnection) spawnSync('sh', ['-c', `${rsh} -O exit 127.0.0.1`], { stdio: 'ignore', timeout: 10_000 });
            child.kill();
            fs.rmSync(dir, { recursive: true, force: true });
          },
        };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill();
    if (!/Address already in use|Bind to port/.test(stderr)) throw new Error(`sshd did not start: ${stderr}`);
  }
  throw new Error('sshd: no free port found');
}
