// Whole-process benchmark harness: arsync against every peer installed (rsync -a, cp -a, tar | tar,
// Node's fs.cp, rclone copy, fpsync, cpy-cli) on the same source trees. Every run is a fresh process; tools alternate run by run (round-robin, the starting tool
// rotating each round); before each run the destination is removed and the filesystems synced (untimed),
// and with --cache cold the page cache is dropped. Per workload it prints the median, min and max wall
// time of each tool, peak RSS, CPU time, and arsync's median ratio to every peer measured in the same run.
//
//   npm run bench                         the default set: all but million on tmpfs, large on disk warm
//                                         and cold beside fio (under 30 minutes on 2 cores)
//   npm run bench -- --quick              small, large and tiny with fewer runs
//   npm run bench -- --only small,large --runs 5 --engines uring,sync,node
//   npm run bench -- --only large --fs disk --cache warm,cold
//   npm run bench -- --only million      1,000,000 empty files (opt-in: slow)
//   npm run bench -- --sweep              the size sweep (10 to 100,000 files) and its cost curve, drawn
//                                         into docs/cost-curve.svg; --sweep-million adds 1,000,000 files
//   npm run bench -- --all                every goal of issue 11 in one run: the default set, the sweep, a
//                                         million files, and the disk (warm, and cold for large and no-op)
//   npm run bench -- --json out.json      save results (always also saved under bench/results/)
//   npm run bench -- --compare A.json B.json
//   npm run bench -- --before /path/to/old-checkout   also measure that build (rows arsync@before), for a
//                                         before/after comparison in one run, each against the same peers
//   npm run bench -- --report A.json      print the tables of a saved run again
//   npm run bench -- --clean              remove the benchmark trees from tmpfs and the disk destinations

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { holdPageReporting } from './lib/page-reporting.js';
import { checkTimeBinary, dropCaches, machine, syncFs, timed, verify, type RunResult } from './lib/measure.js';
import {
  formatCompare,
  formatWorkload,
  heading,
  type Cache,
  type FioResult,
  type ResultsFile,
  type WorkloadResult,
} from './lib/report.js';
import { ARSYNC_BIN, NODE_BASELINE, PEER_IDS, REPO, arsyncTool, overSsh, peerVersions, presentPeers, type Tool } from './lib/tools.js';
import { startSshd, sshdUnavailable, type Sshd } from '../test/helpers/sshd.js';
import { costCurveSvg, sweepSeries } from './lib/curve.js';
import { evaluateGoals, formatGoals } from './lib/goals.js';
import {
  CACHE,
  DISK,
  SHM,
  FS_KINDS,
  SWEEP_MILLION,
  SWEEP_SIZES,
  WORKLOADS,
  sweepWorkload,
  unmountLoops,
  changeOnePercent,
  changeOnePercentOfFile,
  changeableFiles,
  rmrf,
  rootsFor,
  type FsKind,
  type Workload,
} from './lib/workloads.js';

const IMAGE_NOTE = `loop-mounted ${'8G'} images in ${CACHE} (XFS with reflink=1, btrfs: filesystems
                        that clone, where cp -a and arsync share extents; needs root; --clean unmounts)`;

