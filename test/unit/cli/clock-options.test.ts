// rsync's parse_time() and --stop-after as ported in src/cli/clock-options.ts, at a fixed "now" in UTC:
// every form rsync takes, the next occurrence of a time that has passed, and the malformed ones (-1).

import { describe, expect, it } from 'vitest';

process.env.TZ = 'UTC';
const { parseTime, stopAfter } = await import('../../../src/cli/clock-options.js');

const NOW = Date.UTC(2026, 5, 15, 10, 30, 0) / 1000; // Monday 2026-06-15 10:30:00 UTC
const at = (s: string): number => Date.parse(`${s}Z`) / 1000;

describe('parse_time', () => {
  const cases: [string, string][] = [
    ['2026-06-16T00:00', '2026-06-16T00:00'],
    ['2026/06/16T00:00', '2026-06-16T00:00'],
    ['26-06-16T00:00', '2026-06-16T00:00'], // two-digit year: this century or later
    ['2026-06-16', '2026-06-16T00:00'], // a date alone is midnight
    ['2026-06-16t7:05', '2026-06-16T07:05'],
    ['06-16T09:00', '2026-06-16T09:00'], // no year: this year...
    ['06-14T09:00', '2027-06-14T09:00'], // ...or next year once it has passed
    ['16T09:00', '2026-06-16T09:00'], // a day alone: this month...
    ['15T09:00', '2026-07-15T09:00'], // ...or next month
    ['11:00', '2026-06-15T11:00'], // a time alone: today...
    ['10:00', '2026-06-16T10:00'], // ...or tomorrow
    ['T11:00', '2026-06-15T11:00'],
    [':45', '2026-06-15T10:45'], // minutes alone: this hour...
    [':15', '2026-06-15T11:15'], // ...or the next
    ['2026-06-31T00:00', '2026-07-01T00:00'], // mktime() moves a 31st of June on, as in rsync
    ['12', '2026-07-12T00:00'],
    ['2026-06-16T', '2026-06-16T00:00'], // a T with nothing after it ends the date
  ];
  for (const [arg, want] of cases) it(`${arg} → ${want}`, () => expect(parseTime(arg, NOW)).toBe(at(want)));

  for (const bad of ['', 'T', 'garbage', '25:00', '10:60', '2026-13-01T00:00', '2026-06-00T00:00', '2026-06-32T00:00', '1-2-3-4', '12:00:00', 'T2026-06-16', '10:00x', '1:2:3']) {
    it(`${JSON.stringify(bad)} is malformed`, () => expect(parseTime(bad, NOW)).toBe(-1));
  }

  it('a past date given whole is returned as it is (the caller says "not in the future")', () => {
    expect(parseTime('2000-01-01T00:00', NOW)).toBe(at('2000-01-01T00:00'));
  });
});

describe('--stop-after', () => {
  it('minutes from now; atol() reads the leading number', () => {
    expect(stopAfter('10', NOW)).toBe(NOW + 600);
    expect(stopAfter(' 2min', NOW)).toBe(NOW + 120);
  });
  for (const bad of ['0', '-1', 'abc', '']) {
    it(`${JSON.stringify(bad)}: invalid --stop-after value`, () => expect(() => stopAfter(bad, NOW)).toThrow(`invalid --stop-after value: ${bad}`));
  }
});
