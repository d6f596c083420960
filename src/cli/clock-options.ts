// rsync's time and rate options (--bwlimit, --timeout, --stop-after/--time-limit, --stop-at), rsync's
// --no-progress, and arsync's --progress-bar (the whole run's bar, beside rsync's progress output): declared on the parser, their values checked as rsync's options.c checks them (parse_size_arg, popt's int, atol,
// parse_time) with rsync's messages, and turned into the Config's limits. What the limits do during a run
// is run/clock.ts (the stop and inactivity timers) and the engines' shared rate meter.

import type { Command } from 'commander';
import { UsageError } from '../util/errors.js';
import { poptInt, rsyncSize } from './local-noops.js';

/** What these options leave in the Config. */
export interface ClockLimits {
  /** Bytes per second (rsync keeps whole KiB/s); 0 = no limit. */
  bwlimit: number;
  /** Seconds of inactivity before the run stops; 0 = none. */
  timeout: number;
  /** When the run stops, in ms since the epoch; undefined = never. */
  stopAt: number | undefined;
  /** --progress-bar. */
  progressBar: boolean;
  /** --no-progress came after the last --progress or -P (it undoes -P's progress, not its --partial). */
  progressOff: boolean;
}

/** C's LONG_MAX on Linux x86-64 and arm64 (rsync's overflow check for --stop-after). */
const LONG_MAX = 2n ** 63n - 1n;

/** glibc's atol(): leading white space, a sign, decimal digits, the rest ignored; clamped to a long. */
function atol(arg: string): bigint {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(arg);
  if (!m) return 0n;
  const n = BigInt(m[1]!);
  return n > LONG_MAX ? LONG_MAX : n < -LONG_MAX - 1n ? -LONG_MAX - 1n : n;
}

/** rsync's --stop-after: minutes from now (atol(arg) * 60 in a long, which must stay positive). */
export function stopAfter(arg: string, nowSec: number): number {
  const val = BigInt.asIntN(64, atol(arg) * 60n);
  if (val <= 0n || LONG_MAX - val < BigInt(nowSec)) throw new UsageError(`invalid --stop-after value: ${arg}`);
  return nowSec + Number(val);
}

interface Tm {
  year: number;
  mon: number;
  mday: number;
  hour: number;
  min: number;
}

