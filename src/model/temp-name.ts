// rsync's temp-file names (its receiver's get_tmpname), which the engines make and -vvv's trace prints:
// beside the target `.<name>.XXXXXX`, a dot file's own dot not doubled; in a --temp-dir `<name>.XXXXXX`;
// the name cut to 246 bytes (never inside a multibyte character) and one trailing dot dropped before the
// suffix's. native/temp.c's temp_stem is the C twin (test/contract/temp-names.test.ts holds them together).

/** The bytes of a name rsync keeps: NAME_MAX less the leading dot, the suffix ".XXXXXX" and the NUL. */
const STEM_MAX = 255 - 1 - 7 - 1;

/** Letters of a temp name's suffix as the engines report them (run()'s outcome bytes, native-contract.md). */
export const TEMP_LETTERS = 6;

/** What a temp name holds before its `.XXXXXX`: `name`'s rsync form beside the target or in -T's directory. */
export function tempStem(name: Buffer, inTempDir: boolean): Buffer {
  let base = name;
  if (!inTempDir && base[0] === 0x2e) base = base.subarray(1);
  let n = base.length;
  if (n > STEM_MAX) {
    n = STEM_MAX;
    // A cut inside a multibyte character drops its leading bytes too.
    if (base[n]! & 0x80) while (n > 0 && base[n - 1]! & 0x80) n--;
  }
  const stem = Buffer.concat([inTempDir ? Buffer.alloc(0) : Buffer.from('.'), base.subarray(0, n)]);
  return stem.length && stem[stem.length - 1] === 0x2e ? stem.subarray(0, -1) : stem;
}

/** The whole temp name: the stem, a dot and the six letters. */
export function tempName(name: Buffer, inTempDir: boolean, letters: string): Buffer {
  return Buffer.concat([tempStem(name, inTempDir), Buffer.from(`.${letters}`, 'latin1')]);
}
