// Bundles the CLI into dist/bin.js, the pool worker into dist/worker.js and the install script's addon
// check into dist/addon-check.js. One file per entry means
// Node reads one or two modules at start-up instead of thirty (start-up is most of a tiny job's time, and
// Node's ESM loader opens a whole import graph at once, which fails under a very low `ulimit -n`).
// piscina (which loads its own worker by path), fast-glob and cli-progress stay external: they are
// loaded lazily, only by the runs that need them.
// The bundles are CommonJS (dist/package.json says so; the package itself is ESM): Node loads a
// CommonJS file with one synchronous read and compile, where its ESM loader goes through fs/promises
// (streams and more of Node's own modules) and a module graph: measured, 12 ms less CPU on every run
// (docs/benchmarks.md, "Fixed costs of small jobs").
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

/**
 * Edits to commander's source as the bundle takes it in. commander loads node:child_process at start-up
 * for git-style subcommands, which arsync does not have; loading it (streams, sockets) is a few ms of
 * every run: its one use, spawn, loads it on demand.
 * And commander looks an option up by scanning every option (`_findOption`: `options.find`), twice or three
 * times for each option it registers, so building arsync's ~300 options is quadratic; and it derives an
 * option's attribute name (a split and a reduce) afresh each time it is asked, many times a parse. Both
 * answers never change once an option exists (commander never removes one or changes its flags), so the
 * bundle keeps a flag index and memoizes the name: ~3% of a 100-file run's instructions
 * (docs/benchmarks.md, "Small jobs, session 11"). Its check for conflicting options reads every option's
 * value after each parse although arsync declares no conflicts: skipped when no option has one. A text that
 * no longer matches leaves commander as it is (and says so).
 */
const COMMANDER_EDITS = [
  {
    file: /commander[\\/]lib[\\/]command\.js$/,
    edits: [
      [
        "const childProcess = require('node:child_process');",
        "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };",
      ],
      [
        '    this._initOptionGroup(option);\n    this.options.push(option);\n',
        '    this._initOptionGroup(option);\n    this.options.push(option);\n' +
          '    const index = (this._arsyncFlagIndex ??= new Map());\n' +
          '    for (const flag of [option.short, option.long]) if (flag && !index.has(flag)) index.set(flag, option);\n',
      ],
      [
        '  _findOption(arg) {\n    return this.options.find((option) => option.is(arg));\n  }',
        '  _findOption(arg) {\n    return this._arsyncFlagIndex?.get(arg);\n  }',
      ],
      [
        '  _checkForConflictingLocalOptions() {\n',
        '  _checkForConflictingLocalOptions() {\n    if (!this.options.some((option) => option.conflictsWith.length > 0)) return;\n',
      ],
    ],
  },
  {
    file: /commander[\\/]lib[\\/]option\.js$/,
    edits: [
      [
        "  attributeName() {\n    if (this.negate) {\n      return camelcase(this.name().replace(/^no-/, ''));\n    }\n    return camelcase(this.name());\n  }",
        "  attributeName() {\n    return (this._arsyncAttributeName ??= this.negate\n      ? camelcase(this.name().replace(/^no-/, ''))\n      : camelcase(this.name()));\n  }",
      ],
    ],
  },
];
const fastCommander = {
  name: 'fast-commander',
  setup(b) {
    for (const { file, edits } of COMMANDER_EDITS) {
      b.onLoad({ filter: file }, (args) => {
        let src = readFileSync(args.path, 'utf8');
        const warnings = [];
        for (const [from, to] of edits) {
          if (src.includes(from)) src = src.replace(from, to);
          else warnings.push({ text: `commander: ${args.path}: an edit no longer matches; left as it is` });
        }
        return { contents: src, loader: 'js', warnings };
      });
    }
  },
};

/**
 * Node's builtins that only some runs use, loaded on first use instead of at start-up: node:child_process
 * (getent, locale, the remote shell) pulls in streams and sockets, node:crypto (md5 for old remote
 * protocols) OpenSSL's tables; together about 10 ms of CPU at every start (docs/benchmarks.md, "The main
 * thread's cost per entry"). Each is replaced by a module whose exports are the builtin's functions,
 * forwarding to it (a class keeps working with `new`). A name that is not a function there is not
 * exported, so an import of one fails the build instead of going lazy by surprise.
 */
const LAZY_BUILTINS = ['node:child_process', 'node:crypto'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:(child_process|crypto)$/ }, (args) => {
      // The forwarding module's own require is the real builtin.
      if (args.namespace === 'lazy-builtin') return { path: args.path, external: true };
      return args.importer.includes('node_modules') ? undefined : { path: args.path, namespace: 'lazy-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => {
      if (!LAZY_BUILTINS.includes(args.path)) return undefined;
      const real = await import(args.path);
      const names = Object.keys(real).filter((k) => k !== 'default' && typeof real[k] === 'function');
      const lines = [`let m; const load = () => (m ??= require(${JSON.stringify(args.path)}));`];
      for (const k of names) {
        lines.push(`export function ${k}(...a) { return new.target ? Reflect.construct(load().${k}, a, new.target) : load().${k}.apply(this, a); }`);
      }
      return { contents: lines.join('\n'), loader: 'js', resolveDir: '.' };
    });
  },
};

/**
 * `import * as fs from 'node:fs'` in a CommonJS bundle becomes `__toESM(require("node:fs"), 1)` in every
 * module that says it: a fresh object with a getter per export (node:fs has over 100), made at start-up
 * once per importing module, 19 times in dist/bin.js and 13 in dist/worker.js (~2 ms of CPU per process,
 * docs/benchmarks.md, "Small jobs, session 11"). A namespace object is read-only to its importers, so one
 * per builtin does: each such call goes through a memo. The call's shape is esbuild's; if it changes,
 * nothing matches and the bundle stays as it was.
 */
