import type { FlowState } from '../core/states.ts';
import type { Job } from '../jobs/model.ts';

/** Flow states a run leaves only through an operator's request (which goes through its job). */
const FINAL: ReadonlySet<FlowState> = new Set(['SUCCESS', 'REVERTED', 'FAILURE']);

/**
 * The answers of `GET /v1/runs/:id` for finished runs, as sent (JSON text), for a short while.
 * A finished run changes only when an operator's request reopens its job, which evicts it here
 * (from this process's own routes at once, from other processes through the board's events),
 * or when it is deleted, which the entry's age bounds. Running runs are never kept: their
 * answer changes with every step.
 *
 * @example
 * const finished = new FinishedRuns();
 * const body = finished.get(id) ?? finished.keep(id, state, job, JSON.stringify(view));
 */
export class FinishedRuns {
  readonly #entries = new Map<string, { readonly body: string; readonly at: number }>();
  readonly #maxAgeMs: number;
  readonly #maxEntries: number;

  constructor(options: { readonly maxAgeMs?: number; readonly maxEntries?: number } = {}) {
    this.#maxAgeMs = options.maxAgeMs ?? 1_000;
    this.#maxEntries = options.maxEntries ?? 1_000;
  }

  /** The kept answer for the run, unless it is too old. */
  get(runId: string): string | undefined {
    const entry = this.#entries.get(runId);
    if (entry === undefined) return undefined;
    if (performance.now() - entry.at > this.#maxAgeMs) {
      this.#entries.delete(runId);
      return undefined;
    }
    return entry.body;
  }

  /** Keeps the answer when the run is finished and its job settled; returns the answer. */
  keep(runId: string, state: FlowState, job: Job | undefined, body: string): string {
    const settled =
      job === undefined ||
      (job.request === null && (job.state === 'COMPLETE' || job.state === 'DEAD_LETTER'));
    if (!FINAL.has(state) || !settled) return body;
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(runId, { body, at: performance.now() });
    return body;
  }

  /** Forgets the run: its job changed. */
  evict(runId: string): void {
    this.#entries.delete(runId);
  }
}
