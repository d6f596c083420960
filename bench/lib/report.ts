// Summaries and tables: medians, min/max, peak RSS, CPU, and arsync's median ratio to every other row
// measured in the same run. Also the JSON file format and the comparison of two saved runs.

import type { Machine, RunResult } from './measure.js';
import type { FsKind, Mode, TreeStats } from './workloads.js';

export type Cache = 'warm' | 'cold';

export interface ToolResult {
  id: string;
  label: string;
  kind: 'arsync' | 'peer' | 'baseline';
  runs: RunResult[];
}

export interface FioResult {
  /** 'before' the runs, or 'round N'. */
  when: string;
  bwBytesPerSec: number;
  cmd: string;
}

export interface WorkloadResult {
  workload: string;
  what: string;
  mode: Mode;
  fs: FsKind;
  cache: Cache;
  src: string;
  stats: TreeStats;
  note?: string;
  /** Files changed before each run (incremental). */
  changedPerRun?: number;
  loadavg: { start: string; end: string };
  tools: ToolResult[];
  fio?: FioResult[];
}

export interface ResultsFile {
  version: 1;
  machine: Machine;
  argv: string[];
  autoEngine?: string;
  /** The ssh rows' far side: the throw-away sshd's malloc (run.ts, --sshd-malloc). */
  sshd?: string;
  /** What the run did with the VM's free page reporting (lib/page-reporting.ts, --page-reporting). */
  pageReporting?: string;
  results: WorkloadResult[];
}

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  rssMedianKiB: number;
  rssMaxKiB: number;
  cpuMedian: number;
  failed: number;
  /** Worst verification count over the runs; undefined when not verified. */
  diffs: number | undefined;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Timing figures come from the runs that exited 0 only; failed runs are counted, not timed. */
export function summarize(all: RunResult[]): Summary {
  const runs = all.filter((r) => r.rc === 0);
  const walls = runs.map((r) => r.wall);
  const checked = runs.filter((r) => r.diffs !== undefined).map((r) => r.diffs!);
  return {
    n: runs.length,
    median: median(walls),
    min: Math.min(...walls),
    max: Math.max(...walls),
    rssMedianKiB: median(runs.map((r) => r.rssKiB)),
    rssMaxKiB: Math.max(...runs.map((r) => r.rssKiB)),
    cpuMedian: median(runs.map((r) => r.user + r.sys)),
    failed: all.length - runs.length,
    diffs: checked.length ? Math.max(...checked) : undefined,
  };
}

export function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '—';
  if (s < 1) return `${(s * 1000).toFixed(1)} ms`;
  return `${s.toFixed(3)} s`;
}

export const fmtMB = (kib: number): string => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MB` : '—');
export const fmtBytes = (b: number): string =>
  b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${b} B`;
export const fmtRatio = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '—');

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function heading(w: WorkloadResult): string {
  const s = w.stats;
  const size =
    `${s.files.toLocaleString('en-US')} files, ${s.dirs.toLocaleString('en-US')} dirs` +
    (s.symlinks ? `, ${s.symlinks} symlinks` : '') +
    `, ${fmtBytes(s.bytes)}`;
  return `== ${w.workload} — ${w.what} (${size}); ${w.fs}, ${w.cache} cache`;
}

