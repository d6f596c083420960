// How numbers are printed, by rsync's -h level: 0 (--no-h) plain digits, 1 (the default) digits in
// groups of three with commas, 2 (-h) units in powers of 1000 ("2.56M"), 3 (-hh) powers of 1024.
// Counts of files always use at most level 1, as rsync does; sizes and rates use the level given.

const UNITS = 'KMGTP';

/** rsync's do_big_num: an integer at `level`; `fract` (".00") is kept when no unit is used. */
export function bigNum(value: number, level: number, fract = ''): string {
  const num = Math.trunc(value);
  if (level > 1) {
    const mult = level === 2 ? 1000 : 1024;
    if (Math.abs(num) >= mult) {
      let d = Math.abs(num) / mult;
      let u = 0;
      while (d >= mult && u < UNITS.length - 1) {
        d /= mult;
        u++;
      }
      return `${num < 0 ? '-' : ''}${d.toFixed(2)}${UNITS[u]}`;
    }
  }
  const digits = String(Math.abs(num));
  const grouped = level > 0 ? digits.replace(/\B(?=(\d{3})+$)/g, ',') : digits;
  return `${num < 0 ? '-' : ''}${grouped}${fract}`;
}

/** rsync's do_big_dnum: a fractional number with `decimals` digits, grouped or with a unit by `level`. */
export function bigDnum(value: number, level: number, decimals: number): string {
  const plain = value.toFixed(decimals);
  if (level === 0 || Math.abs(value) < 1000) return plain;
  const dot = plain.indexOf('.');
  return bigNum(Math.trunc(value), level, dot >= 0 ? plain.slice(dot) : '');
}

/** A size or byte count (rsync's human_num). */
export const humanNum = (v: number, level: number): string => bigNum(v, level);
/** A count of files (rsync's comma_num: never units). */
export const commaNum = (v: number, level: number): string => bigNum(v, Math.min(level, 1));
