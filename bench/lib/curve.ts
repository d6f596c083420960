// The cost curve: median wall time against the number of files, log–log, one line per tool, drawn as
// a standalone SVG by hand (axes, decade ticks, grid, legend) so the harness needs no plotting library.
// Fixed costs show as the flat left part of each line, per-file costs as its slope.

import { median, type WorkloadResult } from './report.js';

export interface CurveSeries {
  label: string;
  /** [files, median seconds], sorted by files. */
  points: [number, number][];
}

/** The sweep workloads of one filesystem and cache, as one series per tool (successful runs only). */
export function sweepSeries(results: WorkloadResult[]): CurveSeries[] {
  const byLabel = new Map<string, [number, number][]>();
  for (const w of results) {
    if (!w.workload.startsWith('files-')) continue;
    for (const t of w.tools) {
      const walls = t.runs.filter((r) => r.rc === 0).map((r) => r.wall);
      if (!walls.length) continue;
      const pts = byLabel.get(t.label) ?? [];
      pts.push([w.stats.files, median(walls)]);
      byLabel.set(t.label, pts);
    }
  }
  return [...byLabel].map(([label, points]) => ({ label, points: points.sort((a, b) => a[0] - b[0]) }));
}

/** Colours that stay apart for the ten or so tools of a run (Tableau 10). */
const COLOURS = ['#d62728', '#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmtN = (n: number): string => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));
const fmtS = (s: number): string => (s >= 1 ? `${s} s` : s >= 1e-3 ? `${Math.round(s * 1e3)} ms` : `${s * 1e6} µs`);

/** The SVG document; `title` and `notes` (machine, load, date) are printed above and below the plot. */
export function costCurveSvg(series: CurveSeries[], title: string, notes: string[]): string {
  const W = 900;
  const plot = { x: 80, y: 50, w: 560, h: 400 };
  const H = plot.y + plot.h + 60 + notes.length * 16;
  const all = series.flatMap((s) => s.points);
  if (!all.length) throw new Error('no sweep results to draw');
  const lx0 = Math.floor(Math.log10(Math.min(...all.map((p) => p[0]))));
  const lx1 = Math.ceil(Math.log10(Math.max(...all.map((p) => p[0]))));
  const ly0 = Math.floor(Math.log10(Math.min(...all.map((p) => p[1]))));
  const ly1 = Math.ceil(Math.log10(Math.max(...all.map((p) => p[1]))));
  const spanX = Math.max(1, lx1 - lx0);
  const spanY = Math.max(1, ly1 - ly0);
  const X = (n: number): number => plot.x + ((Math.log10(n) - lx0) / spanX) * plot.w;
  const Y = (s: number): number => plot.y + plot.h - ((Math.log10(s) - ly0) / spanY) * plot.h;
  const f = (v: number): string => v.toFixed(1);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  // Grid and ticks: every decade labelled, 2× and 5× as faint lines.
  for (let d = lx0; d <= lx1; d++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** d;
      if (Math.log10(v) > lx1 + 1e-9) continue;
      const x = f(X(v));
      out.push(`<line x1="${x}" y1="${plot.y}" x2="${x}" y2="${plot.y + plot.h}" stroke="${m === 1 ? '#ccc' : '#eee'}"/>`);
      if (m === 1) out.push(`<text x="${x}" y="${plot.y + plot.h + 18}" text-anchor="middle">${fmtN(v)}</text>`);
    }
  }
  for (let d = ly0; d <= ly1; d++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** d;
      if (Math.log10(v) > ly1 + 1e-9) continue;
      const y = f(Y(v));
      out.push(`<line x1="${plot.x}" y1="${y}" x2="${plot.x + plot.w}" y2="${y}" stroke="${m === 1 ? '#ccc' : '#eee'}"/>`);
      if (m === 1) out.push(`<text x="${plot.x - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmtS(Number(v.toPrecision(3)))}</text>`);
    }
  }
  out.push(`<rect x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}" fill="none" stroke="black"/>`);
  out.push(`<text x="${plot.x + plot.w / 2}" y="${plot.y + plot.h + 40}" text-anchor="middle">files copied (1 B–8 KiB each, log scale)</text>`);
  out.push(
    `<text transform="translate(22 ${plot.y + plot.h / 2}) rotate(-90)" text-anchor="middle">median wall time (log scale)</text>`,
  );
  series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length]!;
    const dash = i >= COLOURS.length ? ' stroke-dasharray="6 3"' : '';
    const width = s.label.startsWith('arsync') ? 3 : 1.5;
    out.push(
      `<polyline fill="none" stroke="${c}" stroke-width="${width}"${dash} points="${s.points.map(([n, t]) => `${f(X(n))},${f(Y(t))}`).join(' ')}"/>`,
    );
    for (const [n, t] of s.points) out.push(`<circle cx="${f(X(n))}" cy="${f(Y(t))}" r="3" fill="${c}"><title>${esc(`${s.label}: ${n} files, ${t.toFixed(4)} s`)}</title></circle>`);
    const ly = plot.y + 10 + i * 20;
    const lx = plot.x + plot.w + 20;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${c}" stroke-width="${width}"${dash}/>`);
    out.push(`<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${esc(s.label)}</text>`);
  });
  notes.forEach((n, i) => out.push(`<text x="${plot.x}" y="${plot.y + plot.h + 62 + i * 16}" fill="#444">${esc(n)}</text>`));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
