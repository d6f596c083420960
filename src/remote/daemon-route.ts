// What a daemon session is told by the command line (types only, shared by the transports, the
// greeting and the remote-shell command so none of them imports another for it): where the daemon
// is, how to connect (--port, --address, -4/-6, --sockopts, --contimeout), and the login (the
// password source, --no-motd).

/** How to connect, from the command line. */
export interface DaemonConnect {
  /** --port: used when the operand names none. */
  port: number | undefined;
  address: string | undefined;
  family: 4 | 6 | undefined;
  sockopts: string | undefined;
  /** --contimeout in seconds; 0 = none. */
  contimeout: number;
}

export interface DaemonRoute {
  host: string;
  /** The user of `user@host`: the remote shell's -l, and the daemon's login. */
  user: string | undefined;
  /** The operand's own port (`rsync://host:port/`), before --port. */
  port: number | undefined;
  /** An explicit -e: the daemon is started on the far host through it. */
  rsh: string | undefined;
  rsyncPath: string | undefined;
  connect: DaemonConnect;
}

/** The route and the login: the password, asked only when the daemon wants one, and --no-motd. */
export interface DaemonLogin {
  route: DaemonRoute;
  password: () => string;
  motd: boolean;
  /** --timeout in seconds (0: none): a daemon silent that long during the greeting ends the run (exit 30). */
  timeout: number;
  /** --early-input's file: its bytes go to the module's "early exec" program. */
  earlyInput?: string;
}
