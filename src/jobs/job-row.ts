import { JobBoardError } from './job-board-error.ts';
import {
  type ConductorInfo,
  JOB_EVENT_TYPES,
  JOB_STATES,
  type Job,
  type JobEvent,
  type JobOutcome,
} from './model.ts';

/**
 * A job as the SQL backends store it: one column per field, JSON text for the store and the
 * outcome (text, not jsonb, so values come back exactly as they went in), and integers that
 * `pg` may hand back as strings (bigint).
 */
export interface JobRow {
  readonly id: string;
  readonly name: string;
  readonly flow_name: string;
  readonly flow_version: string;
  readonly store: string;
  readonly priority: number | string;
  readonly idempotency_key: string | null;
  readonly created_at: number | string;
  readonly updated_at: number | string;
  readonly state: string;
  readonly owner: string | null;
  readonly lease_expires_at: number | string | null;
  readonly token: number | string;
  readonly attempts: number | string;
  readonly outcome: string | null;
  readonly dead_letter_reason: string | null;
  readonly request: string | null;
}

/** Named parameters for inserting `job`, keyed like the columns (camelCase). */
export function jobParams(job: Job): Record<string, string | number | null> {
  return {
    id: job.id,
    name: job.name,
    flowName: job.flow.name,
    flowVersion: job.flow.version,
    store: JSON.stringify(job.store),
    priority: job.priority,
    idempotencyKey: job.idempotencyKey,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    state: job.state,
  };
}

/** Rebuilds a job from its row; a row that cannot be one is reported as `BOARD_CORRUPT`. */
export function jobFromRow(row: JobRow): Job {
  const state = row.state as Job['state'];
  if (!JOB_STATES.includes(state)) throw corrupt(row.id, `state ${JSON.stringify(row.state)}`);
  return {
    id: row.id,
    name: row.name,
    flow: { name: row.flow_name, version: row.flow_version },
    store: parseJson(row.store, row.id, 'store') as Job['store'],
    priority: Number(row.priority),
    idempotencyKey: row.idempotency_key,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    state,
    owner: row.owner,
    leaseExpiresAt: row.lease_expires_at === null ? null : Number(row.lease_expires_at),
    token: Number(row.token),
    attempts: Number(row.attempts),
    outcome:
      row.outcome === null ? null : (parseJson(row.outcome, row.id, 'outcome') as JobOutcome),
    deadLetterReason: row.dead_letter_reason,
    request:
      row.request === null ? null : (parseJson(row.request, row.id, 'request') as Job['request']),
  };
}

/** A conductor row: name, times and meta as JSON text. */
export interface ConductorRow {
  readonly name: string;
  readonly last_seen_at: number | string;
  readonly expires_at: number | string;
  readonly meta: string;
}

export function conductorFromRow(row: ConductorRow): ConductorInfo {
  return {
    name: row.name,
    lastSeenAt: Number(row.last_seen_at),
    expiresAt: Number(row.expires_at),
    meta: parseJson(row.meta, row.name, 'conductor meta') as ConductorInfo['meta'],
  };
}

/** Parses an event as sent by a backend (JSON text); undefined for anything malformed. */
export function parseJobEvent(text: string): JobEvent | undefined {
  try {
    const value = JSON.parse(text) as Partial<JobEvent>;
    if (
      JOB_EVENT_TYPES.includes(value.type as JobEvent['type']) &&
      typeof value.jobId === 'string' &&
      typeof value.jobName === 'string' &&
      JOB_STATES.includes(value.state as JobEvent['state'])
    ) {
      return {
        type: value.type as JobEvent['type'],
        jobId: value.jobId,
        jobName: value.jobName,
        state: value.state as JobEvent['state'],
        at: Number(value.at),
      };
    }
  } catch {
    // Someone else's message on our channel; not ours to act on.
  }
  return undefined;
}

function parseJson(text: string, id: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw corrupt(id, `${field} that is not JSON`, error);
  }
}

function corrupt(id: string, what: string, cause?: unknown): JobBoardError {
  return new JobBoardError(
    'BOARD_CORRUPT',
    `Job "${id}" is stored with ${what}; the jobboard tables were changed outside this library. Restore them from a backup or trash the job.`,
    cause === undefined ? { jobId: id } : { jobId: id, cause },
  );
}
