// Bundles the CLI into dist/bin.js, the pool worker into dist/worker.js and the install script's addon
// check into dist/addon-check.js. One file per entry means
// Node reads one or two modules at start-up instead of thirty (start-up is most of a tiny job's time, and
// Node's ESM loader opens a whole import graph at once, which fails under a very low `ulimit -n`).
// piscina (which loads its own worker by path), fast-glob and cli-progress stay external: they are
// loaded lazily, only by the runs that need them.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });

await build({
  entryPoints: { bin: 'src/bin.ts', worker: 'src/pool/worker.ts', 'addon-check': 'src/engine/addon-check.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  external: ['piscina', 'fast-glob', 'cli-progress'],
  // Bundled CommonJS dependencies (commander) need require(): give the ESM bundle one.
  banner: { js: "import { createRequire as __arsyncRequire } from 'node:module'; const require = __arsyncRequire(import.meta.url);" },
  logLevel: 'warning',
});
