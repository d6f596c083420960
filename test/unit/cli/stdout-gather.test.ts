import { afterEach, describe, expect, it, vi } from 'vitest';
import { gather, gatherStdout } from '../../../src/cli/stdout-gather.js';

/** Two streams writing into one record, as stdout and stderr sharing a pipe do. */
function shared() {
  const record: string[] = [];
  const stream = (name: string) => ({ write: (c: string | Uint8Array) => (record.push(`${name}:${Buffer.from(c).toString()}`), true) }) as unknown as NodeJS.WritableStream;
  return { record, io: { out: stream('out'), err: stream('err') } };
}

afterEach(() => vi.useRealTimers());

describe('stdout gathered off a terminal', () => {
  it('holds stdout, and writes it out before anything goes to stderr: the shared order is kept', () => {
    const { record, io } = shared();
    const g = gather(io);
    g.io.out.write('a\n');
    g.io.out.write(Buffer.from('b\n'));
    expect(record).toEqual([]);
    g.io.err.write('error\n');
    g.io.out.write('c\n');
    g.close();
    expect(record).toEqual(['out:a\nb\n', 'err:error\n', 'out:c\n']);
  });

  it('writes out once the limit has gathered, and after the linger time at the latest', () => {
    vi.useFakeTimers();
    const { record, io } = shared();
    const g = gather(io, 8, 100);
    g.io.out.write('1234');
    g.io.out.write('5678');
    expect(record).toEqual(['out:12345678']);
    g.io.out.write('x');
    vi.advanceTimersByTime(99);
    expect(record).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(record).toEqual(['out:12345678', 'out:x']);
    g.close();
    expect(record).toHaveLength(2);
  });

  it('gathers only the process\'s own stdout, and not on a terminal', () => {
    const { io } = shared();
    expect(gatherStdout(io)).toBeUndefined();
    const tty = process.stdout.isTTY;
    try {
      Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
      expect(gatherStdout({ out: process.stdout, err: process.stderr })).toBeUndefined();
      Object.defineProperty(process.stdout, 'isTTY', { value: false, configurable: true });
      const g = gatherStdout({ out: process.stdout, err: process.stderr });
      expect(g).toBeDefined();
      g!.close();
    } finally {
      Object.defineProperty(process.stdout, 'isTTY', { value: tty, configurable: true });
    }
  });
});
