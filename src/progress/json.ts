// The `--json` document: what one run did, as the versioned contract in schema/summary.v1.json. Every run
// under --json ends with exactly one of these on stdout, whatever happened (a usage error included), so a
// script can read the exit code and the errors from it instead of parsing rsync's text.

import { Counter } from '../model/ops.js';
import { UsageError, exitMessage } from '../util/errors.js';

/** Bump on any change a reader could notice (a field removed, renamed or retyped); adding a field is not one. */
export const SUMMARY_FORMAT_VERSION = 1;

export interface JsonError {
  /** The entry, escaped as in rsync's messages (`\#ooo` for bytes that are not printable UTF-8). */
  path?: string;
  message: string;
  /** The errno name (`EACCES`), when the error came from a system call. */
  code?: string;
}

/** The counts a finished transfer hands over (a subset of the run's totals). */
export interface SummaryTotals {
  listed: Record<string, number>;
  created: Record<string, number>;
  deleted: Record<string, number>;
  totalSize: number;
  plannedBytes: number;
  plannedFiles: number;
  deleteSkipped: number;
  counters: BigInt64Array;
}

/** What main() learns as it goes; every field may be missing when the run stopped before that point. */
export interface RunReport {
  dryRun?: boolean;
  engine?: { name: string; reason: string };
  totals?: SummaryTotals;
  errors: JsonError[];
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

export function summaryDocument(version: string, r: RunReport, exitCode: number, elapsedMs: number): object {
  const t = r.totals;
  const dryRun = r.dryRun ?? false;
  return {
    format: 'arsync-summary',
    formatVersion: SUMMARY_FORMAT_VERSION,
    version,
    exitCode,
    exitMessage: exitCode === 0 ? null : exitMessage(exitCode).replace(/ \(code \d+\)$/, ''),
    dryRun,
    engine: r.engine ? { name: r.engine.name, reason: r.engine.reason } : null,
    elapsedMs: Math.round(elapsedMs * 1000) / 1000,
    files: t
      ? {
          total: sum(t.listed),
          ...t.listed,
          created: sum(t.created),
          deleted: sum(t.deleted),
          transferred: dryRun ? t.plannedFiles : Number(Atomics.load(t.counters, Counter.Files)),
          deleteSkipped: t.deleteSkipped,
        }
      : null,
    bytes: t
      ? { total: t.totalSize, transferred: dryRun ? t.plannedBytes : Number(Atomics.load(t.counters, Counter.Bytes)) }
      : null,
    errors: r.errors,
  };
}

/**
 * Which JSON output argv asks for (--json, --json=summary: one document; --json-events, --json=events: a
 * stream of lines), judged before parsing so that even a usage error is reported as JSON.
 */
export function jsonMode(args: readonly string[]): 'summary' | 'events' | undefined {
  let mode: 'summary' | 'events' | undefined;
  for (const a of args) {
    if (a === '--') break;
    if (a === '--json-events' || a === '--json=events') mode = 'events';
    else if ((a === '--json' || a === '--json=summary') && mode === undefined) mode = 'summary';
  }
  return mode;
}

/**
 * `--json=summary` and `--json=events` are the documented spellings of `--json` and `--json-events`
 * (commander cannot give `--json` an optional value without taking the next operand as it); anything
 * else after `--json=` is a usage error. Only options before `--` are options.
 */
export function jsonSpellings(args: readonly string[]): string[] {
  const out: string[] = [];
  let operands = false;
  for (const a of args) {
    if (operands || !a.startsWith('--json=')) {
      if (a === '--') operands = true;
      out.push(a);
      continue;
    }
    const mode = a.slice('--json='.length);
    if (mode === 'summary') out.push('--json');
    else if (mode === 'events') out.push('--json-events');
    else throw new UsageError(`--json=${mode}: --json takes summary or events`);
  }
  return out;
}