/** mktime() in local time: the seconds, and the fields normalised (a 31st of a 30-day month is the 1st). */
function mktime(t: Tm): number {
  const d = new Date(t.year + 1900, t.mon, t.mday, t.hour, t.min, 0, 0);
  const v = d.getTime();
  if (!Number.isFinite(v)) return -1;
  t.year = d.getFullYear() - 1900;
  t.mon = d.getMonth();
  t.mday = d.getDate();
  t.hour = d.getHours();
  t.min = d.getMinutes();
  return Math.floor(v / 1000);
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/**
 * rsync's parse_time() (options.c): `[[[yy]yy-]mm-]ddT[hh:]mm` (or `/` between the date's parts; a
 * leading `T` or `:` for a time alone), any part left out taken from now, and a time that has passed
 * moved to its next occurrence (the next day, month, year or hour, as far as what was left out allows).
 * Returns the seconds since the epoch, or -1 for a malformed or impossible time.
 */
export function parseTime(arg: string, nowSec: number): number {
  const now = new Date(nowSec * 1000);
  const today = { year: now.getFullYear() - 1900, mon: now.getMonth(), mday: now.getDate(), hour: now.getHours() };
  const t: Tm = { year: -1, mon: -1, mday: -1, hour: -1, min: -1 };
  let i = 0;
  let inDate: number;
  if (arg[0] === 'T' || arg[0] === 't' || arg[0] === ':') {
    inDate = arg[0] === ':' ? 0 : -1;
    i++;
  } else inDate = 1;
  for (; ; i++) {
    if (!isDigit(arg[i])) return -1;
    let n = 0;
    do n = n * 10 + (arg.charCodeAt(i++) - 48);
    while (isDigit(arg[i]));
    if (arg[i] === ':') inDate = 0;
    if (inDate > 0) {
      if (t.year !== -1) return -1;
      t.year = t.mon;
      t.mon = t.mday;
      t.mday = n;
      if (i >= arg.length) break;
      if (arg[i] === 'T' || arg[i] === 't') {
        if (i + 1 >= arg.length) break;
        inDate = -1;
      } else if (arg[i] !== '-' && arg[i] !== '/') return -1;
      continue;
    }
    if (t.hour !== -1) return -1;
    t.hour = t.min;
    t.min = n;
    if (i >= arg.length) {
      if (inDate < 0) return -1;
      break;
    }
    if (arg[i] !== ':') return -1;
    inDate = 0;
  }

  inDate = 0;
  if (t.year < 0) {
    t.year = today.year;
    inDate = 1;
  } else if (t.year < 100) {
    while (t.year < today.year) t.year += 100;
  } else t.year -= 1900;
  if (t.mon < 0) {
    t.mon = today.mon;
    inDate = 2;
  } else t.mon--;
  if (t.mday < 0) {
    t.mday = today.mday;
    inDate = 3;
  }
  let step = 0;
  if (t.min < 0) t.hour = t.min = 0;
  else if (t.hour < 0) {
    if (inDate !== 3) return -1;
    inDate = 0;
    t.hour = today.hour;
    step = 60 * 60;
  }
  let oldMday = t.mday;
  if (t.hour > 23 || t.min > 59 || t.mon < 0 || t.mon >= 12 || t.mday < 1 || t.mday > 31) return -1;
  let val = mktime(t);
  if (val === -1) return -1;
  while (inDate && (val <= nowSec || t.mday < oldMday)) {
    if (inDate === 3) oldMday = ++t.mday;
    else if (inDate === 2) {
      // The month already moved forward when mktime() normalised a too-large day.
      if (t.mday < oldMday) t.mday = oldMday;
      else if (++t.mon === 12) {
        t.mon = 0;
        t.year++;
      }
    } else {
      if (t.mday < oldMday) {
        // Only the 29th of February moves to the next year's March.
        if (t.mon !== 2 || oldMday !== 29) return -1;
        t.mon = 1;
        t.mday = 29;
      }
      t.year++;
    }
    val = mktime(t);
    if (val === -1) return -1;
  }
  if (step) while (val <= nowSec) val += step;
  return val;
}

/** Declare the options; the returned function gives their values once the line is parsed. */
export function addClockOptions(p: Command, nowMs: () => number = Date.now): () => ClockLimits {
  let bwlimit = 0;
  let timeout = 0;
  let stopAt: number | undefined;
  let progressBar = false;
  let progressOff = false;
  // rsync's do_progress is one variable: the last of --progress, -P and --no-progress wins. Commander
  // fires these in argv order (--progress itself is declared with the other output options).
  p.on('option:progress', () => (progressOff = false));
  p.on('option:P', () => (progressOff = false));
  const nowSec = (): number => Math.floor(nowMs() / 1000);
  p.option('--bwlimit <RATE>', 'limit the rate data is written at (KiB/s unless a suffix says; 0 = no limit)', (v: string) => {
    // rsync keeps whole KiB per second, rounded to the nearest.
    const size = rsyncSize('bwlimit', v, 'K', 512, -1, true);
    bwlimit = Math.floor((size + 512) / 1024) * 1024;
    return v;
  })
    .option('--no-bwlimit', 'turn off --bwlimit', () => (bwlimit = 0))
    .option('--timeout <SECONDS>', 'stop with exit 30 after SECONDS without progress (0 = never)', (v: string) => (timeout = poptInt('--timeout', v)))
    .option('--no-timeout', 'turn off --timeout', () => (timeout = 0))
    .option('--stop-after <MINS>', 'stop the transfer after MINS minutes (exit 30)', (v: string) => (stopAt = stopAfter(v, nowSec()) * 1000))
    .option('--time-limit <MINS>', 'same as --stop-after (its older name)', (v: string) => (stopAt = stopAfter(v, nowSec()) * 1000))
    .option('--stop-at <y-m-dTh:m>', 'stop the transfer at this local time (exit 30)', (v: string) => {
      const now = nowSec();
      const at = parseTime(v, now);
      if (at === -1) throw new UsageError(`invalid --stop-at format: ${v}`);
      if (at <= now) throw new UsageError(`--stop-at time is not in the future: ${v}`);
      stopAt = at * 1000;
      return v;
    })
    .option('--no-progress', 'turn off --progress (and the progress of -P)', () => {
      progressOff = true;
      return false;
    })
    .option('--progress-bar', "arsync's full-width bar for the whole run (on a terminal only)", () => (progressBar = true))
    .option('--no-progress-bar', 'turn off --progress-bar', () => (progressBar = false));
  // A negative --timeout is no timeout in rsync (its checks only act on a positive one).
  return () => ({ bwlimit, timeout: Math.max(0, timeout), stopAt, progressBar, progressOff });
}
