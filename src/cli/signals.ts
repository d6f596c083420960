// SIGINT, SIGTERM and SIGHUP end a run with rsync's exit 20 at any moment. The handlers are installed by
// bin.ts before anything else is loaded (until then Node's own default kills the process, exit 143/130).
// While a transfer runs, a signal asks it to stop (the engines remove their temp files, main returns 20);
// during a pull's session it ends the session, so that the files received whole are still placed
// (cli/pull-salvage.ts); at any other moment nothing is half-written, so the process exits 20 at once.

import { Exit, exitMessage } from '../util/errors.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

let abortRun: (() => void) | undefined;
let exitNow: (code: number) => void = (code) => process.exit(code);
let lastWords: ((code: number) => void) | undefined;
/** What must not outlive a signal that ends the process at once (a pull's staging tree). */
const leftovers = new Set<() => void>();

/** Install the handlers (once, first thing); `exit` ends the process with a code. */
export function installSignalHandlers(exit: (code: number) => void): void {
  exitNow = exit;
  for (const s of SIGNALS) process.on(s, onSignal);
}

/** While a transfer runs: how to stop it. A second signal does not wait for the stop. */
export function setAbortHandler(fn: (() => void) | undefined): void {
  abortRun = fn;
}

/**
 * Undo `fn` (synchronously) if a signal ends the process before the caller does it itself; returns the
 * call that takes it back off the list.
 */
export function onSignalExit(fn: () => void): () => void {
  leftovers.add(fn);
  return () => leftovers.delete(fn);
}

/** What to write (synchronously) before the process exits on a signal: the --json document. */
export function setSignalExitHook(fn: ((code: number) => void) | undefined): void {
  lastWords = fn;
}

function onSignal(): void {
  const abort = abortRun;
  if (abort) {
    abortRun = undefined;
    abort();
    return;
  }
  process.stderr.write(`${exitMessage(Exit.Signal)}\n`);
  for (const undo of [...leftovers]) {
    leftovers.delete(undo);
    try {
      undo();
    } catch {
      // Exit 20 all the same: what could not be removed is left, as after a crash.
    }
  }
  const words = lastWords;
  lastWords = undefined;
  words?.(Exit.Signal);
  exitNow(Exit.Signal);
}
