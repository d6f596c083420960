// The tools the harness runs: arsync (one row per engine asked for) and every peer present on the
// machine (rsync, cp, tar | tar, Node's fs.cp, rclone with its default and one transfer per CPU, fpsync,
// cpy-cli). Each returns the argv of one fresh process that copies the contents of src into dst (an
// existing empty directory for fresh runs, so every tool gets the same starting point).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
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
    // The command users run (bin/arsync: Node on the start-up snapshot), or a build's bundle under Node.
    argv: (src, dst) => [...(bin.endsWith('.js') ? [process.execPath, bin] : [bin]), '-a', ...engineArgs, ...extraArgs, `${src}/`, `${dst}/`],
  };
}

/** Parallel peers get one job per CPU, as their documentation suggests for a local copy. */
const CPUS = os.availableParallelism();
/** fpsync's run directory (its partition lists and logs), outside the measured trees. */
const FPSYNC_TMP = path.join(process.env['ARSYNC_BENCH_CACHE'] ?? '/var/tmp/arsync-bench', 'fpsync');

/**
 * cpy-cli's `cpy`: the project's devDependency when installed, else ARSYNC_BENCH_CPY, else one on PATH
 * (e.g. `npm install --prefix /var/tmp/cpy-cli cpy-cli` and ARSYNC_BENCH_CPY=/var/tmp/cpy-cli/node_modules/.bin/cpy).
 */
function cpyBin(): string {
  const local = path.join(REPO, 'node_modules', '.bin', 'cpy');
  if (fs.existsSync(local)) return local;
  return process.env['ARSYNC_BENCH_CPY'] ?? 'cpy';
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
  {
    // rclone's local backend skips symlinks (with a notice) unless told to translate them into files.
    id: 'rclone',
    label: 'rclone copy',
    kind: 'peer',
    needs: ['rclone'],
    argv: (src, dst) => ['rclone', 'copy', '--config=/dev/null', src, dst],
  },
  {
    id: 'rclone-cpus',
    label: `rclone copy --transfers=${CPUS}`,
    kind: 'peer',
    needs: ['rclone'],
    argv: (src, dst) => ['rclone', 'copy', '--config=/dev/null', `--transfers=${CPUS}`, src, dst],
  },
  {
    // fpart splits the tree into partitions and fpsync runs one rsync per partition, CPUs at a time.
    id: 'fpsync',
    label: `fpsync -n ${CPUS}`,
    kind: 'peer',
    needs: ['fpsync', 'fpart', 'rsync'],
    argv: (src, dst) => ['sh', '-c', 'mkdir -p "$1" && exec fpsync -n "$2" -t "$1" "$3/" "$4/"', 'sh', FPSYNC_TMP, String(CPUS), src, dst],
  },
  {
    // cpy copies the files a glob matches (dot files included), keeping their paths below --cwd.
    id: 'cpy',
    label: 'cpy-cli',
    kind: 'peer',
    needs: [cpyBin()],
    argv: (src, dst) => [cpyBin(), '**', dst, `--cwd=${src}`, '--dot'],
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

/** The version line of each installed peer program, for the run's header. */
export function peerVersions(): string[] {
  const first = (cmd: string[]): string => {
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
    return `${r.stdout}${r.stderr}`.split('\n').find((l) => /\d+\.\d+/.test(l))?.trim() ?? '?';
  };
  const out: string[] = [];
  if (hasCommand('rclone')) out.push(first(['rclone', 'version']));
  if (hasCommand('fpsync')) out.push(first(['fpsync', '-h']));
  if (hasCommand(cpyBin())) out.push(`cpy-cli ${first([cpyBin(), '--version'])}`);
  return out;
}

/** Peers whose programs are installed. */
export function presentPeers(): Tool[] {
  return PEERS.filter((p) => p.needs.every(hasCommand)).map(({ needs: _n, ...t }) => t);
}

export const PEER_IDS = PEERS.map((p) => p.id);

/** The host the ssh workloads reach: this machine, through the throw-away sshd. */
export const SSH_HOST = '127.0.0.1';

/**
 * `t` between machines: the same command with `-e RSH` and the source (pull) or the destination (push)
 * named as HOST:PATH. Works for the tools whose command ends in `SRC/ DST/` (arsync and rsync).
 */
export function overSsh(t: Tool, rsh: string, remote: 'push' | 'pull'): Tool {
  return {
    ...t,
    label: `${t.label} (${remote})`,
    argv: (src, dst) => {
      const argv = t.argv(src, dst);
      const [s, d] = argv.slice(-2);
      if (s !== `${src}/` || d !== `${dst}/`) throw new Error(`${t.id} cannot run over ssh (its command does not end in SRC/ DST/)`);
      const ends = remote === 'push' ? [s, `${SSH_HOST}:${d}`] : [`${SSH_HOST}:${s}`, d];
      return [...argv.slice(0, -2), '-e', rsh, ...ends];
    },
  };
}
