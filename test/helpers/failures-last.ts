// vitest reporter: repeats the names of the failed tests, and of those that passed only when retried, as
// the very last lines of a run. CI keeps only the end of the output; without this, which test failed
// scrolls out of sight behind the coverage summary, which vitest prints after every reporter has
// finished, so the list is written when the process exits.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export default class FailuresLast implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const failed: string[] = [];
    const flaky: string[] = [];
    for (const m of modules) {
      if (m.state() === 'failed' && [...m.children.allTests()].every((t) => t.result().state !== 'failed')) {
        // A file that failed outside any test (an import error, a hook): its own errors say why.
        failed.push(`${m.moduleId}: ${m.errors().map((e) => e.message).join('; ') || 'failed'}`);
      }
      for (const t of m.children.allTests()) {
        const r = t.result();
        if (r.state === 'passed' && t.diagnostic()?.flaky) {
          const why = (r.errors?.[0]?.message ?? '').split('\n').slice(0, 4).join('\n    ');
          flaky.push(`${t.fullName} (${path.relative(process.cwd(), m.moduleId)})${why ? `\n    ${why}` : ''}`);
        }
        if (r.state !== 'failed') continue;
        // The first lines of the message: an e2e assertion puts the CLI's stderr there.
        const head = (r.errors?.[0]?.message ?? '').split('\n').slice(0, 8).join('\n    ');
        failed.push(`${t.fullName} (${path.relative(process.cwd(), m.moduleId)})\n    ${head}`);
      }
    }
    let text = '';
    if (flaky.length > 0) text += `\nPassed only when retried (flaky: each is a bug to find):\n${flaky.map((f) => `  ${f}`).join('\n')}\n`;
    if (failed.length > 0) text += `\nFailed tests (${failed.length}):\n${failed.map((f) => `  ${f}`).join('\n')}\n`;
    if (text === '') return;
    process.once('exit', () => fs.writeSync(1, text));
  }
}