/** The text block printed for one workload. */
export function formatWorkload(w: WorkloadResult): string {
  const out: string[] = [heading(w)];
  const sums = w.tools.map((t) => ({ t, s: summarize(t.runs) }));
  const rows = [['tool', 'runs', 'median', 'min', 'max', 'peak RSS', 'CPU u+s', 'failed', 'left to copy']];
  for (const { t, s } of sums) {
    rows.push([
      t.label,
      String(s.n + s.failed),
      fmtTime(s.median),
      fmtTime(s.min),
      fmtTime(s.max),
      fmtMB(s.rssMedianKiB),
      fmtTime(s.cpuMedian),
      s.failed ? `${s.failed}/${s.n + s.failed}` : '0',
      s.diffs === undefined ? 'n/a' : s.diffs < 0 ? 'check failed' : String(s.diffs),
    ]);
  }
  out.push(table(rows));
  const others = sums.filter((x) => x.t.kind !== 'arsync');
  for (const a of sums.filter((x) => x.t.kind === 'arsync')) {
    const parts = others.map((p) => `${p.t.label} ${fmtRatio(a.s.median / p.s.median)}`);
    if (parts.length) out.push(`${a.t.id} median ÷ peer median (< 1 = arsync faster): ${parts.join(', ')}`);
    // CPU time moves less than wall time when other work shares the machine.
    const cpu = others
      .filter((p) => p.t.kind !== 'baseline' || p.s.cpuMedian > 0)
      .map((p) => `${p.t.label} ${fmtRatio(a.s.cpuMedian / p.s.cpuMedian)}`);
    if (cpu.length) out.push(`${a.t.id} CPU (user+sys) ÷ peer CPU: ${cpu.join(', ')}`);
  }
  if (w.fio?.length) {
    const all = w.fio.map((f) => f.bwBytesPerSec);
    const bw = median(all);
    out.push(
      `fio sequential read (O_DIRECT, ${all.length} samples: before the runs and once per round): ` +
        `median ${fmtMBs(bw)}, min ${fmtMBs(Math.min(...all))}, max ${fmtMBs(Math.max(...all))}`,
    );
    for (const { t, s } of sums) {
      const rate = w.stats.bytes / s.median;
      out.push(`  ${t.label}: ${fmtMBs(rate)} (size ÷ median time) = ${((rate / bw) * 100).toFixed(0)}% of fio's median`);
    }
  }
  if (w.changedPerRun) {
    out.push(w.mode === 'delta' ? `${w.changedPerRun.toLocaleString('en-US')} bytes of the file changed before each run.` : `${w.changedPerRun} files changed before each run.`);
  }
  if (w.note) out.push(w.note);
  for (const { t } of sums) {
    const bad = t.runs.find((r) => r.rc !== 0);
    if (bad) out.push(`${t.label} failed (exit ${bad.rc}): ${bad.stderr ?? ''}`);
  }
  out.push(`load average: start ${w.loadavg.start}; end ${w.loadavg.end}`);
  return out.join('\n');
}

export const fmtMBs = (bps: number): string => `${(bps / 1e6).toFixed(0)} MB/s`;

const key = (w: WorkloadResult): string => `${w.workload}|${w.fs}|${w.cache}`;

/** Compare two saved runs: per tool, the medians and B÷A; per arsync row, its ratios to peers in each. */
export function formatCompare(a: ResultsFile, b: ResultsFile, nameA: string, nameB: string): string {
  const out: string[] = [
    `A = ${nameA}: ${a.machine.date}, arsync ${a.machine.arsync.commit}${a.machine.arsync.dirty ? '+dirty' : ''}`,
    `B = ${nameB}: ${b.machine.date}, arsync ${b.machine.arsync.commit}${b.machine.arsync.dirty ? '+dirty' : ''}`,
  ];
  const byKey = new Map(a.results.map((w) => [key(w), w]));
  for (const wb of b.results) {
    const wa = byKey.get(key(wb));
    if (!wa) {
      out.push(`\n== ${wb.workload} (${wb.fs}, ${wb.cache}): only in B`);
      continue;
    }
    out.push(`\n== ${wb.workload} (${wb.fs}, ${wb.cache})`);
    const rows = [['tool', 'A median', 'B median', 'B ÷ A', 'A peak RSS', 'B peak RSS']];
    for (const tb of wb.tools) {
      const ta = wa.tools.find((t) => t.id === tb.id);
      const sb = summarize(tb.runs);
      const sa = ta ? summarize(ta.runs) : undefined;
      rows.push([
        tb.label,
        sa ? fmtTime(sa.median) : '—',
        fmtTime(sb.median),
        sa ? fmtRatio(sb.median / sa.median) : '—',
        sa ? fmtMB(sa.rssMedianKiB) : '—',
        fmtMB(sb.rssMedianKiB),
      ]);
    }
    out.push(table(rows));
    // Ratios within each run are the figures that count: absolute times move with the machine's load.
    for (const tb of wb.tools.filter((t) => t.kind === 'arsync')) {
      const ta = wa.tools.find((t) => t.id === tb.id);
      const ratios = (w: WorkloadResult, t: ToolResult | undefined): string =>
        t
          ? w.tools
              .filter((p) => p.kind !== 'arsync')
              .map((p) => `${p.label} ${fmtRatio(summarize(t.runs).median / summarize(p.runs).median)}`)
              .join(', ')
          : '—';
      out.push(`${tb.id} ÷ peers in A: ${ratios(wa, ta)}`);
      out.push(`${tb.id} ÷ peers in B: ${ratios(wb, tb)}`);
    }
  }
  return out.join('\n');
}
