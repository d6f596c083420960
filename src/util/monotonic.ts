// Milliseconds on the monotonic clock, for how long a run or its file list took (--stats, --json).
// `performance.now()` would do the same, but its first use loads Node's performance module at every
// start (~1-2 ms of CPU, docs/benchmarks.md, "Start-up snapshot").
export function monotonicMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}
