import { describe, expect, it } from 'vitest';
import { keptMode } from '../../../src/plan/dest-mode.js';

// rsync.c dest_mode with `exists`, as rsync 3.5 applied it in hand-made trees (umask 022).
describe('keptMode (rsync dest_mode against an existing file)', () => {
  it('takes the existing file\'s bits and the source\'s type', () => {
    expect(keptMode(0o100600, 0o100640, false)).toBe(0o100640);
    expect(keptMode(0o100755, 0o100640, false)).toBe(0o100640);
    // A device over a symlink (0777) or a set-uid file: all of those bits.
    expect(keptMode(0o020600, 0o120777, false)).toBe(0o020777);
    expect(keptMode(0o010604, 0o104751, false)).toBe(0o014751);
  });

  it('-E: a regular file\'s execute bits follow the source\'s', () => {
    expect(keptMode(0o100755, 0o100640, true)).toBe(0o100750);
    expect(keptMode(0o100644, 0o100751, true)).toBe(0o100640);
    expect(keptMode(0o100755, 0o100711, true)).toBe(0o100711);
    // Not a device's.
    expect(keptMode(0o020600, 0o100640, true)).toBe(0o020640);
  });
});
