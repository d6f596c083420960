// --json between machines: the lines a remote run writes to stderr (its own errors, and those of the far
// side, which a server started through a remote shell writes to that shell's stderr rather than into the
// connection) kept as the document's errors while they still reach stderr.

import { Writable } from 'node:stream';
import type { JsonError } from '../progress/json.js';

/**
 * `to` with every line written to it also kept in `errors` (our own without the "arsync: " in front).
 * Written through at once, so the lines keep their order on stderr.
 */
export function keptLines(to: NodeJS.WritableStream, errors: JsonError[]): NodeJS.WritableStream {
  let partial = '';
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      to.write(chunk);
      const text = partial + chunk.toString();
      const lines = text.split('\n');
      partial = lines.pop()!;
      for (const l of lines) if (l !== '') errors.push({ message: l.replace(/^arsync: /, '') });
      done();
    },
  });
}

