// permsAfterAcl: rsync's 'p' for a current file whose access ACL it rewrites (the ACL takes the permission
// bits along; set-id and sticky bits stay the mode's).

import { describe, expect, it } from 'vitest';
import { permsAfterAcl } from '../../../src/run/xattrs.js';

const F = 0o100000;

describe('permsAfterAcl', () => {
  it('no p when only the permission bits differ (the ACL brings them)', () => {
    expect(permsAfterAcl(F | 0o664, F | 0o644)).toBe(false);
    expect(permsAfterAcl(F | 0o664, F | 0o600)).toBe(false);
    expect(permsAfterAcl(F | 0o664, F | 0o664)).toBe(false);
  });
  it('p when a set-id or sticky bit differs', () => {
    expect(permsAfterAcl(F | 0o664, F | 0o4644)).toBe(true);
    expect(permsAfterAcl(F | 0o4664, F | 0o664)).toBe(true);
    expect(permsAfterAcl(F | 0o1664, F | 0o664)).toBe(true);
  });
});
