// src/progress/format.ts: rsync's --out-format escapes, with its width and ' (thousands) modifiers.

import { describe, expect, it } from 'vitest';
import { formatHas, formatLine, permString, type LineInfo } from '../../../src/progress/format.js';

const line: LineInfo = {
  itemize: '>f+++++++++',
  name: 'dir/file',
  fullName: 'src/dir/file',
  suffix: '',
  size: 1234567,
  bytes: 7654321,
  mode: 0o100644,
  uid: 1000,
  gid: 100,
  mtimeSec: new Date(2024, 0, 2, 3, 4, 5).getTime() / 1000,
  op: 'recv',
};

describe('formatLine', () => {
  it('-i and -v formats', () => {
    expect(formatLine('%i %n%L', line)).toBe('>f+++++++++ dir/file');
    expect(formatLine('%n%L', { ...line, name: 'l', suffix: ' -> t' })).toBe('l -> t');
  });

  it('each escape', () => {
    expect(formatLine('%f|%l|%b|%o|%U|%G|%B|%%', line)).toBe('src/dir/file|1234567|7654321|recv|1000|100|rw-r--r--|%');
    expect(formatLine('%M', line)).toBe('2024/01/02-03:04:05');
    expect(formatLine('%p', line)).toBe(String(process.pid));
    expect(formatLine('%t', line)).toMatch(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d$/);
    expect(formatLine('%o', { ...line, op: 'del.' })).toBe('del.');
  });

  it("thousands with ' before or after the width", () => {
    expect(formatLine("%'l %'b", line)).toBe('1,234,567 7,654,321');
    expect(formatLine("%12'l|", line)).toBe('   1,234,567|');
    expect(formatLine("%'12l|", line)).toBe('   1,234,567|');
  });

  it('pads right by default and left with -', () => {
    expect(formatLine('[%12n]', line)).toBe('[    dir/file]');
    expect(formatLine('[%-12n]', line)).toBe('[dir/file    ]');
    expect(formatLine('[%-n]', line)).toBe('[dir/file]');
  });

  it("cuts a huge width at rsync's buffer (MAXPATHLEN less its NUL)", () => {
    expect(formatLine('%99999n', line)).toHaveLength(4095);
    expect(formatLine('%-99999n', line)).toHaveLength(4095);
  });

  it('leaves an escape it does not know as it is', () => {
    expect(formatLine('%z %n', line)).toBe('%z dir/file');
  });
});

describe('escapes outside a daemon', () => {
  it('%c is what the sender read for a transferred file (0 otherwise); %m is empty; %a %h %P %u stay as written, as rsync leaves them', () => {
    expect(formatLine('%c|%m|%a|%h|%P|%u', { ...line, read: 364 })).toBe('364||%a|%h|%P|%u');
    expect(formatLine("%c %'c", line)).toBe('0 0');
  });
});

describe('formatHas', () => {
  it('finds an escape with modifiers, not one behind %%', () => {
    expect(formatHas('%i %n', 'i')).toBe(true);
    expect(formatHas("%'-10i", 'i')).toBe(true);
    expect(formatHas('%%i %n', 'i')).toBe(false);
    expect(formatHas('%n', 'i')).toBe(false);
    expect(formatHas('100%', 'i')).toBe(false);
  });
});

describe('permString', () => {
  it("is ls's column, with setuid, setgid and sticky bits", () => {
    expect(permString(0o755)).toBe('rwxr-xr-x');
    expect(permString(0o000)).toBe('---------');
    expect(permString(0o4755)).toBe('rwsr-xr-x');
    expect(permString(0o4644)).toBe('rwSr--r--');
    expect(permString(0o2750)).toBe('rwxr-s---');
    expect(permString(0o2740)).toBe('rwxr-S---');
    expect(permString(0o1777)).toBe('rwxrwxrwt');
    expect(permString(0o1776)).toBe('rwxrwxrwT');
  });
});
