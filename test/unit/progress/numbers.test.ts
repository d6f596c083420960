import { describe, expect, it } from 'vitest';
import { bigDnum, bigNum, commaNum, humanNum } from '../../../src/progress/numbers.js';

describe("numbers at rsync's -h levels", () => {
  it('level 0: plain digits; 1: commas; 2: units of 1000; 3: units of 1024', () => {
    expect([0, 1, 2, 3].map((l) => humanNum(2_560_003, l))).toEqual(['2560003', '2,560,003', '2.56M', '2.44M']);
    expect([0, 1, 2, 3].map((l) => humanNum(999, l))).toEqual(['999', '999', '999', '999']);
    expect(humanNum(1000, 2)).toBe('1.00K');
    expect(humanNum(1000, 3)).toBe('1,000');
    expect(humanNum(1024, 3)).toBe('1.00K');
    expect(humanNum(5 * 1024 ** 5, 3)).toBe('5.00P');
    expect(humanNum(7e18, 2)).toBe('7000.00P');
    expect(humanNum(-1_234_567, 1)).toBe('-1,234,567');
    expect(humanNum(-2_000_000, 2)).toBe('-2.00M');
    expect(humanNum(0, 1)).toBe('0');
  });

  it('counts of files never get units', () => {
    expect(commaNum(2_500_000, 3)).toBe('2,500,000');
    expect(commaNum(2_500_000, 0)).toBe('2500000');
  });

  it('fractional numbers keep their decimals unless a unit is used', () => {
    expect(bigDnum(5_121_788, 1, 2)).toBe('5,121,788.00');
    expect(bigDnum(5_121_788, 0, 2)).toBe('5121788.00');
    expect(bigDnum(5_121_788, 2, 2)).toBe('5.12M');
    expect(bigDnum(999.5, 2, 2)).toBe('999.50');
    expect(bigDnum(0.0015, 1, 3)).toBe('0.002');
    expect(bigNum(1234, 1, '.50')).toBe('1,234.50');
  });
});
