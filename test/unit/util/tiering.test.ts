// When arsync may change V8's tiering: never against ARSYNC_V8_OPT=1 or a tiering option the operator
// gave Node (on its command line or in NODE_OPTIONS). The flag changes themselves are checked end to end
// (test/e2e/tiering.test.ts): this process's V8 is left alone here.

import { describe, expect, it } from 'vitest';
import { mayHold } from '../../../src/util/tiering.js';

describe('mayHold', () => {
  it('holds by default, with unrelated Node options', () => {
    expect(mayHold({}, [])).toBe(true);
    expect(mayHold({ NODE_OPTIONS: '--require x.cjs --max-old-space-size=512' }, ['--enable-source-maps', '--trace-opt'])).toBe(true);
    expect(mayHold({ ARSYNC_V8_OPT: '0' }, [])).toBe(true);
  });

  it('ARSYNC_V8_OPT=1 leaves V8 alone', () => {
    expect(mayHold({ ARSYNC_V8_OPT: '1' }, [])).toBe(false);
  });

  it("a tiering choice given to Node stands (a release would otherwise turn --opt on over it)", () => {
    for (const flag of ['--no-opt', '--opt', '--jitless', '--max-opt=1', '--no-turbofan', '--maglev', '--no-sparkplug']) {
      expect(mayHold({}, [flag]), flag).toBe(false);
      expect(mayHold({ NODE_OPTIONS: `--require x.cjs ${flag}` }, []), `NODE_OPTIONS ${flag}`).toBe(false);
    }
  });
});
