import type { OperatorRequest } from '../../core/operator-request.ts';
import { JobBoardError } from '../job-board-error.ts';
import { JOB_STATES, type Job, type JobOutcome } from '../model.ts';

/** The fields of a job that never change, stored once as JSON so Lua never re-encodes them. */
interface JobSpecRecord {
  readonly id: string;
  readonly name: string;
  readonly flow: Job['flow'];
  readonly store: Job['store'];
  readonly priority: number;
  readonly idempotencyKey: string | null;
  readonly createdAt: number;
}

/** The `spec` field of a new job's hash. */
export function encodeSpec(job: Job): string {
  const spec: JobSpecRecord = {
    id: job.id,
    name: job.name,
    flow: job.flow,
    store: job.store,
    priority: job.priority,
    idempotencyKey: job.idempotencyKey,
    createdAt: job.createdAt,
  };
  return JSON.stringify(spec);
}

/** The member of the ready set: createdAt, zero-padded so it sorts as text, then the id. */
export function rankOf(job: Job): string {
  return `${String(job.createdAt).padStart(15, '0')}:${job.id}`;
}

/** Turns a flat [field, value, ...] list (HGETALL inside a script) into a record. */
export function fieldsOf(flat: unknown): Record<string, string> {
  const record: Record<string, string> = {};
  if (!Array.isArray(flat)) return record;
  for (let i = 0; i + 1 < flat.length; i += 2) record[String(flat[i])] = String(flat[i + 1]);
  return record;
}

/** Rebuilds a job from its hash; a hash that cannot be one is reported as `BOARD_CORRUPT`. */
export function jobFromHash(fields: Record<string, string>): Job {
  const spec = parse<JobSpecRecord>(fields.spec, 'spec');
  const state = fields.state as Job['state'];
  if (spec === undefined || !JOB_STATES.includes(state)) {
    throw new JobBoardError(
      'BOARD_CORRUPT',
      `A job hash on this Redis board is damaged (state ${JSON.stringify(fields.state)}, spec ${JSON.stringify(fields.spec?.slice(0, 80))}); it was changed outside this library. Delete its keys or restore from a backup.`,
    );
  }
  return {
    ...spec,
    updatedAt: Number(fields.updated),
    state,
    owner: fields.owner === '' || fields.owner === undefined ? null : fields.owner,
    leaseExpiresAt: fields.lease === '' || fields.lease === undefined ? null : Number(fields.lease),
    token: Number(fields.token),
    attempts: Number(fields.attempts),
    outcome: parse<JobOutcome>(fields.outcome, 'outcome') ?? null,
    deadLetterReason: fields.reason === '' || fields.reason === undefined ? null : fields.reason,
    request: parse<OperatorRequest>(fields.request, 'request') ?? null,
  };
}

function parse<T>(text: string | undefined, field: string): T | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new JobBoardError(
      'BOARD_CORRUPT',
      `A job's ${field} on this Redis board is not JSON; it was changed outside this library. Delete its keys or restore from a backup.`,
      { cause: error },
    );
  }
}
