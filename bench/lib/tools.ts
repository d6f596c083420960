// The tools the harness runs: arsync (one row per engine asked for) and every peer present on the
// machine. Each returns the argv of one fresh process that copies the contents of src into dst (an
// existing empty directory for fresh runs, so every tool gets the same starting point).

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Tool {
  /** Key in results and JSON files. */
  id: string;
  /** What the table shows. */
  label: string;
  kind: 'arsync' | 'peer' | 'baseline';
  argv(src: string, dst: string): string[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '..', '..');
export const ARSYNC_BIN = path.join(REPO, 'dist', 'bin.js');

/** Node's fs.promises.cp with the options closest to cp -a, in its own process. */
const FS_CP_SCRIPT =
  "require('node:fs').promises.cp(process.argv[1], process.argv[2], " +
  '{ recursive: true, preserveTimestamps: true, verbatimSymlinks: true })' +
  '.catch((e) => { console.error(e); process.exitCode = 1; });';

/** One arsync row; `tag` names a second build measured in the same run (`arsync@before`). */
export function arsyncTool(engine: string, extraArgs: string[], bin = ARSYNC_BIN, tag?: string): Tool {
  const name = tag ? `arsync@${tag}` : 'arsync';
  const id = engine === 'auto' ? name : `${name}[${engine}]`;
  const engineArgs = engine === 'auto' ? [] : [`--engine=${engine}`];
  return {
    id,
    label: [id, ...extraArgs].join(' '),
    kind: 'arsync',
    argv: (src, dst) => [process.execPath, bin, '-a', ...engineArgs, ...extraArgs, `${src}/`, `${dst}/`],
  };
}

const PEERS: (Tool & { needs: string[] })[] = [
  {
    id: 'rsync',
    label: 'rsync -a',
    kind: 'peer',
    needs: ['rsync'],
    argv: (src, dst) => ['rsync', '-a', `${src}/`, `${dst}/`],
  },
  {
    id: 'cp',
    label: 'cp -a',
    kind: 'peer',
    needs: ['cp'],
    argv: (src, dst) => ['cp', '-a', `${src}/.`, `${dst}/`],
  },
  {
    id: 'tar',
    label: 'tar | tar',
    kind: 'peer',
    needs: ['tar', 'sh'],
    // Positional parameters, so paths are never re-parsed by the shell.
    argv: (src, dst) => ['sh', '-c', 'tar -C "$1" -cf - . | tar -C "$2" -xf -', 'sh', src, dst],
  },
  {
    id: 'fs.cp',
    label: 'node fs.cp',
    kind: 'peer',
    needs: [],
    argv: (src, dst) => [process.execPath, '-e', FS_CP_SCRIPT, src, dst],
  },
];

export const NODE_BASELINE: Tool = {
  id: 'node-start',
  label: "node -e ''",
  kind: 'baseline',
  argv: () => [process.execPath, '-e', ''],
};

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status === 0;
}

/** Peers whose programs are installed. */
export function presentPeers(): Tool[] {
  return PEERS.filter((p) => p.needs.every(hasCommand)).map(({ needs: _n, ...t }) => t);
}

export const PEER_IDS = PEERS.map((p) => p.id);
