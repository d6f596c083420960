// The import graph of src/: no cycles, and every edge allowed by the folder layering (eslint/layers.js,
// the same rules the linter applies; this test also sees type-only and dynamic imports whole).

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layerViolation, resolveImport } from '../../eslint/layers.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Cycles tolerated for now, each as its files in order from the smallest name: none. */
const ALLOWED_CYCLES: string[] = [];

/**
 * The source with comments dropped and each string literal replaced by `'#n'`, its text kept in
 * `strings[n]`, so that only code is searched for imports and specifiers are read back whole.
 */
function tokens(src: string): { code: string; strings: string[] } {
  const strings: string[] = [];
  let code = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const n = src[i + 1];
    if (c === '/' && n === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && n === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      // No import specifier is a template literal, so what a template interpolates needs no parsing.
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      code += `'#${strings.length}'`;
      strings.push(src.slice(i + 1, j));
      i = j + 1;
    } else {
      code += c;
      i++;
    }
  }
  return { code, strings };
}

/** Every module specifier a file imports: `import … from`, `import '…'`, `export … from`, `import(…)`. */
function importsOf(src: string): string[] {
  const { code, strings } = tokens(src);
  const patterns = [
    /\bimport\s+(?:type\s+)?[\w*{}\s,$]*?\s*from\s*'#(\d+)'/g,
    /\bimport\s*'#(\d+)'/g,
    /\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s*from\s*'#(\d+)'/g,
    /\bimport\s*\(\s*'#(\d+)'\s*\)/g,
  ];
  return patterns.flatMap((re) => [...code.matchAll(re)].map((m) => strings[Number(m[1])]!));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** src/ file -> the src/ files and bare modules it imports. */
function importGraph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of sourceFiles('src')) {
    const rel = relative(ROOT, join(ROOT, f));
    g.set(rel, [...new Set(importsOf(readFileSync(join(ROOT, f), 'utf8')).map((s) => resolveImport(rel, s)))]);
  }
  return g;
}

/** Every elementary cycle among the src/ nodes, each rotated to start at its smallest name. */
function cycles(g: Map<string, string[]>): string[] {
  const found = new Set<string>();
  const nodes = [...g.keys()].sort();
  // Cycles through `start` that use only nodes after it: each elementary cycle is found once, from its
  // smallest node (the graph is small, so a plain depth-first search is enough).
  for (const start of nodes) {
    const path: string[] = [start];
    const onPath = new Set(path);
    const walk = (at: string): void => {
      for (const next of g.get(at) ?? []) {
        if (next === start) found.add(path.join(' -> '));
        else if (g.has(next) && next > start && !onPath.has(next)) {
          path.push(next);
          onPath.add(next);
          walk(next);
          onPath.delete(next);
          path.pop();
        }
      }
    };
    walk(start);
  }
  return [...found].sort();
}

describe('import graph of src/', () => {
  const graph = importGraph();

  it('finds the imports of every kind', () => {
    const src = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "import './side.js';",
      "export { c } from './c.js';",
      "export * from './d.js';",
      "const e = await import('./e.js');",
      "// import { no } from './comment.js';",
      "const s = \"import { no } from './string.js'\";",
    ].join('\n');
    expect(importsOf(src).sort()).toEqual(['../b.js', './a.js', './c.js', './d.js', './e.js', './side.js']);
    expect(graph.get('src/bin.ts')).toContain('src/cli/main.ts');
  });

  it('finds a cycle', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c', 'x']],
      ['c', ['a', 'b']],
    ]);
    expect(cycles(g)).toEqual(['a -> b -> c', 'b -> c']);
  });

  it('has no import cycles', () => {
    expect(cycles(graph).filter((c) => !ALLOWED_CYCLES.includes(c))).toEqual([]);
  });

  it('keeps every import within its layer (eslint/layers.js)', () => {
    const broken = [...graph].flatMap(([from, tos]) => tos.map((to) => layerViolation(from, to)).filter((v) => v !== null));
    expect(broken).toEqual([]);
  });
});
