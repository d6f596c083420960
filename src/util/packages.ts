// The npm packages that only some runs use (piscina, fast-glob, cli-progress), loaded on first use through
// require: they are CommonJS, and a dynamic import() is refused in a run started from the start-up
// snapshot (Node 20 has no module loader callback for the snapshot's script), where a failed load of the
// pool would silently leave every batch inline.
import { createRequire } from 'node:module';

type Packages = {
  piscina: typeof import('piscina');
  'fast-glob': typeof import('fast-glob');
  'cli-progress': typeof import('cli-progress');
};

/** The package's CommonJS exports (what `require(name)` returns); throws as require does. */
export function loadPackage<K extends keyof Packages>(name: K): Packages[K] {
  return createRequire(import.meta.url)(name) as Packages[K];
}
