import { findJsonProblem } from '../core/json-safety.ts';
import { MAX_FLOW_NAME_LENGTH, MAX_JOB_NAME_LENGTH, nameProblem } from '../core/names.ts';
import { JobBoardError } from './job-board-error.ts';
import { decodeJobCursor, jobPageLimit } from './job-paging.ts';
import { invalidJobArgument } from './job-refusals.ts';
import {
  JOB_OUTCOME_STATES,
  JOB_STATES,
  type JobClaim,
  type JobOutcome,
  type JobSpec,
  MAX_PRIORITY,
  MIN_PRIORITY,
} from './model.ts';
import type { JobQuery } from './ports.ts';

// Argument checks shared by every backend, run by the guard before anything is sent.

export function checkSpec(spec: JobSpec): void {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw invalidJobArgument(
      `A job spec must be an object like { name, flow: { name, version }, store }, got ${describe(spec)}.`,
    );
  }
  requireText(spec.name, 'job name');
  if (typeof spec.flow !== 'object' || spec.flow === null) {
    throw invalidJobArgument(
      `Job "${spec.name}" has no flow; pass flow: { name, version } naming a registered flow factory.`,
    );
  }
  requireText(spec.flow.name, `flow name of job "${spec.name}"`, MAX_FLOW_NAME_LENGTH);
  requireText(spec.flow.version, `flow version of job "${spec.name}"`, MAX_FLOW_NAME_LENGTH);
  const priority = spec.priority ?? 0;
  if (!Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
    throw invalidJobArgument(
      `Job "${spec.name}" has priority ${String(priority)}; use a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY} (higher runs first).`,
    );
  }
  if (spec.idempotencyKey !== undefined) requireText(spec.idempotencyKey, 'idempotency key');
  if (spec.id !== undefined) {
    requireText(spec.id, 'job id', MAX_FLOW_NAME_LENGTH);
    if (spec.idempotencyKey === undefined) {
      throw invalidJobArgument(
        `Job "${spec.name}" names its id "${spec.id}" without an idempotency key; pass idempotencyKey as well (the id itself will do), so that posting it again returns the job.`,
      );
    }
  }
  const store = spec.store ?? {};
  if (typeof store !== 'object' || store === null || Array.isArray(store)) {
    throw invalidJobArgument(
      `The store of job "${spec.name}" must be a plain object of named inputs, got ${JSON.stringify(store)}.`,
    );
  }
  checkJson(store, 'store', `job "${spec.name}"`, undefined);
}

export function checkClaim(claim: JobClaim, action: string): void {
  if (
    typeof claim !== 'object' ||
    claim === null ||
    typeof claim.jobId !== 'string' ||
    typeof claim.owner !== 'string' ||
    !Number.isSafeInteger(claim.token)
  ) {
    throw invalidJobArgument(
      `Cannot ${action}: the claim passed is malformed; pass the JobClaim returned by claim() or extend().`,
    );
  }
}

export function checkOutcome(outcome: JobOutcome, jobId: string): void {
  if (!JOB_OUTCOME_STATES.includes(outcome?.state)) {
    throw invalidJobArgument(
      `The outcome of job "${jobId}" has state ${JSON.stringify(outcome?.state)}; use one of ${JOB_OUTCOME_STATES.join(', ')}.`,
      jobId,
    );
  }
  checkJson(outcome, 'outcome', `the outcome of job "${jobId}"`, jobId);
}

export function checkTtl(ttlMs: number, what: string): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw invalidJobArgument(
      `${what} ${String(ttlMs)} is invalid; pass a positive whole number of milliseconds, e.g. 30000.`,
    );
  }
}

export function checkMaxAttempts(maxAttempts: number | undefined): void {
  if (maxAttempts === undefined) return;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw invalidJobArgument(
      `maxAttempts ${String(maxAttempts)} is invalid; pass a whole number of at least 1, or omit it for no limit.`,
    );
  }
}

/** Checks a listing query and returns its page size. */
export function checkQuery(query: JobQuery): number {
  const limit = jobPageLimit(query.limit);
  decodeJobCursor(query.after);
  for (const state of query.states ?? []) {
    if (!JOB_STATES.includes(state)) {
      throw invalidJobArgument(
        `Job state filter ${JSON.stringify(state)} is unknown; use any of ${JOB_STATES.join(', ')}.`,
      );
    }
  }
  return limit;
}

/**
 * A name or other text the board stores or looks up: the shared name rules of
 * `core/names.ts` (non-empty, no control characters, at most `maxLength`), the same for every
 * backend, checked before anything is sent.
 */
export function requireText(value: unknown, what: string, maxLength = MAX_JOB_NAME_LENGTH): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidJobArgument(`The ${what} must be a non-empty string, got ${describe(value)}.`);
  }
  const problem = nameProblem(value, maxLength);
  if (problem === undefined) return;
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  throw invalidJobArgument(`The ${what} ${shown} ${problem}.`);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return typeof value;
  }
}

export function checkJson(
  value: unknown,
  path: string,
  subject: string,
  jobId: string | undefined,
): void {
  const problem = findJsonProblem(value, path);
  if (problem === undefined) return;
  throw new JobBoardError(
    'NOT_SERIALIZABLE',
    `Cannot store ${subject}: ${problem.path} ${problem.reason}. Job data is stored as JSON and must come back exactly as it went in.`,
    jobId === undefined ? {} : { jobId },
  );
}
