// Types of eslint/layers.js for the import-graph test (test/unit/layers.test.ts).

export declare const LAYERS: { folder: string; allow: string[]; why: string }[];
export declare const PLAN_FS: { builtins: string[]; files: string[] };
export declare const EXCEPTIONS: { from: string; to: string }[];
export declare function layerViolation(from: string, to: string): string | null;
export declare function resolveImport(fromFile: string, spec: string): string;
export declare const plugin: object;
