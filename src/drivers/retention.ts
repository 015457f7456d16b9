import type { Page } from '../core/page.ts';

// Retention shared by the run store and the jobboards: one check of a prune query and one walk
// that deletes in batches. Each caller words its refusals with its own error class and says
// what may be deleted.

/** A prune query as both `pruneRuns` and `board.prune` take it. */
export interface PruneQuery<S extends string> {
  readonly olderThanMs?: number;
  readonly before?: number;
  readonly states?: readonly S[];
  readonly limit?: number;
}

/** A checked prune query: the cutoff (epoch ms), the states and the batch size. */
export interface PruneRequest<S extends string> {
  readonly before: number;
  readonly states: readonly S[];
  readonly limit: number;
}

/** How one prune checks its query. */
export interface PruneRules<S extends string> {
  /** The call's name at the start of each message: `pruneRuns`, `Prune`. */
  readonly operation: string;
  /** The states pruned when the query names none. */
  readonly defaultStates: readonly S[];
  /** Why a state may not be pruned, as the message of the refusal; undefined when it may. */
  readonly refuseState: (state: S) => string | undefined;
  /** The caller's INVALID_ARGUMENT error, with this message. */
  readonly invalidArgument: (message: string) => Error;
}

const DEFAULT_PRUNE_LIMIT = 100;
const MAX_PRUNE_LIMIT = 1000;

/**
 * Checks a prune query: exactly one of `olderThanMs` (from `now`) or `before`, both whole
 * milliseconds >= 0; states that `rules` allows; a batch size from 1 to 1000 (default 100).
 *
 * @example
 * const request = checkPruneQuery({ olderThanMs: 30 * 86_400_000 }, Date.now(), rules);
 */
export function checkPruneQuery<S extends string>(
  query: PruneQuery<S>,
  now: number,
  rules: PruneRules<S>,
): PruneRequest<S> {
  const { operation, invalidArgument } = rules;
  if (typeof query !== 'object' || query === null) {
    throw invalidArgument(`${operation} needs a query object, e.g. { olderThanMs: 86_400_000 }.`);
  }
  const { olderThanMs, before } = query;
  if ((olderThanMs === undefined) === (before === undefined)) {
    throw invalidArgument(
      `${operation} needs exactly one of olderThanMs (a duration) or before (epoch milliseconds), e.g. { olderThanMs: 30 * 86_400_000 }.`,
    );
  }
  const value = olderThanMs ?? before;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(
      `${operation} ${olderThanMs === undefined ? 'before' : 'olderThanMs'} must be a whole number of milliseconds >= 0, got ${String(value)}.`,
    );
  }
  const states = query.states ?? rules.defaultStates;
  for (const state of states) {
    const refusal = rules.refuseState(state);
    if (refusal !== undefined) throw invalidArgument(refusal);
  }
  const limit = query.limit ?? DEFAULT_PRUNE_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PRUNE_LIMIT) {
    throw invalidArgument(
      `${operation} limit must be a whole number from 1 to ${MAX_PRUNE_LIMIT}, got ${String(limit)}.`,
    );
  }
  return { before: olderThanMs === undefined ? value : now - value, states, limit };
}

/** What {@link pruneInBatches} walks and deletes. */
export interface PruneWalk<T> {
  /** One page of the candidates' listing, after the cursor `after`. */
  readonly list: (after: string | undefined) => Promise<Page<T>>;
  /** Whether a listed item is to be deleted (old enough, in a state that may go). */
  readonly eligible: (item: T) => boolean;
  /**
   * Deletes it, checking again atomically that it still may go; false when it was kept (moved
   * on, or leased, meanwhile).
   */
  readonly remove: (item: T) => Promise<boolean>;
  /** The id that `deleted` reports. */
  readonly idOf: (item: T) => string;
}

/**
 * Walks a listing and deletes each eligible item, up to `limit`. `more` is true when the batch
 * stopped at the limit, so another call may find more.
 */
export async function pruneInBatches<T>(
  walk: PruneWalk<T>,
  limit: number,
): Promise<{ deleted: string[]; more: boolean }> {
  const deleted: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await walk.list(after);
    for (const item of page.items) {
      if (!walk.eligible(item)) continue;
      if (await walk.remove(item)) deleted.push(walk.idOf(item));
      if (deleted.length === limit) return { deleted, more: true };
    }
    if (page.next === undefined) return { deleted, more: false };
    after = page.next;
  }
}
