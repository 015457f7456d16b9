import type { FlowState } from '../core/states.ts';
import { FLOW_STATES } from '../core/states.ts';
import {
  checkPruneQuery,
  type PruneRequest,
  type PruneRules,
  pruneInBatches,
} from '../drivers/retention.ts';
import { FENCED_LEASE_EXPIRY, type RunLeaseInfo, type RunPruneQuery } from './ports.ts';
import { invalidArgument } from './refusals.ts';
import { FINISHED_FLOW_STATES } from './run-paging.ts';
import type { LeaseHolder, RunStoreDriver } from './run-store-driver.ts';
import { StorageError } from './storage-error.ts';

const RUN_PRUNE_RULES: PruneRules<FlowState> = {
  operation: 'pruneRuns',
  defaultStates: FINISHED_FLOW_STATES,
  refuseState: (state) =>
    FLOW_STATES.includes(state)
      ? undefined
      : `Flow state ${JSON.stringify(state)} is unknown; use any of ${FLOW_STATES.join(', ')}.`,
  invalidArgument,
};

/** Checks a `pruneRuns` query and returns the cutoff (epoch ms), the states and the batch size. */
export function checkRunPruneQuery(query: RunPruneQuery, now: number): PruneRequest<FlowState> {
  return checkPruneQuery(query, now, RUN_PRUNE_RULES);
}

/**
 * Deletes up to `limit` runs in the given states last updated before the cutoff. It walks the
 * listing and asks the backend to delete each match; the backend checks the lease and the state
 * again in the same atomic step, so a run leased or moved on meanwhile is skipped.
 */
export async function pruneRuns(
  backend: RunStoreDriver,
  request: PruneRequest<FlowState>,
  now: () => number,
): Promise<{ deleted: string[]; more: boolean }> {
  if (request.states.length === 0) return { deleted: [], more: false };
  return pruneInBatches(
    {
      list: (after) =>
        backend.listFlows({
          states: request.states,
          limit: 1000,
          ...(after === undefined ? {} : { after }),
        }),
      eligible: (flow) => flow.updatedAt < request.before,
      remove: async (flow) =>
        (await backend.deleteRun({ flowId: flow.id, now: now(), states: request.states })).kind ===
        'deleted',
      idOf: (flow) => flow.id,
    },
    request.limit,
  );
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