const HELP = `usage: npm run bench -- [options]
  --runs N              timed runs per tool (default per workload: small/large 5, linux/noop/incremental 3, tiny 20, million 1)
  --only W,...          workloads: ${WORKLOADS.map((w) => w.name + (w.optIn ? ' (opt-in)' : '')).join(', ')},
                        and files-N for a sweep size N
  --sweep               the size sweep: ${SWEEP_SIZES.join(', ')} files of 1 B–8 KiB, every tool and a bare
                        node start, then the cost curve (time against files, log–log) as an SVG
  --sweep-million       add 1,000,000 files to the sweep (about 4 GiB of source; slow)
  --ssh                 the workloads between machines, through a throw-away sshd on 127.0.0.1: push and
                        pull of the Linux tree (fresh, and no-op onto a complete copy) and of one 1 GiB
                        file with 1% changed (rsync's delta transfer), arsync against rsync as the client;
                        with --only, just the ssh-* rows it names
  --sshd-malloc M       heap (default): the throw-away sshd's glibc malloc keeps large buffers in its heap
                        (SSHD_HEAP_MALLOC below); stock: sshd as installed. On this host a page fault costs
                        ~11 us, and sshd's channel buffer, grown 16-32 KiB at a time by copying whenever the
                        sender runs ahead of the far receiver, then costs it ~1 s of CPU in some runs of
                        either client and not others (docs/benchmarks.md, session 50)
  --page-reporting M    off (default): a VM's free page reporting to its host is turned off for the run
                        and restored after (bench/lib/page-reporting.ts: with it on, the same 1 GiB write
                        cost the far rsync 0.85-3.7 s of system time from run to run); keep: leave it on
  --svg FILE            where the cost curve goes (default docs/cost-curve.svg; further filesystems and
                        caches get -<fs>-<cache> before .svg); with --report, draw it from a saved run
  --fs tmpfs,disk       where the trees live (tmpfs = ${SHM}; disk = ${DISK}; default tmpfs);
                        also xfs and btrfs: ${IMAGE_NOTE}
  --cache warm,cold     cold drops the page cache before each run (disk only; default warm)
                        with none of --only, --fs, --cache, --quick: every workload but million on tmpfs,
                        plus large on disk, warm and cold
  --engines E,...       arsync rows: auto, uring, sync, node (default auto)
  --peers P,...         only these peers: ${PEER_IDS.join(', ')} (default every one installed; none = no peers)
  --arsync-args "..."   extra arguments for every arsync run (e.g. "--workers 1")
  --warmup N            untimed rounds before the timed ones (default 1 with a warm cache, 0 cold)
  --verify MODE         after each run check dst with rsync -an: quick (size+mtime, default), checksum, none
  --no-fio              do not measure the disk's read bandwidth with fio (large, disk, cold cache)
  --all                 every goal in one run: every workload and the sweep on tmpfs, then million, then small,
                        large, linux, noop and incremental on the disk warm, and large and noop cold (about 90
                        minutes on 2 cores; 3 runs on the disk); --runs, --peers, --engines and --svg still apply
  --quick               small preset: small, large, tiny; 3 runs (tiny 10), no warm-up
  --json FILE           save results here (also saved to bench/results/<date>.json)
  --before DIR          also measure the build in another checkout DIR (its dist/ and build/Release), as
                        rows arsync@before, alternating with everything else: a before/after in one run
  --compare A.json B.json   compare two saved runs and exit
  --report FILE         print the tables of a saved run and exit
  --clean               remove benchmark trees on tmpfs and destinations on disk, then exit
  --list                list the workloads and exit`;

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string' },
    only: { type: 'string' },
    fs: { type: 'string' },
    cache: { type: 'string' },
    engines: { type: 'string', default: 'auto' },
    peers: { type: 'string' },
    'arsync-args': { type: 'string', default: '' },
    warmup: { type: 'string' },
    verify: { type: 'string', default: 'quick' },
    'no-fio': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
    json: { type: 'string' },
    before: { type: 'string' },
    compare: { type: 'string' },
    report: { type: 'string' },
    clean: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    sweep: { type: 'boolean', default: false },
    'sweep-million': { type: 'boolean', default: false },
    ssh: { type: 'boolean', default: false },
    'sshd-malloc': { type: 'string', default: 'heap' },
    'page-reporting': { type: 'string', default: 'off' },
    svg: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);
function die(msg: string): never {
  log(`bench: ${msg}`);
  process.exit(1);
}
function intOpt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) die(`--${name} needs a whole number, got ${v}`);
  return n;
}

let interrupted = false;
process.on('SIGINT', () => {
  interrupted = true;
});
/** Lets the SIGINT handler run between runs (spawnSync blocks the event loop). */
async function checkpoint(): Promise<void> {
  await new Promise((r) => setImmediate(r));
  if (interrupted) throw new Error('interrupted');
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, fs.statSync(path.join(e.parentPath ?? e.path, e.name)).mtimeMs);
  }
  return newest;
}

