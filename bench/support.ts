/**
 * Helpers shared by the benchmark programs: timing, medians, peak memory and the one JSON line
 * each workload prints. Benchmarks print numbers; nothing here asserts on them.
 */

/** One workload's result, in the shape every benchmark (TypeScript or Python) prints. */
export interface BenchResult {
  readonly system: string;
  readonly workload: string;
  readonly n: number;
  /** Median wall time of the measured runs, in milliseconds. */
  readonly wall_ms: number;
  /** `wall_ms` divided by `n`, in microseconds. */
  readonly per_item_us: number;
  /** Peak resident set size of the whole process so far, in MiB. */
  readonly peak_rss_mb: number;
}

/** The middle value (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0)
    throw new RangeError('median() needs at least one value; run the workload first.');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const upper = sorted[middle] as number;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] as number) + upper) / 2;
}

/**
 * The peak RSS of this process since it started, in MiB. `maxRSS` is reported by the kernel
 * (getrusage), so it catches peaks between samples; it never goes down, which is why each
 * workload runs in its own child process.
 */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Runs the garbage collector when node was started with `--expose-gc`, so one run's garbage
 * is not collected during the next run's timing.
 */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
}

/** Milliseconds taken by `work`, measured with the monotonic clock. */
export async function timeMs(work: () => unknown): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** Builds the printed record from raw timings (milliseconds of each run). */
export function summarise(options: {
  readonly system: string;
  readonly workload: string;
  readonly n: number;
  readonly runsMs: readonly number[];
}): BenchResult {
  const wall = median(options.runsMs);
  return {
    system: options.system,
    workload: options.workload,
    n: options.n,
    wall_ms: round(wall, 3),
    per_item_us: round((wall * 1000) / options.n, 3),
    peak_rss_mb: round(peakRssMb(), 1),
  };
}

/** Prints one result as one JSON line on stdout. */
export function printResult(result: BenchResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/**
 * A small deterministic PRNG (mulberry32): the same seed builds the same random graph on every
 * machine, so runs can be compared.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
