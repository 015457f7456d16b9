/**
 * One committed change of a run, as the change feed records it: the run's flow state, or one
 * atom's state, intention or progress. Plain JSON data.
 */
export interface RunChange {
  /**
   * The change's position in the feed: opaque, and ordered as the feed delivers. Pass it back
   * as `after` to continue behind it (an SSE `Last-Event-ID`).
   */
  readonly id: string;
  readonly runId: string;
  /** The atom that changed; null for a change of the run's own state. */
  readonly atom: string | null;
  readonly state: string;
  readonly intention: string | null;
  /** 0..1; null for a change of the run's own state. */
  readonly progress: number | null;
  /** Epoch ms of the write, from the record. */
  readonly at: number;
}

/** Which changes {@link RunChangeFeed.read} returns. */
export interface ChangeQuery {
  /** Only changes behind this change id; from the start of the feed when absent. */
  readonly after?: string;
  /** Only this run's changes. */
  readonly runId?: string;
  /** 1..1000, default 100. */
  readonly limit?: number;
}

/**
 * The changes of a run store, from every process writing to it, in the order they were
 * committed: a reader that continues from the last id it saw gets every later change exactly
 * once. Each backend records changes in the transaction that makes them (SQLite triggers on a
 * change sequence, polled; PostgreSQL triggers with NOTIFY of the run id on commit).
 *
 * @example
 * const feed = await openRunChangeFeed('sqlite://.taskflow/runs.db');
 * let after = await feed.head();
 * for (;;) {
 *   const changes = await feed.read({ ...(after ? { after } : {}) });
 *   for (const change of changes) console.log(change.runId, change.atom, change.state);
 *   after = changes.at(-1)?.id ?? after;
 *   if (changes.length === 0) await feed.wait({ timeoutMs: 1000 });
 * }
 */
export interface RunChangeFeed {
  /** Committed changes matching the query, oldest first. */
  read(query?: ChangeQuery): Promise<RunChange[]>;
  /** The id of the newest change now (to follow from now on), or undefined when none. */
  head(): Promise<string | undefined>;
  /**
   * Resolves when new changes may be readable, after `timeoutMs` at the latest, or when the
   * signal aborts. A wake-up, not a promise that there are changes: read to find out.
   */
  wait(options: { readonly timeoutMs: number; readonly signal?: AbortSignal }): Promise<void>;
  /**
   * Deletes up to `limit` (default 1000) of the oldest changes recorded before `before` (epoch
   * ms); returns how many. Call again while it returns `limit`. A reader continuing behind a
   * pruned change gets the changes that remain.
   */
  prune(options: { readonly before: number; readonly limit?: number }): Promise<number>;
  /** Releases the feed's connections. Idempotent. */
  close(): Promise<void>;
}

/** How many changes one {@link RunChangeFeed.prune} call deletes at most by default. */
export const PRUNE_BATCH = 1000;

/** The most changes one read returns. */
export const MAX_CHANGES_PER_READ = 1000;

/** The number of changes a read returns for `limit`. */
export function changeLimit(limit: number | undefined): number {
  if (limit === undefined) return 100;
  return Math.min(Math.max(1, Math.trunc(limit)), MAX_CHANGES_PER_READ);
}

/** Sleeps up to `timeoutMs`, less when the signal aborts. */
export function pause(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    signal?.addEventListener('abort', done, { once: true });
  });
}
