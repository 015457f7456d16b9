import {
  checkPruneQuery as checkPrune,
  type PruneRequest,
  type PruneRules,
  pruneInBatches,
} from '../drivers/retention.ts';
import type { JobBoardBackend } from './job-board-backend.ts';
import type { JobBoardError } from './job-board-error.ts';
import { invalidJobArgument } from './job-refusals.ts';
import type { Job } from './model.ts';
import type { JobPruneQuery } from './ports.ts';

const PRUNABLE = ['COMPLETE', 'DEAD_LETTER'] as const;
type PrunableState = (typeof PRUNABLE)[number];

const JOB_PRUNE_RULES: PruneRules<PrunableState> = {
  operation: 'Prune',
  defaultStates: PRUNABLE,
  refuseState: (state) =>
    PRUNABLE.includes(state)
      ? undefined
      : `Prune state ${JSON.stringify(state)} is not allowed; only finished jobs (COMPLETE, DEAD_LETTER) can be pruned. Trash an UNCLAIMED job with trash(id).`,
  invalidArgument: invalidJobArgument,
};

/** Checks a prune query and returns the cutoff (epoch ms), the states and the batch size. */
export function checkPruneQuery(query: JobPruneQuery, now: number): PruneRequest<PrunableState> {
  return checkPrune(query, now, JOB_PRUNE_RULES);
}

/**
 * Deletes up to `limit` finished jobs last updated before `before`. It walks the listing of
 * the finished states and deletes each match with a delete that checks state and age again
 * atomically, so a job redriven (and perhaps claimed) meanwhile is skipped, never deleted.
 */
export async function pruneJobs(
  backend: JobBoardBackend,
  request: PruneRequest<PrunableState>,
  now: () => number,
): Promise<{ deleted: string[]; more: boolean }> {
  return pruneInBatches(
    {
      list: (after) =>
        backend.list({
          states: request.states,
          limit: 1000,
          ...(after === undefined ? {} : { after }),
        }),
      eligible: (job) =>
        job.updatedAt < request.before && request.states.some((s) => s === job.state),
      remove: (job) =>
        backend.deleteFinished({
          jobId: job.id,
          states: request.states,
          before: request.before,
          now: now(),
        }),
      idOf: (job) => job.id,
    },
    request.limit,
  );
}

/** A redrive of a job that is not dead-lettered. */
export function jobNotDead(job: Job): JobBoardError {
  return invalidJobArgument(
    `Cannot redrive job "${job.id}": it is ${job.state}, and only a DEAD_LETTER job can be redriven. ${job.state === 'COMPLETE' ? 'Post a new job to run it again.' : 'It will run (or is running) without a redrive.'}`,
    job.id,
  );
}
