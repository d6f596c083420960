// How rsync starts its peer through a remote shell (rsync's do_cmd and safe_arg): the -e command (or
// RSYNC_RSH, or ssh) split into words the way rsync splits it, "-l USER" when the operand names a user,
// the host, then the remote rsync's path, the server options and the remote paths. The remote shell
// joins its arguments with spaces and gives them to a shell, so each path is escaped as rsync 3.2.4+
// escapes it: a remote shell must see the name the user typed, not a command.

import { UsageError, errnoText } from '../util/errors.js';
import type { DaemonLogin } from './daemon-route.js';
import type { ShellPipes } from './shell-pipes.js';
import type { WireCharset } from './wire-charset.js';

/** rsync's do_cmd word splitting: spaces separate words; '…' and "…" quote, a doubled quote inside is one. */
export function splitRsh(cmd: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < cmd.length) {
    if (cmd[i] === ' ') {
      i++;
      continue;
    }
    let word = '';
    let quote = '';
    for (; i < cmd.length && (cmd[i] !== ' ' || quote); i++) {
      const ch = cmd[i]!;
      if (ch === "'" || ch === '"') {
        if (!quote) {
          quote = ch;
          continue;
        }
        if (ch === quote) {
          if (cmd[i + 1] === quote) {
            word += ch;
            i++;
          } else {
            quote = '';
          }
          continue;
        }
      }
      word += ch;
    }
    if (quote) throw new UsageError(`Missing trailing-${quote} in remote-shell command.`);
    words.push(word);
  }
  return words;
}

const SHELL_CHARS = '!#$&;|<>(){}"\'` \t\n\r\\';
const WILD_CHARS = '*?[]';

/**
 * rsync's safe_arg for a file name sent to the remote shell: shell metacharacters escaped with a
 * backslash (wildcards left alone, so the remote side still expands them), a leading "-" made "./-",
 * and, for a receiving client, a leading "~" escaped when the name has no "/" (or, under -R, no "/./")
 * unless the sender is trusted to name other files than asked (a --files-from list on its side): a
 * sender must not get to expand someone's home directory from a bare name. `oldArgs` (--old-args, rsync's old_style_args):
 * the name goes as typed, so the remote shell splits and expands it ("host:one two" names two files);
 * only the leading "-" is still guarded.
 */
