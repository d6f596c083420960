// The performance goals as measured ratios: each goal is checked on every workload of the run it
// applies to (per filesystem and cache), as arsync's median against its peer's median from the same run,
// and printed PASS or MISS (with the CPU ratio beside it); a goal no workload of the run covers is listed as
// not measured.

import { fmtMB, fmtRatio, fmtTime, summarize, type Summary, type WorkloadResult } from './report.js';

export interface GoalRow {
  goal: string;
  where: string;
  /** What was measured: the ratio (or the figure) and its parts. */
  figure: string;
  verdict: 'PASS' | 'MISS' | 'not measured';
}

interface Goal {
  goal: string;
  /** Whether the goal speaks about this workload. */
  applies(w: WorkloadResult): boolean;
  /** The verdict from arsync's and the peers' summaries; undefined when a needed peer is missing. */
  judge(a: Summary, peer: (id: string) => Summary | undefined): { ok: boolean; figure: string } | undefined;
}

const files = (w: WorkloadResult): number => w.stats.files;
const isSweep = (w: WorkloadResult): boolean => w.workload.startsWith('files-');
/** The workloads between machines (issue 12's goals), which issue 11's local goals do not speak of. */
const overSsh = (w: WorkloadResult): boolean => w.workload.startsWith('ssh-');
const small = (w: WorkloadResult): boolean => isSweep(w) || w.workload === 'small' || w.workload === 'tiny' || w.workload === 'million';

/**
 * The CPU (user+sys) ratio beside a wall-time verdict: on a shared host, where no process gets both CPUs,
 * it says more than the wall ratio about what arsync costs; the verdict stays the goal's (wall time).
 */
function cpuRatio(a: Summary, p: Summary): string {
  return p.cpuMedian > 0 ? `; CPU ${fmtRatio(a.cpuMedian / p.cpuMedian)}` : '';
}

/** arsync ÷ peer ≤ limit. */
function ratioTo(peerId: string, limit: number) {
  return (a: Summary, peer: (id: string) => Summary | undefined) => {
    const p = peer(peerId);
    if (!p || !p.n || !a.n) return undefined;
    const r = a.median / p.median;
    return { ok: r <= limit, figure: `${fmtRatio(r)} (${fmtTime(a.median)} vs ${peerId} ${fmtTime(p.median)}; goal ≤ ${limit}×)${cpuRatio(a, p)}` };
  };
}

export const GOALS: Goal[] = [
  {
    goal: "below 3,000 files: ≤ node -e '' + cp -a",
    applies: (w) => small(w) && files(w) < 3_000,
    judge: (a, peer) => {
      const n = peer('node-start');
      const c = peer('cp');
      if (!n?.n || !c?.n || !a.n) return undefined;
      const r = a.median / (n.median + c.median);
      const cpu = n.cpuMedian + c.cpuMedian > 0 ? `; CPU ${fmtRatio(a.cpuMedian / (n.cpuMedian + c.cpuMedian))}` : '';
      return { ok: r <= 1, figure: `${fmtRatio(r)} (${fmtTime(a.median)} vs ${fmtTime(n.median)} + ${fmtTime(c.median)})${cpu}` };
    },
  },
  { goal: '3,000 to 1,000,000 files: ≤ cp -a', applies: (w) => small(w) && files(w) >= 3_000, judge: ratioTo('cp', 1) },
  {
    goal: 'from 1,000 files: ≤ 0.5× rsync -a',
    applies: (w) => w.mode === 'fresh' && files(w) >= 1_000 && w.workload !== 'large' && !overSsh(w),
    judge: ratioTo('rsync', 0.5),
  },
  { goal: '20,000 small files: ≤ 0.6× cp -a', applies: (w) => w.workload === 'small' || w.workload === 'files-20000', judge: ratioTo('cp', 0.6) },
  { goal: 'Linux tree, fresh: ≤ 0.6× cp -a', applies: (w) => w.workload === 'linux', judge: ratioTo('cp', 0.6) },
  { goal: 'two 1 GiB files: ≤ 0.6× cp -a', applies: (w) => w.workload === 'large', judge: ratioTo('cp', 0.6) },
  { goal: 'no-op re-sync: ≤ 0.35× rsync -a', applies: (w) => w.workload === 'noop', judge: ratioTo('rsync', 0.35) },
  { goal: '1% changed: ≤ 0.5× rsync -a', applies: (w) => w.workload === 'incremental', judge: ratioTo('rsync', 0.5) },
  // Issue 12: over ssh to this machine, arsync as the client no slower than rsync as the client.
  ...(['push', 'pull'] as const).flatMap((dir) =>
    (['linux', 'noop', 'delta'] as const).map(
      (kind): Goal => ({
        goal: `ssh ${dir}, ${kind === 'linux' ? 'Linux tree fresh' : kind === 'noop' ? 'no-op re-sync' : '1% of 1 GiB changed'}: ≤ rsync -a`,
        applies: (w) => w.workload === `ssh-${dir}-${kind}`,
        judge: ratioTo('rsync', 1),
      }),
    ),
  ),
  {
    goal: 'peak RSS at 1,000,000 files: ≤ 200 MB',
    applies: (w) => files(w) >= 1_000_000,
    judge: (a) => (a.n ? { ok: a.rssMaxKiB <= 200 * 1024, figure: `${fmtMB(a.rssMaxKiB)} (goal ≤ 200 MB)` } : undefined),
  },
];

/** The arsync row goals are judged on: the default engine's, else the first arsync row. */
function arsyncRow(w: WorkloadResult) {
  const rows = w.tools.filter((t) => t.kind === 'arsync');
  return rows.find((t) => t.id === 'arsync') ?? rows[0];
}

export function evaluateGoals(results: WorkloadResult[]): GoalRow[] {
  const out: GoalRow[] = [];
  for (const g of GOALS) {
    let any = false;
    for (const w of results.filter((r) => g.applies(r))) {
      const a = arsyncRow(w);
      if (!a) continue;
      const peer = (id: string): Summary | undefined => {
        const t = w.tools.find((x) => x.id === id);
        return t ? summarize(t.runs) : undefined;
      };
      const v = g.judge(summarize(a.runs), peer);
      if (!v) continue;
      any = true;
      out.push({ goal: g.goal, where: `${w.workload} (${w.fs}, ${w.cache})`, figure: v.figure, verdict: v.ok ? 'PASS' : 'MISS' });
    }
    if (!any) out.push({ goal: g.goal, where: '—', figure: 'no workload of this run covers it', verdict: 'not measured' });
  }
  return out;
}

export function formatGoals(rows: GoalRow[]): string {
  const head = ['goal', 'workload', 'measured', 'verdict'];
  const cells = rows.map((r) => [r.goal, r.where, r.figure, r.verdict]);
  const widths = head.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c]!.length)));
  const line = (r: string[]): string => r.map((x, c) => x.padEnd(widths[c]!)).join('  ').trimEnd();
  const pass = rows.filter((r) => r.verdict === 'PASS').length;
  const miss = rows.filter((r) => r.verdict === 'MISS').length;
  return [`== goals of the issues (${pass} PASS, ${miss} MISS)`, line(head), ...cells.map(line)].join('\n');
}
