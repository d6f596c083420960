// Where a pull stages: the destination's filesystem when $TMPDIR or /dev/shm is on it, else $TMPDIR.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stagingParent } from '../../../src/cli/staging-dir.js';

const shm = fs.existsSync('/dev/shm') && fs.statSync('/dev/shm').dev !== fs.statSync(os.tmpdir()).dev;

describe('stagingParent', () => {
  it('stages in $TMPDIR for a destination on its filesystem (existing or still to be made)', () => {
    expect(stagingParent(Buffer.from(path.join(os.tmpdir(), 'no', 'such', 'dest')))).toBe(os.tmpdir());
  });

  it.skipIf(!shm)('stages in /dev/shm for a destination there, $TMPDIR being elsewhere', () => {
    const dest = fs.mkdtempSync('/dev/shm/arsync-stage-test-');
    try {
      expect(stagingParent(Buffer.from(`${dest}/new/`))).toBe('/dev/shm');
    } finally {
      fs.rmSync(dest, { recursive: true, force: true });
    }
  });

  it.skipIf(!shm)('stages in $TMPDIR for a destination on neither filesystem', () => {
    expect(stagingParent(Buffer.from('/proc/self'))).toBe(os.tmpdir());
  });
});