function shareBuiltinNamespaces(text, file) {
  const call = /__toESM\(require\("(node:[a-z_/]+)"\)(, 1)?\)/g;
  const anchor = /^var __toESM = .*?\n\s*mod\n\s*\)\);\n/ms;
  if (!call.test(text) || !anchor.test(text)) return text;
  // One line, added to the end of __toESM's, so that the source map's lines stay right.
  const memo =
    ' var __arsyncBuiltins = new Map(); var __arsyncBuiltin = (name, node) => { let ns = __arsyncBuiltins.get(name + node);' +
    ' if (!ns) __arsyncBuiltins.set(name + node, ns = __toESM(require(name), node)); return ns; };';
  const out = text
    .replace(anchor, (m) => m.slice(0, -1) + memo + '\n')
    .replace(call, (_m, name, node) => `__arsyncBuiltin(${JSON.stringify(name)}, ${node ? 1 : 0})`);
  if (!out.includes('var __arsyncBuiltin =')) throw new Error(`${file}: the builtin memo was not placed`);
  return out;
}

rmSync('dist', { recursive: true, force: true });

const common = {
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // The map is written beside each bundle but not named in it (no sourceMappingURL comment): with
  // NODE_V8_COVERAGE set (the tests' coverage of the CLI) Node reads, parses and copies a named map into
  // every process's coverage dump (1.8 MB of a 2.2 MB file, ~60 ms of CPU per CLI run, docs/coverage.md).
  // The coverage provider opens the .map by its file name; the package ships no maps.
  sourcemap: 'external',
  external: ['piscina', 'fast-glob', 'cli-progress'],
  plugins: [fastCommander, lazyBuiltins],
  logLevel: 'warning',
};
await build({
  ...common,
  entryPoints: { bin: 'src/bin.ts', worker: 'src/pool/worker.ts', 'addon-check': 'src/engine/addon-check.ts' },
  // The sources find their files (the addon, the worker) from import.meta.url, which CommonJS lacks. A
  // global, not a constant: dist/bin.js is also the start-up snapshot's entry (src/bin.ts), where the URL is
  // known only at run time (the blob's main function sets it from argv[1]; __filename is the build's).
  define: { 'import.meta.url': 'globalThis.__arsyncModuleUrl' },
  banner: { js: "globalThis.__arsyncModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
});
/**
 * esbuild escapes non-ASCII characters in code but keeps the comments it carries over as they are. One
 * such character makes Node hold the whole bundle as a two-byte string: decoded from UTF-8 at every start
 * and scanned at half the speed (about 5% of a small job's instructions, docs/benchmarks.md). In a
 * comment an escape reads as well.
 */
for (const file of ['dist/bin.js', 'dist/worker.js', 'dist/addon-check.js']) {
  const text = shareBuiltinNamespaces(readFileSync(file, 'utf8'), file);
  const ascii = text.replace(/[^\x00-\x7f]/g, (ch) => `\\u{${ch.codePointAt(0).toString(16)}}`);
  writeFileSync(file, ascii);
}

/**
 * The start-up snapshot compiles, while it is built, the functions a small local copy calls (traced by
 * scripts/build-snapshot.mjs), which a run from the blob would otherwise compile on first call (about 6 ms of
 * CPU on a 10-file copy, docs/benchmarks.md, "Small jobs, session 14"). src/snapshot.ts reaches them by name
 * through this table of the bundle's top-level functions and classes (esbuild hoists every module's
 * declarations to the bundle's top level, each with a unique name; a module initialised lazily assigns its
 * arrow functions and classes there from its init function, indented by four), made only when called, and
 * deleted once used. Only names the bundle declares at its top level are listed, so the table cannot refer
 * to a missing one.
 */
function appendFunctionTable(text) {
  const declared = new Set();
  for (const m of text.matchAll(/^var ([^=;]+?);$/gm)) for (const n of m[1].split(', ')) declared.add(n);
  const defined = /^(?:var | {4})([A-Za-z_$][\w$]*) = (?:class\b|(?:async )?(?:\([^()]*\)|[A-Za-z_$][\w$]*) =>)/gm;
  const names = new Set([...text.matchAll(/^(?:async )?function\*? ?([A-Za-z_$][\w$]*)\(/gm)].map((m) => m[1]));
  for (const m of text.matchAll(defined)) if (m[0].startsWith('var ') || declared.has(m[1])) names.add(m[1]);
  if (names.size === 0) throw new Error('dist/bin.js: no top-level function found for the snapshot table');
  return `${text.endsWith('\n') ? text : text + '\n'}globalThis.__arsyncTopFunctions = () => ({ ${[...names].join(', ')} });\n`;
}
writeFileSync('dist/bin.js', appendFunctionTable(readFileSync('dist/bin.js', 'utf8')));

writeFileSync('dist/package.json', '{ "type": "commonjs" }\n');

// The start-up snapshot of dist/bin.js, for the Node that runs this build (bin/arsync uses it). Not when npm
// runs this build to pack or publish the package (its prepare step): the blob is not in the package (it only
// loads in the Node that built it; the install step builds it on the user's machine), and building it costs
// about 3 s of CPU (a traced run, the build, a check run) that scripts/install-test.sh used to spend.
if (process.env.npm_command === 'pack' || process.env.npm_command === 'publish') {
  console.warn(`bundle: no start-up snapshot while npm ${process.env.npm_command}s the package (it is not packed)`);
} else {
  const { buildSnapshot } = await import('./build-snapshot.mjs');
  const noSnapshot = buildSnapshot();
  if (noSnapshot) console.warn(`bundle: no start-up snapshot (${noSnapshot}); arsync starts from dist/bin.js`);
}
