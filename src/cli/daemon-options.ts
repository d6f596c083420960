// The options of a connection to an rsync daemon (--port, --address, -4/-6, --sockopts, --contimeout,
// --password-file, --motd/--no-motd), registered on the program and turned into the daemon login a
// daemon operand carries (remote/daemon-route.ts). Without a daemon operand they change nothing, and
// --password-file and --contimeout are refused as rsync's start_client refuses them.

import type { Command } from 'commander';
import type { DaemonConnect, DaemonLogin } from '../remote/daemon-route.js';
import { UsageError } from '../util/errors.js';
import { daemonPassword } from './daemon-password.js';
import { poptInt } from './local-noops.js';
import type { DaemonOperand } from './remote-operand.js';

/** The socket options arsync can set on a Node socket (rsync's socket_options[] has more; those are refused). */
const SOCKOPTS = ['TCP_NODELAY', 'SO_KEEPALIVE'];

export interface DaemonChoices {
  connect: DaemonConnect;
  passwordFile: string | undefined;
  motd: boolean;
}

/** Registers the options; the returned function settles them once the operands say whether a daemon is involved. */
export function addDaemonOptions(p: Command): (daemon: boolean) => DaemonChoices {
  let port: number | undefined;
  let address: string | undefined;
  let family: 4 | 6 | undefined;
  let sockopts: string | undefined;
  let contimeout = 0;
  let passwordFile: string | undefined;
  let motd = true;
  const int = (name: string, then: (n: number) => void) => (v: string): number => {
    const n = poptInt(name, v);
    then(n);
    return n;
  };
  p.option('--motd', "show a daemon's message of the day (the default)", () => (motd = true))
    .option('--no-motd', "suppress a daemon's message of the day (and its module list)", () => (motd = false))
    .option('--address <ADDRESS>', 'bind address for the connection to a daemon', (v: string) => (address = v))
    .option('--port <PORT>', 'the daemon port when the operand names none (default 873)', int('--port', (n) => (port = n)))
    .option('--sockopts <OPTIONS>', 'TCP options for the connection to a daemon (TCP_NODELAY, SO_KEEPALIVE)', (v: string) => (sockopts = v))
    .option('-4, --ipv4', 'prefer IPv4 (a daemon connection, or ssh -4 for a daemon over ssh)', () => (family = 4))
    .option('-6, --ipv6', 'prefer IPv6 (a daemon connection, or ssh -6 for a daemon over ssh)', () => (family = 6))
    .option('--contimeout <SECONDS>', 'timeout for the connection to a daemon', int('--contimeout', (n) => (contimeout = n)))
    .option('--no-contimeout', 'turn off --contimeout', () => (contimeout = 0))
    .option('--password-file <FILE>', "read a daemon's password from FILE ('-' for standard input)", (v: string) => (passwordFile = v));
  return (daemon: boolean): DaemonChoices => {
    // start_client(): the daemon-only options a transfer without a daemon refuses.
    if (!daemon && passwordFile !== undefined) throw new UsageError('The --password-file option may only be used when accessing an rsync daemon.');
    if (!daemon && contimeout) throw new UsageError('The --contimeout option may only be used when connecting to an rsync daemon.');
    if (daemon && sockopts) {
      for (const o of sockopts.split(/[ ,\t]+/).filter(Boolean)) {
        const name = o.split('=')[0]!;
        if (!SOCKOPTS.includes(name)) throw new UsageError(`--sockopts: ${name} is not an option arsync can set (it sets ${SOCKOPTS.join(', ')})`);
      }
    }
    return { connect: { port, address, family, sockopts, contimeout }, passwordFile, motd };
  };
}

/** The login a daemon operand carries: its route, the password source (read only when asked), --no-motd. */
export function daemonLogin(
  op: DaemonOperand,
  d: DaemonChoices,
  rsh: string | undefined,
  rsyncPath: string | undefined,
  env: NodeJS.ProcessEnv,
  insecureLinks: boolean,
  timeout: number,
): DaemonLogin {
  return {
    route: { host: op.host, user: op.user, port: op.port, rsh, rsyncPath, connect: d.connect },
    password: () => daemonPassword(d.passwordFile, env, insecureLinks),
    motd: d.motd,
    timeout,
  };
}
