import type { JobBoardBackend } from './job-board-backend.ts';
import type { JobBoardError } from './job-board-error.ts';
import { invalidJobArgument } from './job-refusals.ts';
import type { Job } from './model.ts';
import type { JobPruneQuery } from './ports.ts';

const PRUNABLE = ['COMPLETE', 'DEAD_LETTER'] as const;

/** Checks a prune query and returns the cutoff (epoch ms), the states and the batch size. */
export function checkPruneQuery(
  query: JobPruneQuery,
  now: number,
): { before: number; states: readonly ('COMPLETE' | 'DEAD_LETTER')[]; limit: number } {
  if (typeof query !== 'object' || query === null) {
    throw invalidJobArgument('Prune needs a query object, e.g. { olderThanMs: 86_400_000 }.');
  }
  const { olderThanMs, before } = query;
  if ((olderThanMs === undefined) === (before === undefined)) {
    throw invalidJobArgument(
      'Prune needs exactly one of olderThanMs (a duration) or before (epoch milliseconds), e.g. { olderThanMs: 30 * 86_400_000 }.',
    );
  }
  const value = olderThanMs ?? before;
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw invalidJobArgument(
      `Prune ${olderThanMs === undefined ? 'before' : 'olderThanMs'} must be a whole number of milliseconds >= 0, got ${String(value)}.`,
    );
  }
  const states = query.states ?? PRUNABLE;
  for (const state of states) {
    if (!PRUNABLE.includes(state)) {
      throw invalidJobArgument(
        `Prune state ${JSON.stringify(state)} is not allowed; only finished jobs (COMPLETE, DEAD_LETTER) can be pruned. Trash an UNCLAIMED job with trash(id).`,
      );
    }
  }
  const limit = query.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
    throw invalidJobArgument(
      `Prune limit must be a whole number from 1 to 1000, got ${String(limit)}.`,
    );
  }
  return {
    before: olderThanMs === undefined ? (value as number) : now - (value as number),
    states,
    limit,
  };
}

/**
 * Deletes up to `limit` finished jobs last updated before `before`. It walks the listing of
 * the finished states and deletes each match with a delete that checks state and age again
 * atomically, so a job redriven (and perhaps claimed) meanwhile is skipped, never deleted.
 */
export async function pruneJobs(
  backend: JobBoardBackend,
  request: { before: number; states: readonly ('COMPLETE' | 'DEAD_LETTER')[]; limit: number },
  now: () => number,
): Promise<{ deleted: string[]; more: boolean }> {
  const deleted: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await backend.list({
      states: request.states,
      limit: 1000,
      ...(after === undefined ? {} : { after }),
    });
    for (const job of page.items) {
      if (job.updatedAt >= request.before || !request.states.some((s) => s === job.state)) continue;
      const gone = await backend.deleteFinished({
        jobId: job.id,
        states: request.states,
        before: request.before,
        now: now(),
      });
      if (gone) deleted.push(job.id);
      if (deleted.length === request.limit) return { deleted, more: true };
    }
    if (page.next === undefined) return { deleted, more: false };
    after = page.next;
  }
}

/** A redrive of a job that is not dead-lettered. */
export function jobNotDead(job: Job): JobBoardError {
  return invalidJobArgument(
    `Cannot redrive job "${job.id}": it is ${job.state}, and only a DEAD_LETTER job can be redriven. ${job.state === 'COMPLETE' ? 'Post a new job to run it again.' : 'It will run (or is running) without a redrive.'}`,
    job.id,
  );
}
