import type { FlowState } from '../core/states.ts';
import { FLOW_STATES } from '../core/states.ts';
import { FENCED_LEASE_EXPIRY, type RunLeaseInfo, type RunPruneQuery } from './ports.ts';
import { invalidArgument } from './refusals.ts';
import { FINISHED_FLOW_STATES } from './run-paging.ts';
import type { LeaseHolder, RunStoreDriver } from './run-store-driver.ts';
import { StorageError } from './storage-error.ts';

/** A checked prune query: the cutoff (epoch ms), the states and the batch size. */
export interface PruneRequest {
  readonly before: number;
  readonly states: readonly FlowState[];
  readonly limit: number;
}

export function checkRunPruneQuery(query: RunPruneQuery, now: number): PruneRequest {
  if (typeof query !== 'object' || query === null) {
    throw invalidArgument('pruneRuns needs a query object, e.g. { olderThanMs: 86_400_000 }.');
  }
  const { olderThanMs, before } = query;
  if ((olderThanMs === undefined) === (before === undefined)) {
    throw invalidArgument(
      'pruneRuns needs exactly one of olderThanMs (a duration) or before (epoch milliseconds), e.g. { olderThanMs: 30 * 86_400_000 }.',
    );
  }
  const value = (olderThanMs ?? before) as number;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(
      `pruneRuns ${olderThanMs === undefined ? 'before' : 'olderThanMs'} must be a whole number of milliseconds >= 0, got ${String(value)}.`,
    );
  }
  const states = query.states ?? FINISHED_FLOW_STATES;
  for (const state of states) {
    if (!FLOW_STATES.includes(state)) {
      throw invalidArgument(
        `Flow state ${JSON.stringify(state)} is unknown; use any of ${FLOW_STATES.join(', ')}.`,
      );
    }
  }
  const limit = query.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
    throw invalidArgument(
      `pruneRuns limit must be a whole number from 1 to 1000, got ${String(limit)}.`,
    );
  }
  return { before: olderThanMs === undefined ? value : now - value, states, limit };
}

/**
 * Deletes up to `limit` runs in the given states last updated before the cutoff. It walks the
 * listing and asks the backend to delete each match; the backend checks the lease and the state
 * again in the same atomic step, so a run leased or moved on meanwhile is skipped.
 */
export async function pruneRuns(
  backend: RunStoreDriver,
  request: PruneRequest,
  now: () => number,
): Promise<{ deleted: string[]; more: boolean }> {
  const deleted: string[] = [];
  if (request.states.length === 0) return { deleted, more: false };
  let after: string | undefined;
  for (;;) {
    const page = await backend.listFlows({
      states: request.states,
      limit: 1000,
      ...(after === undefined ? {} : { after }),
    });
    for (const flow of page.items) {
      if (flow.updatedAt >= request.before) continue;
      const outcome = await backend.deleteRun({
        flowId: flow.id,
        now: now(),
        states: request.states,
      });
      if (outcome.kind === 'deleted') deleted.push(flow.id);
      if (deleted.length === request.limit) return { deleted, more: true };
    }
    if (page.next === undefined) return { deleted, more: false };
    after = page.next;
  }
}

/** A delete refused because the run is leased, or carried by a job that has not finished it. */
export function runLeased(flowId: string, holder: LeaseHolder, now: number): StorageError {
  const carried = holder.expiresAt === FENCED_LEASE_EXPIRY;
  const why = carried
    ? `it is carried by a job${holder.owner === undefined ? '' : ` claimed by "${holder.owner}"`} and is not finished (SUCCESS or REVERTED); let its job finish, or trash the job and wait for its claim to end`
    : `"${holder.owner ?? '?'}" holds its lease until ${new Date(holder.expiresAt).toISOString()} (${Math.max(0, holder.expiresAt - now)} ms from now); wait for the lease to be released or to expire`;
  return new StorageError('LEASE_HELD', `Cannot delete run "${flowId}": ${why}.`, { flowId });
}

/** A backend's lease holder as the operator-facing {@link RunLeaseInfo}. */
export function leaseInfo(holder: LeaseHolder | undefined): RunLeaseInfo | undefined {
  if (holder === undefined) return undefined;
  return {
    owner: holder.owner ?? null,
    token: holder.token,
    expiresAt: holder.expiresAt,
    carriedByJob: holder.expiresAt === FENCED_LEASE_EXPIRY,
  };
}
