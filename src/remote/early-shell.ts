// The remote shell bin/arsync starts before Node (docs/protocol.md, "The remote shell started before
// Node"): taken over here only when it runs exactly the argv, in exactly the environment, that this run
// works out for itself; otherwise stopped before a byte reached it. And the entry the launcher starts it
// from, written after a session that succeeded. The entry is plain lines, read by the launcher's shell
// without eval: a header of the format, the launcher's key of the command line (its own lines, compared
// whole), whether `env --default-signal` can put the shell's signals back to their defaults (1) or not
// (0), the digest of the environment, argc, then one argument a line (an argument with a newline in it is
// never written).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** The variables bin/arsync passes (a contract test holds the names to the launcher's). */
export const EARLY_VARS = {
  /**
   * "PID WFD RFD EFD FIFO": the shell it started, the write end of its stdin, the read ends of its stdout
   * and its stderr, and the three FIFOs' names without their ".i", ".o" and ".e" (removed here).
   */
  shell: 'ARSYNC_LAUNCHER_EARLY',
  /** The entry it started the shell from, as it read it, from the signal flag on. */
  spec: 'ARSYNC_LAUNCHER_EARLY_SPEC',
  /** Where this command line's entry lives, and its key (cwd, argc, the arguments, a few variables: lines). */
  file: 'ARSYNC_LAUNCHER_EARLY_FILE',
  key: 'ARSYNC_LAUNCHER_EARLY_KEY',
} as const;

export const EARLY_HEADER = 'arsync-early-shell 2';

/** The remote shell's process as client.ts uses it: one Node spawned, or one the launcher started. */
export interface ShellProcess extends EventEmitter {
  stdin: net.Socket;
  stdout: net.Socket;
  /** Its stderr when this side relays it (the launcher's shell), or null when it is ours already. */
  stderr: net.Socket | null;
  kill(signal: NodeJS.Signals): boolean;
}

interface Held {
  pid: number;
  /** Our ends of its pipes, reopened close-on-exec (undefined: not open, nothing to take over). */
  input: number | undefined;
  output: number | undefined;
  /** The read end of its stderr: relayed once taken over, never read otherwise. */
  errput: number | undefined;
  spec: string;
}

let held: Held | undefined;
let entry: { file: string; key: string } | undefined;
/** The shell taken over, whose end is not yet seen: stopped if this process leaves first. */
let running: number | undefined;

/**
 * `fd` opened again through /proc, close-on-exec (Node opens every file so), and the inherited one closed.
 * The write end of a FIFO cannot be opened once its reader is gone (ENXIO: a remote shell that has already
 * failed and left): then the inherited descriptor itself is kept, which keeps no reader waiting.
 */
