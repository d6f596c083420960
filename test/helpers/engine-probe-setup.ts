// vitest global setup: probes which engines this machine can test (cli-command.ts probeEngine: a CLI run for
// io_uring, the addon's presence) once for the whole run and provides the result to every test file,
// which used to probe at its own collection (a CLI run and a temp tree per file, ~30 s of CPU over the
// suite). The skip reasons are the probe's own, word for word. The probe runs before any test, so no
// test's io_uring sysctl flip (cli.ts, ioUringDisabled) can be under way meanwhile.

import type { TestProject } from 'vitest/node';
import { probeEngines, type EngineName } from './cli-command.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** Each engine's reason it cannot be tested here, or null. */
    arsyncEngineSkips: Record<EngineName, string | null>;
  }
}

export default function setup(project: TestProject): void {
  project.provide('arsyncEngineSkips', probeEngines());
}