export function safeFileArg(arg: string, weSend: boolean, oldArgs = 0, tilde: { relative?: boolean; trustSender?: boolean } = {}): string {
  let out = '';
  if (arg.startsWith('-')) out = './';
  if (oldArgs > 0) return out + arg;
  const bare = tilde.relative ? !arg.includes('/./') : !arg.includes('/');
  if (arg.startsWith('~') && !weSend && !tilde.trustSender && (bare || !arg.includes('/'))) out += '\\';
  for (let i = 0; i < arg.length; i++) {
    const ch = arg[i]!;
    if (ch === '\\') {
      out += WILD_CHARS.includes(arg[i + 1] ?? '\0') && arg[i + 1] !== undefined ? '\\' : '\\\\';
    } else if (SHELL_CHARS.includes(ch)) {
      out += '\\' + ch;
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * rsync's safe_arg for an option's value (--backup-dir, --suffix, --files-from, ...): shell
 * metacharacters and wildcards escaped with a backslash, a backslash doubled; under two --old-args
 * (RSYNC_OLD_ARGS=2) nothing is, as rsync leaves it then.
 */
export function safeOptionArg(value: string, oldArgs = 0): string {
  if (oldArgs >= 2) return value;
  let out = '';
  for (const ch of value) out += SHELL_CHARS.includes(ch) || WILD_CHARS.includes(ch) ? '\\' + ch : ch;
  return out;
}

export interface RemoteCommand {
  /** -e, or undefined for $RSYNC_RSH / ssh. */
  rsh: string | undefined;
  user: string | undefined;
  host: string;
  /** --rsync-path, default "rsync"; sent as one word (the remote shell splits it). */
  rsyncPath: string | undefined;
  /** The server's options, from --server on. */
  serverArgs: string[];
  /** The remote paths, unescaped. */
  paths: string[];
  /** Whether this side sends files (a push). */
  weSend: boolean;
  /** --old-args' level (rsync's old_style_args): the paths go unescaped. */
  oldArgs?: number;
  /** -s (rsync's protect_args): only the server's first options go through the remote shell. */
  secluded?: boolean;
  /** --iconv: the arguments -s sends through the connection are converted for the wire. */
  charset?: WireCharset;
  /** -R, and a sender trusted with names (a --files-from list on its side): safeFileArg's "~" rule. */
  relative?: boolean;
  trustSender?: boolean;
  /** A module of an rsync daemon (`host::module/path`, `rsync://`): no remote shell runs the server. */
  daemon?: DaemonLogin;
  /** --bwlimit in bytes a second for what this side writes (0 or absent: none): remote/pacer.ts. */
  bwlimit?: number;
  /** --timeout in seconds (0 or absent: none): remote/io-watch.ts. */
  timeout?: number;
  /** --stop-after/--stop-at: when the session stops with exit 30, in ms since the epoch (remote/io-watch.ts watchStopAt). */
  stopAt?: number;
  /** Makes the large pipe of the remote shell's stdout, or grows one (remote/shell-pipes.ts); absent: Node's own. */
  pipe?: ShellPipes;
  /** --debug=cmd (-vv): the command is printed before it is started (commandLine). */
  showCommand?: boolean;
  /**
   * The remote shell's stderr is read here and written to the client's err stream instead of being
   * inherited (--json, whose document keeps those lines: a server started through a shell writes its
   * errors there, not into the connection).
   */
  stderrThrough?: boolean;
}

/** What starts the server: the remote shell's argv, and under -s the arguments to send it first. */
export interface Launch {
  argv: string[];
  /** Under -s: "rsync", the rest of the server's options, ".", the paths, each NUL-terminated, then an empty one. */
  secluded?: Buffer;
}

/** The characters an argument may hold and still be printed bare in commandLine (rsync's print_child_argv). */
const BARE_ARG = /^[a-zA-Z0-9,.\-_=+@/]*$/;

/**
 * rsync's --debug=cmd line for the command it starts: "opening connection using: ", each argument
 * followed by a space (in double quotes when it holds anything but letters, digits and `,.-_=+@/`; a
 * line for the eye, not for a shell), then " (N args)".
 */
export function commandLine(argv: readonly string[]): string {
  return `opening connection using: ${argv.map((a) => (BARE_ARG.test(a) ? `${a} ` : `"${a}" `)).join('')} (${argv.length} args)\n`;
}

/**
 * The host as a remote shell's argument: one that starts with "-" would be read as an option (ssh's
 * `-oProxyCommand=...` runs a command here), so rsync refuses it before starting anything, with its
 * line and exit 1. Every remote shell started with a host takes it through here.
 */
export function shellHost(host: string): string {
  if (host.startsWith('-')) throw new UsageError("Invalid remote host: hostnames may not start with '-'.", true);
  return host;
}

/**
 * rsync's line for a remote shell that could not be started (its exit is 14): the client's role, the
 * program, strerror's text ("[sender] Failed to exec ssh: No such file or directory (2)").
 */
export function execFailedLine(program: string, err: Error, weSend: boolean): string {
  const errno = (err as NodeJS.ErrnoException).errno;
  const why = typeof errno === 'number' && errno !== 0 ? `${errnoText(Math.abs(errno))} (${Math.abs(errno)})` : err.message;
  return `[${weSend ? 'sender' : 'Receiver'}] Failed to exec ${program}: ${why}`;
}

/** The argv to spawn: the remote shell's words, then what it runs on the far side. */
export function remoteArgv(c: RemoteCommand, env: NodeJS.ProcessEnv): string[] {
  return remoteLaunch(c, env).argv;
}

/**
 * The arguments -s sends through the connection: each NUL-terminated (an empty one as "."), then an
 * empty one; under --iconv each converted as rsync's send_protected_args converts it.
 */
export function protectedArgs(args: readonly string[], charset?: WireCharset): Buffer {
  const NUL = Buffer.of(0);
  const parts: Buffer[] = [];
  for (const a of args) {
    const b = Buffer.from(a || '.', 'latin1');
    parts.push(charset && a ? charset.toWireKeepingBad(b) : b, NUL);
  }
  parts.push(NUL);
  return Buffer.concat(parts);
}

/**
 * Under -s, how many of the server's options still go where the server's command line goes: those up
 * to its first letter cluster, and --iconv right after it (rsync's server_options puts it before the
 * protected arguments start: the server must know its charset before it reads them).
 */
export function openArgCount(serverArgs: readonly string[]): number {
  const cluster = serverArgs.findIndex((a) => /^-[^-]/.test(a));
  return cluster < 0 ? -1 : cluster + 1 + (serverArgs[cluster + 1]?.startsWith('--iconv=') ? 1 : 0);
}

/**
 * rsync's do_cmd: the remote shell's argv, and under -s (send_protected_args) the arguments that go
 * through the connection instead, before the handshake: the remote shell then sees only the server's
 * option letters (with "s" first), so no name is ever split or expanded by a shell; names are sent as
 * they are, a leading "-" still made "./-".
 */
export function remoteLaunch(c: RemoteCommand, env: NodeJS.ProcessEnv): Launch {
  const host = shellHost(c.host);
  const words = splitRsh(c.rsh ?? env['RSYNC_RSH'] ?? 'ssh');
  if (!words.length) throw new UsageError('the remote-shell command (-e) is empty');
  const argv = [...words];
  if (c.user !== undefined) argv.push('-l', c.user);
  argv.push(host, c.rsyncPath ?? 'rsync');
  const cluster = c.serverArgs.findIndex((a) => /^-[^-]/.test(a));
  const open = openArgCount(c.serverArgs);
  if (!c.secluded || cluster < 0) {
    argv.push(...c.serverArgs, '.');
    for (const p of c.paths) argv.push(safeFileArg(p, c.weSend, c.oldArgs, { relative: c.relative, trustSender: c.trustSender }));
    return { argv };
  }
  argv.push(...c.serverArgs.slice(0, cluster), `-s${c.serverArgs[cluster]!.slice(1)}`, ...c.serverArgs.slice(cluster + 1, open));
  const rest = ['rsync', ...c.serverArgs.slice(open), '.', ...c.paths.map((p) => (p.startsWith('-') ? `./${p}` : p))];
  const secluded = protectedArgs(rest, c.charset);
  return { argv, secluded };
}
