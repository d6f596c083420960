// The guest kernel's free page reporting, held off for the length of a benchmark run and put back after.
//
// Why: in a VM whose balloon device reports free pages to the host (virtio-balloon's FREE_PAGE_REPORTING),
// the guest hands the host free blocks of 2^page_reporting_order pages while the benchmark allocates and
// frees gigabytes (tmpfs trees made and removed every run), and a process that takes memory then pays for
// it at a rate that depends on what was freed and reported just before, not on what it does. Measured on
// this project's host (docs/benchmarks.md, "Session 55"): the far rsync of the push delta spent 0.85-3.7 s
// of system time writing the same 1 GiB file in identical runs with reporting on, 0.83-1.20 s with it off,
// and one tool's runs drew the slow ones more often in some runs (1.26x one run, 0.94x the next). A tool is
// measured here, not the host's memory broker, so the harness turns reporting off by raising
// page_reporting_order past the largest block the allocator builds (none is ever that large to report), and
// puts the value back when it exits.

import * as fs from 'node:fs';

const PARAM = '/sys/module/page_reporting/parameters/page_reporting_order';
/** Past MAX_PAGE_ORDER (10 on x86-64 and arm64 with 4 KiB pages): no free block reaches it. */
const OFF_ORDER = 11;

export type PageReportingMode = 'off' | 'keep';

/** What the run did with reporting, for the header and the results file. */
export interface PageReportingState {
  /** The order before the run, or null when the kernel reports no free pages (no such parameter). */
  was: number | null;
  /** The order during the run. */
  during: number | null;
  note: string;
}

function readOrder(): number | null {
  try {
    return Number(fs.readFileSync(PARAM, 'utf8').trim());
  } catch {
    return null;
  }
}

/**
 * Applies the mode; with 'off', registers the restore on process exit (the harness exits through
 * process.exit on an interrupt too). Never throws: a host where it cannot be changed is measured as it is,
 * and the note says so.
 */
export function holdPageReporting(mode: PageReportingMode): PageReportingState {
  const was = readOrder();
  if (was === null) return { was, during: null, note: 'not present (the kernel reports no free pages to a host)' };
  if (was >= OFF_ORDER) return { was, during: was, note: `already off (page_reporting_order ${was})` };
  if (mode === 'keep') {
    return { was, during: was, note: `left on (page_reporting_order ${was}): runs may fault pages in from the host` };
  }
  try {
    fs.writeFileSync(PARAM, String(OFF_ORDER));
  } catch (err) {
    return { was, during: was, note: `left on (page_reporting_order ${was}; could not change it: ${(err as Error).message})` };
  }
  const during = readOrder();
  if (during !== OFF_ORDER) return { was, during, note: `left on (page_reporting_order ${was}; the kernel kept ${during})` };
  process.on('exit', () => {
    try {
      fs.writeFileSync(PARAM, String(was));
    } catch (err) {
      process.stderr.write(`bench: could not restore ${PARAM} to ${was}: ${(err as Error).message}\n`);
    }
  });
  return { was, during, note: `off for the run (page_reporting_order ${was} -> ${OFF_ORDER}, restored after; --page-reporting keep to leave it)` };
}