/**
 * Copy the built CLI (dist/, the addon, package.json) to a private directory and measure that copy, so a
 * rebuild in the working tree during a run cannot change, break or half-replace what is being measured.
 */
function snapshotBuild(repo = REPO, tag = 'snapshot'): { bin: string; dir: string } {
  const dir = path.join(CACHE, `build-${tag}-${process.pid}`);
  rmrf(dir);
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  // With their mtimes, as an installed package has them: bin/arsync's quick check of the blob's Node reads
  // the mtime of dist/arsync.blob.id (a copy without it would take the launcher's slower `stat` check).
  fs.cpSync(path.join(repo, 'dist'), path.join(dir, 'dist'), { recursive: true, preserveTimestamps: true });
  fs.copyFileSync(path.join(repo, 'package.json'), path.join(dir, 'package.json'));
  const addon = path.join(repo, 'build', 'Release', 'arsync.node');
  if (fs.existsSync(addon)) fs.copyFileSync(addon, path.join(dir, 'build', 'Release', 'arsync.node'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  // The launcher users run, where the build has one (it starts Node on dist/arsync.blob when that was built by this Node).
  const launcher = path.join(repo, 'bin', 'arsync');
  if (fs.existsSync(launcher)) {
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.copyFileSync(launcher, path.join(dir, 'bin', 'arsync'));
    fs.chmodSync(path.join(dir, 'bin', 'arsync'), 0o755);
    return { bin: path.join(dir, 'bin', 'arsync'), dir };
  }
  return { bin: path.join(dir, 'dist', 'bin.js'), dir };
}

/**
 * Which engine `auto` picks for a copy within `where`'s filesystem, as `arsync --debug=PROTO` says (the
 * choice depends on the filesystem: plain syscalls on tmpfs, io_uring on a disk).
 */
function autoEngine(bin: string, where: string): string {
  fs.mkdirSync(where, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(where, 'probe-'));
  try {
    fs.mkdirSync(path.join(tmp, 's'));
    fs.writeFileSync(path.join(tmp, 's', 'f'), 'x');
    const r = bin.endsWith('.js') ? spawnSync(process.execPath, [bin, '-a', '--debug=PROTO', `${tmp}/s/`, `${tmp}/d/`]) : spawnSync(bin, ['-a', '--debug=PROTO', `${tmp}/s/`, `${tmp}/d/`]);
    const text = `${r.stdout}\n${r.stderr}`;
    return text.split('\n').find((l) => /^engine: /.test(l))?.replace(/^engine: /, '').trim() ?? `unknown (exit ${r.status})`;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function fio(when: string): FioResult {
  const dir = path.join(CACHE, 'fio');
  fs.mkdirSync(dir, { recursive: true });
  const args = [
    '--name=seqread',
    '--rw=read',
    '--bs=1M',
    '--size=2G',
    '--direct=1',
    '--ioengine=libaio',
    '--iodepth=16',
    `--filename=${path.join(dir, 'seqread.dat')}`,
    '--output-format=json',
  ];
  const r = spawnSync('fio', args, { maxBuffer: 64 << 20 });
  if (r.error) die(`fio could not run (${r.error.message}): apt-get install fio, or pass --no-fio`);
  if (r.status !== 0) die(`fio failed: ${r.stderr.toString()}`);
  const out = r.stdout.toString();
  const j = JSON.parse(out.slice(out.indexOf('{'))) as { jobs: { read: { bw_bytes: number } }[] };
  return { when, bwBytesPerSec: j.jobs[0]!.read.bw_bytes, cmd: `fio ${args.join(' ')}` };
}

interface Plan {
  runs: number | undefined;
  warmup: number | undefined;
  quick: boolean;
  verify: 'quick' | 'checksum' | 'none';
  fio: boolean;
  arsyncTools: Tool[];
  peers: Tool[];
  /** The sshd the ssh workloads go through (started only when one is selected). */
  sshd?: Sshd;
  /** How that sshd's malloc was set (--sshd-malloc). */
  sshdMalloc?: 'heap' | 'stock';
}

/**
 * The throw-away sshd's glibc malloc for --sshd-malloc heap: blocks up to 32 MiB from the heap, which is
 * neither trimmed below 256 MiB nor grown by less than 16 MiB, so that memory sshd frees and takes again
 * stays mapped. sshd grows a channel's buffer by reallocating it with room for one more packet (OpenSSH's
 * sshbuf: a new block, a copy, the old one freed), so while a sender leads the far rsync by up to the 2 MiB
 * window it makes ~100 blocks of up to 4 MiB; from mmap each one's pages fault anew, ~11 us each on this
 * host (measured; other hosts were not). Only sshd's own process: sshd gives its sessions a fresh environment.
 */
const SSHD_HEAP_MALLOC = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456:glibc.malloc.top_pad=16777216';

async function runWorkload(w: Workload, fsKind: FsKind, cache: Cache, plan: Plan, caseRuns?: number): Promise<WorkloadResult> {
  const roots = rootsFor(fsKind);
  fs.mkdirSync(roots.dst, { recursive: true });
  const src = w.source(roots, log);
  const dst = path.join(roots.dst, w.name);
  rmrf(dst);

  const peers = plan.peers.filter((p) => !w.peers || w.peers.includes(p.id));
  let tools = [...plan.arsyncTools, ...peers, ...(w.nodeBaseline ? [NODE_BASELINE] : [])];
  if (w.remote) tools = tools.map((t) => overSsh(t, plan.sshd!.rsh, w.remote!));
  const runs = plan.runs ?? caseRuns ?? (plan.quick ? (w.name === 'tiny' ? 10 : 3) : w.defaultRuns);
  const warmup = cache === 'cold' ? 0 : (plan.warmup ?? (plan.quick ? 0 : 1));

  const result: WorkloadResult = {
    workload: w.name,
    what: w.what,
    mode: w.mode,
    fs: fsKind,
    cache,
    src: src.dir,
    stats: src.stats,
    loadavg: { start: fs.readFileSync('/proc/loadavg', 'utf8').trim(), end: '' },
    tools: tools.map((t) => ({ id: t.id, label: t.label, kind: t.kind, runs: [] })),
  };
  if (w.note) result.note = w.note;
  log(`\n${heading(result)}: ${runs} runs per tool, ${warmup} warm-up round(s)`);

  let files: { rel: string; size: number }[] = [];
  let step = 0;
  if (w.mode === 'noop') {
    log(`  preparing the complete copy ${dst} (untimed)`);
    spawnSync('cp', ['-a', `${src.dir}/.`, `${dst}/`]);
  }
  if (w.mode === 'incremental' || w.mode === 'delta') files = changeableFiles(src.dir);

  // Only the cold case reads the disk; a warm copy of large comes from the page cache.
  const measureFio = plan.fio && fsKind === 'disk' && cache === 'cold' && w.name === 'large';
  // fio reads its own 2 GiB file with O_DIRECT once before the runs (which also lays the file out) and
  // once per round, so the disk's bandwidth is sampled as often, and under the same load, as the tools.
  if (measureFio) result.fio = [fio('before')];

  /** Untimed: put the destination in the state this mode starts from. */
  const prepare = (t: Tool): void => {
    if (t.kind !== 'baseline') {
      if (w.mode === 'fresh') {
        rmrf(dst);
        fs.mkdirSync(dst);
      } else if (w.mode === 'incremental') {
        // Bring dst to the source's current state, then change 1% of the source.
        const r = spawnSync('rsync', ['-a', '--delete', `${src.dir}/`, `${dst}/`]);
        if (r.status !== 0) die(`preparing ${dst} failed: ${r.stderr}`);
        result.changedPerRun = changeOnePercent(src.dir, files, step++);
      } else if (w.mode === 'delta') {
        // Bring dst to the source's current state, then change 1% of the large file's bytes.
        const r = spawnSync('rsync', ['-a', '--delete', `${src.dir}/`, `${dst}/`]);
        if (r.status !== 0) die(`preparing ${dst} failed: ${r.stderr}`);
        result.changedPerRun = changeOnePercentOfFile(path.join(src.dir, files[0]!.rel), step++);
      }
    }
    if (cache === 'cold') dropCaches();
    else syncFs();
  };

  const measure = (t: Tool): RunResult => {
    prepare(t);
    const r = timed(t.argv(src.dir, dst));
    if (t.kind !== 'baseline' && plan.verify !== 'none') r.diffs = verify(src.dir, dst, plan.verify === 'checksum');
    return r;
  };

  try {
    for (let i = 0; i < warmup; i++) {
      for (const t of tools) {
        await checkpoint();
        const r = measure(t);
        log(`  warm-up ${t.label}: ${r.wall.toFixed(3)} s${r.rc ? ` (exit ${r.rc})` : ''}`);
      }
    }
    for (let round = 0; round < runs; round++) {
      for (let k = 0; k < tools.length; k++) {
        const i = (round + k) % tools.length;
        const t = tools[i]!;
        await checkpoint();
        const r = measure(t);
        result.tools[i]!.runs.push(r);
        log(
          `  ${round + 1}/${runs} ${t.label}: ${r.wall.toFixed(3)} s, ${(r.rssKiB / 1024).toFixed(0)} MB` +
            (r.rc ? `, exit ${r.rc}` : '') +
            (r.diffs ? `, ${r.diffs} items differ` : ''),
        );
      }
      if (measureFio) {
        const f = fio(`round ${round + 1}`);
        result.fio!.push(f);
        log(`  ${round + 1}/${runs} fio: ${(f.bwBytesPerSec / 1e6).toFixed(0)} MB/s`);
      }
    }
  } finally {
    rmrf(dst);
  }
  result.loadavg.end = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  return result;
}

/** One cost curve per filesystem and cache the sweep ran on: the first at `to`, the others beside it. */
function drawCurves(file: ResultsFile, to: string): void {
  const groups = new Map<string, WorkloadResult[]>();
  for (const r of file.results.filter((x) => x.workload.startsWith('files-'))) {
    const k = `${r.fs}-${r.cache}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const m = file.machine;
  [...groups].forEach(([k, rs], i) => {
    const out = i === 0 ? to : to.replace(/(\.svg)?$/, `-${k}.svg`);
    const loads = rs.map((r) => r.loadavg.start.split(' ').slice(0, 3).join(' '));
    const svg = costCurveSvg(sweepSeries(rs), `Cost curve: median wall time of a fresh copy (${rs[0]!.fs}, ${rs[0]!.cache} cache)`, [
      `${m.date.slice(0, 10)}; ${m.nproc} CPUs (${m.cpu}), Linux ${m.kernel}, Node ${m.node}; arsync ${m.arsync.commit}`,
      `auto engine: ${(file.autoEngine ?? '?').slice(0, 110)}`,
      `load average (1, 5, 15 min) at each size's start: ${loads[0]} … ${loads[loads.length - 1]}; tools alternated run by run, medians`,
    ]);
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    fs.writeFileSync(out, svg);
    console.log(`cost curve (${k}) written to ${out}`);
  });
}

async function main(): Promise<void> {
  if (opt.help) {
    console.log(HELP);
    return;
  }
  if (opt.list) {
    for (const w of WORKLOADS) console.log(`${w.name.padEnd(12)} ${w.what}${w.optIn ? ' (opt-in)' : ''}`);
    return;
  }
  if (opt.compare !== undefined) {
    const b = positionals[0];
    if (!b) die('--compare needs two files: --compare A.json B.json');
    const read = (f: string): ResultsFile => JSON.parse(fs.readFileSync(f, 'utf8')) as ResultsFile;
    console.log(formatCompare(read(opt.compare), read(b), opt.compare, b));
    return;
  }
  if (opt.report !== undefined) {
    const f = JSON.parse(fs.readFileSync(opt.report, 'utf8')) as ResultsFile;
    const m = f.machine;
    console.log(`${opt.report}: ${m.date}, ${m.nproc} CPUs (${m.cpu}), Linux ${m.kernel}, arsync ${m.arsync.commit}`);
    console.log(`auto engine: ${f.autoEngine ?? 'unknown'}; args: ${f.argv.join(' ')}`);
    if (f.sshd) console.log(`sshd for the ssh rows: ${f.sshd}`);
    console.log(`host free page reporting: ${f.pageReporting ?? 'not recorded (runs before session 55)'}`);
    for (const r of f.results) console.log(`\n${formatWorkload(r)}`);
    console.log(`\n${formatGoals(evaluateGoals(f.results))}`);
    if (opt.svg !== undefined) drawCurves(f, opt.svg);
    return;
  }
  if (opt.clean) {
    rmrf(SHM);
    rmrf(path.join(DISK, 'dst'));
    log(`removed ${SHM} and ${path.join(DISK, 'dst')} (disk sources in ${DISK} and ${CACHE} kept)`);
    for (const d of unmountLoops()) log(`unmounted ${d} (its image stays in ${CACHE})`);
    return;
  }
  if (positionals.length) die(`unexpected argument ${positionals[0]} (see --help)`);

  const fsKinds = list(opt.fs ?? 'tmpfs') as FsKind[];
  for (const f of fsKinds) if (!FS_KINDS.includes(f)) die(`--fs takes ${FS_KINDS.join(', ')}, not ${f}`);
  const caches = list(opt.cache ?? 'warm') as Cache[];
  for (const c of caches) if (c !== 'warm' && c !== 'cold') die(`--cache takes warm and/or cold, not ${c}`);
  if (!['quick', 'checksum', 'none'].includes(opt.verify)) die(`--verify takes quick, checksum or none`);
  const engines = list(opt.engines);
  for (const e of engines) if (!['auto', 'uring', 'sync', 'node'].includes(e)) die(`unknown engine ${e}`);

  const sweepSizes = [...(opt.sweep || opt['sweep-million'] ? SWEEP_SIZES : []), ...(opt['sweep-million'] ? [SWEEP_MILLION] : [])];
  const byName = (n: string): Workload => {
    const m = /^files-(\d+)$/.exec(n);
    if (m) return sweepWorkload(Number(m[1]));
    return WORKLOADS.find((w) => w.name === n) ?? die(`unknown workload ${n}`);
  };
  let workloads: Workload[];
  if (opt.only || sweepSizes.length) {
    // --only names the workloads (remote ones included); --ssh adds every remote workload only beside a
    // sweep, so `--ssh --only ssh-push-delta` runs that one row and not the Linux tree's four as well.
    const named = [...new Set(list(opt.only ?? ''))].map(byName);
    workloads = [...named, ...sweepSizes.map(sweepWorkload), ...(opt.ssh && !opt.only ? WORKLOADS.filter((w) => w.remote) : [])];
  } else if (opt.ssh) {
    workloads = WORKLOADS.filter((w) => w.remote);
  } else if (opt.quick) {
    workloads = WORKLOADS.filter((w) => ['small', 'large', 'tiny'].includes(w.name));
  } else {
    workloads = WORKLOADS.filter((w) => !w.optIn);
  }
  interface Case {
    w: Workload;
    fsKind: FsKind;
    cache: Cache;
    /** Runs per tool for this case when --runs is not given (else the workload's default). */
    runs?: number;
  }
  const cases: Case[] = [];
  if (opt.all) {
    if (opt.only || opt.fs || opt.cache || opt.quick || opt.sweep || opt['sweep-million']) die('--all picks the workloads, filesystems and caches itself');
    // tmpfs first (the goals' main figures), the million files once, then the disk: warm, and cold where
    // a cold cache changes what is measured (reading the data; stat-ing every inode).
    const local = WORKLOADS.filter((w) => !w.optIn);
    const named = (names: string[]): Workload[] => names.map(byName);
    const add = (ws: Workload[], fsKind: FsKind, cache: Cache, runs?: number): void =>
      void cases.push(...ws.map((w) => ({ w, fsKind, cache, ...(runs ? { runs } : {}) })));
    add([...local, ...SWEEP_SIZES.map(sweepWorkload), byName('million')], 'tmpfs', 'warm');
    // Three runs on the disk, where each run also writes back (and, cold, reads) gigabytes.
    add(named(['small', 'large', 'linux', 'noop', 'incremental']), 'disk', 'warm', 3);
    add(named(['large', 'noop']), 'disk', 'cold', 3);
  }
  for (const fsKind of opt.all ? [] : fsKinds) {
    for (const cache of caches) {
      if (cache === 'cold' && fsKind === 'tmpfs') {
        log('skipping tmpfs with a cold cache: tmpfs lives in the page cache, there is nothing to drop');
        continue;
      }
      for (const w of workloads) cases.push({ w, fsKind, cache });
    }
  }
  // The default set: every workload on tmpfs, plus the large files on the disk, warm and cold, beside fio.
  if (!opt.all && !opt.only && !sweepSizes.length && !opt.quick && !opt.ssh && opt.fs === undefined && opt.cache === undefined) {
    const large = WORKLOADS.find((w) => w.name === 'large')!;
    cases.push({ w: large, fsKind: 'disk', cache: 'warm' }, { w: large, fsKind: 'disk', cache: 'cold' });
  }

  checkTimeBinary();
  const reportingMode = opt['page-reporting'];
  if (reportingMode !== 'off' && reportingMode !== 'keep') die(`--page-reporting: off or keep, not ${reportingMode}`);
  if (!fs.existsSync(ARSYNC_BIN)) die(`${ARSYNC_BIN} is missing: run npm run build:ts first`);
  if (cases.some((c) => c.cache === 'cold') && process.geteuid?.() !== 0) die('--cache cold needs root (drop_caches)');

  const arsyncArgs = opt['arsync-args'].split(/\s+/).filter(Boolean);
  if (newestMtime(path.join(REPO, 'src')) > fs.statSync(ARSYNC_BIN).mtimeMs) {
    console.log('warning: src/ has files newer than dist/bin.js: the measured build may be stale (npm run build:ts)');
  }
  const snap = snapshotBuild();
  process.on('exit', () => fs.rmSync(snap.dir, { recursive: true, force: true }));
  let before: { bin: string; dir: string; commit: string } | undefined;
  if (opt.before !== undefined) {
    const repo = path.resolve(opt.before);
    if (!fs.existsSync(path.join(repo, 'dist', 'bin.js'))) die(`--before ${repo}: no dist/bin.js there (build it first)`);
    const commit = spawnSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
    before = { ...snapshotBuild(repo, 'before'), commit: commit || 'unknown' };
    const dir = before.dir;
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  const plan: Plan = {
    runs: intOpt('runs', opt.runs),
    warmup: intOpt('warmup', opt.warmup),
    quick: opt.quick,
    verify: opt.verify as Plan['verify'],
    fio: !opt['no-fio'],
    arsyncTools: [
      ...engines.map((e) => arsyncTool(e, arsyncArgs, snap.bin)),
      ...(before ? engines.map((e) => arsyncTool(e, arsyncArgs, before.bin, 'before')) : []),
    ],
    peers: presentPeers(),
  };
  if (opt.peers !== undefined) {
    const wanted = list(opt.peers).filter((p) => p !== 'none');
    for (const p of wanted) if (!PEER_IDS.includes(p)) die(`unknown peer ${p} (${PEER_IDS.join(', ')})`);
    plan.peers = plan.peers.filter((p) => wanted.includes(p.id));
  }
  if (plan.runs === 0) die('--runs must be at least 1');
  if (cases.some((c) => c.w.remote)) {
    const why = sshdUnavailable();
    if (why) die(`the ssh workloads need a local sshd: ${why}`);
    if (!plan.peers.some((p) => p.id === 'rsync')) die('the ssh workloads need rsync as the peer (--peers rsync)');
    const malloc = opt['sshd-malloc'];
    if (malloc !== 'heap' && malloc !== 'stock') die(`--sshd-malloc: heap or stock, not ${malloc}`);
    const sshd = await startSshd(malloc === 'heap' ? { env: { GLIBC_TUNABLES: SSHD_HEAP_MALLOC } } : {});
    plan.sshd = sshd;
    plan.sshdMalloc = malloc;
    process.on('exit', () => sshd.stop());
  }

  const loops = Object.fromEntries(fsKinds.filter((f) => f === 'xfs' || f === 'btrfs').map((f) => [f, rootsFor(f).src.replace(/\/src$/, '')]));
  // The parent directories: the trees may not exist yet, and findmnt -T needs an existing path.
  const m = machine(REPO, { tmpfs: path.dirname(SHM), disk: path.dirname(DISK), ...loops });
  const file: ResultsFile = { version: 1, machine: m, argv: process.argv.slice(2), results: [] };
  file.pageReporting = holdPageReporting(reportingMode).note;
  if (plan.sshdMalloc) file.sshd = plan.sshdMalloc === 'heap' ? `malloc from the heap (GLIBC_TUNABLES=${SSHD_HEAP_MALLOC})` : 'as installed';
  file.autoEngine = [...new Set(cases.map((c) => c.fsKind))]
    .map((f) => `${f}: ${autoEngine(snap.bin, rootsFor(f).src.replace(/\/src$/, ''))}`)
    .join('; ');
  console.log(
    `arsync bench ${m.date}\n` +
      `machine: ${m.nproc} CPUs (${m.cpu}), ${m.memTotalGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}\n` +
      `filesystems: ${Object.entries(m.fsTypes).map(([k, v]) => `${k} = ${v}`).join('; ')}\n` +
      `peers: ${[m.rsync, m.cp, m.tar, 'node fs.cp', ...peerVersions()].join('; ')}\n` +
      `measured: ${[...plan.arsyncTools, ...plan.peers].map((t) => t.label).join(', ')}\n` +
      `arsync: commit ${m.arsync.commit}${m.arsync.dirty ? ' (src/ or native/ has uncommitted changes)' : ''}, ` +
      `dist built ${m.arsync.distBuilt}, addon ${m.arsync.addon}; measured from a copy in ${snap.dir}\n` +
      `auto engine: ${file.autoEngine}\n` +
      (file.sshd ? `sshd for the ssh rows: ${file.sshd}\n` : '') +
      `host free page reporting: ${file.pageReporting}\n` +
      (before ? `arsync@before: commit ${before.commit}, measured from a copy in ${before.dir}\n` : '') +
      `load average at start: ${m.loadavgAtStart}\n` +
      `peak RSS: GNU time %M (ru_maxrss of the process; for tar | tar the larger of the two tars)`,
  );

  const stamp = m.date.replace(/[:.]/g, '-');
  const saveTo = [opt.json, path.join(REPO, 'bench', 'results', `${stamp}.json`)].filter((f): f is string => !!f);
  const save = (): void => {
    for (const f of saveTo) {
      fs.mkdirSync(path.dirname(path.resolve(f)), { recursive: true });
      fs.writeFileSync(f, JSON.stringify(file, null, 1));
    }
  };

  const t0 = performance.now();
  try {
    for (const { w, fsKind, cache, runs } of cases) {
      const r = await runWorkload(w, fsKind, cache, plan, runs);
      file.results.push(r);
      save();
      console.log(`\n${formatWorkload(r)}`);
    }
  } catch (err) {
    if ((err as Error).message === 'interrupted') {
      log('interrupted: destinations removed; results so far saved');
      save();
      process.exit(130);
    }
    throw err;
  } finally {
    for (const f of new Set(cases.map((c) => c.fsKind))) rmrf(rootsFor(f).dst);
    // The throw-away sshd is a child that would keep the event loop, and so the harness, alive.
    plan.sshd?.stop();
  }
  console.log(`\n${formatGoals(evaluateGoals(file.results))}`);
  if (file.results.some((r) => r.workload.startsWith('files-'))) drawCurves(file, opt.svg ?? path.join(REPO, 'docs', 'cost-curve.svg'));
  console.log(`\ntotal ${((performance.now() - t0) / 60000).toFixed(1)} min; results saved to ${saveTo.join(', ')}`);
  if (cases.some((c) => c.fsKind === 'tmpfs')) {
    console.log(`source trees kept in ${SHM} (RAM) for the next run; npm run bench -- --clean removes them`);
  }
}

main().catch((err: unknown) => {
  log(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