function reopen(fd: number, flags: number): number | undefined {
  let again: number;
  try {
    again = fs.openSync(`/proc/self/fd/${fd}`, flags | fs.constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENXIO') return fd;
    return undefined;
  }
  fs.closeSync(fd);
  return again;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

/**
 * At start: the launcher's variables taken out of the environment (nothing arsync starts inherits
 * them), and its shell's stdin reopened close-on-exec (the launcher's shell cannot set the flag). Whatever
 * of it is not taken over by the time this process exits is stopped.
 */
export function claimEarlyShell(env: NodeJS.ProcessEnv = process.env): void {
  const raw = env[EARLY_VARS.shell];
  const spec = env[EARLY_VARS.spec];
  const file = env[EARLY_VARS.file];
  const key = env[EARLY_VARS.key];
  for (const name of Object.values(EARLY_VARS)) delete env[name];
  if (file && key && path.isAbsolute(file)) entry = { file, key };
  if (raw === undefined) return;
  const [pid, wfd, rfd, efd] = raw.split(' ', 4).map(Number);
  const fifo = raw.split(' ').slice(4).join(' ');
  if (path.basename(fifo).startsWith('.fifo.')) {
    for (const end of ['.i', '.o', '.e']) fs.rmSync(fifo + end, { force: true });
  }
  if (!Number.isInteger(pid) || pid! <= 0 || !Number.isInteger(wfd) || !Number.isInteger(rfd) || !Number.isInteger(efd)) return;
  // The read ends are kept as inherited: reopened after the shell has already left (it may fail at once),
  // a non-blocking FIFO reader is never told of the hang-up (Linux holds it back until a writer comes), so
  // the run would wait for the end for good. A copy a later child inherits holds only a reader, which
  // keeps nothing open; the write end, which would keep the shell's stdin open, is reopened close-on-exec.
  const output = rfd;
  const input = reopen(wfd!, fs.constants.O_WRONLY);
  held = { pid: pid!, input, output, errput: efd, spec: spec ?? '' };
  process.on('exit', () => {
    if (held) signal(held.pid, 'SIGTERM');
    // As rsync's client stops its children when it leaves early (cleanup.c kill_all): ssh dies quietly.
    if (running !== undefined) signal(running, 'SIGUSR1');
  });
}

/**
 * Where the environment is summed: its entries sorted, as spawn passes them (undefined values left out),
 * but for `_`, which the calling shell sets to the program it ran (`arsync` from a prompt, `/usr/bin/time`
 * or `env` in front of it) and no remote shell reads: a run differing from the entry's only there is a hit.
 */
export function envDigest(env: NodeJS.ProcessEnv): string {
  const h = createHash('sha256');
  for (const k of Object.keys(env).sort()) {
    if (k === '_') continue;
    const v = env[k];
    if (v !== undefined) h.update(`${k}=${v}\0`);
  }
  return h.digest('hex');
}

/** The entry's lines after the header: the signal flag, the digest, argc and the arguments. */
function body(argv: readonly string[], env: NodeJS.ProcessEnv, reset: boolean): string {
  return [reset ? '1' : '0', envDigest(env), String(argv.length), ...argv].join('\n') + '\n';
}

/** Whether the entry's rest (from the signal flag on) starts `argv` in `env`, its signal flag aside. */
export function entryStarts(rest: string, argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  const cut = (text: string): string => text.slice(text.indexOf('\n') + 1);
  return rest.includes('\n') && cut(rest) === cut(body(argv, env, false));
}

/** A shell the launcher started, with the interface of a ChildProcess that client.ts uses. */
class EarlyShell extends EventEmitter implements ShellProcess {
  readonly stdin: net.Socket;
  readonly stdout: net.Socket;
  readonly stderr: net.Socket;
  private ended = false;

  constructor(
    readonly pid: number,
    input: number,
    output: number,
    errput: number,
  ) {
    super();
    this.stdin = new net.Socket({ fd: input, readable: false, writable: true });
    this.stdout = new net.Socket({ fd: output, readable: true, writable: false });
    this.stderr = new net.Socket({ fd: errput, readable: true, writable: false });
    running = pid;
    void this.watch();
  }

  kill(signal: NodeJS.Signals): boolean {
    if (this.ended) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Its end, from /proc: this process is its parent, but Node's loop does not know it, and the kernel
   * keeps an ended child as a zombie whose stat line carries its wait status (field 52) until it is
   * collected, which nothing here does (the pid stays this child's until this process exits). Looked at
   * every few milliseconds while its output is open, then at once when the output ends.
   */
  private async watch(): Promise<void> {
    let outputEnded = false;
    let wake: (() => void) | undefined;
    const onEnd = (): void => {
      outputEnded = true;
      wake?.();
    };
    this.stdout.once('end', onEnd);
    this.stdout.once('close', onEnd);
    // Not before the caller has had the object (and put its listener on 'exit'): the shell may be over already.
    await new Promise((resolve) => setImmediate(resolve));
    // After the output's end the shell is leaving: looked at again after 1, 2, 4 ... 16 ms (a fixed
    // 50 ms before it, while it may run for hours).
    let sinceEnd = 0;
    for (;;) {
      const status = zombieStatus(this.pid);
      if (status !== undefined) {
        this.ended = true;
        running = undefined;
        const [code, signal] = status;
        this.emit('exit', code, signal);
        return;
      }
      const delay = outputEnded ? Math.min(2 ** sinceEnd++, 16) : 50;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
  }
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(os.constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

/** [code, signal] of an ended child (ExitEvent's pair), or undefined while it runs. */
function zombieStatus(pid: number): [number | null, NodeJS.Signals | null] | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    // Already collected by someone else (cannot happen to a child nobody waits for): an unknown end.
    return [null, 'SIGKILL'];
  }
  // "pid (comm) state ...": comm may hold spaces and parentheses; the fields after its last ')' start at 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] !== 'Z') return undefined;
  const status = Number(fields[52 - 3]);
  if (!Number.isInteger(status)) return [null, 'SIGKILL'];
  const sig = status & 0x7f;
  if (sig === 0) return [(status >> 8) & 0xff, null];
  return [null, SIGNAL_NAMES.get(sig) ?? 'SIGKILL'];
}

/**
 * The launcher's shell when it runs `argv` in `env` (what client.ts would spawn), taken over: its stdout
 * grown by `resize` when given (shell-pipes.ts's room). Otherwise it is stopped (its pipes left open until
 * this process exits), and undefined returned, as when nothing was started: the caller spawns its own.
 * Only the first call can take it.
 */
export function adoptEarlyShell(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  resize?: (fd: number) => void,
): ShellProcess | undefined {
  const h = held;
  if (!h) return undefined;
  held = undefined;
  if (h.input === undefined || h.output === undefined || h.errput === undefined || !entryStarts(h.spec, argv, env)) {
    // SIGTERM: ssh leaves quietly, and one asking for a passphrase puts the terminal back as it goes.
    // Its pipes stay open until this process exits: closed now, the end of its input could reach the
    // command it runs before the signal has ended it. A command the signal does not reach (the rsync a
    // wrapper script started) sees that end when this process exits, and what it says of it goes to
    // the stderr FIFO, which nothing reads.
    signal(h.pid, 'SIGTERM');
    return undefined;
  }
  resize?.(h.output);
  return new EarlyShell(h.pid, h.input, h.output, h.errput);
}

/** Whether `env --default-signal` works here (GNU coreutils 9.0 and later), asked once per process. */
let resets: boolean | undefined;
function envResetsSignals(env: NodeJS.ProcessEnv): boolean {
  resets ??= spawnSync('env', ['--default-signal', '--', 'true'], { env, stdio: 'ignore' }).status === 0;
  return resets;
}

/**
 * After a session that succeeded through the remote shell `argv` spawned in `env`: its entry written for
 * the launcher, when the launcher gave this command line a place and the entry there is not already this
 * one. Written only into a cache directory whose nearest existing ancestor is this user's (root's run
 * under sudo with a user's HOME writes nothing there), by rename, the directory 0700. Failures are silent:
 * the entry only saves time.
 */
export function rememberShell(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  const e = entry;
  if (!e || argv.length === 0 || argv.some((a) => a.includes('\n') || a.includes('\0'))) return;
  try {
    const dir = path.dirname(e.file);
    const head = `${EARLY_HEADER}\n${e.key}\n`;
    let current: string | undefined;
    try {
      current = fs.readFileSync(e.file, 'utf8');
    } catch {
      /* none yet */
    }
    if (current?.startsWith(head) && entryStarts(current.slice(head.length), argv, env)) return;
    const euid = process.geteuid?.();
    let up = dir;
    while (!fs.existsSync(up)) up = path.dirname(up);
    if (euid === undefined || fs.statSync(up).uid !== euid) return;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (fs.statSync(dir).uid !== euid) return;
    const text = head + body(argv, env, envResetsSignals(env));
    const tmp = `${e.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, e.file);
  } catch {
    /* an unwritable cache: the next run starts its shell from Node, as this one did */
  }
}
