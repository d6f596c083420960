// One line of rsync's file listing (its list_file_entry): the ten-letter mode, the size right-aligned
// (14 columns with the default -h, 11 with --no-h), the modification time in local time, the name
// escaped as rsync prints names, and " -> target" for a symlink when links are kept.

import { humanNum } from './numbers.js';
import { permString } from './format.js';
import { escapeName, rawName } from '../util/names.js';

export interface ListedEntry {
  mode: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  name: Buffer;
  link?: Buffer | undefined;
  /** --iconv: name and target printed as raw bytes, as rsync prints the names its receiver converted back. */
  raw?: boolean;
  /** -U: the access time (seconds since the epoch) of anything but a directory. */
  atime?: number;
}

/** rsync's permstring: the type letter, then permString's nine. */
export function modeString(mode: number): string {
  const type: Record<number, string> = { 0o040000: 'd', 0o120000: 'l', 0o020000: 'c', 0o060000: 'b', 0o010000: 'p', 0o140000: 's' };
  return (type[mode & 0o170000] ?? '-') + permString(mode);
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** rsync's timestring: "YYYY/MM/DD hh:mm:ss" in local time. */
export function listTime(sec: number): string {
  const d = new Date(sec * 1000);
  return `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/**
 * `atimes` (-U): a column of access times after the modification times, as wide as one with its space,
 * blank for a directory (rsync's list_file_entry).
 */
export function listLine(e: ListedEntry, human: number, atimes = false): string {
  // A --delete-missing-args entry (mode 0): rsync's generator prints "*missing" over the mode, size and time columns.
  if (e.mode === 0) return `${'*missing'.padEnd(10 + 1 + (human > 0 ? 14 : 11) + 1 + listTime(e.mtime).length * (atimes ? 2 : 1) + (atimes ? 1 : 0))} ${(e.raw ? rawName : escapeName)(e.name)}\n`;
  const size = humanNum(e.size, human).padStart(human > 0 ? 14 : 11);
  const show = e.raw ? rawName : escapeName;
  const link = e.link ? ` -> ${show(e.link)}` : '';
  const mtime = listTime(e.mtime);
  const atime = atimes ? ((e.mode & 0o170000) === 0o040000 ? '' : listTime(e.atime ?? 0)).padStart(mtime.length + 1) : '';
  return `${modeString(e.mode)} ${size} ${mtime}${atime} ${show(e.name)}${link}\n`;
}
