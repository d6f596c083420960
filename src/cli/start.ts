// How the arsync command starts, from the plain bundle (bin.ts) and from the start-up snapshot
// (snapshot.ts) alike: signal handlers first, the --json document's hook, then main() from argv to
// rsync's exit code. Everything here touches the process (its signals, streams, argv, exit), so it runs
// at run time only, never while a snapshot is being built.
import { installSignalHandlers, setSignalExitHook } from './signals.js';
import { jsonMode, summaryDocument } from '../progress/json.js';
import { EventStream } from '../progress/events.js';
import { VERSION } from '../version.js';
import { monotonicMs } from '../util/monotonic.js';
import { claimEarlyShell } from '../remote/early-shell.js';

type Main = (argv: string[]) => Promise<number>;

/**
 * What bin/arsync puts in GLIBC_TUNABLES when the caller set none (a contract test holds the two
 * together): it tunes this process's malloc, read by glibc before any of this runs, and is not the
 * business of the programs arsync starts (the remote shell, getent, ...).
 */
export const LAUNCHER_TUNABLES = 'glibc.malloc.hugetlb=1:glibc.malloc.top_pad=16777216:glibc.malloc.arena_max=2';

/** Take the launcher's tunables out of the environment that arsync's child processes inherit. */
export function dropLauncherTunables(env: NodeJS.ProcessEnv = process.env): void {
  if (env.GLIBC_TUNABLES === LAUNCHER_TUNABLES) delete env.GLIBC_TUNABLES;
}

/** Where bin/arsync keeps NODE_EXTRA_CA_CERTS while Node starts without it (a contract test holds the name). */
export const LAUNCHER_CA_CERTS = 'ARSYNC_LAUNCHER_CA_CERTS';

/** Give NODE_EXTRA_CA_CERTS back to the environment arsync's child processes inherit, as the caller set it. */
export function restoreCaCerts(env: NodeJS.ProcessEnv = process.env): void {
  const kept = env[LAUNCHER_CA_CERTS];
  if (kept === undefined) return;
  delete env[LAUNCHER_CA_CERTS];
  if (kept !== '') env.NODE_EXTRA_CA_CERTS = kept;
}

/** Run the CLI on process.argv; `loadMain` is called once the handlers are in place. */
export function startCli(loadMain: () => Promise<{ main: Main }>): void {
  let finished = false;
  const exitWith = (code: number): void => {
    finished = true;
    process.exit(code);
  };
  installSignalHandlers(exitWith);
  dropLauncherTunables();
  restoreCaCerts();
  claimEarlyShell();
  // Under --json even a signal before main() has loaded ends with the document (main replaces this hook
  // with one that knows what the run did).
  const jsonOut = jsonMode(process.argv.slice(2));
  if (jsonOut !== undefined) {
    const started = monotonicMs();
    // --json=events ends its stream with the `end` event that carries the document.
    const events = jsonOut === 'events' ? new EventStream(process.stdout) : undefined;
    setSignalExitHook((code) => {
      const doc = summaryDocument(VERSION, { errors: [] }, code, monotonicMs() - started);
      if (events) events.end(doc);
      else process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    });
  }
  // A reader that went away (`arsync -v ... | head`) must not take the copy down with it: the lines are
  // dropped and the run finishes.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  // If the event loop ever ran dry while a run was still waiting on something, Node would exit with 0 as
  // if all had gone well: never let an unfinished run look like a success.
  process.on('exit', () => {
    if (!finished) {
      process.stderr.write('arsync: internal error: exited before the run finished\n');
      process.exitCode = 11;
    }
  });

  void loadMain().then(({ main }) => main(process.argv)).then(
    (code) => {
      finished = true;
      process.exitCode = code;
    },
    (err: unknown) => {
      finished = true;
      process.stderr.write(`arsync: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 11;
    },
  );
}
