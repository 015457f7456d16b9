import type { OperatorRequest } from '../core/operator-request.ts';
import { JobBoardError } from './job-board-error.ts';
import type { Job, JobClaim, JobState } from './model.ts';

// The one place where refusals reported by backends become errors people can act on.

export function jobNotFound(jobId: string, action: string): JobBoardError {
  return new JobBoardError(
    'JOB_NOT_FOUND',
    `Cannot ${action}: no job with id "${jobId}" is on this board (never posted, or trashed). Check the id and the board URL.`,
    { jobId },
  );
}

export function claimFenced(claim: JobClaim, job: Job, action: string): JobBoardError {
  const now =
    job.state === 'CLAIMED' && job.token !== claim.token
      ? `it was taken over by "${job.owner ?? '?'}" with token ${job.token}`
      : job.state === 'CLAIMED'
        ? `it is claimed by "${job.owner ?? '?'}" with token ${job.token}`
        : `it is now ${job.state} (token ${job.token})`;
  return new JobBoardError(
    'FENCED',
    `Cannot ${action}: the claim of "${claim.owner}" with token ${claim.token} on job "${claim.jobId}" is no longer current; ${now}. Nothing was changed. Stop working on this job; another conductor may be running it.`,
    { jobId: claim.jobId },
  );
}

export function jobClaimed(job: Job): JobBoardError {
  const until = new Date(job.leaseExpiresAt ?? 0).toISOString();
  return new JobBoardError(
    'JOB_CLAIMED',
    `Cannot trash job "${job.id}": "${job.owner ?? '?'}" holds it (token ${job.token}) until ${until}. Wait for it to complete or be abandoned, or for the lease to expire, then trash it.`,
    { jobId: job.id },
  );
}

export function waitTimeout(job: Job, timeoutMs: number): JobBoardError {
  return new JobBoardError(
    'WAIT_TIMEOUT',
    `Job "${job.id}" did not finish within ${timeoutMs} ms; it is still ${job.state}${job.owner === null ? '' : ` (owner "${job.owner}")`}. Wait longer, or check that a conductor is running and can run flow "${job.flow.name}" version ${job.flow.version}.`,
    { jobId: job.id },
  );
}

export function invalidJobArgument(message: string, jobId?: string): JobBoardError {
  return new JobBoardError('INVALID_ARGUMENT', message, jobId === undefined ? {} : { jobId });
}

export function requestRefused(
  job: Job,
  request: OperatorRequest,
  states: readonly JobState[],
): JobBoardError {
  const pending = job.request;
  const why =
    pending !== null
      ? `"${pending.action}" asked by "${pending.by}" at ${new Date(pending.at).toISOString()} is still pending; wait until the run has applied it, then ask again`
      : `the job is ${job.state}, and "${request.action}" needs it ${states.join(' or ')}`;
  return new JobBoardError(
    'REQUEST_REFUSED',
    `Cannot ask "${request.action}" of job "${job.id}": ${why}. Nothing was changed.`,
    { jobId: job.id },
  );
}
