// Which folder of src/ may import which (docs/architecture.md, "Layers"), held once for the linter
// (eslint.config.js runs `layers/imports` on src/) and the import-graph test (test/unit/layers.test.ts),
// which also sees what a lint rule cannot: cycles.

import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Per folder: the only parts of src/ it may import. Everything else is refused, the run (src/transfer.ts,
 * src/run/) and the CLI first of all. A prefix ending in `/` is a folder, anything else one file.
 */
export const LAYERS = [
  { folder: 'src/model/', allow: ['src/model/'], why: 'the shared vocabulary is a leaf: it imports nothing from src/' },
  { folder: 'src/util/', allow: ['src/util/', 'src/model/'], why: 'helpers every layer uses import only the model' },
  {
    folder: 'src/plan/',
    allow: ['src/plan/', 'src/model/', 'src/util/'],
    why: 'the planner decides from values: it never reaches an engine, the pool, the CLI, the output or the run',
  },
  {
    folder: 'src/progress/',
    allow: ['src/progress/', 'src/model/', 'src/util/', 'src/engine/types.ts'],
    why: 'output reads totals and counters, never the run or an engine implementation',
  },
  {
    folder: 'src/remote/',
    allow: ['src/remote/', 'src/model/', 'src/util/'],
    why: "rsync's wire protocol is its own layer: codecs and sessions that the run and the CLI call, never the other way round",
  },
  {
    folder: 'src/engine/',
    allow: ['src/engine/', 'src/model/', 'src/util/'],
    why: 'engines execute ops: they never import the planner, the output, the CLI or the run',
  },
];

/**
 * Node's fs is the engines' business. The planner reads only what the operator names, before the
 * transfer: these files and no other module of src/plan/ may import it.
 */
export const PLAN_FS = {
  builtins: ['node:fs', 'fs', 'node:fs/promises', 'fs/promises'],
  files: [
    // resolves the operator's paths one component at a time (lstat, readlink): DESIGN §3 rule 8
    'src/plan/operator-path.ts',
    // operands, --files-from, and the refusals that come before any I/O (a directory into itself)
    'src/plan/sources.ts',
    // --exclude-from/--include-from/merge files and per-directory rule files
    'src/plan/filter-files.ts',
  ],
};

/** Imports that break a rule and are tolerated for now: none. */
export const EXCEPTIONS = [];

const under = (path, prefix) => (prefix.endsWith('/') ? path.startsWith(prefix) : path === prefix);

/**
 * Why `from` (a repo-relative path in src/) may not import `to` (a repo-relative path, or a bare
 * specifier such as node:fs), or null when it may.
 */
export function layerViolation(from, to) {
  if (EXCEPTIONS.some((e) => e.from === from && e.to === to)) return null;
  if (PLAN_FS.builtins.includes(to)) {
    if (under(from, 'src/plan/') && !PLAN_FS.files.includes(from)) {
      return `${from} imports ${to}: in src/plan/ only ${PLAN_FS.files.join(', ')} read the operator's files`;
    }
    return null;
  }
  if (!to.startsWith('src/')) return null;
  const layer = LAYERS.find((l) => under(from, l.folder));
  if (!layer || layer.allow.some((p) => under(to, p))) return null;
  return `${from} imports ${to}: ${layer.why}`;
}

/** A relative import's target as a repo-relative path (`.js` names the `.ts` source); bare names as given. */
export function resolveImport(fromFile, spec) {
  if (!spec.startsWith('.')) return spec;
  return join(dirname(fromFile), spec).replace(/\.js$/, '.ts');
}

/** The ESLint plugin: `layers/imports` reports each import that `layerViolation` refuses. */
export const plugin = {
  rules: {
    imports: {
      meta: { type: 'problem', docs: { description: 'folder layering of src/ (eslint/layers.js)' }, schema: [] },
      create(context) {
        const file = relative(ROOT, context.filename);
        const check = (node) => {
          if (!node.source || node.source.type !== 'Literal' || typeof node.source.value !== 'string') return;
          const why = layerViolation(file, resolveImport(file, node.source.value));
          if (why) context.report({ node: node.source, message: why });
        };
        return {
          ImportDeclaration: check,
          ExportNamedDeclaration: check,
          ExportAllDeclaration: check,
          ImportExpression: check,
        };
      },
    },
  },
};
