#!/usr/bin/env node
// Issue 9's audit: for every option docs/options.md marks `yes` or `no effect locally`, which e2e test files
// run it through the CLI against rsync (a differential file: it runs rsync on the same tree) on every engine
// (describeEngines). Options with no such file are listed last; `--missing` prints only those, and the
// exit code is 1 when there are any. Refused rows are checked the same way for a test of the refusal.
//
//   node scripts/option-audit.mjs [--markdown] [--missing]
//
// A name counts as used where a test file has it as a quoted word: '--delete', "--delete=x", `--delete …`
// for a long name; for a one-letter name, a quoted cluster of short options that holds the letter
// ('-avz' uses -a, -v and -z) and is not a word given to sh, setfattr or the like in the same call.

import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const e2e = path.join(root, 'test/e2e');
const args = new Set(process.argv.slice(2));

/** The rows of both tables: option column, status, example. */
function rows() {
  const out = [];
  for (const line of readFileSync(path.join(root, 'docs/options.md'), 'utf8').split('\n')) {
    const m = /^\| `([^`]+)` \| ([^|]+?) \| `([^`]+)` \|/.exec(line);
    if (m) out.push({ option: m[1], status: m[2].trim(), example: m[3] });
  }
  return out;
}

/** "--block-size=SIZE, -B" -> ["--block-size", "-B"]. */
const names = (option) =>
  option
    .replace(/ \(\*\)$/, '')
    .split(', ')
    .map((p) => /^(--?[^=\s[]+)/.exec(p)?.[1])
    .filter(Boolean);

const files = readdirSync(e2e)
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => {
    const text = readFileSync(path.join(e2e, f), 'utf8');
    return {
      name: f,
      text,
      // rsync is run on the same starting state: the differential helpers, or rsync spawned directly.
      differential: /\bdifferential\(|\bsameAsRsync\(|\brunPair\(|\brsyncAs\(|spawnSync\(\s*['"]rsync['"]|\brunRsync\(|\brsyncRun\(|\bbothRun\(|\brsync\(/.test(text),
      everyEngine: /\bdescribeEngines\(|\bengines\(\)/.test(text),
      remote: f.startsWith('remote-'),
    };
  });

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Does the file use this name as an option word? */
function uses(text, name) {
  if (name.startsWith('--')) return new RegExp(`['"\`\\s]${esc(name)}(?=[='"\`\\s])`).test(text);
  const letter = name[1];
  // Quoted short clusters: '-avz', "-n". Not words of other programs (sh -ec, setfattr -n, find -name).
  const re = /['"`](-[A-Za-z0-9]+)['"`]/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const word = m[1];
    if (!word.includes(letter)) continue;
    const before = text.slice(Math.max(0, m.index - 40), m.index);
    if (/(sh|bash|setfattr|getfattr|find|mknod|touch|chmod|chown|cp|tar|stat|mount|dd|truncate|ln|mkdir|setfacl|getfacl|ssh|tmux|script|env|timeout|setpriv|sed|grep)['"`]\s*,\s*\[?\s*$/.test(before)) continue;
    return true;
  }
  return false;
}

const report = [];
for (const row of rows()) {
  if (row.option === '--no-OPTION') continue;
  const ns = names(row.option);
  const hits = files.filter((f) => !f.remote && ns.some((n) => uses(f.text, n)));
  const full = hits.filter((f) => f.differential && f.everyEngine).map((f) => f.name);
  const other = hits.filter((f) => !(f.differential && f.everyEngine)).map((f) => f.name);
  report.push({ ...row, full, other });
}

const works = report.filter((r) => r.status === 'yes' || r.status === 'no effect locally');
const refused = report.filter((r) => r.status === 'refused');
const missing = works.filter((r) => r.full.length === 0);
const untestedRefusals = refused.filter((r) => r.full.length + r.other.length === 0);

if (args.has('--markdown')) {
  console.log('| option | status | differential e2e files on every engine |');
  console.log('|---|---|---|');
  for (const r of works) console.log(`| \`${r.option}\` | ${r.status} | ${r.full.length ? r.full.join(', ') : `**none**${r.other.length ? ` (used in ${r.other.join(', ')})` : ''}`} |`);
  console.log('\n| refused option | e2e files that run it |');
  console.log('|---|---|');
  for (const r of refused) console.log(`| \`${r.option}\` | ${[...r.full, ...r.other].join(', ') || '**none**'} |`);
} else if (!args.has('--missing')) {
  for (const r of works) console.log(`${r.option}\t${r.status}\t${r.full.join(' ') || '-'}`);
}
console.log(`\n${works.length} working options: ${works.length - missing.length} with a differential e2e file on every engine, ${missing.length} without`);
for (const r of missing) console.log(`  without: ${r.option}${r.other.length ? ` (used in ${r.other.join(', ')})` : ''}`);
console.log(`${refused.length} refused options: ${refused.length - untestedRefusals.length} run by an e2e file`);
for (const r of untestedRefusals) console.log(`  refusal untested: ${r.option}`);
process.exitCode = missing.length || untestedRefusals.length ? 1 : 0;
